"""hashkit.index against small, independent brute-force references written here."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

import hashkit.index
from hashkit.index import BucketIndex, HammingIndex

# --------------------------------------------------------------------------- references


def random_codes(rng: np.random.Generator, n: int, n_bits: int) -> np.ndarray:
    return np.where(rng.random((n, n_bits)) < 0.5, 1, -1).astype(np.int8)


def tied_codes(rng: np.random.Generator, n: int, n_bits: int, n_distinct: int) -> np.ndarray:
    """``n`` codes drawn from only ``n_distinct`` distinct codes: long runs of equal distances."""
    return random_codes(rng, n_distinct, n_bits)[rng.integers(0, n_distinct, n)]


def clustered_codes(rng: np.random.Generator, n: int, n_bits: int, n_centres: int, flip_rate: float) -> np.ndarray:
    centres = random_codes(rng, n_centres, n_bits)[rng.integers(0, n_centres, n)]
    return np.where(rng.random((n, n_bits)) < flip_rate, -centres, centres).astype(np.int8)


def brute_distances(query_codes: np.ndarray, database_codes: np.ndarray) -> np.ndarray:
    return (query_codes[:, None, :] != database_codes[None, :, :]).sum(axis=2)


def brute_ranking(query_codes: np.ndarray, database_codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    distances = brute_distances(query_codes, database_codes)
    ids = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(distances, ids, axis=1), ids


def code_key(code: np.ndarray) -> int:
    return sum(1 << int(position) for position in np.flatnonzero(code > 0))


def brute_bucket_items(query: np.ndarray, codes: np.ndarray, item_ids: np.ndarray, k: int) -> tuple[list, list]:
    """The ``k`` items with the smallest (min distance over their codes, id)."""
    best: dict[int, int] = {}
    for code, item in zip(codes, item_ids):
        distance = int((code != query).sum())
        best[int(item)] = min(distance, best.get(int(item), distance))
    ranked = sorted(best.items(), key=lambda pair: (pair[1], pair[0]))[:k]
    return [item for item, _ in ranked], [distance for _, distance in ranked]


def algorithm1_counts(query: np.ndarray, codes: np.ndarray, item_ids: np.ndarray, k: int) -> tuple[int, int, int]:
    """MCH Algorithm 1 literally: ``(radius, buckets_probed, buckets_visited)``. Addresses at
    radius r are probed in increasing order of their flip mask; K > n_items stops at the last item."""
    n_bits = codes.shape[1]
    buckets: dict[int, list[int]] = {}
    for code, item in zip(codes, item_ids):
        buckets.setdefault(code_key(code), []).append(int(item))
    n_wanted = min(k, len(set(item_ids.tolist())))
    query_key = code_key(query)
    found: set[int] = set()
    probed = visited = 0
    for radius in range(n_bits + 1):
        flips = sorted(sum(1 << p for p in flipped) for flipped in itertools.combinations(range(n_bits), radius))
        for flip in flips:
            probed += 1
            members = buckets.get(query_key ^ flip)
            if members:
                visited += 1
                found.update(members)
                if len(found) >= n_wanted:
                    return radius, probed, visited
    raise AssertionError("every bucket probed without finding K items")


# --------------------------------------------------------------------------- HammingIndex


@pytest.mark.parametrize(
    ("n_bits", "make_database"),
    [
        (64, lambda rng: random_codes(rng, 3000, 64)),
        (70, lambda rng: random_codes(rng, 2000, 70)),
        (8, lambda rng: tied_codes(rng, 3000, 8, 12)),
        (12, lambda rng: tied_codes(rng, 3000, 12, 40)),
        (10, lambda rng: random_codes(rng, 3000, 10)),
    ],
)
def test_hamming_search_equals_stable_argsort(n_bits, make_database):
    rng = np.random.default_rng(n_bits)
    database = make_database(rng)
    queries = np.concatenate([random_codes(rng, 30, n_bits), database[:10]])
    index = HammingIndex(n_bits)
    index.add(database[:1000])
    index.add(database[1000:])
    for k in (1, 7, 100, len(database) - 1, len(database)):
        distances, ids = index.search(queries, k)
        expected_distances, expected_ids = brute_ranking(queries, database, k)
        assert distances.dtype == np.int32 and ids.dtype == np.int64
        np.testing.assert_array_equal(ids, expected_ids)
        np.testing.assert_array_equal(distances, expected_distances)


def test_hamming_search_resolves_tie_groups_longer_than_the_faiss_fetch(monkeypatch):
    # three distinct codes in 20,000 items: every tie group is far longer than 2 k
    rng = np.random.default_rng(5)
    database = tied_codes(rng, 20_000, 16, 3)
    queries = random_codes(rng, 5, 16)
    index = HammingIndex(16)
    index.add(database)
    resolved_rows = []
    original = HammingIndex._first_ids_at_distance
    monkeypatch.setattr(
        HammingIndex,
        "_first_ids_at_distance",
        lambda self, *args: resolved_rows.append(1) or original(self, *args),
    )
    distances, ids = index.search(queries, 50)
    assert len(resolved_rows) == len(queries)
    expected_distances, expected_ids = brute_ranking(queries, database, 50)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(distances, expected_distances)


def test_hamming_search_k_beyond_ntotal_returns_ntotal_columns():
    rng = np.random.default_rng(0)
    database = random_codes(rng, 5, 16)
    index = HammingIndex(16)
    index.add(database)
    distances, ids = index.search(database[:2], 10)
    assert ids.shape == distances.shape == (2, 5)
    np.testing.assert_array_equal(ids, brute_ranking(database[:2], database, 5)[1])
    empty_distances, empty_ids = HammingIndex(16).search(database[:2], 3)
    assert empty_ids.shape == empty_distances.shape == (2, 0)


@pytest.mark.parametrize("radius", [0, 3, 5, 12, 10**12])
def test_hamming_range_search_keeps_distances_up_to_radius(radius):
    rng = np.random.default_rng(radius)
    database = tied_codes(rng, 500, 12, 60)
    queries = np.concatenate([database[:4], random_codes(rng, 4, 12)])
    index = HammingIndex(12)
    index.add(database)
    lims, distances, ids = index.range_search(queries, radius)
    assert lims.dtype == np.int64 and distances.dtype == np.int32 and ids.dtype == np.int64
    assert len(lims) == len(queries) + 1
    all_distances = brute_distances(queries, database)
    for query in range(len(queries)):
        expected_ids = np.flatnonzero(all_distances[query] <= radius)
        expected_ids = expected_ids[np.argsort(all_distances[query, expected_ids], kind="stable")]
        np.testing.assert_array_equal(ids[lims[query] : lims[query + 1]], expected_ids)
        np.testing.assert_array_equal(distances[lims[query] : lims[query + 1]], all_distances[query, expected_ids])


def test_hamming_index_rejects_bad_input():
    index = HammingIndex(16)
    codes = random_codes(np.random.default_rng(0), 4, 16)
    index.add(codes)
    for bad_k in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="k: expected a positive integer"):
            index.search(codes, bad_k)
    with pytest.raises(ValueError, match="codes: expected codes of n_bits=16"):
        index.add(random_codes(np.random.default_rng(0), 4, 8))
    with pytest.raises(ValueError, match="query_codes: expected codes of n_bits=16"):
        index.search(codes[:, :12], 1)
    with pytest.raises(ValueError, match="query_codes: expected ±1 values"):
        index.search(np.zeros((1, 16), dtype=np.int8), 1)
    with pytest.raises(ValueError, match="radius"):
        index.range_search(codes, -1)
    with pytest.raises(ValueError, match="n_bits"):
        HammingIndex(0)


# --------------------------------------------------------------------------- BucketIndex

# 4 bits, query 0000. Bucket keys with bit i set for +1, as {set positions}:
#   item 0: {}            -> distance 0
#   item 1: {1}           -> distance 1
#   item 2: {0,1,2}, {3}  -> distances 3, 1 -> min 1
#   item 3: {0,2}         -> distance 2
#   item 4: {1}           -> distance 1 (shares item 1's bucket)
# Radius 1 probes flips 0001, 0010 (items 1, 4), 0100, 1000 (item 2); radius 2 probes 0011, then
# 0101 (item 3), 0110, 1001, 1010, 1100.
TINY_POSITIONS = [(), (1,), (0, 1, 2), (3,), (0, 2), (1,)]
TINY_ITEMS = np.array([0, 1, 2, 2, 3, 4])
# k -> (ids, distances, radius, buckets_probed, buckets_visited), derived by hand from the above.
TINY_EXPECTED = {
    1: ([0], [0], 0, 1, 1),
    3: ([0, 1, 2], [0, 1, 1], 1, 1 + 2, 1 + 1),  # U = {0, 1, 4}; brute force keeps 2, not 4
    4: ([0, 1, 2, 4], [0, 1, 1, 1], 1, 1 + 4, 1 + 2),
    5: ([0, 1, 2, 4, 3], [0, 1, 1, 1, 2], 2, 1 + 4 + 2, 1 + 2 + 1),
    9: ([0, 1, 2, 4, 3], [0, 1, 1, 1, 2], 2, 1 + 4 + 2, 1 + 2 + 1),  # K > n_items: all items
}


def tiny_codes() -> np.ndarray:
    codes = -np.ones((len(TINY_POSITIONS), 4), dtype=np.int8)
    for row, positions in enumerate(TINY_POSITIONS):
        codes[row, list(positions)] = 1
    return codes


@pytest.mark.parametrize("strategy", ["auto", "probe", "scan"])
@pytest.mark.parametrize("k", sorted(TINY_EXPECTED))
def test_bucket_search_hand_checked_example(k, strategy):
    index = BucketIndex(4)
    index.add(tiny_codes(), TINY_ITEMS)
    assert (index.n_items, index.n_codes, index.n_buckets) == (5, 6, 5)
    (result,) = index.search(-np.ones((1, 4), dtype=np.int8), k, strategy=strategy)
    ids, distances, radius, probed, visited = TINY_EXPECTED[k]
    assert result.ids.dtype == np.int64 and result.distances.dtype == np.int32
    assert result.ids.tolist() == ids
    assert result.distances.tolist() == distances
    assert (result.radius, result.buckets_probed, result.buckets_visited) == (radius, probed, visited)


def check_bucket_search(codes: np.ndarray, item_ids: np.ndarray, queries: np.ndarray, ks, strategies) -> None:
    index = BucketIndex(codes.shape[1])
    index.add(codes, item_ids)
    for k in ks:
        per_strategy = {strategy: index.search(queries, k, strategy=strategy) for strategy in strategies}
        for query_number, query in enumerate(queries):
            expected_ids, expected_distances = brute_bucket_items(query, codes, item_ids, k)
            expected_counts = algorithm1_counts(query, codes, item_ids, k)
            for strategy, results in per_strategy.items():
                result = results[query_number]
                assert result.ids.tolist() == expected_ids, (strategy, k)
                assert result.distances.tolist() == expected_distances, (strategy, k)
                assert result.radius == expected_distances[-1], (strategy, k)
                assert (result.radius, result.buckets_probed, result.buckets_visited) == expected_counts, (
                    strategy,
                    k,
                )


@pytest.mark.parametrize("n_bits", [8, 10])
def test_bucket_search_single_code_items_with_many_ties(n_bits):
    rng = np.random.default_rng(n_bits)
    codes = tied_codes(rng, 400, n_bits, 30)
    queries = np.concatenate([codes[:3], random_codes(rng, 5, n_bits)])
    item_ids = np.arange(len(codes))
    check_bucket_search(codes, item_ids, queries, (1, 10, 57, 400, 500), ("probe", "scan", "auto"))


def test_bucket_search_multi_code_items_use_the_minimum_distance():
    rng = np.random.default_rng(7)
    codes = tied_codes(rng, 600, 10, 80)
    item_ids = rng.permutation(np.repeat(np.arange(0, 400, 2), 3))  # 200 sparse ids, 3 codes each
    queries = random_codes(rng, 8, 10)
    check_bucket_search(codes, item_ids, queries, (1, 5, 33, 200, 250), ("probe", "scan", "auto"))


def test_bucket_search_64_bit_clustered_codes():
    rng = np.random.default_rng(64)
    codes = clustered_codes(rng, 3000, 64, 5, 0.02)
    item_ids = np.arange(len(codes)) // 2  # two codes per item
    queries = codes[:4].copy()
    queries[:, [3, 40]] *= -1  # two flips away from a stored code, inside its cluster
    check_bucket_search(codes, item_ids, queries, (1, 20), ("probe", "scan", "auto"))


def test_bucket_auto_switches_from_probing_to_scanning(monkeypatch):
    rng = np.random.default_rng(3)
    codes = random_codes(rng, 300, 16)  # K=10 needs radius ~4; radius 3 has 560 > 300 addresses
    queries = random_codes(rng, 3, 16)
    index = BucketIndex(16)
    index.add(codes)
    scans = []

    class SpiedScan(hashkit.index._BucketScan):
        def __init__(self, *args):
            scans.append(1)
            super().__init__(*args)

    monkeypatch.setattr(hashkit.index, "_BucketScan", SpiedScan)
    probed_results = index.search(queries, 10, strategy="probe")
    assert not scans
    auto_results = index.search(queries, 10)
    assert len(scans) == len(queries)
    for auto, probed in zip(auto_results, probed_results):
        assert auto.ids.tolist() == probed.ids.tolist()
        assert auto.distances.tolist() == probed.distances.tolist()
        assert (auto.radius, auto.buckets_probed, auto.buckets_visited) == (
            probed.radius,
            probed.buckets_probed,
            probed.buckets_visited,
        )


def test_bucket_default_item_ids_continue_after_the_largest_id():
    rng = np.random.default_rng(0)
    index = BucketIndex(8)
    index.add(random_codes(rng, 3, 8))
    index.add(random_codes(rng, 2, 8))
    index.add(random_codes(rng, 2, 8), item_ids=np.array([10, 10]))
    index.add(random_codes(rng, 1, 8))
    assert (index.n_items, index.n_codes) == (7, 8)
    (result,) = index.search(random_codes(rng, 1, 8), 100)
    assert sorted(result.ids.tolist()) == [0, 1, 2, 3, 4, 10, 11]


def test_bucket_index_rejects_bad_input():
    rng = np.random.default_rng(0)
    index = BucketIndex(8)
    codes = random_codes(rng, 4, 8)
    with pytest.raises(ValueError, match="item_ids: expected integers of shape \\(4,\\)"):
        index.add(codes, np.arange(3))
    with pytest.raises(ValueError, match="item_ids: expected integers"):
        index.add(codes, np.zeros(4))
    with pytest.raises(ValueError, match="item_ids: expected non-negative"):
        index.add(codes, np.array([0, 1, -1, 2]))
    with pytest.raises(ValueError, match="codes: expected codes of n_bits=8"):
        index.add(random_codes(rng, 4, 9))
    index.add(codes)
    with pytest.raises(ValueError, match="k: expected a positive integer"):
        index.search(codes, 0)
    with pytest.raises(ValueError, match="query_codes: expected ±1 values"):
        index.search(codes * 2, 1)
    with pytest.raises(ValueError, match="strategy"):
        index.search(codes, 1, strategy="fast")
    with pytest.raises(NotImplementedError, match="at most 64 bits"):
        BucketIndex(65)


def test_bucket_search_on_empty_index():
    (result,) = BucketIndex(8).search(random_codes(np.random.default_rng(0), 1, 8), 5)
    assert result.ids.size == 0 and (result.radius, result.buckets_probed, result.buckets_visited) == (0, 0, 0)


# --------------------------------------------------------------------------- save / load


def filled_indexes() -> tuple[HammingIndex, BucketIndex, np.ndarray]:
    rng = np.random.default_rng(11)
    codes = tied_codes(rng, 300, 12, 50)
    hamming = HammingIndex(12)
    hamming.add(codes)
    bucket = BucketIndex(12)
    bucket.add(codes, np.arange(300) // 3)
    return hamming, bucket, random_codes(rng, 6, 12)


def test_save_load_round_trip(tmp_path):
    hamming, bucket, queries = filled_indexes()
    hamming.save(tmp_path / "hamming.npz")
    bucket.save(tmp_path / "bucket.npz")
    assert sorted(os.listdir(tmp_path)) == ["bucket.npz", "hamming.npz"]  # no temporary left over
    hamming_loaded = HammingIndex.load(tmp_path / "hamming.npz")
    bucket_loaded = BucketIndex.load(tmp_path / "bucket.npz")
    assert (hamming_loaded.n_bits, hamming_loaded.ntotal) == (12, 300)
    for expected, loaded in zip(hamming.search(queries, 40), hamming_loaded.search(queries, 40)):
        np.testing.assert_array_equal(expected, loaded)
    assert (bucket_loaded.n_items, bucket_loaded.n_codes, bucket_loaded.n_buckets) == (
        bucket.n_items,
        bucket.n_codes,
        bucket.n_buckets,
    )
    for expected, loaded in zip(bucket.search(queries, 25), bucket_loaded.search(queries, 25)):
        assert expected.ids.tolist() == loaded.ids.tolist()
        assert (expected.radius, expected.buckets_probed) == (loaded.radius, loaded.buckets_probed)


def rewrite_archive(path, change) -> None:
    """Rewrite the ``.npz`` at ``path`` after ``change(header_dict, arrays_dict)``."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("header").tobytes().decode())
    change(header, arrays)
    np.savez(path, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)


def test_load_rejects_damaged_and_foreign_files(tmp_path):
    hamming, bucket, _ = filled_indexes()
    path = tmp_path / "index.npz"

    hamming.save(path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ValueError, match=f"{path}: unreadable or corrupted"):
        HammingIndex.load(path)

    hamming.save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=f"{path}: unreadable or corrupted"):
        HammingIndex.load(path)

    hamming.save(path)
    rewrite_archive(path, lambda header, arrays: arrays["packed_codes"].__setitem__((0, 0), 7))
    with pytest.raises(ValueError, match=f"{path}: checksum mismatch"):
        HammingIndex.load(path)

    hamming.save(path)
    rewrite_archive(path, lambda header, arrays: header.__setitem__("version", 2))
    with pytest.raises(ValueError, match=f"{path}: hashkit-index format version 2; expected .* version 1"):
        HammingIndex.load(path)

    bucket.save(path)
    with pytest.raises(ValueError, match=f"{path}: holds a 'BucketIndex'; expected .* HammingIndex"):
        HammingIndex.load(path)

    np.savez(path, codes=np.zeros(3))
    with pytest.raises(ValueError, match=f"{path}: no hashkit header"):
        BucketIndex.load(path)

    path.write_text("not an index")
    with pytest.raises(ValueError, match=f"{path}: unreadable or corrupted"):
        BucketIndex.load(path)

    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ValueError, match="array.npy: unreadable or corrupted"):
        BucketIndex.load(tmp_path / "array.npy")


def test_radius_profile_counts_addresses_buckets_and_items_by_hand():
    from hashkit.index import radius_profile

    # 3-bit codes; the query is +++; buckets: +++ (2 items), ++- (1 item), --- (1 item).
    database = np.array([[1, 1, 1], [1, 1, 1], [1, 1, -1], [-1, -1, -1]], dtype=np.int8)
    profile = radius_profile(np.array([[1, 1, 1]], dtype=np.int8), database, max_radius=3)
    assert profile["addresses"].tolist() == [1, 3, 3, 1]
    assert profile["addresses within r"].tolist() == [1, 4, 7, 8]
    assert profile["non-empty buckets within r"].tolist() == [1, 2, 2, 3]
    assert profile["items within r"].tolist() == [2, 3, 3, 4]
    with pytest.raises(ValueError, match="max_radius"):
        radius_profile(database[:1], database, max_radius=4)
