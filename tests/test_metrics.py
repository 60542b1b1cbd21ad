"""hashkit.metrics against plain per-query brute force, hand-derived values and bad inputs."""

import math

import numpy as np
import pytest

from hashkit import metrics
from hashkit.index import BucketIndex

NO_RELEVANT = ["zero", "drop"]
TIE_ORDERS = ["stable", "shuffle"]


# --- data -------------------------------------------------------------------------------------


def random_codes(rng: np.random.Generator, n: int, n_bits: int) -> np.ndarray:
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, n_bits))


def multi_hot(rng: np.random.Generator, n: int, n_classes: int, density: float) -> np.ndarray:
    return (rng.random((n, n_classes)) < density).astype(np.int8)


def make_case(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(query codes, database codes, query labels, database labels) for one named situation."""
    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "random-32bit-multilabel":
        # sparse labels, so some queries have no relevant item (and some have no label at all)
        return (random_codes(rng, 25, 32), random_codes(rng, 180, 32),
                multi_hot(rng, 25, 6, 0.15), multi_hot(rng, 180, 6, 0.15))
    if name == "ties-4bit-singlelabel":
        # 16 possible codes for 150 items: nearly every rank is inside a tie group;
        # class 5 never occurs in the database, so its queries have nothing relevant
        return (random_codes(rng, 30, 4), random_codes(rng, 150, 4),
                rng.integers(0, 6, 30), rng.integers(0, 5, 150))
    if name == "ties-6bit-multilabel-duplicates":
        prototypes = random_codes(rng, 5, 6)
        return (prototypes[rng.integers(0, 5, 20)], prototypes[rng.integers(0, 5, 160)],
                multi_hot(rng, 20, 4, 0.3), multi_hot(rng, 160, 4, 0.3))
    if name == "16bit-70-classes":  # labels span two 64-bit words
        return (random_codes(rng, 20, 16), random_codes(rng, 150, 16),
                multi_hot(rng, 20, 70, 0.04), multi_hot(rng, 150, 70, 0.04))
    if name == "300bit-singlelabel":
        # distances above 255 (near-opposite codes) need more than uint8 distances
        query_codes = random_codes(rng, 12, 300)
        opposites = -query_codes[rng.integers(0, 12, 45)] * np.where(rng.random((45, 300)) < 0.05, -1, 1)
        database_codes = np.concatenate([random_codes(rng, 45, 300), opposites.astype(np.int8)])
        return query_codes, database_codes, rng.integers(0, 3, 12), rng.integers(0, 3, 90)
    raise KeyError(name)


CASES = [
    "random-32bit-multilabel", "ties-4bit-singlelabel", "ties-6bit-multilabel-duplicates", "16bit-70-classes",
    "300bit-singlelabel",
]


@pytest.fixture(params=[None, 500], ids=["default-chunks", "tiny-chunks"])
def chunking(request, monkeypatch):
    """Run each test with the module's chunk size and with chunks of a few queries (uneven tail)."""
    if request.param is not None:
        monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", request.param)


# --- brute force: one query at a time, nothing shared with hashkit.metrics --------------------


def brute_distances(query_code: np.ndarray, database_codes: np.ndarray) -> np.ndarray:
    return np.count_nonzero(database_codes != query_code, axis=1)


def brute_relevant(query_label, database_labels: np.ndarray) -> np.ndarray:
    if np.ndim(query_label) == 0:
        return database_labels == query_label
    return np.array([any(q and d for q, d in zip(query_label, row)) for row in database_labels])


def brute_ranking(query_code, database_codes, tie_order: str, seed: int) -> np.ndarray:
    """Database indices by distance; ties in index order, or in the order of the tie permutation."""
    n_database = len(database_codes)
    permutation = np.arange(n_database) if tie_order == "stable" else metrics.tie_permutation(n_database, seed)
    distances = brute_distances(query_code, database_codes)
    return permutation[np.argsort(distances[permutation], kind="stable")]


def brute_average_precision(relevant_in_rank_order, top_k, no_relevant: str) -> float:
    hits, precision_sum = 0, 0.0
    for rank, is_relevant in enumerate(relevant_in_rank_order[:top_k], start=1):
        if is_relevant:
            hits += 1
            precision_sum += hits / rank
    if hits == 0:
        return 0.0 if no_relevant == "zero" else math.nan
    return precision_sum / hits


def brute_average_precisions(query_codes, database_codes, query_labels, database_labels,
                              top_k, no_relevant="zero", tie_order="stable", seed=0) -> np.ndarray:
    return np.array([
        brute_average_precision(
            brute_relevant(label, database_labels)[brute_ranking(code, database_codes, tie_order, seed)],
            top_k, no_relevant,
        )
        for code, label in zip(query_codes, query_labels)
    ])


def brute_ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def brute_f1(precision: float, recall: float) -> float:
    return brute_ratio(2 * precision * recall, precision + recall)


# --- average precision / mAP ------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("top_k", [None, 1, 7, 100_000])
@pytest.mark.parametrize("no_relevant", NO_RELEVANT)
@pytest.mark.parametrize("tie_order", TIE_ORDERS)
def test_average_precision_matches_brute_force(case, top_k, no_relevant, tie_order, chunking):
    data = make_case(case)
    options = dict(no_relevant=no_relevant, tie_order=tie_order, seed=3)
    expected = brute_average_precisions(*data, top_k, **options)
    np.testing.assert_allclose(metrics.average_precision(*data, top_k, **options), expected, rtol=0, atol=1e-12)
    if np.isnan(expected).all():
        with pytest.raises(ValueError, match="dropped every query"):
            metrics.mean_average_precision(*data, top_k, **options)
    else:
        mean = metrics.mean_average_precision(*data, top_k, **options)
        assert mean == pytest.approx(np.nanmean(expected), abs=1e-12)


def test_the_cases_exercise_what_they_claim():
    # guards the brute-force comparisons above against degenerate data
    for case in CASES:
        query_codes, database_codes, query_labels, database_labels = make_case(case)
        n_relevant = np.array([brute_relevant(label, database_labels).sum() for label in query_labels])
        assert n_relevant.max() > 0
        if case in ("random-32bit-multilabel", "ties-4bit-singlelabel"):
            assert n_relevant.min() == 0
        if case == "16bit-70-classes":  # some relevant pairs share labels only in the second word
            shared = query_labels[:, None, :] & database_labels[None, :, :]
            assert (shared[:, :, 64:].any(-1) & ~shared[:, :, :64].any(-1)).any()
        if case == "300bit-singlelabel":
            assert max(brute_distances(code, database_codes).max() for code in query_codes) > 255
        if case.startswith("ties"):
            tie_groups = [np.bincount(brute_distances(code, database_codes)).max() for code in query_codes]
            assert min(tie_groups) > 20


def test_hand_computed_example():
    # query 0 = ++++ with class 0; database:
    #   item 0: --++  distance 2, class 0 (relevant)
    #   item 1: ++++  distance 0, class 1
    #   item 2: -+++  distance 1, class 0 (relevant)
    # ranking: item 1, item 2, item 0 -> relevance 0, 1, 1
    #   AP@all = (P@2 + P@3) / 2 = (1/2 + 2/3) / 2 = 7/12;  AP@2 = (1/2) / 1 = 1/2;
    #   AP@1: nothing relevant in the top 1
    # query 1 = ---- with class 2: no relevant item anywhere -> AP 0 ("zero") or dropped ("drop")
    query_codes = np.array([[1, 1, 1, 1], [-1, -1, -1, -1]], dtype=np.int8)
    database_codes = np.array([[-1, -1, 1, 1], [1, 1, 1, 1], [-1, 1, 1, 1]], dtype=np.int8)
    query_labels, database_labels = np.array([0, 2]), np.array([0, 1, 0])
    args = (query_codes, database_codes, query_labels, database_labels)

    np.testing.assert_allclose(metrics.average_precision(*args), [7 / 12, 0.0])
    np.testing.assert_allclose(metrics.average_precision(*args, 2), [1 / 2, 0.0])
    np.testing.assert_allclose(metrics.average_precision(*args, 1, no_relevant="drop"), [np.nan, np.nan])
    assert metrics.mean_average_precision(*args) == pytest.approx(7 / 24)
    assert metrics.mean_average_precision(*args, no_relevant="drop") == pytest.approx(7 / 12)
    assert metrics.mean_average_precision(*args, 2, no_relevant="drop") == pytest.approx(1 / 2)

    # top N of query 0: N=1 -> P 0, R 0; N=2 -> P 1/2, R 1/2; N=3 -> P 2/3, R 1. Query 1 scores 0.
    at_n = metrics.precision_recall_at_n(*args, [1, 2, 3])
    assert at_n["n"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(at_n["precision"], np.array([0, 1 / 2, 2 / 3]) / 2)
    np.testing.assert_allclose(at_n["recall"], np.array([0, 1 / 2, 1]) / 2)

    # Hamming balls of query 0: r=0 {1}: P 0, R 0; r=1 {1, 2}: P 1/2, R 1/2, F1 1/2;
    # r>=2 {0, 1, 2}: P 2/3, R 1, F1 = (4/3) / (5/3) = 4/5. Query 1's balls are empty up to r=1
    # (precision 0 by GUIDE §3.7) and hold nothing relevant after, so it scores 0 at every radius.
    radius = metrics.hamming_radius_metrics(*args)
    assert radius["radius"].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(radius["precision"], np.array([0, 1 / 2, 2 / 3, 2 / 3, 2 / 3]) / 2)
    np.testing.assert_allclose(radius["recall"], np.array([0, 1 / 2, 1, 1, 1]) / 2)
    np.testing.assert_allclose(radius["f1"], np.array([0, 1 / 2, 4 / 5, 4 / 5, 4 / 5]) / 2)
    curve = metrics.precision_recall_curve(*args)
    assert list(curve.columns) == ["radius", "precision", "recall"]
    np.testing.assert_allclose(curve[["precision", "recall"]], radius[["precision", "recall"]])


def test_hand_computed_tie():
    # Both database items are at distance 1 from the query; only item 1 is relevant.
    # stable order: item 0, item 1 -> AP = (1/2) / 1 = 1/2. A shuffle putting item 1 first gives AP 1.
    args = (np.array([[1, 1]]), np.array([[1, -1], [-1, 1]]), np.array([0]), np.array([1, 0]))
    assert metrics.mean_average_precision(*args) == 0.5
    outcomes = set()
    for seed in range(10):
        expected = 1.0 if metrics.tie_permutation(2, seed)[0] == 1 else 0.5
        assert metrics.mean_average_precision(*args, tie_order="shuffle", seed=seed) == expected
        outcomes.add(expected)
    assert outcomes == {0.5, 1.0}


def test_shuffle_is_reproducible_and_changes_tie_heavy_results():
    args = make_case("ties-4bit-singlelabel")
    first = metrics.average_precision(*args, tie_order="shuffle", seed=11)
    np.testing.assert_array_equal(first, metrics.average_precision(*args, tie_order="shuffle", seed=11))
    assert not np.allclose(first, metrics.average_precision(*args, tie_order="shuffle", seed=12))
    assert not np.allclose(first, metrics.average_precision(*args))


def test_multi_hot_one_hot_labels_equal_class_ids():
    query_codes, database_codes, query_labels, database_labels = make_case("ties-4bit-singlelabel")
    one_hot = np.eye(6, dtype=np.int8)
    with_ids = metrics.average_precision(query_codes, database_codes, query_labels, database_labels, 20)
    with_one_hot = metrics.average_precision(
        query_codes, database_codes, one_hot[query_labels], one_hot[database_labels], 20
    )
    np.testing.assert_array_equal(with_ids, with_one_hot)


def test_asymmetric_database_codes_are_the_ones_ranked():
    # ADSH/FDAH: queries use the network's codes, the database its learned codes B (GUIDE §3.8).
    rng = np.random.default_rng(5)
    n_bits, class_codes = 16, random_codes(rng, 4, 16)
    database_labels, query_labels = rng.integers(0, 4, 120), rng.integers(0, 4, 15)
    learned_database_codes = class_codes[database_labels]  # B: one code per class
    network_database_codes = random_codes(rng, 120, n_bits)  # what the network would give the database
    query_codes = class_codes[query_labels]
    flips = rng.random(query_codes.shape) < 0.1
    query_codes = np.where(flips, -query_codes, query_codes).astype(np.int8)

    expected = brute_average_precisions(query_codes, learned_database_codes, query_labels, database_labels, 50)
    got = metrics.mean_average_precision(query_codes, learned_database_codes, query_labels, database_labels, 50)
    assert got == pytest.approx(expected.mean(), abs=1e-12)
    with_network_codes = metrics.mean_average_precision(
        query_codes, network_database_codes, query_labels, database_labels, 50
    )
    assert with_network_codes < got - 0.2


# --- precision / recall -----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("tie_order", TIE_ORDERS)
def test_precision_recall_at_n_matches_brute_force(case, tie_order, chunking):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    n_values = [1, 5, 13, len(database_codes)]
    precision, recall = np.zeros(len(n_values)), np.zeros(len(n_values))
    for code, label in zip(query_codes, query_labels):
        relevant = brute_relevant(label, database_labels)
        ranked = relevant[brute_ranking(code, database_codes, tie_order, 7)]
        for column, n in enumerate(n_values):
            precision[column] += ranked[:n].sum() / n
            recall[column] += brute_ratio(ranked[:n].sum(), relevant.sum())
    table = metrics.precision_recall_at_n(
        query_codes, database_codes, query_labels, database_labels, n_values, tie_order=tie_order, seed=7
    )
    assert list(table.columns) == ["n", "precision", "recall"]
    assert table["n"].tolist() == n_values
    np.testing.assert_allclose(table["precision"], precision / len(query_codes), atol=1e-12)
    np.testing.assert_allclose(table["recall"], recall / len(query_codes), atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_hamming_radius_metrics_match_brute_force(case, chunking):
    query_codes, database_codes, query_labels, database_labels = make_case(case)
    n_bits = query_codes.shape[1]
    radii = list(range(n_bits + 1))
    sums = np.zeros((3, len(radii)))
    for code, label in zip(query_codes, query_labels):
        relevant = brute_relevant(label, database_labels)
        distances = brute_distances(code, database_codes)
        for column, radius in enumerate(radii):
            in_ball = distances <= radius
            precision = brute_ratio((in_ball & relevant).sum(), in_ball.sum())
            recall = brute_ratio((in_ball & relevant).sum(), relevant.sum())
            sums[:, column] += precision, recall, brute_f1(precision, recall)
    expected = sums / len(query_codes)
    columns = ["precision", "recall", "f1"]
    table = metrics.hamming_radius_metrics(query_codes, database_codes, query_labels, database_labels)
    assert list(table.columns) == ["radius", *columns]
    assert table["radius"].tolist() == radii
    np.testing.assert_allclose(table[columns].to_numpy().T, expected, atol=1e-12)
    some = [n_bits, 0, 2]
    subset = metrics.hamming_radius_metrics(query_codes, database_codes, query_labels, database_labels, some)
    assert subset["radius"].tolist() == some
    np.testing.assert_allclose(subset[columns].to_numpy().T, expected[:, some], atol=1e-12)
    curve = metrics.precision_recall_curve(query_codes, database_codes, query_labels, database_labels)
    np.testing.assert_allclose(curve[["precision", "recall"]].to_numpy().T, expected[:2], atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_map_and_ball_scores_are_the_two_metrics_bit_for_bit(case, chunking):
    codes_and_labels = make_case(case)
    for radius in (0, 2, codes_and_labels[0].shape[1]):
        within = metrics.hamming_radius_metrics(*codes_and_labels, [radius])
        expected = {"map": metrics.mean_average_precision(*codes_and_labels),
                    **{name: float(within[name].iloc[0]) for name in ("precision", "recall", "f1")}}
        assert metrics.map_and_ball_scores(*codes_and_labels, radius) == expected


# --- MCH: F1-bucket curve and ANHC -------------------------------------------------------------


@pytest.mark.parametrize("label_form", ["class ids", "multi-hot"])
def test_f1_bucket_curve_matches_brute_force(label_form, chunking):
    rng = np.random.default_rng(8)
    n_bits, n_items, n_queries = 8, 70, 18
    # every item has one code and 25 have a second (MCH's region codes), added in shuffled order
    extra_codes_of = rng.choice(n_items, 25, replace=False)
    item_of_code = rng.permutation(np.concatenate([np.arange(n_items), extra_codes_of]))
    database_codes = random_codes(rng, len(item_of_code), n_bits)
    query_codes = random_codes(rng, n_queries, n_bits)
    if label_form == "class ids":
        query_labels, database_labels = rng.integers(0, 5, n_queries), rng.integers(0, 4, n_items)
    else:
        query_labels, database_labels = multi_hot(rng, n_queries, 5, 0.3), multi_hot(rng, n_items, 5, 0.3)
    index = BucketIndex(n_bits)
    index.add(database_codes, item_of_code)
    bucket_codes = np.unique(database_codes, axis=0)
    k_values = [1, 4, 15, 200]

    table = metrics.f1_bucket_curve(index, query_codes, query_labels, database_labels, k_values)
    assert list(table.columns) == ["k", "f1", "precision", "recall", "buckets_visited", "buckets_probed"]
    assert table["k"].tolist() == k_values
    for row, k in enumerate(k_values):
        sums, results = np.zeros(3), index.search(query_codes, k)
        for code, label, result in zip(query_codes, query_labels, results):
            code_distances = brute_distances(code, database_codes)
            item_distances = [code_distances[item_of_code == item].min() for item in range(n_items)]
            retrieved = np.argsort(item_distances, kind="stable")[:k]
            relevant = brute_relevant(label, database_labels)
            precision = brute_ratio(relevant[retrieved].sum(), len(retrieved))
            recall = brute_ratio(relevant[retrieved].sum(), relevant.sum())
            sums += precision, recall, brute_f1(precision, recall)
            # Algorithm 1 visits every non-empty bucket inside its final radius, and some on it
            bucket_distances = brute_distances(code, bucket_codes)
            inside = np.count_nonzero(bucket_distances < result.radius)
            on_the_radius = np.count_nonzero(bucket_distances == result.radius)
            assert inside < result.buckets_visited <= inside + on_the_radius
        got = table.loc[row, ["precision", "recall", "f1"]].to_numpy(float)
        np.testing.assert_allclose(got, sums / n_queries, atol=1e-12)
        assert table.loc[row, "buckets_visited"] == pytest.approx(np.mean([r.buckets_visited for r in results]))
        assert table.loc[row, "buckets_probed"] == pytest.approx(np.mean([r.buckets_probed for r in results]))
    assert table["buckets_visited"].is_monotonic_increasing
    assert table["recall"].iloc[-1] > table["recall"].iloc[0]


def test_f1_bucket_curve_rejects_ids_outside_the_labels():
    index = BucketIndex(4)
    index.add(np.ones((2, 4), dtype=np.int8), np.array([0, 5]))
    with pytest.raises(ValueError, match="database_labels"):
        metrics.f1_bucket_curve(index, np.ones((1, 4), dtype=np.int8), np.array([0]), np.array([0, 1, 0]), [2])


def test_average_number_of_hash_codes_hand_computed():
    # items keep codes with P >= 0.5: [1.0, 0.5, 0.2] -> 2; [1.0] -> 1; [1.0, 0.9, 0.7, 0.49] -> 3
    # ANHC = (2 + 1 + 3) / 3 = 2
    ragged = [np.array([1.0, 0.5, 0.2]), np.array([1.0]), np.array([1.0, 0.9, 0.7, 0.49])]
    assert metrics.average_number_of_hash_codes(ragged, 0.5) == pytest.approx(2.0)
    padded = np.full((3, 4), np.nan)
    for row, probabilities in enumerate(ragged):
        padded[row, : len(probabilities)] = probabilities
    assert metrics.average_number_of_hash_codes(padded, 0.5) == pytest.approx(2.0)
    # threshold 1.0 keeps only the whole-image codes (P = 1), threshold 0 keeps every candidate
    assert metrics.average_number_of_hash_codes(padded, 1.0) == pytest.approx(1.0)
    assert metrics.average_number_of_hash_codes(ragged, 0.0) == pytest.approx(8 / 3)


# --- bad input ----------------------------------------------------------------------------------

# Each call gets a valid (query codes, database codes, query labels, database labels) = (q, d, ql, dl)
# and spoils one thing; the error message must name what is wrong.
mean_ap = metrics.mean_average_precision
at_n = metrics.precision_recall_at_n
f1_bucket = metrics.f1_bucket_curve
BAD_CALLS = {
    "bit count": (lambda q, d, ql, dl: mean_ap(q, d[:, :16], ql, dl), "bits"),
    "query label rows": (lambda q, d, ql, dl: mean_ap(q, d, ql[:-1], dl), "query_labels"),
    "database label rows": (lambda q, d, ql, dl: at_n(q, d, ql, dl[:-1], [1]), "database_labels"),
    "top_k zero": (lambda q, d, ql, dl: mean_ap(q, d, ql, dl, 0), "top_k"),
    "top_k negative": (lambda q, d, ql, dl: mean_ap(q, d, ql, dl, -5), "top_k"),
    "top_k float": (lambda q, d, ql, dl: mean_ap(q, d, ql, dl, 2.5), "top_k"),
    "no_relevant flag": (lambda q, d, ql, dl: mean_ap(q, d, ql, dl, no_relevant="skip"), "no_relevant"),
    "tie_order flag": (lambda q, d, ql, dl: mean_ap(q, d, ql, dl, tie_order="random"), "tie_order"),
    "tie_order flag at N": (lambda q, d, ql, dl: at_n(q, d, ql, dl, [1], tie_order="x"), "tie_order"),
    "zero in codes": (lambda q, d, ql, dl: mean_ap(q * 0, d, ql, dl), "query_codes"),
    "empty database": (lambda q, d, ql, dl: mean_ap(q, d[:0], ql, dl[:0]), "database_codes"),
    "label forms differ": (lambda q, d, ql, dl: mean_ap(q, d, ql.argmax(1), dl), "same number of classes"),
    "class counts differ": (lambda q, d, ql, dl: mean_ap(q, d, ql[:, :3], dl), "same number of classes"),
    "multi-hot not 0/1": (lambda q, d, ql, dl: mean_ap(q, d, ql * 2, dl), "query_labels"),
    "float class ids": (lambda q, d, ql, dl: mean_ap(q, d, ql.argmax(1) + 0.5, dl.argmax(1)), "query_labels"),
    "n_values zero": (lambda q, d, ql, dl: at_n(q, d, ql, dl, [0, 5]), "n_values"),
    "n_values too big": (lambda q, d, ql, dl: at_n(q, d, ql, dl, [len(d) + 1]), "n_values"),
    "n_values empty": (lambda q, d, ql, dl: at_n(q, d, ql, dl, []), "n_values"),
    "radius negative": (lambda q, d, ql, dl: metrics.hamming_radius_metrics(q, d, ql, dl, [-1]), "radii"),
    "radius above bits": (lambda q, d, ql, dl: metrics.hamming_radius_metrics(q, d, ql, dl, [33]), "radii"),
    "one radius above bits": (lambda q, d, ql, dl: metrics.map_and_ball_scores(q, d, ql, dl, 33), "radius"),
    "k_values zero": (lambda q, d, ql, dl: f1_bucket(BucketIndex(32), q, ql, dl, [0]), "k_values"),
    "bucket query labels": (
        lambda q, d, ql, dl: f1_bucket(BucketIndex(32), q, ql[:3], dl, [1]), "query_labels"
    ),
    "ANHC threshold": (lambda *_: metrics.average_number_of_hash_codes([np.array([0.5])], 1.5), "threshold"),
    "ANHC probability": (
        lambda *_: metrics.average_number_of_hash_codes([np.array([1.2])], 0.5), "code_probabilities"
    ),
    "ANHC 1-D array": (
        lambda *_: metrics.average_number_of_hash_codes(np.array([0.2, 0.7]), 0.5), "code_probabilities"
    ),
    "ANHC empty": (lambda *_: metrics.average_number_of_hash_codes([], 0.5), "code_probabilities"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_input_raises_a_value_error_naming_it(name):
    call, message = BAD_CALLS[name]
    with pytest.raises(ValueError, match=message):
        call(*make_case("random-32bit-multilabel"))
