"""hashkit.experiments.views against hand computations on a tiny benchmark: two queries and six database
items of two classes, under two runs of 4-bit ±1 codes ("A", whose codes mix the classes, and "B", one code
per class). precision@N and the precision-recall points per Hamming radius are the hand-ranked values; the
silhouettes are 1 where each class has one code, and the hand-computed values of Hamming distance otherwise;
the retrieved images are the nearest by Hamming distance, ties in database order, with captions naming the
run, its precision over the row, the class of a wrong item and the distance; t-SNE gives one row per sampled
item and run, the same for the same seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.experiments import Benchmark, RunResult
from hashkit.experiments.views import (pr_curves, precision_curves, silhouette_samples_by_run, top_retrievals,
                                       tsne_embedding)

CAT, DOG = 0, 1
# Items 0 and 1 are the queries (a cat, a dog); items 2..7 the database, positions p0..p5.
CLASSES = np.array([CAT, DOG, CAT, DOG, CAT, DOG, DOG, CAT])
QUERY_CODES = np.array([[1, 1, 1, 1], [-1, -1, -1, -1]], dtype=np.int8)
# Run A's database codes. Distances from the cat query ++++: 0, 1, 2, 4, 3, 1; from the dog query ----:
# 4, 3, 2, 0, 1, 3.
CODES_A = np.array([[1, 1, 1, 1],      # p0 cat
                    [1, 1, 1, -1],     # p1 dog, coded like the cats
                    [1, 1, -1, -1],    # p2 cat
                    [-1, -1, -1, -1],  # p3 dog
                    [-1, -1, -1, 1],   # p4 dog
                    [1, 1, 1, -1]],    # p5 cat, the same code as p1
                   dtype=np.int8)
# Run B: every cat ++++, every dog ----.
CODES_B = np.where(CLASSES[2:, None] == CAT, 1, -1).repeat(4, axis=1).astype(np.int8)


def tiny_benchmark(classes: np.ndarray = CLASSES, names: tuple[str, ...] = ("cat", "dog"),
                   labels: np.ndarray | None = None) -> Benchmark:
    """Each item's pixels are its index, so that a picture names the item it shows."""
    labels = np.eye(len(names), dtype=np.uint8)[classes] if labels is None else labels
    pixels = np.broadcast_to(np.arange(len(labels), dtype=np.uint8)[:, None, None], (len(labels), 2, 2)).copy()
    images = ImageDataset("tiny", labels, names, ArrayImages(pixels))
    everything = np.arange(len(labels))
    split = Split(query=everything[:2], database=everything[2:], train=everything[2:], protocol="given")
    return Benchmark(name="tiny", paper_dataset="tiny", images=images, split=split, training_sets={},
                     features=None, sample_size=None, seed=0)


def result(method: str, database_codes: np.ndarray, seed: int = 0, query_codes: np.ndarray = QUERY_CODES,
           dataset: str = "tiny") -> RunResult:
    return RunResult(method=method, dataset=dataset, bits=database_codes.shape[1], seed=seed, map=0.0,
                     precision=0.0, recall=0.0, f1=0.0, radius=2, training_seconds=0.0, query_codes=query_codes,
                     database_codes=database_codes)


RUNS = [result("A", CODES_A), result("B", CODES_B, seed=1)]


def test_precision_curves_are_precision_at_n_of_the_hamming_ranking_and_drop_n_beyond_the_database():
    curves = precision_curves(RUNS, tiny_benchmark(), [1, 2, 3, 6, 7])
    assert list(curves.columns) == ["method", "bits", "seed", "n", "precision"]
    assert curves["n"].tolist() == [1, 2, 3, 6] * 2 and set(curves["bits"]) == {4}
    assert curves["seed"].tolist() == [0] * 4 + [1] * 4
    # A, the cat query: p0 ✓ (0), p1 ✗ (1), p5 ✓ (1, after p1 in database order), p2 ✓, p4 ✗, p3 ✗.
    #    the dog query: p3 ✓ (0), p4 ✓ (1), p2 ✗ (2), p1 ✓ (3), p5 ✗ (3), p0 ✗ (4).
    expected_a = [(1 + 1) / 2, (1 / 2 + 1) / 2, (2 / 3 + 2 / 3) / 2, (3 / 6 + 3 / 6) / 2]
    # B: the three items of the query's class first, then the three others.
    expected_b = [1.0, 1.0, 1.0, 0.5]
    assert curves[curves["method"] == "A"]["precision"].tolist() == pytest.approx(expected_a)
    assert curves[curves["method"] == "B"]["precision"].tolist() == pytest.approx(expected_b)


def test_pr_curves_have_a_point_per_radius_from_the_hamming_balls():
    curves = pr_curves(RUNS, tiny_benchmark())
    assert list(curves.columns) == ["method", "bits", "seed", "radius", "precision", "recall"]
    a, b = (curves[curves["method"] == m].reset_index(drop=True) for m in ("A", "B"))
    assert a["radius"].tolist() == b["radius"].tolist() == [0, 1, 2, 3, 4]
    # A, per radius: the cat query's ball holds {p0}, +{p1, p5}, +{p2}, +{p4}, +{p3} (3 cats in the database);
    # the dog query's {p3}, +{p4}, +{p2}, +{p1, p5}, +{p0} (3 dogs).
    precision = [(1 + 1) / 2, (2 / 3 + 1) / 2, (3 / 4 + 2 / 3) / 2, (3 / 5 + 3 / 5) / 2, (3 / 6 + 3 / 6) / 2]
    recall = [(1 / 3 + 1 / 3) / 2, (2 / 3 + 2 / 3) / 2, (1 + 2 / 3) / 2, 1.0, 1.0]
    assert a["precision"].tolist() == pytest.approx(precision)
    assert a["recall"].tolist() == pytest.approx(recall)
    # B: the query's class is at distance 0, the other at 4.
    assert b["precision"].tolist() == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.5])
    assert b["recall"].tolist() == pytest.approx([1.0] * 5)
    assert (curves.groupby("method")["recall"].last() == 1.0).all()  # at radius = bits every item is retrieved


def test_an_empty_hamming_ball_has_precision_0():
    # A query ++-+ at distance at least 1 from every code of B: nothing within radius 0.
    lone = result("B", CODES_B, query_codes=np.array([[1, 1, -1, 1], [-1, -1, -1, -1]], dtype=np.int8))
    curve = pr_curves([lone], tiny_benchmark())
    assert curve["precision"].iloc[0] == pytest.approx((0 + 1) / 2)
    assert curve["recall"].iloc[0] == pytest.approx((0 + 1) / 2)


def test_codes_identical_within_a_class_and_different_across_give_every_item_silhouette_1():
    samples = silhouette_samples_by_run([RUNS[1]], tiny_benchmark(), points=6, seed=0)
    assert list(samples) == [("B", "tiny", 4)]
    (items,) = samples[("B", "tiny", 4)]
    assert items.tolist() == pytest.approx([1.0] * 6)


def test_silhouettes_in_hamming_distance_match_a_hand_computation():
    # Distances in bits (their fraction of 4 bits scales a and b alike). Cats p0, p2, p5; dogs p1, p3, p4.
    # p0: a = (2 + 1) / 2, b = (1 + 4 + 3) / 3 → 7/16      p1: a = (3 + 4) / 2, b = (1 + 1 + 0) / 3 → −17/21
    # p2: a = (2 + 1) / 2, b = (1 + 2 + 3) / 3 → 1/4       p3: a = (3 + 1) / 2, b = (4 + 2 + 3) / 3 → 1/3
    # p5: a = (1 + 1) / 2, b = (0 + 3 + 4) / 3 → 4/7       p4: a = (4 + 1) / 2, b = (3 + 3 + 4) / 3 → 1/4
    samples = silhouette_samples_by_run([RUNS[0]], tiny_benchmark(), points=6, seed=0)
    (items,) = samples[("A", "tiny", 4)]
    assert items.tolist() == pytest.approx([7 / 16, -17 / 21, 1 / 4, 1 / 3, 1 / 4, 4 / 7])


def test_silhouettes_are_keyed_like_per_query_ap_with_one_array_per_seed():
    runs = [result("A", CODES_A, seed=0), result("A", CODES_A[::-1].copy(), seed=1), result("B", CODES_B),
            result("B", CODES_B, dataset="other")]
    samples = silhouette_samples_by_run(runs, tiny_benchmark(), points=4, seed=3)
    assert set(samples) == {("A", "tiny", 4), ("B", "tiny", 4), ("B", "other", 4)}
    assert [len(samples[key]) for key in (("A", "tiny", 4), ("B", "tiny", 4))] == [2, 1]
    assert all(len(items) == 4 for seeds in samples.values() for items in seeds)  # the 4 sampled items
    # The same items under B's codes: 4 of the 6, so both classes, every silhouette 1.
    assert samples[("B", "tiny", 4)][0].tolist() == pytest.approx([1.0] * 4)


def _item(picture: np.ndarray) -> int:
    return int(picture[0, 0])


def test_top_retrievals_are_the_nearest_items_with_ties_in_database_order_and_their_captions():
    k = 2
    pictures, captions = top_retrievals(RUNS, tiny_benchmark(), n_queries=2, per_query=k, seed=0)
    assert len(pictures) == len(captions) == 2 * len(RUNS) * (k + 1)
    assert pictures.shape[1:] == (2, 2)
    rows = [(pictures[i:i + k + 1], captions[i:i + k + 1]) for i in range(0, len(pictures), k + 1)]
    # Database position p is item p + 2.
    expected = {
        # The cat query under A: p0 at 0, then p1 and p5 tie at 1 and p1 comes first; under B, two of the cats.
        (0, "A"): ([2, 3], ["✓\nd = 0", "✗ dog\nd = 1"], "A\nP@2 0.5"),
        (0, "B"): ([2, 4], ["✓\nd = 0", "✓\nd = 0"], "B\nP@2 1.0"),
        (1, "A"): ([5, 6], ["✓\nd = 0", "✓\nd = 1"], "A\nP@2 1.0"),
        (1, "B"): ([3, 5], ["✓\nd = 0", "✓\nd = 0"], "B\nP@2 1.0"),
    }
    seen = []
    for (row_pictures, row_captions), run in zip(rows, [r.method for r in RUNS] * 2):
        query = _item(row_pictures[0])
        found, retrieval_captions, title = expected[(query, run)]
        assert [_item(p) for p in row_pictures[1:]] == found
        assert row_captions[0] == title and row_captions[1:] == retrieval_captions
        seen.append((query, run))
    assert sorted(seen) == sorted(expected)  # each query once, a row per run, the runs in their order


def test_top_retrievals_name_every_class_of_a_wrong_multi_label_item_and_count_queries_times_runs():
    # Three classes; the second database item (item 3) is a cat and a dog, the query (item 0) a bird.
    labels = np.zeros((8, 3), dtype=np.uint8)
    labels[np.arange(8), CLASSES] = 1
    labels[0] = [0, 0, 1]
    labels[3] = [1, 1, 0]
    bench = tiny_benchmark(names=("cat", "dog", "bird"), labels=labels)
    _, captions = top_retrievals([RUNS[0]], bench, n_queries=2, per_query=3, seed=0)
    assert len(captions) == 2 * 1 * 4
    bird_row = [captions[i:i + 4] for i in (0, 4) if "✗ cat/dog\nd = 1" in captions[i:i + 4]]
    assert bird_row == [["A\nP@3 0.0", "✗ cat\nd = 0", "✗ cat/dog\nd = 1", "✗ cat\nd = 1"]]
    pictures, captions = top_retrievals(RUNS, tiny_benchmark(), n_queries=1, per_query=5, seed=4)
    assert len(pictures) == len(captions) == 1 * 2 * 6


def test_top_retrievals_draw_the_same_queries_for_the_same_seed():
    first = top_retrievals(RUNS, tiny_benchmark(), n_queries=1, per_query=2, seed=7)
    again = top_retrievals(RUNS, tiny_benchmark(), n_queries=1, per_query=2, seed=7)
    assert np.array_equal(first[0], again[0]) and first[1] == again[1]


def test_tsne_gives_a_row_per_sampled_item_and_run_and_repeats_with_the_seed():
    frame = tsne_embedding(RUNS, tiny_benchmark(), points=6, seed=0)
    assert list(frame.columns) == ["panel", "x", "y", "label"]
    assert frame["panel"].tolist() == ["A, 4 bits"] * 6 + ["B, 4 bits"] * 6
    assert frame["label"].tolist() == list(CLASSES[2:]) * 2  # every item, in database order
    assert np.isfinite(frame[["x", "y"]].to_numpy()).all()
    pd.testing.assert_frame_equal(frame, tsne_embedding(RUNS, tiny_benchmark(), points=6, seed=0))
    sampled = tsne_embedding(RUNS, tiny_benchmark(), points=4, seed=2)
    assert len(sampled) == 4 * len(RUNS)
    a, b = (sampled[sampled["panel"] == f"{m}, 4 bits"]["label"].tolist() for m in ("A", "B"))
    assert a == b and 1 <= a.count(CAT) <= 3  # the same 4 items in every panel
    pd.testing.assert_frame_equal(sampled, tsne_embedding(RUNS, tiny_benchmark(), points=4, seed=2))
