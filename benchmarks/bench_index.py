"""Benchmarks of hashkit.index: exact Hamming ranking against raw faiss, and bucket search speed.

``run()`` returns rows with keys ``benchmark``, ``measure``, ``value``, ``target``, ``met``
(``None`` where a row has no target). Timings are the best of a few repeats, since the 2-core
machines are shared. ``python -m benchmarks index`` prints them.
"""

from __future__ import annotations

import math

import faiss
import numpy as np

from benchmarks.common import best_times, row
from hashkit.codes import unpack
from hashkit.index import BucketIndex, BucketResult, HammingIndex

SEED = 0
N_BITS = 64

HAMMING_DATABASE_SIZE = 1_000_000
HAMMING_QUERIES = 1_000
HAMMING_K = 100
HAMMING_TARGET_RATIO = 1.5

BUCKET_ITEMS = 100_000
BUCKET_CODES_PER_ITEM = 2  # MCH keeps several codes per image
BUCKET_CENTRES = 20
BUCKET_FLIP_RATE = 0.02  # each bit of a code differs from its cluster centre with this probability
BUCKET_QUERIES = 200
BUCKET_K = 100
BUCKET_TARGET_PROBES_PER_S = 5e6

BRUTE_FORCE_QUERIES = 20


def words_of(packed: np.ndarray) -> np.ndarray:
    """64-bit packed codes as one ``uint64`` per code, for the brute-force references."""
    return packed.view("<u8")[:, 0]


def hamming_rows(rng: np.random.Generator) -> list[dict]:
    """HammingIndex.search against faiss.IndexBinaryFlat.search on the same random codes."""
    database_packed = rng.integers(0, 256, (HAMMING_DATABASE_SIZE, N_BITS // 8), dtype=np.uint8)
    query_packed = rng.integers(0, 256, (HAMMING_QUERIES, N_BITS // 8), dtype=np.uint8)
    query_codes = unpack(query_packed, N_BITS)
    index = HammingIndex(N_BITS)
    index.add(unpack(database_packed, N_BITS))
    faiss_index = faiss.IndexBinaryFlat(N_BITS)
    faiss_index.add(database_packed)
    index.search(query_codes[:10], HAMMING_K)  # warm-up: threads, page faults
    faiss_index.search(query_packed[:10], HAMMING_K)

    faiss_seconds, hashkit_seconds = best_times(
        [lambda: faiss_index.search(query_packed, HAMMING_K), lambda: index.search(query_codes, HAMMING_K)],
        repeats=5,
    )
    ratio = hashkit_seconds / faiss_seconds

    distances, ids = index.search(query_codes[:BRUTE_FORCE_QUERIES], HAMMING_K)
    database_words = words_of(database_packed)
    identical = True
    for query, query_word in enumerate(words_of(query_packed[:BRUTE_FORCE_QUERIES])):
        all_distances = np.bitwise_count(database_words ^ query_word)
        expected_ids = np.argsort(all_distances, kind="stable")[:HAMMING_K]
        identical &= np.array_equal(ids[query], expected_ids)
        identical &= np.array_equal(distances[query], all_distances[expected_ids])

    setting = f"N=1M random {N_BITS}-bit codes, k={HAMMING_K}, {HAMMING_QUERIES} queries"
    return [
        row(f"faiss IndexBinaryFlat.search, {setting}", "queries/s", HAMMING_QUERIES / faiss_seconds),
        row(f"HammingIndex.search, {setting}", "queries/s", HAMMING_QUERIES / hashkit_seconds),
        row(
            f"HammingIndex.search vs faiss, {setting}", "time ratio to faiss", ratio,
            f"<= {HAMMING_TARGET_RATIO}x", bool(ratio <= HAMMING_TARGET_RATIO),
        ),
        row(
            f"HammingIndex.search equals stable argsort, {BRUTE_FORCE_QUERIES} of the queries",
            "1 = identical", float(identical), "== 1", bool(identical),
        ),
    ]


def clustered_codes(rng: np.random.Generator, centres: np.ndarray, n_codes: int) -> np.ndarray:
    """Learned-like codes: a random centre each, every bit flipped with BUCKET_FLIP_RATE."""
    codes = centres[rng.integers(0, len(centres), n_codes)]
    return np.where(rng.random(codes.shape) < BUCKET_FLIP_RATE, -codes, codes).astype(np.int8)


def brute_force_matches(result: BucketResult, query_word: np.uint64, code_words: np.ndarray) -> bool:
    """Items ranked by (min distance over their codes, id); codes of item i are consecutive."""
    item_distances = np.bitwise_count(code_words ^ query_word).reshape(-1, BUCKET_CODES_PER_ITEM).min(axis=1)
    expected_ids = np.argsort(item_distances, kind="stable")[:BUCKET_K]
    return (
        np.array_equal(result.ids, expected_ids)
        and np.array_equal(result.distances, item_distances[expected_ids])
        and result.radius == item_distances[expected_ids[-1]]
    )


def bucket_rows(rng: np.random.Generator) -> list[dict]:
    """BucketIndex.search on clustered multi-code items: probe rate, query rate, exactness."""
    centres = np.where(rng.random((BUCKET_CENTRES, N_BITS)) < 0.5, 1, -1).astype(np.int8)
    codes = clustered_codes(rng, centres, BUCKET_ITEMS * BUCKET_CODES_PER_ITEM)
    query_codes = clustered_codes(rng, centres, BUCKET_QUERIES)
    index = BucketIndex(N_BITS)
    index.add(codes, np.repeat(np.arange(BUCKET_ITEMS), BUCKET_CODES_PER_ITEM))
    index.search(query_codes[:5], BUCKET_K, strategy="probe")  # warm-up: builds tables, caches rings

    strategies = ("probe", "auto", "scan")
    searches = [
        lambda strategy=strategy: index.search(query_codes, BUCKET_K, strategy=strategy) for strategy in strategies
    ]
    seconds = dict(zip(strategies, best_times(searches)))
    results = {strategy: index.search(query_codes, BUCKET_K, strategy=strategy) for strategy in strategies}
    probes = sum(result.buckets_probed for result in results["probe"])
    looked_up = sum(math.comb(N_BITS, j) for result in results["probe"] for j in range(result.radius + 1))
    probe_rate = probes / seconds["probe"]

    def summary(result: BucketResult) -> tuple:
        counts = (result.radius, result.buckets_probed, result.buckets_visited)
        return result.ids.tolist(), result.distances.tolist(), counts

    strategies_agree = all(
        summary(probed) == summary(auto) == summary(scanned)
        for probed, auto, scanned in zip(results["probe"], results["auto"], results["scan"])
    )
    code_words = words_of(np.packbits(codes > 0, axis=1, bitorder="little"))
    query_words = words_of(np.packbits(query_codes > 0, axis=1, bitorder="little"))
    identical = strategies_agree and all(
        brute_force_matches(results["auto"][query], query_words[query], code_words)
        for query in range(BRUTE_FORCE_QUERIES)
    )

    radii = np.array([result.radius for result in results["auto"]])
    setting = (
        f"{BUCKET_ITEMS // 1000}k items x {BUCKET_CODES_PER_ITEM} clustered {N_BITS}-bit codes "
        f"({BUCKET_CENTRES} centres, flip rate {BUCKET_FLIP_RATE}, {index.n_buckets} buckets), "
        f"K={BUCKET_K}, {BUCKET_QUERIES} queries, median radius {np.median(radii):g}"
    )
    return [
        row(
            f"BucketIndex.search strategy=probe, {setting}", "Algorithm 1 probes/s", probe_rate,
            f">= {BUCKET_TARGET_PROBES_PER_S:.0e}", bool(probe_rate >= BUCKET_TARGET_PROBES_PER_S),
        ),
        row(
            f"BucketIndex.search strategy=probe (whole last ring looked up), {setting}",
            "addresses looked up/s", looked_up / seconds["probe"],
        ),
        *(
            row(f"BucketIndex.search strategy={strategy}, {setting}", "queries/s", BUCKET_QUERIES / seconds[strategy])
            for strategy in ("probe", "auto", "scan")
        ),
        row(
            f"BucketIndex.search equals brute force ({BRUTE_FORCE_QUERIES} queries) and all strategies agree",
            "1 = identical", float(identical), "== 1", bool(identical),
        ),
    ]


def run() -> list[dict]:
    rng = np.random.default_rng(SEED)
    return hamming_rows(rng) + bucket_rows(rng)
