"""BRE, SP and SGH: the estimator contract, retrieval quality on Fashion-MNIST, and the quantity
each method's training is built to lower."""

import math
from collections.abc import Callable

import numpy as np
import pytest

from hashkit.metrics import mean_average_precision
from hashkit.shallow.base import ShallowHasher
from hashkit.shallow.bre import BRE, best_weight_for_flips, sample_pairs
from hashkit.shallow.sgh import SGH
from hashkit.shallow.sp import SP, keep_largest

Factory = Callable[..., ShallowHasher]

# Each method from (n_bits, seed, small); ``small`` shortens training for the 300-item checks.
METHODS: dict[str, Factory] = {
    "BRE": lambda n_bits, seed=0, small=False: BRE(n_bits, n_training_points=200 if small else 1000, seed=seed),
    "SP": lambda n_bits, seed=0, small=False: SP(n_bits, n_iter=10 if small else 50, seed=seed),
    "SGH": lambda n_bits, seed=0, small=False: SGH(n_bits, n_epochs=10 if small else 20, batch_size=100 if small else 500,
                                                   seed=seed),
}


def random_codes(n_items: int, n_bits: int, rng: np.random.Generator) -> np.ndarray:
    return np.where(rng.random((n_items, n_bits)) < 0.5, 1, -1).astype(np.int8)


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """300 items in 20 dimensions around 6 centres: structure for every method to find."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(6, 20))
    return centres[rng.integers(0, 6, size=300)] + rng.normal(size=(300, 20))


@pytest.fixture(scope="module")
def fitted_on_fashion(fashion: dict[str, np.ndarray]) -> dict[str, ShallowHasher]:
    """Each method at 32 bits with its defaults, fitted once on the 2,000 training images."""
    return {name: factory(32).fit(fashion["train"]) for name, factory in METHODS.items()}


# ---------------------------------------------------------------- the estimator contract

@pytest.mark.parametrize("name", METHODS)
def test_codes_shape_values_and_reproducibility(name: str, blobs: np.ndarray) -> None:
    codes = METHODS[name](16, seed=1, small=True).fit(blobs).encode(blobs)
    assert codes.shape == (300, 16) and codes.dtype == np.int8
    assert set(np.unique(codes)) == {-1, 1}
    np.testing.assert_array_equal(codes, METHODS[name](16, seed=1, small=True).fit(blobs).encode(blobs))
    assert not np.array_equal(codes, METHODS[name](16, seed=2, small=True).fit(blobs).encode(blobs))


@pytest.mark.parametrize("name", METHODS)
def test_encodes_unseen_items_and_keeps_near_items_near(name: str, blobs: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    hasher = METHODS[name](32, small=True).fit(blobs[:200], labels=np.zeros(200, dtype=int))
    unseen = blobs[200:]
    base = hasher.encode(unseen)
    near = hasher.encode(unseen + 0.05 * rng.normal(size=unseen.shape))
    shuffled = hasher.encode(unseen[rng.permutation(len(unseen))])
    assert base.shape == (100, 32)
    assert (base != near).sum(axis=1).mean() < (base != shuffled).sum(axis=1).mean() / 4


@pytest.mark.parametrize("name", METHODS)
def test_beats_random_codes_on_fashion_mnist(name: str, fashion, fitted_on_fashion) -> None:
    hasher = fitted_on_fashion[name]
    learned = mean_average_precision(
        hasher.encode(fashion["query"]), hasher.encode(fashion["train"]),
        fashion["query_labels"], fashion["train_labels"],
    )
    rng = np.random.default_rng(0)
    chance = mean_average_precision(
        random_codes(500, 32, rng), random_codes(2000, 32, rng), fashion["query_labels"], fashion["train_labels"],
    )
    # Random codes score about the class prior (0.1); pixel-space methods reach 0.35-0.5.
    assert learned > chance + 0.2, f"{name}: mAP {learned:.3f} vs random codes {chance:.3f}"


# ---------------------------------------------------------------- what each method optimises

def test_bre_objective_never_increases_and_falls(fitted_on_fashion) -> None:
    history = np.array(fitted_on_fashion["BRE"].objective_history_)
    assert np.all(np.diff(history) <= 1e-12)
    assert history[-1] < 0.5 * history[0]


def test_bre_line_search_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    n_items = 25
    first, second = sample_pairs(n_items, 6, rng)
    assert np.all(first != second)
    assert len(set(zip(first.tolist(), second.tolist()))) == len(first)  # partners drawn without replacement
    thresholds = rng.normal(size=n_items)
    thresholds[[3, 7]] = thresholds[5]  # ties: no weight lies between equal thresholds
    thresholds[11] = np.inf  # an item whose bit never flips
    start_bits = rng.random(n_items) < 0.5
    costs = rng.normal(size=len(first))

    def objective(weight: float) -> float:
        bits = start_bits ^ (thresholds < weight)
        return float(costs[bits[first] != bits[second]].sum())

    finite = np.unique(thresholds[np.isfinite(thresholds)])
    candidates = np.concatenate([[finite[0] - 1], (finite[1:] + finite[:-1]) / 2, [finite[-1] + 1]])
    best = min(objective(weight) for weight in candidates)
    assert objective(best_weight_for_flips(thresholds, start_bits, first, second, costs)) == pytest.approx(best)


def test_bre_tolerates_all_zero_items(blobs: np.ndarray) -> None:
    # With every item an anchor, the zero rows are anchors too: their weights move nothing.
    features = blobs[:60].copy()
    features[:5] = 0
    bre = BRE(8, n_anchors=60, max_sweeps=5).fit(features)
    assert np.all(np.diff(bre.objective_history_) <= 1e-12)
    assert set(np.unique(bre.encode(features))) <= {-1, 1}


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9, 0.99])
def test_sp_projection_has_the_requested_sparsity(sparsity: float, blobs: np.ndarray) -> None:
    sp = SP(8, sparsity=sparsity, n_iter=10).fit(blobs)
    assert sp.projection_.shape == (20, 8)
    assert np.count_nonzero(sp.projection_) == math.ceil((1 - sparsity) * 20 * 8)
    assert sp.objective_history_[-1] < sp.objective_history_[0]


def test_sp_objective_falls_on_fashion_mnist(fitted_on_fashion) -> None:
    history = fitted_on_fashion["SP"].objective_history_
    assert len(history) == 51
    assert history[-1] < 0.6 * history[0]


def test_sp_keep_largest_and_codes_longer_than_the_features(blobs: np.ndarray) -> None:
    kept = keep_largest(np.array([[0.1, -3.0], [2.0, -0.5]]), 2)
    np.testing.assert_array_equal(kept, [[0.0, -3.0], [2.0, 0.0]])
    # More bits than dimensions: R_o has orthonormal rows instead of columns.
    codes = SP(40, n_iter=5).fit(blobs).encode(blobs)
    assert codes.shape == (300, 40) and len(np.unique(codes, axis=1)) > 1


def test_sgh_description_length_falls(fitted_on_fashion) -> None:
    history = fitted_on_fashion["SGH"].loss_history_
    assert len(history) == 20
    # In nats per image: the first epoch's mean is far above the last's.
    assert history[-1] < history[0] - 100
    assert np.mean(history[-5:]) < np.mean(history[:5])


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("n_bits", [0, -3, 2.5, True])
def test_rejects_bad_n_bits(name: str, n_bits) -> None:
    with pytest.raises(ValueError, match="n_bits"):
        METHODS[name](n_bits)


@pytest.mark.parametrize("name", METHODS)
def test_rejects_bad_features_and_use_before_fit(name: str) -> None:
    with pytest.raises(RuntimeError, match="fit"):
        METHODS[name](8).encode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        METHODS[name](8).fit(np.array([[0.0, np.nan]] * 60))
    with pytest.raises(ValueError, match="2-D"):
        METHODS[name](8).fit(np.zeros(60))
    hasher = METHODS[name](8, small=True).fit(np.random.default_rng(0).normal(size=(60, 3)))
    with pytest.raises(ValueError, match="3 dimensions"):
        hasher.encode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="2-D"):
        hasher.encode(np.zeros(3))


@pytest.mark.parametrize(
    ("factory", "parameter"),
    [
        (lambda: BRE(8, pair_fraction=0), "pair_fraction"),
        (lambda: BRE(8, n_anchors=0), "n_anchors"),
        (lambda: BRE(8, tol=-1), "tol"),
        (lambda: SP(8, sparsity=1.0), "sparsity"),
        (lambda: SP(8, beta=0), "beta"),
        (lambda: SP(8, n_iter=0), "n_iter"),
        (lambda: SGH(8, n_epochs=0), "n_epochs"),
        (lambda: SGH(8, learning_rate=-1e-3), "learning_rate"),
    ],
)
def test_rejects_bad_hyper_parameters(factory, parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        factory()


def test_bre_needs_as_many_training_items_as_anchors_per_bit() -> None:
    # Each bit's kernel expansion uses n_anchors distinct training items: more cannot be had.
    with pytest.raises(ValueError, match="n_anchors"):
        BRE(8, n_anchors=50).fit(np.random.default_rng(0).normal(size=(30, 4)))
