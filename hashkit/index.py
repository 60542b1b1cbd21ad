"""Search indexes over ±1 codes: exact Hamming ranking and MCH's hash bucket search.

* :class:`HammingIndex` ranks a database by Hamming distance, in faiss's API shape
  (``add``, ``search(q, k) -> (D, I)``, ``range_search``), on ``faiss.IndexBinaryFlat``.
* :class:`BucketIndex` is hash bucket search, Algorithm 1 of the MCH paper, over items that may
  hold several codes each.

Conventions shared by both:

* Codes are ``int8`` ±1 arrays of shape ``(n, n_bits)`` (see :mod:`hashkit.codes`).
* The Hamming distance counts differing bits; "within Hamming radius r" means distance ``<= r``.
* Ties are broken by ascending database (or item) id, so every result equals a brute-force
  ``np.argsort(distances, kind="stable")``.
* ``save(path)`` writes a versioned ``.npz`` (no pickle) whose JSON header carries a sha256 of
  the arrays; ``load(path)`` refuses anything else with a ``ValueError`` naming the file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import zipfile
from dataclasses import dataclass
from numbers import Integral
from typing import Literal

import faiss
import numpy as np
import pandas as pd

from hashkit.artifacts import atomic_path
from hashkit.checks import check_positive_int
from hashkit.codes import check_codes, check_item_codes, hamming_distances, pack

FORMAT_NAME = "hashkit-index"
FORMAT_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"  # how every .npz (a zip archive) starts

# HammingIndex asks faiss for this many times k neighbours, so the whole tie group at the k-th
# distance usually comes back and can be ordered by id without another pass (costs ~3 %).
_FETCH_FACTOR = 2
# First block of the id-ordered scan that resolves a tie group faiss cut short; doubles after.
_FIRST_SCAN_BLOCK = 1 << 16
# Fibonacci hashing (2**64 / golden ratio, odd): the top bits of key * this mix all key bits.
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
# Largest ring BucketIndex(strategy="probe") will materialise (8 bytes per address, cached);
# it holds radius 5 of 64-bit codes.
_MAX_RING_SIZE = 1 << 23
# Deduplicating m found items: sort them while m * this < n_items, else scan all items (a
# sort costs ~20 ns per element, a scan ~0.15 ns per item, measured).
_SORT_OR_SCAN = 128
# Marks an item not yet found in a bucket search; larger than any distance of <= 64 bits.
_UNSEEN = np.uint8(255)


# --------------------------------------------------------------------------- input checks


def _check_codes_width(codes: np.ndarray, n_bits: int, name: str) -> np.ndarray:
    codes = check_codes(codes, name)
    if codes.shape[1] != n_bits:
        raise ValueError(f"{name}: expected codes of n_bits={n_bits} bits, got {codes.shape[1]} bits")
    return codes


def _code_words(codes: np.ndarray) -> np.ndarray:
    """``(n, ceil(n_bits / 64))`` ``uint64`` words; bit ``i`` of a code is bit ``i % 64`` of word
    ``i // 64``, set for ``+1`` (faiss's byte layout read as little-endian words)."""
    packed = pack(codes)
    n_words = -(-codes.shape[1] // 64)
    padded = np.zeros((len(codes), 8 * n_words), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    return padded.view("<u8").astype(np.uint64, copy=False)


def _packed_from_words(words: np.ndarray, n_bits: int) -> np.ndarray:
    """faiss's packed bytes (``ceil(n_bits / 8)`` per code) from :func:`_code_words` words."""
    n_bytes = -(-n_bits // 8)
    return np.ascontiguousarray(words.astype("<u8", copy=False).view(np.uint8)[:, :n_bytes])


def _words_from_packed(packed: np.ndarray, n_bits: int) -> np.ndarray:
    n_words = -(-n_bits // 64)
    padded = np.zeros((len(packed), 8 * n_words), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    return padded.view("<u8").astype(np.uint64, copy=False)


# --------------------------------------------------------------------------- file format


def _payload_sha256(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _write_index_file(path: str | os.PathLike, class_name: str, n_bits: int, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` plus a JSON header atomically, so a reader never sees a half-written index."""
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "class": class_name,
        "n_bits": n_bits,
        "arrays": sorted(arrays),
        "sha256": _payload_sha256(arrays),
    }
    header_bytes = np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8)
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, header=header_bytes, **arrays)


def _read_npz(path: str) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``; anything unreadable is a ``ValueError``."""
    with open(path, "rb") as file:  # a missing file stays a FileNotFoundError
        head = file.read(len(_ZIP_MAGIC))
        if head != _ZIP_MAGIC:
            # np.load would take these bytes for a pickle and advise allow_pickle=True.
            raise ValueError(
                f"{path}: unreadable or corrupted (not a zip archive, it starts with {head!r}); "
                f"expected a {FORMAT_NAME} .npz file"
            )
        file.seek(0)
        try:
            with np.load(file, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{path}: unreadable or corrupted ({type(error).__name__}: {error}); "
                f"expected a {FORMAT_NAME} .npz file"
            ) from error


def _read_index_file(path: str | os.PathLike, class_name: str) -> tuple[int, dict[str, np.ndarray]]:
    """``(n_bits, arrays)`` from a file written by :func:`_write_index_file` for ``class_name``."""
    path = os.fspath(path)
    expected = f"a {FORMAT_NAME} file version {FORMAT_VERSION} holding a {class_name}"
    arrays = _read_npz(path)
    header_bytes = arrays.pop("header", None)
    if not isinstance(header_bytes, np.ndarray) or header_bytes.dtype != np.uint8:  # bytes: a foreign zip member
        raise ValueError(f"{path}: no hashkit header; expected {expected}")
    try:
        header = json.loads(header_bytes.tobytes().decode())
    except ValueError as error:  # also covers bad UTF-8
        raise ValueError(f"{path}: header is not JSON ({error}); expected {expected}") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ValueError(f"{path}: not a {FORMAT_NAME} file; expected {expected}")
    if header.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: {FORMAT_NAME} format version {header.get('version')!r}; expected {expected}")
    if header.get("class") != class_name:
        raise ValueError(f"{path}: holds a {header.get('class')!r}; expected {expected}")
    if header.get("arrays") != sorted(arrays) or _payload_sha256(arrays) != header.get("sha256"):
        raise ValueError(f"{path}: checksum mismatch, the file is corrupted; expected {expected}")
    n_bits = header.get("n_bits")
    if isinstance(n_bits, bool) or not isinstance(n_bits, int) or n_bits <= 0:
        raise ValueError(f"{path}: header n_bits={n_bits!r} is not a positive integer")
    return n_bits, arrays


def _check_loaded_packed(path: str | os.PathLike, packed: np.ndarray, n_bits: int) -> None:
    n_bytes = -(-n_bits // 8)
    if packed.dtype != np.uint8 or packed.ndim != 2 or packed.shape[1] != n_bytes:
        raise ValueError(
            f"{os.fspath(path)}: packed codes have dtype {packed.dtype} and shape {packed.shape}; "
            f"expected uint8 (n, {n_bytes}) for n_bits={n_bits}"
        )


# --------------------------------------------------------------------------- Hamming ranking


class HammingIndex:
    """Exact Hamming ranking over ±1 codes, on ``faiss.IndexBinaryFlat``.

    Results are exactly a brute-force ``np.argsort(distances, kind="stable")``: sorted by
    (distance, database id). faiss does not promise an order among equal distances, so the
    index asks faiss for ``2 k`` neighbours, sorts them by (distance, id) and keeps the first
    ``k``; when the group tied at the ``k``-th distance is longer than what came back, an
    id-ordered scan that stops as soon as it has enough ids fills that group in.
    Database ids are insertion positions ``0 .. ntotal - 1``.
    """

    def __init__(self, n_bits: int) -> None:
        self._n_bits = check_positive_int(n_bits, "n_bits")
        # faiss wants whole bytes; the padding bits are 0 in every code, so distances are unchanged
        self._faiss_index = faiss.IndexBinaryFlat(8 * (-(-self._n_bits // 8)))
        self._database_words = np.zeros((0, -(-self._n_bits // 64)), dtype=np.uint64)

    @property
    def n_bits(self) -> int:
        return self._n_bits

    @property
    def ntotal(self) -> int:
        return len(self._database_words)

    def add(self, codes: np.ndarray) -> None:
        """Append ``(n, n_bits)`` ±1 codes; they get ids ``ntotal .. ntotal + n - 1``."""
        words = _code_words(_check_codes_width(codes, self._n_bits, "codes"))
        self._add_words(words)

    def _add_words(self, words: np.ndarray) -> None:
        self._faiss_index.add(_packed_from_words(words, self._n_bits))
        self._database_words = np.concatenate([self._database_words, words])

    def search(self, query_codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest database codes of each query, sorted by (distance, id).

        Returns ``(distances, ids)``: ``int32`` and ``int64`` arrays of shape
        ``(n_queries, min(k, ntotal))``. Unlike faiss, ``k > ntotal`` is not padded with ``-1``:
        only ``ntotal`` columns come back. ``k`` must be a positive integer.
        """
        query_words = _code_words(_check_codes_width(query_codes, self._n_bits, "query_codes"))
        k = check_positive_int(k, "k")
        n_results = min(k, self.ntotal)
        if n_results == 0:
            return np.zeros((len(query_words), 0), np.int32), np.zeros((len(query_words), 0), np.int64)
        n_fetched = min(self.ntotal, _FETCH_FACTOR * n_results)
        fetched_distances, fetched_ids = self._faiss_index.search(
            _packed_from_words(query_words, self._n_bits), n_fetched
        )
        # one sort on a combined key orders each row by (distance, id)
        order_keys = np.sort(fetched_distances.astype(np.int64) * self.ntotal + fetched_ids, axis=1)
        distances = (order_keys[:, :n_results] // self.ntotal).astype(np.int32)
        ids = order_keys[:, :n_results] % self.ntotal
        kth_distances = distances[:, -1]
        # a row is exact when something farther than its k-th distance came back (so its whole
        # tie group did) or when faiss returned the whole database
        cut_short = (order_keys[:, -1] // self.ntotal == kth_distances) & (n_fetched < self.ntotal)
        for row in np.flatnonzero(cut_short):
            n_closer = int(np.count_nonzero(distances[row] < kth_distances[row]))
            ids[row, n_closer:] = self._first_ids_at_distance(
                query_words[row], int(kth_distances[row]), n_results - n_closer
            )
        return distances, ids

    def _first_ids_at_distance(self, query_words: np.ndarray, distance: int, count: int) -> np.ndarray:
        """The ``count`` smallest ids at exactly ``distance`` from the query: an id-ordered scan
        in growing blocks that stops once it has ``count`` of them."""
        found: list[np.ndarray] = []
        n_found, start, block = 0, 0, _FIRST_SCAN_BLOCK
        while n_found < count and start < self.ntotal:
            stop = min(start + block, self.ntotal)
            block_distances = np.bitwise_count(self._database_words[start:stop] ^ query_words).sum(axis=1)
            hits = np.flatnonzero(block_distances == distance) + start
            found.append(hits)
            n_found += len(hits)
            start, block = stop, 2 * block
        return np.concatenate(found)[:count]

    def range_search(self, query_codes: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All database codes within Hamming distance ``<= radius`` of each query.

        Returns faiss's ``(lims, distances, ids)``: the hits of query ``i`` are
        ``distances[lims[i]:lims[i + 1]]`` (``int32``) and ``ids[lims[i]:lims[i + 1]]``
        (``int64``), sorted by (distance, id); ``lims`` is ``int64`` of length ``n_queries + 1``.
        Note: faiss's own ``range_search`` keeps distances strictly ``< radius``; this one keeps
        ``<= radius``, "within Hamming radius r" as the hashing papers use it.
        """
        query_words = _code_words(_check_codes_width(query_codes, self._n_bits, "query_codes"))
        if isinstance(radius, bool) or not isinstance(radius, Integral) or radius < 0:
            raise ValueError(f"radius: expected a non-negative integer, got {radius!r}")
        n_queries = len(query_words)
        if self.ntotal == 0:
            return np.zeros(n_queries + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64)
        # faiss keeps distances < its radius; no distance exceeds n_bits
        lims, distances, ids = self._faiss_index.range_search(
            _packed_from_words(query_words, self._n_bits), min(int(radius), self._n_bits) + 1
        )
        lims = lims.astype(np.int64)
        distances = distances.astype(np.int32)
        query_of_hit = np.repeat(np.arange(n_queries), np.diff(lims))
        order = np.lexsort((ids, distances, query_of_hit))
        return lims, distances[order], ids[order].astype(np.int64)

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to ``path`` (versioned ``.npz``, no pickle, sha256-checked, atomic)."""
        _write_index_file(
            path, type(self).__name__, self._n_bits,
            {"packed_codes": _packed_from_words(self._database_words, self._n_bits)},
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> HammingIndex:
        """Read an index written by :meth:`save`; any other file raises ``ValueError``."""
        n_bits, arrays = _read_index_file(path, cls.__name__)
        packed = arrays.get("packed_codes")
        if packed is None:
            raise ValueError(f"{os.fspath(path)}: no packed_codes array; expected a HammingIndex file")
        _check_loaded_packed(path, packed, n_bits)
        index = cls(n_bits)
        index._add_words(_words_from_packed(packed, n_bits))
        return index


# --------------------------------------------------------------------------- bucket search


@dataclass(frozen=True)
class BucketResult:
    """What hash bucket search (MCH Algorithm 1) returns for one query."""

    ids: np.ndarray
    """``int64``: the ``K`` distinct items, sorted by (distance, id)."""
    distances: np.ndarray
    """``int32``: per item, the minimum Hamming distance over its codes (MCH eq. 5)."""
    radius: int
    """Smallest ``r`` such that at least ``K`` distinct items lie within Hamming radius ``r``."""
    buckets_probed: int
    """Bucket addresses Algorithm 1 probes (a Python int: it can exceed 2**63)."""
    buckets_visited: int
    """Non-empty buckets among those probed."""


@functools.lru_cache(maxsize=32)
def _ring_flips(n_bits: int, radius: int) -> np.ndarray:
    """All ``n_bits``-bit masks with ``radius`` bits set, as increasing ``uint64`` integers.

    Increasing integers are the colexicographic order of the flipped positions. Masks whose
    highest bit is ``h`` are ``2**h`` plus the masks of one fewer bit below ``h``, and those
    form a prefix of the sorted masks of one fewer bit: one concatenation per ``h``.
    """
    if radius == 0:
        flips = np.zeros(1, dtype=np.uint64)
    else:
        shorter = _ring_flips(n_bits, radius - 1)
        flips = np.concatenate([
            shorter[: math.comb(high_bit, radius - 1)] | np.uint64(1 << high_bit)
            for high_bit in range(radius - 1, n_bits)
        ])
    flips.setflags(write=False)
    return flips


def _colex_rank(flip: int) -> int:
    """Position of ``flip`` in :func:`_ring_flips` of its bit count: with set bits
    ``c_1 < c_2 < ...``, ``sum_i C(c_i, i)`` (the combinatorial number system)."""
    positions = [position for position in range(flip.bit_length()) if flip >> position & 1]
    return sum(math.comb(position, count) for count, position in enumerate(positions, start=1))


class BucketIndex:
    """Hash bucket search (MCH Algorithm 1) over items that may hold several codes.

    A bucket is one distinct code; it holds the items with that code. An item's distance to a
    query is the minimum over its codes (MCH eq. 5), so an item sits in several buckets and is
    counted once. Codes of up to 64 bits are supported (buckets are keyed by ``uint64``); wider
    codes raise ``NotImplementedError``.

    **Algorithm 1** expands ``r = 0, 1, 2, ...``, probes every bucket address at distance ``r``
    from the query, puts the items of non-empty buckets into a set ``U``, and stops at the first
    address after which ``|U| >= K``. Within a radius, addresses are probed in increasing order
    of the flip mask ``query XOR address`` read as an integer with bit ``i`` worth ``2**i``
    (the colexicographic order of the flipped positions).

    **What** :meth:`search` **returns**: the ``K`` items with the smallest (distance, id), exactly
    a brute-force ranking, and the smallest radius holding ``K`` items. They can differ from
    Algorithm 1's "first ``K`` in ``U``" only in which items tied at the last radius are kept:
    brute force keeps the smallest ids, so the whole last radius is always looked at.
    ``buckets_probed`` and ``buckets_visited`` are Algorithm 1's counts: every address at radius
    ``< r`` plus the addresses at radius ``r`` up to its stopping one. ``K > n_items`` returns
    every item; the counts are then those of the search stopping once the last item is found.

    **Probe or scan**: each radius's non-empty buckets come either from probing its addresses
    (binary search in the sorted bucket keys, behind a hashed occupancy filter that rejects most
    empty addresses at once) or from scanning: the distance of every bucket to the query,
    computed once, then grouped by distance. Both give the same buckets, so the same results and
    counts. Probing one address and scanning one bucket cost about the same (~4 ns measured),
    so ``strategy="auto"`` probes while a radius has at most ``n_buckets`` addresses and scans
    from the first radius that has more; ``"probe"`` and ``"scan"`` force one way throughout
    (``"probe"`` raises ``ValueError`` at a radius of more than ``2**23`` addresses).
    """

    def __init__(self, n_bits: int) -> None:
        self._n_bits = check_positive_int(n_bits, "n_bits")
        if self._n_bits > 64:
            raise NotImplementedError(f"BucketIndex: n_bits={self._n_bits}; bucket keys are uint64, so at most 64 bits")
        self._code_keys = np.zeros(0, dtype=np.uint64)
        self._code_item_ids = np.zeros(0, dtype=np.int64)
        self._tables: _BucketTables | None = None

    @property
    def n_bits(self) -> int:
        return self._n_bits

    @property
    def n_codes(self) -> int:
        return len(self._code_keys)

    @property
    def n_items(self) -> int:
        return len(self._built().item_ids)

    @property
    def n_buckets(self) -> int:
        return len(self._built().bucket_keys)

    def add(self, codes: np.ndarray, item_ids: np.ndarray | None = None) -> None:
        """Add ``(n_codes, n_bits)`` ±1 codes, code ``j`` belonging to item ``item_ids[j]``.

        ``item_ids``: non-negative integers of shape ``(n_codes,)``; a repeated id (here or in
        an earlier ``add``) is one item with several codes. Default: each code is a new item,
        with consecutive ids after the largest id so far (starting at ``n_items`` when ids are
        ``0 .. n_items - 1``, the usual case).
        """
        keys = _code_words(_check_codes_width(codes, self._n_bits, "codes"))[:, 0]
        if item_ids is None:
            first_id = int(self._code_item_ids.max()) + 1 if self.n_codes else 0
            item_ids = np.arange(first_id, first_id + len(keys), dtype=np.int64)
        else:
            item_ids = np.asarray(item_ids)
            if item_ids.shape != (len(keys),) or not np.issubdtype(item_ids.dtype, np.integer):
                raise ValueError(
                    f"item_ids: expected integers of shape ({len(keys)},), one per code; "
                    f"got dtype {item_ids.dtype} and shape {item_ids.shape}"
                )
            if len(item_ids) and item_ids.min() < 0:
                raise ValueError("item_ids: expected non-negative ids")
        self._add_keys(keys, item_ids.astype(np.int64))

    def _add_keys(self, keys: np.ndarray, item_ids: np.ndarray) -> None:
        self._code_keys = np.concatenate([self._code_keys, keys])
        self._code_item_ids = np.concatenate([self._code_item_ids, item_ids])
        self._tables = None

    def _built(self) -> _BucketTables:
        if self._tables is None:
            self._tables = _BucketTables.build(self._code_keys, self._code_item_ids)
        return self._tables

    def search(
        self, query_codes: np.ndarray, k: int, strategy: Literal["auto", "probe", "scan"] = "auto"
    ) -> list[BucketResult]:
        """Hash bucket search for ``K = k`` items per query; one :class:`BucketResult` per query.

        See the class docstring for the exact semantics of the items, the radius, the counts and
        ``strategy``. An empty index gives empty results with radius 0 and nothing probed.
        """
        query_keys = _code_words(_check_codes_width(query_codes, self._n_bits, "query_codes"))[:, 0]
        k = check_positive_int(k, "k")
        if strategy not in ("auto", "probe", "scan"):
            raise ValueError(f"strategy: expected 'auto', 'probe' or 'scan', got {strategy!r}")
        tables = self._built()
        n_wanted = min(k, len(tables.item_ids))
        if n_wanted == 0:
            empty = BucketResult(np.zeros(0, np.int64), np.zeros(0, np.int32), 0, 0, 0)
            return [empty for _ in query_keys]
        return [self._search_one(tables, key, n_wanted, strategy) for key in query_keys]

    def _search_one(self, tables: _BucketTables, query_key: np.uint64, n_wanted: int, strategy: str) -> BucketResult:
        item_radius = np.full(len(tables.item_ids), _UNSEEN, dtype=np.uint8)  # radius an item was found at
        found_by_radius: list[np.ndarray] = []
        n_found = probes_below = visited_below = 0
        scan: _BucketScan | None = None
        for radius in range(self._n_bits + 1):
            ring_size = math.comb(self._n_bits, radius)
            if scan is None and (
                strategy == "scan"
                or (strategy == "auto" and ring_size > len(tables.bucket_keys))
            ):
                scan = _BucketScan(tables.bucket_keys, query_key, self._n_bits)
            if scan is not None:
                ring_buckets = scan.buckets_at(radius)
            elif ring_size > _MAX_RING_SIZE:
                raise ValueError(
                    f"strategy='probe': radius {radius} has {ring_size} addresses (limit {_MAX_RING_SIZE}); "
                    "use strategy='auto' or 'scan'"
                )
            else:
                ring_buckets = tables.probe(_ring_flips(self._n_bits, radius) ^ query_key)
            new_items = tables.mark_new_members(ring_buckets, item_radius, radius)
            if n_found + len(new_items) >= n_wanted:
                # the last radius: find where Algorithm 1 stops, walking its buckets in probe order
                flips = tables.bucket_keys[ring_buckets] ^ query_key
                ring_buckets = ring_buckets[np.argsort(flips)]  # already sorted when probed
                stop = tables.stopping_bucket(ring_buckets, item_radius, radius, n_wanted - n_found)
                stop_flip = int(tables.bucket_keys[ring_buckets[stop]] ^ query_key)
                inside = np.concatenate(found_by_radius) if found_by_radius else np.zeros(0, np.int64)
                chosen = np.concatenate([inside, new_items[: n_wanted - n_found]])
                return BucketResult(
                    ids=tables.item_ids[chosen],
                    distances=item_radius[chosen].astype(np.int32),
                    radius=radius,
                    buckets_probed=probes_below + _colex_rank(stop_flip) + 1,
                    buckets_visited=visited_below + stop + 1,
                )
            found_by_radius.append(new_items)
            n_found += len(new_items)
            probes_below += ring_size
            visited_below += len(ring_buckets)
        raise AssertionError("unreachable: radius n_bits reaches every bucket")

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to ``path`` (versioned ``.npz``, no pickle, sha256-checked, atomic)."""
        _write_index_file(
            path, type(self).__name__, self._n_bits,
            {"code_keys": self._code_keys, "code_item_ids": self._code_item_ids},
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> BucketIndex:
        """Read an index written by :meth:`save`; any other file raises ``ValueError``."""
        n_bits, arrays = _read_index_file(path, cls.__name__)
        keys, item_ids = arrays.get("code_keys"), arrays.get("code_item_ids")
        if (
            keys is None or item_ids is None or keys.dtype != np.uint64 or item_ids.dtype != np.int64
            or keys.ndim != 1 or keys.shape != item_ids.shape
        ):
            raise ValueError(
                f"{os.fspath(path)}: expected uint64 code_keys and int64 code_item_ids of one length"
            )
        if n_bits > 64 or (n_bits < 64 and len(keys) and int(keys.max()) >> n_bits):
            raise ValueError(f"{os.fspath(path)}: code_keys do not fit n_bits={n_bits}")
        index = cls(n_bits)
        index._add_keys(keys, item_ids)
        return index


@dataclass(frozen=True)
class _BucketTables:
    """The search structures of a :class:`BucketIndex`, rebuilt after each ``add``.

    Items are renumbered densely ``0 .. n_items - 1`` in ascending id order, so ordering by dense
    index is ordering by id.
    """

    item_ids: np.ndarray
    """``int64`` id of each dense item."""
    bucket_keys: np.ndarray
    """Sorted distinct ``uint64`` codes."""
    bucket_starts: np.ndarray
    """``bucket_members[bucket_starts[b]:bucket_starts[b + 1]]`` are the items of bucket ``b``."""
    bucket_members: np.ndarray
    """Dense item indices, bucket by bucket, ascending within a bucket."""
    filter_shift: np.uint64
    """``64 - log2(len(occupied))``: the hash of a key is its top bits after the multiplication."""
    occupied: np.ndarray
    """``bool`` per hash value: does any bucket key hash there (so an address may be a bucket)."""

    @classmethod
    def build(cls, code_keys: np.ndarray, code_item_ids: np.ndarray) -> _BucketTables:
        item_ids, dense_item_of_code = np.unique(code_item_ids, return_inverse=True)
        bucket_keys, bucket_of_code = np.unique(code_keys, return_inverse=True)
        by_bucket = np.lexsort((dense_item_of_code, bucket_of_code))
        # about 1/16 of empty addresses pass the filter; the table stays within 64 MiB
        filter_bits = int(np.clip(math.ceil(math.log2(len(bucket_keys) + 1)) + 4, 10, 26))
        filter_shift = np.uint64(64 - filter_bits)
        occupied = np.zeros(1 << filter_bits, dtype=bool)
        occupied[(bucket_keys * _HASH_MULTIPLIER) >> filter_shift] = True
        return cls(
            item_ids=item_ids,
            bucket_keys=bucket_keys,
            bucket_starts=np.searchsorted(bucket_of_code[by_bucket], np.arange(len(bucket_keys) + 1)),
            bucket_members=dense_item_of_code[by_bucket],
            filter_shift=filter_shift,
            occupied=occupied,
        )

    def probe(self, addresses: np.ndarray) -> np.ndarray:
        """The buckets at ``addresses`` that exist, in the order of ``addresses``."""
        candidates = addresses[self.occupied[(addresses * _HASH_MULTIPLIER) >> self.filter_shift]]
        slots = np.minimum(np.searchsorted(self.bucket_keys, candidates), len(self.bucket_keys) - 1)
        return slots[self.bucket_keys[slots] == candidates]

    def _members(self, buckets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The items of ``buckets`` concatenated in order, and the position of each one's bucket."""
        starts = self.bucket_starts[buckets]
        sizes = self.bucket_starts[buckets + 1] - starts
        member_slots = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        return self.bucket_members[member_slots], np.repeat(np.arange(len(buckets)), sizes)

    def mark_new_members(self, buckets: np.ndarray, item_radius: np.ndarray, radius: int) -> np.ndarray:
        """Set ``item_radius`` to ``radius`` for the items of ``buckets`` not found at a smaller
        radius, and return these items, distinct and ascending."""
        members, _ = self._members(buckets)
        new_members = members[item_radius[members] > radius]
        item_radius[new_members] = radius
        if len(new_members) * _SORT_OR_SCAN < len(item_radius):
            new_members = np.sort(new_members)
            return new_members[np.diff(new_members, prepend=-1) != 0]  # dense indices are >= 0
        return np.flatnonzero(item_radius == radius)

    def stopping_bucket(self, buckets: np.ndarray, item_radius: np.ndarray, radius: int, n_needed: int) -> int:
        """Position in ``buckets`` (probe order) of the bucket that brings the ``n_needed``-th
        item found at ``radius``, once :meth:`mark_new_members` has marked them."""
        members, owners = self._members(buckets)
        is_new = item_radius[members] == radius
        new_members, new_owners = members[is_new], owners[is_new]
        first_position = np.full(len(item_radius), len(new_members), dtype=np.int64)
        np.minimum.at(first_position, new_members, np.arange(len(new_members)))
        is_first = first_position[new_members] == np.arange(len(new_members))
        new_per_bucket = np.bincount(new_owners[is_first], minlength=len(buckets))
        return int(np.searchsorted(np.cumsum(new_per_bucket), n_needed))


class _BucketScan:
    """Every bucket's distance to one query, grouped by distance: the buckets of any radius
    without probing its addresses."""

    def __init__(self, bucket_keys: np.ndarray, query_key: np.uint64, n_bits: int) -> None:
        distances = np.bitwise_count(bucket_keys ^ query_key)
        self._by_distance = np.argsort(distances, kind="stable")  # a radix sort for uint8
        self._starts = np.concatenate([[0], np.cumsum(np.bincount(distances, minlength=n_bits + 1))])

    def buckets_at(self, radius: int) -> np.ndarray:
        return self._by_distance[self._starts[radius] : self._starts[radius + 1]]


def multi_code_index(database_codes: np.ndarray) -> BucketIndex:
    """A :class:`BucketIndex` over database items given as the metrics take them.

    ``database_codes`` is ``(n_items, n_bits)`` (one code per item) or ``(n_items, codes_per_item,
    n_bits)`` (MCH: several codes per item, an item with fewer repeating one of its own). Code ``j``
    of item ``i`` goes into the index with item id ``i``, so ids index the database labels, as
    :func:`hashkit.metrics.f1_bucket_curve` expects. Repeated (item, code) pairs are added once:
    padding adds no bucket member.
    """
    codes = check_item_codes(database_codes, "database_codes")
    n_items, codes_per_item, n_bits = codes.shape
    index = BucketIndex(n_bits)
    keys = _code_words(codes.reshape(n_items * codes_per_item, n_bits))[:, 0]
    item_ids = np.repeat(np.arange(n_items, dtype=np.int64), codes_per_item)
    if codes_per_item > 1:
        pairs = np.unique(np.stack([item_ids.astype(np.uint64), keys], axis=1), axis=0)
        item_ids, keys = pairs[:, 0].astype(np.int64), pairs[:, 1]
    index._add_keys(keys, item_ids)
    return index


def radius_profile(query_codes: np.ndarray, database_codes: np.ndarray, max_radius: int) -> pd.DataFrame:
    """What a bucket search meets at each Hamming radius ``r = 0 .. max_radius``, averaged over queries.

    Columns: ``radius``; ``addresses`` (bucket addresses at exactly distance ``r``, ``C(L, r)``);
    ``addresses within r`` (their running sum, what a full probe of the ball costs);
    ``non-empty buckets within r`` and ``items within r`` (means over the queries). It shows how
    far Algorithm 1 must go, and how many empty addresses it probes on the way.

    ``database_codes`` is ``(n_items, n_bits)`` or, for items with several codes (MCH),
    ``(n_items, codes_per_item, n_bits)``, padded by repeating an item's own code. A bucket is a
    distinct code over all items' codes; an item is within ``r`` when its nearest code is (MCH
    eq. 5), and counts once however many of its codes are.
    """
    item_codes = check_item_codes(database_codes, "database_codes")
    n_items, codes_per_item, n_bits = item_codes.shape
    query_codes = _check_codes_width(query_codes, n_bits, "query_codes")
    if isinstance(max_radius, bool) or not isinstance(max_radius, Integral) or not 0 <= max_radius <= n_bits:
        raise ValueError(f"max_radius: expected an integer in 0..{n_bits}, got {max_radius!r}")
    bucket_codes, bucket_of_code = np.unique(
        item_codes.reshape(n_items * codes_per_item, n_bits), axis=0, return_inverse=True
    )
    # items with the same set of buckets are at the same distance: count each set once, weighted
    item_buckets = np.sort(bucket_of_code.reshape(n_items, codes_per_item), axis=1)
    bucket_sets, set_sizes = np.unique(item_buckets, axis=0, return_counts=True)
    buckets_at = np.zeros(n_bits + 1)
    items_at = np.zeros(n_bits + 1)
    # Chunks keep the (queries x buckets) and (queries x bucket sets x codes) matrices near 16 M entries.
    chunk = max(1, (1 << 24) // max(1, len(bucket_codes), bucket_sets.size))
    for start in range(0, len(query_codes), chunk):
        distances = hamming_distances(query_codes[start:start + chunk], bucket_codes)
        set_distances = distances[:, bucket_sets].min(axis=2)
        buckets_at += np.bincount(distances.ravel(), minlength=n_bits + 1)
        items_at += np.bincount(set_distances.ravel(), weights=np.tile(set_sizes, len(set_distances)),
                                minlength=n_bits + 1)
    radii = np.arange(max_radius + 1)
    addresses = np.array([math.comb(n_bits, int(radius)) for radius in radii], dtype=np.float64)
    return pd.DataFrame({
        "radius": radii,
        "addresses": addresses,
        "addresses within r": np.cumsum(addresses),
        "non-empty buckets within r": np.cumsum(buckets_at[: max_radius + 1]) / len(query_codes),
        "items within r": np.cumsum(items_at[: max_radius + 1]) / len(query_codes),
    })
