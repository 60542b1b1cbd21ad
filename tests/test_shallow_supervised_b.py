"""ITQ-CCA, MLH and COSDISH: the estimator contract, retrieval quality on Fashion-MNIST against
LSH, multi-label training, and the property each method's optimisation is built to have."""

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from hashkit.metrics import mean_average_precision
from hashkit.shallow import LSH
from hashkit.shallow.base import ShallowHasher
from hashkit.shallow.cosdish import COSDISH, solve_binary_quadratic
from hashkit.shallow.itq_cca import ITQCCA
from hashkit.shallow.mlh import MLH, loss_adjusted_codes, pair_loss_table

Factory = Callable[..., ShallowHasher]

# Each method from (n_bits, seed, small). MLH trains 2 epochs of 10^5 pairs (of 2 x 10^4 on the
# 300-item sets, ``small``) instead of the paper's 50 epochs: its loss has dropped most of the way
# by then (see the loss test) and the suite stays fast.
METHODS: dict[str, Factory] = {
    "ITQ-CCA": lambda n_bits, seed=0, small=True: ITQCCA(n_bits, seed=seed),
    "MLH": lambda n_bits, seed=0, small=True: MLH(
        n_bits, n_epochs=2, pairs_per_epoch=20_000 if small else 100_000, seed=seed
    ),
    "COSDISH": lambda n_bits, seed=0, small=True: COSDISH(n_bits, seed=seed),
}


def hamming(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return (first[:, None, :] != second[None, :, :]).sum(axis=2)


def blob_set(n_items: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_items`` in 20 dimensions around 6 class centres (fixed across seeds), with class ids."""
    centres = np.random.default_rng(0).normal(scale=3.0, size=(6, 20))
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 6, size=n_items)
    return centres[classes] + rng.normal(size=(n_items, 20)), classes


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return blob_set(300, seed=1)


@pytest.fixture(scope="module")
def fashion_models(fashion: dict[str, np.ndarray]) -> dict[str, ShallowHasher]:
    """Each method fitted once on the Fashion-MNIST subset at 32 bits."""
    return {
        name: make(32, small=False).fit(fashion["train"], fashion["train_labels"]) for name, make in METHODS.items()
    }


def fashion_map(fashion: dict[str, np.ndarray], model: ShallowHasher) -> float:
    return mean_average_precision(
        model.encode(fashion["query"]), model.encode(fashion["train"]), fashion["query_labels"], fashion["train_labels"]
    )


@pytest.mark.parametrize("name", METHODS)
def test_codes_are_int8_plus_minus_one_for_training_and_unseen_items(name: str, blobs) -> None:
    features, classes = blobs
    model = METHODS[name](16).fit(features, classes)
    unseen, _ = blob_set(50, seed=2)
    for codes, n_items in ((model.encode(features), 300), (model.encode(unseen), 50)):
        assert codes.shape == (n_items, 16) and codes.dtype == np.int8
        assert set(np.unique(codes)) <= {-1, 1}


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_gives_same_codes_and_another_seed_other_codes(name: str, blobs) -> None:
    features, classes = blobs
    codes = METHODS[name](16, seed=3).fit(features, classes).encode(features)
    np.testing.assert_array_equal(codes, METHODS[name](16, seed=3).fit(features, classes).encode(features))
    assert not np.array_equal(codes, METHODS[name](16, seed=4).fit(features, classes).encode(features))


@pytest.mark.parametrize("name", METHODS)
def test_unseen_items_land_near_their_class_in_hamming_space(name: str, blobs) -> None:
    features, classes = blobs
    model = METHODS[name](16).fit(features, classes)
    unseen, unseen_classes = blob_set(60, seed=5)
    distances = hamming(model.encode(unseen), model.encode(features))
    same_class = unseen_classes[:, None] == classes[None, :]
    assert distances[same_class].mean() < 0.5 * distances[~same_class].mean()


@pytest.mark.parametrize("name", METHODS)
def test_beats_lsh_on_fashion_mnist(name: str, fashion, fashion_models) -> None:
    lsh = LSH(32).fit(fashion["train"])
    assert fashion_map(fashion, fashion_models[name]) > fashion_map(fashion, lsh) + 0.1


@pytest.mark.parametrize("name", METHODS)
def test_multi_hot_labels_train_codes_that_keep_label_sharing_pairs_closer(name: str) -> None:
    # Four labels, each a direction in feature space; an item holds one or two of them.
    rng = np.random.default_rng(6)
    label_directions = rng.normal(scale=3.0, size=(4, 20))
    labels = np.zeros((400, 4), dtype=np.uint8)
    labels[np.arange(400), rng.integers(0, 4, 400)] = 1
    labels[np.arange(200), rng.integers(0, 4, 200)] = 1
    features = labels @ label_directions + rng.normal(size=(400, 20))
    codes = METHODS[name](16).fit(features, labels).encode(features)
    share = labels.astype(np.int32) @ labels.T.astype(np.int32) > 0
    distances = hamming(codes, codes)
    assert distances[share].mean() < 0.6 * distances[~share].mean()


@pytest.mark.parametrize("name", METHODS)
def test_fitting_without_labels_is_an_error_naming_labels(name: str, blobs) -> None:
    features, _ = blobs
    with pytest.raises(ValueError, match="labels"):
        METHODS[name](8).fit(features)


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("n_bits", [0, -3, 2.5, True])
def test_bad_n_bits_is_an_error_naming_n_bits(name: str, n_bits) -> None:
    with pytest.raises(ValueError, match="n_bits"):
        METHODS[name](n_bits)


@pytest.mark.parametrize("name", METHODS)
def test_bad_inputs_and_misuse_are_clear_errors(name: str, blobs) -> None:
    features, classes = blobs
    make = METHODS[name]
    with pytest.raises(RuntimeError, match="fit"):
        make(8).encode(features)
    with pytest.raises(ValueError, match="features"):
        make(8).fit(features[:, 0], classes)
    with pytest.raises(ValueError, match="NaN"):
        make(8).fit(np.where(np.arange(20) == 3, np.nan, features), classes)
    with pytest.raises(ValueError, match="labels: 299 rows for 300"):
        make(8).fit(features, classes[:-1])
    with pytest.raises(ValueError, match="labels"):
        make(8).fit(features, np.full((300, 6), 2))
    model = make(8).fit(features, classes)
    with pytest.raises(ValueError, match="20 dimensions"):
        model.encode(features[:, :10])


def test_more_bits_than_supported_is_an_error_naming_the_parameter(blobs) -> None:
    features, classes = blobs
    with pytest.raises(ValueError, match="n_bits.*feature dimension"):
        ITQCCA(21).fit(features, classes)
    with pytest.raises(ValueError, match="n_bits.*only 40 training items"):
        COSDISH(64).fit(features[:40], classes[:40])
    with pytest.raises(ValueError, match="n_columns.*only 40 training items"):
        COSDISH(16, n_columns=41).fit(features[:40], classes[:40])
    # MLH's hyperplanes are not tied to the feature dimension: more bits than dimensions is fine.
    assert MLH(32, n_epochs=1, pairs_per_epoch=1000).fit(features, classes).encode(features).shape == (300, 32)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"rho": 0}, "rho"),
        ({"dissimilar_weight": -1.0}, "dissimilar_weight"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": float("nan")}, "weight_decay"),
        ({"n_epochs": 0}, "n_epochs"),
    ],
)
def test_mlh_rejects_bad_hyper_parameters(arguments: dict, parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        MLH(8, **arguments)


def test_cosdish_and_itq_cca_reject_bad_hyper_parameters() -> None:
    for make, parameter in [
        (lambda: COSDISH(8, n_iterations=0), "n_iterations"),
        (lambda: COSDISH(8, n_alternations=0), "n_alternations"),
        (lambda: COSDISH(8, regression_penalty=0.0), "regression_penalty"),
        (lambda: ITQCCA(8, regularisation=-1e-4), "regularisation"),
        (lambda: ITQCCA(8, n_iterations=0), "n_iterations"),
    ]:
        with pytest.raises(ValueError, match=parameter):
            make()


def test_mlh_loss_table_is_the_papers_hinge() -> None:
    # 4 bits, rho = 2, lambda = 0.5: similar pairs pay max(m - 1, 0), dissimilar 0.5 max(3 - m, 0).
    expected = [[1.5, 1.0, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0, 3.0]]
    np.testing.assert_allclose(pair_loss_table(4, rho=2, dissimilar_weight=0.5), expected)


def test_mlh_loss_adjusted_inference_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    n_bits, n_pairs = 5, 30
    every_code = np.array(list(itertools.product([-1.0, 1.0], repeat=n_bits)))
    distance_between = hamming(every_code, every_code)
    table = pair_loss_table(n_bits, rho=2, dissimilar_weight=0.7)
    scores_first, scores_second = rng.normal(size=(n_pairs, n_bits)), rng.normal(size=(n_pairs, n_bits))
    similar = rng.integers(0, 2, n_pairs)
    first, second = loss_adjusted_codes(scores_first, scores_second, table[similar])
    for pair in range(n_pairs):
        objective = (
            table[similar[pair]][distance_between]
            + (every_code @ scores_first[pair])[:, None]
            + (every_code @ scores_second[pair])[None, :]
        )
        found = (
            table[similar[pair], int((first[pair] != second[pair]).sum())]
            + first[pair] @ scores_first[pair]
            + second[pair] @ scores_second[pair]
        )
        assert found == pytest.approx(objective.max())


def test_mlh_empirical_loss_decreases_during_training(fashion_models) -> None:
    history = fashion_models["MLH"].loss_history_
    assert len(history) == 3
    assert history[-1] < 0.6 * history[0]


def test_cosdish_bit_subproblem_solver_finds_the_optimum_of_small_problems() -> None:
    rng = np.random.default_rng(8)
    every_code = np.array(list(itertools.product([-1.0, 1.0], repeat=10)))
    n_optimal = 0
    for _ in range(20):
        asymmetric = rng.normal(size=(10, 10))
        quadratic = asymmetric + asymmetric.T
        np.fill_diagonal(quadratic, 0.0)
        linear = rng.normal(scale=3.0, size=10)
        values = np.einsum("ci,ij,cj->c", every_code, quadratic, every_code) + every_code @ linear
        start = every_code[rng.integers(len(every_code))]
        found = solve_binary_quadratic(quadratic, linear, start, rng)
        value = found @ quadratic @ found + linear @ found
        # Never worse than the starting point, and almost always the exact optimum.
        assert value <= start @ quadratic @ start + linear @ start + 1e-9
        n_optimal += bool(np.isclose(value, values.min()))
    assert n_optimal >= 18


def test_cosdish_objective_decreases_and_training_codes_follow_the_classes(fashion, fashion_models) -> None:
    model = fashion_models["COSDISH"]
    history = model.objective_history_
    assert len(history) == 11
    assert history[-1] < 0.25 * history[0]
    codes, labels = model.training_codes_, fashion["train_labels"]
    distances = hamming(codes[:300], codes[:300])
    share = labels[:300].astype(np.int32) @ labels[:300].T.astype(np.int32) > 0
    assert distances[share].mean() < 0.25 * distances[~share].mean()


def test_itq_cca_directions_are_ordered_by_their_canonical_correlation(blobs) -> None:
    features, classes = blobs
    model = ITQCCA(8).fit(features, classes)
    correlations = model.correlations_
    # Six one-hot classes give five label directions; the bits beyond them get correlation 0.
    assert np.all(np.diff(correlations) <= 1e-12)
    assert np.all(correlations[:5] > 0.3) and np.all(correlations[5:] == 0)
    # Each direction's projection has unit variance, is uncorrelated with the others, and its
    # correlation with the best linear combination of the labels is the reported one.
    projected = (features - features.mean(axis=0)) @ model.directions_[:, :5]
    np.testing.assert_allclose(np.cov(projected.T, bias=True), np.eye(5), atol=1e-3)
    one_hot = np.eye(6)[classes]
    fitted = one_hot @ np.linalg.lstsq(one_hot, projected, rcond=None)[0]
    realised = np.sqrt(1 - ((projected - fitted) ** 2).sum(axis=0) / (projected**2).sum(axis=0))
    np.testing.assert_allclose(realised, correlations[:5], atol=1e-3)
