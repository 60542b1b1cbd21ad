"""Metrics and bucket search on database items with several codes (MCH), against plain brute force.

An item's distance to a query is the minimum over its codes (MCH eq. 5) and every item counts
once. The brute force here loops over queries and items in Python and shares nothing with
hashkit.metrics or hashkit.index beyond the tie permutation.
"""

import math

import numpy as np
import pandas as pd
import pytest

from hashkit import metrics
from hashkit.index import BucketIndex, multi_code_index, radius_profile

NO_RELEVANT = ["zero", "drop"]
TIE_ORDERS = ["stable", "shuffle"]


# --- data -------------------------------------------------------------------------------------


def random_codes(rng: np.random.Generator, n: int, n_bits: int) -> np.ndarray:
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, n_bits))


def make_case(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(query codes, 3-D database codes, query labels, database labels) for one named situation.

    15 items hold 1-4 distinct codes each, padded to 4 by repeating one of their own codes;
    query 0 has no relevant database item, every other query has one, and query 1 equals one
    code of item 3.
    """
    rng = np.random.default_rng(sum(map(ord, name)))
    n_queries, n_items, codes_per_item = 6, 15, 4
    n_bits = {"6bit-class-ids": 6, "8bit-multi-hot": 8, "7bit-shared-codes": 7, "300bit-class-ids": 300}[name]
    if name == "7bit-shared-codes":  # codes drawn from a small pool: items share buckets
        pool = random_codes(rng, 12, n_bits)
        candidates = pool[rng.integers(0, len(pool), (n_items, codes_per_item))]
    else:
        candidates = random_codes(rng, n_items * codes_per_item, n_bits).reshape(n_items, codes_per_item, n_bits)
    database_codes = candidates.copy()
    n_distinct = rng.integers(1, codes_per_item + 1, n_items)
    n_distinct[:2] = 1, codes_per_item  # at least one single-code and one full item
    for item, count in enumerate(n_distinct):
        for slot in range(count, codes_per_item):
            database_codes[item, slot] = candidates[item, rng.integers(0, count)]
    query_codes = random_codes(rng, n_queries, n_bits)
    query_codes[1] = database_codes[3, -1]
    if name == "8bit-multi-hot":
        query_labels = (rng.random((n_queries, 5)) < 0.3).astype(np.int8)
        database_labels = (rng.random((n_items, 5)) < 0.3).astype(np.int8)
        query_labels[0] = 0
        query_labels[1:, 0] = 1
        database_labels[:3, 0] = 1
    else:
        query_labels, database_labels = rng.integers(0, 4, n_queries), rng.integers(0, 4, n_items)
        database_labels[:4] = np.arange(4)  # every query but query 0 has a relevant item
        query_labels[0] = 4  # a class no database item has
    return query_codes, database_codes, query_labels, database_labels


CASES = ["6bit-class-ids", "8bit-multi-hot", "7bit-shared-codes", "300bit-class-ids"]
SMALL_CASES = CASES[:3]  # bucket search keys codes of at most 64 bits


@pytest.fixture(params=[None, 250], ids=["default-chunks", "tiny-chunks"])
def chunking(request, monkeypatch):
    """The module's chunk size, and 250 entries: blocks of 4 then 2 queries for 60 codes."""
    if request.param is not None:
        monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", request.param)


# --- brute force --------------------------------------------------------------------------------


def brute_item_distances(query_code: np.ndarray, database_codes: np.ndarray) -> list[int]:
    """Per item, the minimum over its codes of the number of differing bits."""
    distances = []
    for item_codes in database_codes:
        distances.append(min(sum(int(a != b) for a, b in zip(query_code, code)) for code in item_codes))
    return distances


def brute_ranking(query_code, database_codes, tie_order: str = "stable", seed: int = 0) -> list[int]:
    """Items sorted by (min distance, item index), or by (min distance, position in the tie permutation)."""
    n_items = len(database_codes)
    order = list(range(n_items)) if tie_order == "stable" else list(metrics.tie_permutation(n_items, seed))
    position = {item: place for place, item in enumerate(order)}
    distances = brute_item_distances(query_code, database_codes)
    return sorted(range(n_items), key=lambda item: (distances[item], position[item]))


def brute_relevant(query_label, database_labels: np.ndarray) -> list[bool]:
    if np.ndim(query_label) == 0:
        return [bool(label == query_label) for label in database_labels]
    return [any(q and d for q, d in zip(query_label, row)) for row in database_labels]


def brute_ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def brute_f1(precision: float, recall: float) -> float:
    return brute_ratio(2 * precision * recall, precision + recall)


def brute_average_precision(relevant_in_rank_order: list[bool], top_k, no_relevant: str) -> float:
    hits, precision_sum = 0, 0.0
    for rank, is_relevant in enumerate(relevant_in_rank_order[:top_k], start=1):
        if is_relevant:
            hits += 1
            precision_sum += hits / rank
    if hits == 0:
        return 0.0 if no_relevant == "zero" else math.nan
    return precision_sum / hits


def brute_ball(query_code, query_label, database_codes, database_labels, radius: int) -> tuple[float, float, float]:
    """(precision, recall, F1) of the items whose nearest code is within ``radius``."""
    distances = brute_item_distances(query_code, database_codes)
    relevant = brute_relevant(query_label, database_labels)
    in_ball = [item for item in range(len(database_codes)) if distances[item] <= radius]
    hits = sum(relevant[item] for item in in_ball)
    precision, recall = brute_ratio(hits, len(in_ball)), brute_ratio(hits, sum(relevant))
    return precision, recall, brute_f1(precision, recall)


# --- the cases ------------------------------------------------------------------------------------


def test_the_cases_exercise_what_they_claim():
    for case in CASES:
        query_codes, database_codes, query_labels, database_labels = make_case(case)
        assert database_codes.shape == (15, 4, query_codes.shape[1])
        n_distinct = [len(np.unique(codes, axis=0)) for codes in database_codes]
        assert min(n_distinct) == 1 and max(n_distinct) == 4
        assert not any(brute_relevant(query_labels[0], database_labels))
        assert brute_item_distances(query_codes[1], database_codes)[3] == 0
        # the minimum matters: some item is nearer through a code other than its first
        first_code_only = database_codes[:, :1]
        assert any(
            brute_item_distances(code, database_codes) != brute_item_distances(code, first_code_only)
            for code in query_codes
        )
    shared = make_case("7bit-shared-codes")[1]  # fewer buckets than (item, distinct code) pairs
    assert len(np.unique(shared.reshape(-1, 7), axis=0)) < sum(len(np.unique(codes, axis=0)) for codes in shared)


# --- ranked metrics --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("top_k", [None, 1, 4, 9, 100])
@pytest.mark.parametrize("no_relevant", NO_RELEVANT)
@pytest.mark.parametrize("tie_order", TIE_ORDERS)
def test_average_precision_matches_brute_force(case, top_k, no_relevant, tie_order, chunking):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    expected = [
        brute_average_precision(
            [brute_relevant(label, database_labels)[item]
             for item in brute_ranking(code, database_codes, tie_order, seed=5)],
            top_k, no_relevant,
        )
        for code, label in zip(query_codes, query_labels)
    ]
    options = dict(no_relevant=no_relevant, tie_order=tie_order, seed=5)
    got = metrics.average_precision(query_codes, database_codes, query_labels, database_labels, top_k, **options)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    mean = metrics.mean_average_precision(query_codes, database_codes, query_labels, database_labels, top_k, **options)
    assert mean == pytest.approx(np.nanmean(expected), abs=1e-12)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("tie_order", TIE_ORDERS)
def test_precision_recall_at_n_matches_brute_force(case, tie_order, chunking):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    n_values = [1, 2, 5, 11, 15]
    table = metrics.precision_recall_at_n(
        query_codes, database_codes, query_labels, database_labels, n_values, tie_order=tie_order, seed=2
    )
    assert table["n"].tolist() == n_values
    for row, n in enumerate(n_values):
        precisions, recalls = [], []
        for code, label in zip(query_codes, query_labels):
            relevant = brute_relevant(label, database_labels)
            hits = sum(relevant[item] for item in brute_ranking(code, database_codes, tie_order, seed=2)[:n])
            precisions.append(hits / n)
            recalls.append(brute_ratio(hits, sum(relevant)))
        assert table.loc[row, "precision"] == pytest.approx(np.mean(precisions), abs=1e-12)
        assert table.loc[row, "recall"] == pytest.approx(np.mean(recalls), abs=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_map_and_ball_scores_are_the_two_metrics_bit_for_bit(case, chunking):
    codes_and_labels = make_case(case)
    within = metrics.hamming_radius_metrics(*codes_and_labels, [2])
    expected = {"map": metrics.mean_average_precision(*codes_and_labels),
                **{name: float(within[name].iloc[0]) for name in ("precision", "recall", "f1")}}
    assert metrics.map_and_ball_scores(*codes_and_labels, 2) == expected


# --- Hamming ball ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_hamming_radius_metrics_and_pr_curve_match_brute_force(case, chunking):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    n_bits = query_codes.shape[1]
    radii = list(range(n_bits + 1)) if n_bits <= 8 else [0, 60, 120, 140, 150, 160, 300]
    expected = np.array([
        np.mean([brute_ball(code, label, database_codes, database_labels, radius)
                 for code, label in zip(query_codes, query_labels)], axis=0)
        for radius in radii
    ])
    table = metrics.hamming_radius_metrics(query_codes, database_codes, query_labels, database_labels, radii)
    assert table["radius"].tolist() == radii
    np.testing.assert_allclose(table[["precision", "recall", "f1"]].to_numpy(), expected, atol=1e-12)
    assert table["recall"].iloc[-1] == pytest.approx(5 / 6)  # everything retrieved; query 0 has recall 0
    if n_bits <= 8:
        curve = metrics.precision_recall_curve(query_codes, database_codes, query_labels, database_labels)
        assert list(curve.columns) == ["radius", "precision", "recall"]
        np.testing.assert_allclose(curve[["precision", "recall"]].to_numpy(), expected[:, :2], atol=1e-12)


# --- bucket search: F1-bucket curve and radius profile -------------------------------------------------


@pytest.mark.parametrize("case", SMALL_CASES)
def test_f1_bucket_curve_matches_brute_force_top_k(case, chunking):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    index = multi_code_index(database_codes)
    assert (index.n_items, index.n_bits) == (15, query_codes.shape[1])
    k_values = [1, 3, 7, 15, 40]
    table = metrics.f1_bucket_curve(index, query_codes, query_labels, database_labels, k_values)
    for row, k in enumerate(k_values):
        results = index.search(query_codes, k)
        scores = []
        for code, label, result in zip(query_codes, query_labels, results):
            top_k = brute_ranking(code, database_codes)[:k]
            assert result.ids.tolist() == top_k
            relevant = brute_relevant(label, database_labels)
            hits = sum(relevant[item] for item in top_k)
            precision, recall = hits / len(top_k), brute_ratio(hits, sum(relevant))
            scores.append((precision, recall, brute_f1(precision, recall)))
        np.testing.assert_allclose(
            table.loc[row, ["precision", "recall", "f1"]].to_numpy(float), np.mean(scores, axis=0), atol=1e-12
        )
        assert table.loc[row, "buckets_probed"] == pytest.approx(np.mean([r.buckets_probed for r in results]))
    assert table.loc[len(k_values) - 1, "recall"] == pytest.approx(5 / 6)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_multi_code_index_equals_adding_each_distinct_code_once(case):
    query_codes, database_codes, _, _ = make_case(case)
    by_hand = BucketIndex(query_codes.shape[1])
    for item, item_codes in enumerate(database_codes):
        distinct = np.unique(item_codes, axis=0)
        by_hand.add(distinct, np.full(len(distinct), item))
    index = multi_code_index(database_codes)
    assert index.n_codes == by_hand.n_codes < database_codes.shape[0] * database_codes.shape[1]
    assert index.n_buckets == by_hand.n_buckets
    for k in [1, 4, 15]:
        for ours, theirs in zip(index.search(query_codes, k), by_hand.search(query_codes, k)):
            assert ours.ids.tolist() == theirs.ids.tolist()
            assert ours.distances.tolist() == theirs.distances.tolist()
            assert (ours.radius, ours.buckets_probed, ours.buckets_visited) == (
                theirs.radius, theirs.buckets_probed, theirs.buckets_visited
            )


@pytest.mark.parametrize("case", SMALL_CASES)
def test_radius_profile_counts_items_once_and_distinct_buckets(case):
    query_codes, database_codes, _, _ = make_case(case)
    n_bits = query_codes.shape[1]
    profile = radius_profile(query_codes, database_codes, max_radius=n_bits)
    buckets = {tuple(code) for item_codes in database_codes for code in item_codes}
    for radius in range(n_bits + 1):
        items, non_empty = [], []
        for code in query_codes:
            distances = brute_item_distances(code, database_codes)
            items.append(sum(distance <= radius for distance in distances))
            non_empty.append(sum(sum(int(a != b) for a, b in zip(code, bucket)) <= radius for bucket in buckets))
        assert profile.loc[radius, "items within r"] == pytest.approx(np.mean(items), abs=1e-12)
        assert profile.loc[radius, "non-empty buckets within r"] == pytest.approx(np.mean(non_empty), abs=1e-12)
        assert profile.loc[radius, "addresses"] == math.comb(n_bits, radius)
    assert profile["items within r"].iloc[-1] == 15  # each item once, not once per code


def test_radius_profile_hand_computed_multi_code_items():
    # 3-bit codes, query +++. Item 0: +++ and --- ; item 1: ++- (padded) ; item 2: ++- and +--.
    # Buckets: +++ (d 0), ++- (d 1), +-- (d 2), --- (d 3). Item distances: 0, 1, 1.
    database = np.array([
        [[1, 1, 1], [-1, -1, -1]],
        [[1, 1, -1], [1, 1, -1]],
        [[1, 1, -1], [1, -1, -1]],
    ], dtype=np.int8)
    profile = radius_profile(np.array([[1, 1, 1]], dtype=np.int8), database, max_radius=3)
    assert profile["non-empty buckets within r"].tolist() == [1, 2, 3, 4]
    assert profile["items within r"].tolist() == [1, 3, 3, 3]


# --- 3-D codes that hold one code per item, and padding -------------------------------------------------


def every_result(query_codes, database_codes, query_labels, database_labels) -> dict[str, object]:
    """Every metric of this module on one database, for exact comparison."""
    n_bits = query_codes.shape[1]
    results = {
        f"ap {top_k} {no_relevant} {tie_order}": metrics.average_precision(
            query_codes, database_codes, query_labels, database_labels, top_k,
            no_relevant=no_relevant, tie_order=tie_order, seed=1,
        )
        for top_k in [None, 5] for no_relevant in NO_RELEVANT for tie_order in TIE_ORDERS
    }
    results["at n"] = metrics.precision_recall_at_n(
        query_codes, database_codes, query_labels, database_labels, [1, 4, 15], tie_order="shuffle"
    )
    results["radius"] = metrics.hamming_radius_metrics(query_codes, database_codes, query_labels, database_labels)
    results["pr curve"] = metrics.precision_recall_curve(query_codes, database_codes, query_labels, database_labels)
    if n_bits <= 64:
        results["radius profile"] = radius_profile(query_codes, database_codes, n_bits)
        results["f1 bucket"] = metrics.f1_bucket_curve(
            multi_code_index(database_codes), query_codes, query_labels, database_labels, [1, 3, 15]
        )
    return results


def assert_same_results(ours: dict[str, object], theirs: dict[str, object]) -> None:
    assert ours.keys() == theirs.keys()
    for name, value in ours.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, theirs[name], check_exact=True, obj=name)
        else:
            np.testing.assert_array_equal(value, theirs[name], err_msg=name)


@pytest.mark.parametrize("case", CASES)
def test_copies_of_one_code_give_exactly_the_2d_result(case, chunking):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    one_code = database_codes[:, 1]
    copies = np.repeat(one_code[:, None], 3, axis=1)
    as_2d = every_result(query_codes, one_code, query_labels, database_labels)
    assert_same_results(every_result(query_codes, copies, query_labels, database_labels), as_2d)
    assert_same_results(every_result(query_codes, one_code[:, None], query_labels, database_labels), as_2d)
    if one_code.shape[1] <= 64:  # the 2-D index as f1_bucket_curve took it before
        plain = BucketIndex(one_code.shape[1])
        plain.add(one_code)
        table = metrics.f1_bucket_curve(plain, query_codes, query_labels, database_labels, [1, 3, 15])
        pd.testing.assert_frame_equal(as_2d["f1 bucket"], table, check_exact=True)


@pytest.mark.parametrize("case", CASES)
def test_padding_by_repeating_an_items_own_code_changes_nothing(case):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    rng = np.random.default_rng(0)
    # 7 slots instead of 4, the extra ones repeating a random own code, and the slots shuffled per item
    extra = database_codes[np.arange(15)[:, None], rng.integers(0, 4, (15, 3))]
    repadded = np.concatenate([database_codes, extra], axis=1)
    repadded = repadded[np.arange(15)[:, None], np.argsort(rng.random((15, 7)), axis=1)]
    assert_same_results(
        every_result(query_codes, repadded, query_labels, database_labels),
        every_result(query_codes, database_codes, query_labels, database_labels),
    )


def test_chunks_are_sized_by_codes_not_items(monkeypatch):
    query_codes, database_codes, query_labels, database_labels = make_case("6bit-class-ids")
    widths = []
    original = metrics._query_blocks

    def recording(n_queries, n_columns):
        widths.append(n_columns)
        return original(n_queries, n_columns)

    monkeypatch.setattr(metrics, "_query_blocks", recording)
    metrics.mean_average_precision(query_codes, database_codes, query_labels, database_labels)
    assert widths == [15 * 4]


# --- bad shapes --------------------------------------------------------------------------------------

BAD_CALLS = {
    "bits differ from 3-D database": (
        lambda q, d, ql, dl: metrics.mean_average_precision(q, d[:, :, :5], ql, dl), "bits"
    ),
    "label rows are codes, not items": (
        lambda q, d, ql, dl: metrics.mean_average_precision(q, d, ql, np.repeat(dl, 4)), "database_labels"
    ),
    "label rows short at N": (
        lambda q, d, ql, dl: metrics.precision_recall_at_n(q, d, ql, dl[:-1], [1]), "database_labels"
    ),
    "label rows in the ball": (
        lambda q, d, ql, dl: metrics.hamming_radius_metrics(q, d, ql, dl[:-1]), "database_labels"
    ),
    "4-D database": (lambda q, d, ql, dl: metrics.mean_average_precision(q, d[None], ql, dl), "database_codes"),
    "no code per item": (lambda q, d, ql, dl: metrics.mean_average_precision(q, d[:, :0], ql, dl), "database_codes"),
    "zero in a 3-D code": (
        lambda q, d, ql, dl: metrics.mean_average_precision(q, d * np.int8(0), ql, dl), "database_codes"
    ),
    "no item": (lambda q, d, ql, dl: metrics.mean_average_precision(q, d[:0], ql, dl[:0]), "database_codes"),
    "index from 1-D codes": (lambda q, d, ql, dl: multi_code_index(d[0, 0]), "database_codes"),
    "profile bits differ": (lambda q, d, ql, dl: radius_profile(q[:, :5], d, 2), "query_codes"),
    "profile 4-D database": (lambda q, d, ql, dl: radius_profile(q, d[None], 2), "database_codes"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_shapes_raise_a_value_error_naming_them(name):
    call, message = BAD_CALLS[name]
    with pytest.raises(ValueError, match=message):
        call(*make_case("6bit-class-ids"))
