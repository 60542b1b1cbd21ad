"""SSDH and MLS³RDUH: each pseudo-similarity on points worked by hand and against a dense reference,
the manifold solve against the dense inverse, each loss by hand, short trainings that beat LSH and
repeat with the seed, labels that never reach the codes, and bad inputs named."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import sparse
from scipy.spatial.distance import pdist, squareform

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.deep.engine import train
from hashkit.deep.method import TrainingContext
from hashkit.deep.methods import MLS3RDUH, SSDH
from hashkit.deep.methods.mls3rduh import mls3rduh_loss
from hashkit.deep.methods.ssdh import ssdh_loss
from hashkit.features.pixels import pixel_features
from hashkit.features.pseudo_similarity import (ManifoldTargets, SSDHTargets, manifold_similarity,
                                                 mls3rduh_similarity, ssdh_similarity)
from tests.conftest import assert_learns_and_repeats

torch.set_num_threads(2)
N_BITS = 32


def make_context(n_items: int, n_bits: int = 2) -> TrainingContext:
    return TrainingContext(n_bits=n_bits, train_labels=torch.zeros(n_items, 2), device=torch.device("cpu"),
                           n_epochs=1, generator=torch.Generator().manual_seed(0), encode_train=lambda p=None: None)


# --- SSDH's similarity ----------------------------------------------------------------------------

def six_points() -> np.ndarray:
    """Six unit vectors with these cosines (the rows of the Cholesky factor of the cosine matrix):
    items 0 and 1 are near twins (cos 0.95), item 5 is opposite both (−0.5), items 2, 3, 4 and the
    pairs (0, 2) are loosely related (0.35), and every other pair is at 0.25."""
    cosines = np.full((6, 6), 0.25)
    np.fill_diagonal(cosines, 1.0)
    for i, j, value in [(0, 1, 0.95), (0, 5, -0.5), (1, 5, -0.5), (2, 3, 0.35), (2, 4, 0.35), (3, 4, 0.35),
                        (0, 2, 0.35)]:
        cosines[i, j] = cosines[j, i] = value
    return np.linalg.cholesky(cosines)


def test_ssdh_similarity_splits_the_distances_about_the_histograms_peak():
    # Distances 1 − cos of the 15 pairs: 0.05 once (0-1), 0.65 four times, 0.75 eight times, 1.5 twice (0-5, 1-5).
    # Ten bins on [0, 1]: 0.05 in [0, 0.1), 0.65 in [0.6, 0.7), 0.75 in [0.7, 0.8), the fullest: m* = 0.7.
    # (1.5 lies outside the histogram, as in the authors' code, but in the right half.)
    similarity = ssdh_similarity(six_points(), bins=10)
    assert similarity.peak == pytest.approx(0.7)
    # Each pair counts twice (ordered pairs, as in the code): 2, 8 and 16.
    assert similarity.histogram.tolist() == [2, 0, 0, 0, 0, 0, 8, 16, 0, 0]
    # Left half, d ≤ 0.7: {0.05, 0.65 × 4}; mirrored about 0.7 its mean is 0.7 and
    # σ_l² = (0.65² + 4 · 0.05²) / 5 = (0.4225 + 0.01) / 5 = 0.0865.
    assert similarity.left_std == pytest.approx(math.sqrt(0.0865))
    # Right half, d > 0.7: {0.75 × 8, 1.5 × 2}: σ_r² = (8 · 0.05² + 2 · 0.8²) / 10 = (0.02 + 1.28) / 10 = 0.13.
    assert similarity.right_std == pytest.approx(math.sqrt(0.13))
    # Thresholds: 0.7 − 2 · 0.2941 = 0.1118 and 0.7 + 2 · 0.3606 = 1.4211.
    assert similarity.similar_below == pytest.approx(0.7 - 2 * math.sqrt(0.0865))
    assert similarity.dissimilar_above == pytest.approx(0.7 + 2 * math.sqrt(0.13))
    # So only the twins are similar (0.05 < 0.1118), only the pairs at 1.5 dissimilar, the rest unknown;
    # the diagonal, d = 0, is similar.
    expected = np.eye(6, dtype=np.int8)
    expected[0, 1] = expected[1, 0] = 1
    expected[[0, 5, 1, 5], [5, 0, 5, 1]] = -1
    np.testing.assert_array_equal(similarity.signs, expected)
    assert similarity.pair_counts() == {"similar": 1, "dissimilar": 2, "unknown": 12}
    # A batch reads the targets by training position.
    assert similarity.batch(torch.tensor([5, 0, 1])).tolist() == [[1, -1, -1], [-1, 1, 1], [-1, 1, 1]]


def test_ssdh_thresholds_and_the_codes_self_distances():
    # α = β = 0: the thresholds are m* itself: d < 0.7 similar (0.05 and the 0.65s), d > 0.7 dissimilar.
    everything = ssdh_similarity(six_points(), bins=10, alpha=0, beta=0)
    assert everything.pair_counts() == {"similar": 5, "dissimilar": 10, "unknown": 0}
    # The authors' code also fits on the six zero self-distances (each pair twice, the diagonal once):
    # left half {0 × 6, 0.05 × 2, 0.65 × 8}: σ_l² = (6 · 0.49 + 2 · 0.4225 + 8 · 0.0025) / 16 = 3.805 / 16,
    # so m* − 2σ_l = 0.7 − 0.9753 < 0: no pair is similar, not even an item with itself; the right half
    # ({0.75 × 16, 1.5 × 4}) has the same σ_r² = 2.6 / 20 = 0.13.
    with_self = ssdh_similarity(six_points(), bins=10, self_pairs=True)
    assert with_self.histogram.tolist() == [8, 0, 0, 0, 0, 0, 8, 16, 0, 0]
    assert with_self.left_std == pytest.approx(math.sqrt(3.805 / 16))
    assert with_self.right_std == pytest.approx(math.sqrt(0.13))
    assert (with_self.signs >= 0).sum() == 36 - 4 and (with_self.signs == 1).sum() == 0


def dense_ssdh(features: np.ndarray, bins: int, low: float, high: float, alpha: float, beta: float) -> np.ndarray:
    """The definition on the full distance matrix, as the authors' main.py lays it out."""
    distances = squareform(pdist(features, "cosine"))
    pairs = distances[~np.eye(len(features), dtype=bool)]
    counts, edges = np.histogram(pairs, bins=bins, range=(low, high))
    peak = edges[np.argmax(counts)]
    left, right = pairs[pairs <= peak], pairs[pairs > peak]
    left_std = np.std(np.concatenate([left, 2 * peak - left]))
    right_std = np.std(np.concatenate([2 * peak - right, right]))
    np.fill_diagonal(distances, 0.0)
    return np.where(distances < peak - alpha * left_std, 1, np.where(distances > peak + beta * right_std, -1, 0))


@pytest.mark.parametrize(("span", "alpha", "beta"), [((0.0, 1.0), 2.0, 2.0), ((0.0, 2.0), 1.0, 0.5)])
def test_ssdh_similarity_in_row_blocks_equals_the_dense_definition(span, alpha, beta):
    features = np.random.default_rng(4).normal(size=(37, 6))  # negative entries: distances beyond 1
    similarity = ssdh_similarity(features, bins=20, alpha=alpha, beta=beta, histogram_range=span, block_rows=5)
    np.testing.assert_array_equal(similarity.signs, dense_ssdh(features, 20, *span, alpha, beta))
    assert (similarity.signs == similarity.signs.T).all() and similarity.signs.dtype == np.int8


# --- MLS³RDUH's similarity --------------------------------------------------------------------------

DEGREES = [-25, 0, 10, 22, 40, 48, 55, 75]


def eight_points() -> np.ndarray:
    """Eight unit vectors in the plane at ``DEGREES``: the cosine of two is the cosine of their angle apart."""
    radians = np.radians(DEGREES)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


def test_mls3rduh_similarity_on_eight_points():
    # k = round(0.25 · 8) = 2 cosine neighbours, the nearest two by angle:
    #   0 (−25°) → {1 (25° apart), 2 (35°)}     4 (40°) → {5 (8°), 6 (15°)}
    #   1 (0°)   → {2 (10°), 3 (22°)}           5 (48°) → {6 (7°), 4 (8°)}
    #   2 (10°)  → {1 (10°), 3 (12°)}           6 (55°) → {5 (7°), 4 (15°)}
    #   3 (22°)  → {2 (12°), 4 (18°)}           7 (75°) → {6 (20°), 5 (27°)}
    # Mutual pairs, the graph's edges: 1-2, 2-3 (a path) and 4-5, 4-6, 5-6 (a triangle). Nobody lists 0
    # or 7: they are isolated and left out.
    targets = mls3rduh_similarity(eight_points(), neighbour_share=0.25)
    assert (targets.k, targets.manifold_k) == (2, 3)
    assert targets.isolated.tolist() == [0, 7]
    # ⌈1.5 · 2⌉ = 3 manifold neighbours: M is positive within a connected component and 0 across, so each
    # item's three are its component, {1, 2, 3} or {4, 5, 6}. Cosine neighbours that are manifold ones:
    # 1: {2, 3}, 2: {1, 3}, 3: {2}, 4: {5, 6}, 5: {4, 6}, 6: {4, 5} → +1 (1-3 is two hops, yet +1).
    # 3's neighbour 4 is not in its component: −1. Isolated items take part in neither rule.
    similar = {(1, 2), (1, 3), (2, 3), (4, 5), (4, 6), (5, 6)}
    dissimilar = {(3, 4)}
    expected = np.empty((8, 8))
    for i in range(8):
        for j in range(8):
            pair = (min(i, j), max(i, j))
            if i == j or pair in similar:
                expected[i, j] = 1.0
            elif pair in dissimilar:
                expected[i, j] = -1.0
            else:  # 2 cos − 1, and −1 for cos ≤ 0 (0 and 7 are 100° apart)
                expected[i, j] = max(2 * math.cos(math.radians(DEGREES[j] - DEGREES[i])) - 1, -1.0)
    assert expected[0, 7] == -1 and expected[0, 1] == pytest.approx(2 * math.cos(math.radians(25)) - 1)
    np.testing.assert_allclose(targets.dense(), expected, atol=1e-6)
    assert targets.overrides.nnz == 2 * (len(similar) + len(dissimilar))
    # A batch reads them by training position.
    np.testing.assert_allclose(targets.batch(torch.tensor([4, 3, 0])).numpy(), expected[np.ix_([4, 3, 0], [4, 3, 0])],
                               atol=1e-6)
    assert targets.batch(np.array([3, 4, 3])).tolist() == [[1, -1, 1], [-1, 1, -1], [1, -1, 1]]


def dense_mls3rduh(features: np.ndarray, k: int, manifold_k: int, alpha: float) -> np.ndarray:
    """The definition on dense n × n matrices, with a dense inverse, as the authors' MLS3RDUH.py lays it out."""
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    cosines = unit @ unit.T
    ranked = np.where(np.eye(len(unit), dtype=bool), -np.inf, cosines)
    listed = np.zeros(cosines.shape, dtype=bool)
    np.put_along_axis(listed, np.argsort(-ranked, axis=1)[:, :k], True, axis=1)
    graph = np.where(listed & listed.T & (cosines > 0), cosines, 0.0)
    kept = graph.sum(axis=1) > 0
    sub = graph[np.ix_(kept, kept)]
    scale = 1 / np.sqrt(sub.sum(axis=1))
    manifold = (1 - alpha) * np.linalg.inv(np.eye(len(sub)) - alpha * scale[:, None] * sub * scale[None, :])
    on_manifold = np.zeros(cosines.shape, dtype=bool)
    ids = np.flatnonzero(kept)
    for row, item in enumerate(ids):
        on_manifold[item, ids[np.argsort(-manifold[row], kind="stable")[:manifold_k]]] = True
    neighbours = listed & kept[:, None] & kept[None, :]
    both, only = neighbours & on_manifold, neighbours & ~on_manifold
    similar = both | both.T
    dissimilar = (only | only.T) & ~similar
    targets = np.clip(2 * cosines - 1, -1, 1)
    targets[dissimilar], targets[similar] = -1.0, 1.0
    np.fill_diagonal(targets, 1.0)
    return targets


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_mls3rduh_similarity_equals_the_dense_definition(solver):
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 5))
    features = np.vstack([centres[rng.integers(0, 3, 40)] + 0.4 * rng.normal(size=(40, 5)),
                          5 * rng.normal(size=(3, 5))])  # three far outliers: nobody lists them
    targets = mls3rduh_similarity(features, neighbour_share=0.1, solver=solver, block_rows=7)
    assert (targets.k, targets.manifold_k) == (4, 6) and targets.isolated.size > 0
    np.testing.assert_allclose(targets.dense(), dense_mls3rduh(features, 4, 6, 0.99), atol=1e-5)
    assert (targets.overrides != targets.overrides.T).nnz == 0


# --- the manifold solve -------------------------------------------------------------------------

def test_the_manifold_similarity_of_two_nodes_by_hand():
    # One edge of any weight: D^{-½} A D^{-½} = [[0, 1], [1, 0]], and
    # (1 − α)(I − α[[0, 1], [1, 0]])⁻¹ = (1 − α)/(1 − α²) · [[1, α], [α, 1]]
    #                                 = [[1, α], [α, 1]] / (1 + α).
    for solver in ("cholesky", "cg"):
        found = manifold_similarity(np.array([[0.0, 0.3], [0.3, 0.0]]), alpha=0.5, solver=solver)
        np.testing.assert_allclose(found, np.array([[2, 1], [1, 2]]) / 3, atol=1e-12)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_the_manifold_solve_equals_the_dense_inverse(solver):
    rng = np.random.default_rng(0)
    weights = np.triu(rng.random((15, 15)) * (rng.random((15, 15)) < 0.3), k=1)
    weights[np.arange(14), np.arange(1, 15)] += 0.1  # a path through all: no isolated node
    adjacency = weights + weights.T
    scale = 1 / np.sqrt(adjacency.sum(axis=1))
    alpha = 0.99
    dense = (1 - alpha) * np.linalg.inv(np.eye(15) - alpha * scale[:, None] * adjacency * scale[None, :])
    found = manifold_similarity(sparse.csr_matrix(adjacency), alpha, solver=solver, block_rows=4)
    np.testing.assert_allclose(found, dense, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize(("adjacency", "options", "message"), [
    (np.array([[0.0, 1, 0], [1, 0, 0], [0, 0, 0]]), {}, "adjacency: node 2 has no edge"),
    (np.array([[0.0, 1], [2, 0]]), {}, "adjacency: expected a symmetric matrix"),
    (np.array([[0.0, -1], [-1, 0]]), {}, "adjacency: expected finite non-negative"),
    (np.array([[0.0, 1], [1, 0]]), {"alpha": 1.0}, "alpha"),
    (np.array([[0.0, 1], [1, 0]]), {"solver": "lu"}, "solver"),
])
def test_the_manifold_solve_names_bad_inputs(adjacency, options, message):
    with pytest.raises(ValueError, match=message):
        manifold_similarity(adjacency, **options)


# --- the losses -----------------------------------------------------------------------------------

def test_ssdh_loss_by_hand_and_through_the_method():
    codes = torch.tensor([[1.0, 0.0], [0.5, 0.5], [-1.0, 0.0]], requires_grad=True)
    targets = torch.tensor([[1.0, 1, -1], [1, 1, 0], [-1, 0, 1]])
    # z_iᵀz_j / 2: [[.5, .25, −.5], [.25, .25, −.25], [−.5, −.25, .5]]. Squared errors where S ≠ 0:
    # (0,0) (.5 − 1)² = .25; (0,1), (1,0) (.25 − 1)² = .5625 each; (0,2), (2,0) (−.5 + 1)² = .25 each;
    # (1,1) .5625; (2,2) .25; (1,2), (2,1) unknown: 0. Sum 2.6875, over the 9 pairs.
    loss = ssdh_loss(codes, targets)
    assert loss.item() == pytest.approx(2.6875 / 9)
    loss.backward()
    assert torch.isfinite(codes.grad).all()
    # The method reads the batch's targets by position: items 5, 0, 1 of six_points().
    method = SSDH(ssdh_similarity(six_points(), bins=10))
    method.begin(make_context(6))
    outputs = torch.tensor([[0.5, -0.5], [0.9, 0.1], [-0.3, 0.8]])
    expected = ssdh_loss(outputs, torch.tensor([[1.0, -1, -1], [-1, 1, 1], [-1, 1, 1]]))
    assert method.loss(outputs, torch.zeros(3, 2), torch.tensor([5, 0, 1]), make_context(6)).item() == \
        pytest.approx(expected.item())


def test_mls3rduh_loss_by_hand_and_through_the_method():
    codes = torch.tensor([[1.0, 0.0], [0.5, 0.5]], requires_grad=True)
    targets = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    # h_iᵀh_j / 2 − S: (0,0) .5 − 1 = −.5; (0,1), (1,0) .25 + 1 = 1.25; (1,1) .25 − 1 = −.75;
    # the loss is the mean of log cosh over the four.
    expected = (math.log(math.cosh(0.5)) + 2 * math.log(math.cosh(1.25)) + math.log(math.cosh(0.75))) / 4
    loss = mls3rduh_loss(codes, targets)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert torch.isfinite(codes.grad).all()
    targets_of_eight = mls3rduh_similarity(eight_points(), neighbour_share=0.25)
    method = MLS3RDUH(targets_of_eight)
    method.begin(make_context(8))
    outputs = torch.tensor([[0.5, -0.5], [0.9, 0.1], [-0.3, 0.8]])
    positions = torch.tensor([3, 4, 1])
    assert method.loss(outputs, torch.zeros(3, 2), positions, make_context(8)).item() == \
        pytest.approx(mls3rduh_loss(outputs, targets_of_eight.batch(positions)).item())


# --- training -------------------------------------------------------------------------------------

def separating_features(dataset: ImageDataset, indices: np.ndarray) -> np.ndarray:
    """Unit pixels beside a class indicator weighted 3: cosines of at least 0.9 within a class, at
    most 0.1 across (the pixels are non-negative). A stand-in for the features the authors build
    from (a network pre-trained on labelled images), for the learning check only.

    Pixels cannot serve there: the exact cosine ranking of these pixels scores mAP 0.482, and the
    bar is LSH on the same pixels plus 0.1 (0.379 + 0.1), so codes trained to reproduce pixel
    cosines cannot clear it (measured, 32 bits: SSDH 0.30 and MLS³RDUH 0.46 after six epochs)."""
    unit = pixel_features(dataset, indices)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    return np.hstack([3 * dataset.labels[indices].astype(np.float32), unit])


# With the features above the distances form two clumps, d ≤ 0.1 within a class and d ≥ 0.9 across.
# In ten bins the peak is the far clump's bin, m* = 0.9; β = 0 makes everything beyond it dissimilar,
# and α = 0.5 puts the lower threshold (0.9 − 0.5 · 0.88) between the clumps: every pair is decided.
# This checks the training, not SSDH's rule (the hand-made cases above do): at the paper's 100 bins and
# α = β = 2, most pairs stay unknown and one or two epochs are too few to clear the bar.
BUILDERS = {
    "SSDH": lambda features: SSDH(ssdh_similarity(features, bins=10, alpha=0.5, beta=0)),
    "MLS3RDUH": lambda features: MLS3RDUH(mls3rduh_similarity(features)),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_short_training_beats_lsh_and_repeats_with_the_seed(name, fashion_images, fashion_images_lsh_map):
    dataset, split = fashion_images
    few_train = 200
    build = BUILDERS[name]
    full = build(separating_features(dataset, split.train))
    few = build(separating_features(dataset, split.train[:few_train]))
    calls = []

    def make():
        # A similarity covers the training split it was built for: the first call trains on all of
        # split.train, the later ones on its first few_train items (assert_learns_and_repeats' "few" split).
        calls.append(None)
        return full if len(calls) == 1 else few

    assert_learns_and_repeats(make, fashion_images, fashion_images_lsh_map, N_BITS, epochs=1, few_train=few_train)


N_ITEMS, SIDE = 48, 28


def tiny_images() -> tuple[ImageDataset, Split]:
    rng = np.random.default_rng(0)
    classes = np.arange(N_ITEMS) % 2
    values = rng.integers(0, 60, (N_ITEMS, SIDE, SIDE), dtype=np.uint8)
    values[classes == 1, :14] += 150
    dataset = ImageDataset("halves", np.eye(2, dtype=np.uint8)[classes], ("top", "bottom"), ArrayImages(values))
    items = np.arange(N_ITEMS)
    return dataset, Split(query=items[:8], database=items, train=items[8:], protocol="given")


@pytest.mark.parametrize("name", list(BUILDERS))
def test_labels_never_reach_the_codes(name):
    dataset, split = tiny_images()
    features = pixel_features(dataset, split.train)
    method = SSDH(ssdh_similarity(features)) if name == "SSDH" else MLS3RDUH(mls3rduh_similarity(features))
    assert method.supervised is False
    options = {"epochs": 2, "batch_size": 8, "backbone_options": {"channels": [4, 8], "feature_dim": 16},
               "progress": False, "seed": 1}
    trained = train(method, dataset, split, 8, **options)
    permuted = dataclasses.replace(dataset, labels=dataset.labels[np.random.default_rng(3).permutation(N_ITEMS)])
    again = train(method, permuted, split, 8, **options)
    np.testing.assert_array_equal(trained.encode(dataset, split.query), again.encode(permuted, split.query))
    assert np.isfinite(trained.history["loss"]).all()


# --- bad inputs -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("build", "message"), [
    (lambda: ssdh_similarity(np.ones(4)), "features: expected a numeric"),
    (lambda: ssdh_similarity(np.array([[1.0, 0], [np.nan, 1]])), "features: contains NaN"),
    (lambda: ssdh_similarity(np.array([[1.0, 0], [0, 0], [0, 1]])), "features: row 1 is all zeros"),
    (lambda: ssdh_similarity(six_points(), bins=0), "bins"),
    (lambda: ssdh_similarity(six_points(), alpha=-1), "alpha"),
    (lambda: ssdh_similarity(six_points(), beta=float("nan")), "beta"),
    (lambda: ssdh_similarity(six_points(), histogram_range=(1, 0)), "histogram_range"),
    (lambda: ssdh_similarity(six_points(), histogram_range=1), "histogram_range"),
    (lambda: ssdh_similarity(six_points(), self_pairs="yes"), "self_pairs"),
    (lambda: ssdh_similarity(six_points(), block_rows=0), "block_rows"),
    (lambda: mls3rduh_similarity(eight_points(), neighbour_share=0), "neighbour_share"),
    (lambda: mls3rduh_similarity(eight_points(), neighbour_share=0.01), "neighbour_share: 0.01 of 8 items gives k = 0"),
    (lambda: mls3rduh_similarity(eight_points(), neighbour_share=1.0), "neighbour_share"),
    (lambda: mls3rduh_similarity(eight_points(), neighbour_share=0.25, alpha=0), "alpha"),
    (lambda: mls3rduh_similarity(eight_points(), neighbour_share=0.25, alpha=1.5), "alpha"),
    (lambda: mls3rduh_similarity(eight_points(), neighbour_share=0.25, manifold_factor=-1), "manifold_factor"),
    (lambda: mls3rduh_similarity(eight_points(), neighbour_share=0.25, solver="inverse"), "solver"),
    (lambda: mls3rduh_similarity(np.eye(3), neighbour_share=0.34), "neighbour_share: with k = 1 no two items"),
    (lambda: SSDH(np.eye(3)), "similarity: expected the SSDHTargets"),
    (lambda: SSDH(mls3rduh_similarity(eight_points(), neighbour_share=0.25)), "similarity"),
    (lambda: MLS3RDUH(ssdh_similarity(six_points())), "targets: expected the ManifoldTargets"),
])
def test_bad_inputs_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_the_similarity_must_cover_the_training_split():
    with pytest.raises(ValueError, match="similarity: 6 items, but the training split has 4"):
        SSDH(ssdh_similarity(six_points())).begin(make_context(4))
    with pytest.raises(ValueError, match="targets: 8 items, but the training split has 9"):
        MLS3RDUH(mls3rduh_similarity(eight_points(), neighbour_share=0.25)).begin(make_context(9))
    assert isinstance(ssdh_similarity(six_points()), SSDHTargets)
    assert isinstance(mls3rduh_similarity(eight_points(), neighbour_share=0.25), ManifoldTargets)
