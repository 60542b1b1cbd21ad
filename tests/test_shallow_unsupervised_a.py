"""PCAH, ITQ, SH, SpH and AGH: the estimator contract, retrieval quality on Fashion-MNIST, and
the property each method is built to have."""

from collections.abc import Callable

import numpy as np
import pytest

from hashkit.metrics import mean_average_precision
from hashkit.shallow import LSH
from hashkit.shallow.agh import (
    AGH,
    anchor_matrix,
    anchor_weights,
    nearest_anchors,
    second_layer_thresholds,
    spectral_projection,
)
from hashkit.shallow.base import ShallowHasher
from hashkit.shallow.itq import ITQ, itq_rotation, quantization_loss
from hashkit.shallow.pcah import PCAH, principal_directions
from hashkit.shallow.sh import SH, smallest_modes
from hashkit.shallow.sph import SpH

Factory = Callable[..., ShallowHasher]

# Each method from (n_bits, seed, small); ``small`` shrinks AGH's anchor set for 300-item data.
METHODS: dict[str, Factory] = {
    "PCAH": lambda n_bits, seed=0, small=False: PCAH(n_bits),
    "ITQ": lambda n_bits, seed=0, small=False: ITQ(n_bits, seed=seed),
    "SH": lambda n_bits, seed=0, small=False: SH(n_bits),
    "SpH": lambda n_bits, seed=0, small=False: SpH(n_bits, seed=seed),
    "AGH-1": lambda n_bits, seed=0, small=False: AGH(n_bits, n_anchors=40 if small else 300, seed=seed),
    "AGH-2": lambda n_bits, seed=0, small=False: AGH(n_bits, n_anchors=40 if small else 300, layers=2, seed=seed),
}
RANDOMISED = ["ITQ", "SpH", "AGH-1", "AGH-2"]


def random_codes(n_items: int, n_bits: int, rng: np.random.Generator) -> np.ndarray:
    return np.where(rng.random((n_items, n_bits)) < 0.5, 1, -1).astype(np.int8)


def mean_abs_bit_correlation(codes: np.ndarray) -> float:
    correlation = np.corrcoef(codes.T.astype(np.float64))
    return float(np.abs(correlation[~np.eye(len(correlation), dtype=bool)]).mean())


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """300 items in 20 dimensions around 6 centres: structure for every method to find."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(6, 20))
    return centres[rng.integers(0, 6, size=300)] + rng.normal(size=(300, 20))


@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    """300 items from one Gaussian in 5 dimensions: an anchor graph on it is connected."""
    return np.random.default_rng(0).normal(size=(300, 5))


@pytest.fixture(scope="module")
def fashion_codes(fashion: dict[str, np.ndarray]) -> dict[str, tuple[ShallowHasher, np.ndarray, np.ndarray]]:
    """Each method fitted once on the Fashion-MNIST subset at 32 bits: (model, train codes, query codes)."""
    fitted = {}
    for name, make in METHODS.items():
        model = make(32).fit(fashion["train"])
        fitted[name] = (model, model.encode(fashion["train"]), model.encode(fashion["query"]))
    return fitted


def fashion_map(fashion: dict[str, np.ndarray], train_codes: np.ndarray, query_codes: np.ndarray) -> float:
    return mean_average_precision(query_codes, train_codes, fashion["query_labels"], fashion["train_labels"])


# --- the estimator contract ---------------------------------------------------------------------

@pytest.mark.parametrize("name", METHODS)
def test_codes_are_int8_plus_minus_one_for_training_and_unseen_items(name: str, blobs: np.ndarray) -> None:
    model = METHODS[name](16, small=True).fit(blobs[:200])
    for items in (blobs[:200], blobs[200:]):
        codes = model.encode(items)
        assert codes.shape == (len(items), 16) and codes.dtype == np.int8
        assert set(np.unique(codes)) <= {-1, 1}


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_gives_same_codes(name: str, blobs: np.ndarray) -> None:
    codes = METHODS[name](16, seed=3, small=True).fit(blobs).encode(blobs)
    np.testing.assert_array_equal(codes, METHODS[name](16, seed=3, small=True).fit(blobs).encode(blobs))
    if name in RANDOMISED:
        assert not np.array_equal(codes, METHODS[name](16, seed=4, small=True).fit(blobs).encode(blobs))


@pytest.mark.parametrize("name", METHODS)
def test_unseen_items_keep_their_neighbours_close_in_hamming_space(name: str, blobs: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    model = METHODS[name](16, small=True).fit(blobs[:200])
    unseen = blobs[200:]
    base = model.encode(unseen)
    near = model.encode(unseen + 0.05 * rng.normal(size=unseen.shape))
    others = model.encode(rng.permutation(unseen))
    assert (base != near).sum(axis=1).mean() < (base != others).sum(axis=1).mean() / 3


# --- retrieval quality on Fashion-MNIST ---------------------------------------------------------

@pytest.mark.parametrize("name", METHODS)
def test_map_is_clearly_above_random_codes(name: str, fashion, fashion_codes) -> None:
    _, train_codes, query_codes = fashion_codes[name]
    rng = np.random.default_rng(0)
    chance = fashion_map(fashion, random_codes(len(train_codes), 32, rng), random_codes(len(query_codes), 32, rng))
    assert fashion_map(fashion, train_codes, query_codes) > chance + 0.1


def test_itq_beats_lsh_on_average_over_three_seeds(fashion) -> None:
    def average_map(make: Factory) -> float:
        scores = []
        for seed in range(3):
            model = make(32, seed=seed).fit(fashion["train"])
            scores.append(fashion_map(fashion, model.encode(fashion["train"]), model.encode(fashion["query"])))
        return float(np.mean(scores))

    assert average_map(lambda n_bits, seed: ITQ(n_bits, seed=seed)) > average_map(
        lambda n_bits, seed: LSH(n_bits, seed=seed)
    ) + 0.03


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("n_bits", [0, -3, 2.5, True])
def test_bad_n_bits_is_an_error_naming_n_bits(name: str, n_bits) -> None:
    with pytest.raises(ValueError, match="n_bits"):
        METHODS[name](n_bits)


@pytest.mark.parametrize("name", METHODS)
def test_bad_features_and_misuse_are_clear_errors(name: str, blobs: np.ndarray) -> None:
    model = METHODS[name](8, small=True)
    with pytest.raises(RuntimeError, match="fit"):
        model.encode(blobs)
    with pytest.raises(ValueError, match="features"):
        model.fit(blobs[0])
    with_nan = blobs.copy()
    with_nan[5, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(with_nan)
    model.fit(blobs)
    with pytest.raises(ValueError, match="20 dimensions"):
        model.encode(blobs[:, :7])
    with pytest.raises(ValueError, match="NaN"):
        model.encode(with_nan)


@pytest.mark.parametrize("name", ["PCAH", "ITQ"])
def test_more_bits_than_dimensions_is_an_error_naming_n_bits(name: str, blobs: np.ndarray) -> None:
    with pytest.raises(ValueError, match="n_bits.*20"):
        METHODS[name](21).fit(blobs)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"n_bits": 300}, "n_bits"),                       # more than n_anchors - 1 eigenfunctions
        ({"n_bits": 600, "layers": 2}, "n_bits"),          # 300 eigenfunctions, two bits each
        ({"n_bits": 7, "layers": 2}, "n_bits"),            # two layers need an even length
        ({"n_bits": 8, "layers": 3}, "layers"),
        ({"n_bits": 8, "n_nearest_anchors": 301}, "n_nearest_anchors"),
        ({"n_bits": 8, "n_anchors": 0}, "n_anchors"),
    ],
)
def test_agh_rejects_unsupported_settings(arguments: dict, parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        AGH(**arguments)


def test_agh_needs_as_many_items_as_anchors_and_enough_eigenfunctions(blobs: np.ndarray) -> None:
    with pytest.raises(ValueError, match="n_anchors"):
        AGH(8).fit(blobs[:100])
    # Ten distinct items, each repeated: at most ten anchors are anyone's nearest, so the graph has
    # at most nine non-constant eigenfunctions, which must be an error rather than noise bits.
    repeated = np.repeat(blobs[:10], 30, axis=0)
    with pytest.raises(ValueError, match="n_bits"):
        AGH(20, n_anchors=40, n_nearest_anchors=1).fit(repeated)


def test_sph_and_itq_reject_bad_iteration_settings() -> None:
    with pytest.raises(ValueError, match="n_iterations"):
        ITQ(8, n_iterations=0)
    with pytest.raises(ValueError, match="n_iterations"):
        itq_rotation(np.ones((4, 2)), n_iterations=-1, seed=0)
    with pytest.raises(ValueError, match="mean_tolerance"):
        SpH(8, mean_tolerance=0.0)
    with pytest.raises(ValueError, match="max_iterations"):
        SpH(8, max_iterations=0)


# --- method-specific properties -----------------------------------------------------------------

def test_itq_rotation_is_orthogonal_and_its_quantization_loss_never_increases(blobs: np.ndarray) -> None:
    mean, directions, _ = principal_directions(blobs, 16)
    projected = (blobs - mean) @ directions
    rotation = itq_rotation(projected, n_iterations=50, seed=0)
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(16), atol=1e-10)
    # The same seed gives the same start, so these are the successive iterates of one run.
    losses = np.array([quantization_loss(projected, itq_rotation(projected, t, seed=0)) for t in range(12)])
    assert (np.diff(losses) <= 1e-9 * losses[0]).all()
    assert losses[-1] < 0.9 * losses[0]


def test_itq_codes_are_the_signs_of_the_rotated_pca_projection(blobs: np.ndarray) -> None:
    model = ITQ(8, seed=2).fit(blobs)
    mean, directions, _ = principal_directions(blobs, 8)
    expected = np.where((blobs - mean) @ directions @ model.rotation_ >= 0, 1, -1)
    np.testing.assert_array_equal(model.encode(blobs), expected)


def test_pcah_bits_are_nearly_uncorrelated_unlike_lsh(fashion, fashion_codes) -> None:
    pcah_codes = fashion_codes["PCAH"][1]
    lsh_codes = LSH(32).fit(fashion["train"]).encode(fashion["train"])
    assert mean_abs_bit_correlation(pcah_codes) < 0.1
    assert mean_abs_bit_correlation(pcah_codes) < mean_abs_bit_correlation(lsh_codes) / 3


def test_principal_directions_are_orthonormal_with_decreasing_variance(blobs: np.ndarray) -> None:
    _, directions, variances = principal_directions(blobs, 10)
    np.testing.assert_allclose(directions.T @ directions, np.eye(10), atol=1e-10)
    assert (np.diff(variances) <= 0).all() and variances[-1] > 0


def test_sh_takes_the_lowest_frequencies_across_directions() -> None:
    directions, frequencies = smallest_modes(np.array([4.0, 1.0]), 3)
    np.testing.assert_array_equal(directions, [0, 0, 0])
    np.testing.assert_allclose(frequencies, np.pi * np.array([1, 2, 3]) / 4)
    directions, _ = smallest_modes(np.array([1.0, 1.5, 0.0]), 3)
    np.testing.assert_array_equal(directions, [1, 0, 1])


def test_sh_splits_a_uniform_box_at_its_middle_and_gives_more_bits_than_dimensions() -> None:
    rng = np.random.default_rng(0)
    box = rng.uniform(size=(4000, 2)) * np.array([6.0, 1.0])
    codes = SH(5).fit(box).encode(box)
    assert codes.shape == (4000, 5)
    # The lowest mode of the long side cuts it in half: one bit is (up to its sign) x < 3.
    first_half = box[:, 0] < 3.0
    assert np.abs(((codes[:, 0] > 0) == first_half).mean() - 0.5) > 0.49
    assert np.abs(codes.mean(axis=0)).max() < 0.1


def test_sph_spheres_each_hold_half_the_items_and_pairs_share_a_quarter(fashion, fashion_codes) -> None:
    model, train_codes, query_codes = fashion_codes["SpH"]
    assert model.converged_
    inside = (train_codes > 0).astype(np.float64)
    np.testing.assert_allclose(inside.mean(axis=0), 0.5, atol=0.002)
    pair_shares = (inside.T @ inside / len(inside))[np.triu_indices(32, k=1)]
    assert np.abs(pair_shares - 0.25).mean() <= 0.1 * 0.25
    # Unseen items from the same distribution fall inside about half of the time as well.
    assert np.abs((query_codes > 0).mean(axis=0) - 0.5).max() < 0.15


def test_agh_eigenfunctions_are_orthogonal_and_orthogonal_to_the_constant(blobs: np.ndarray) -> None:
    # Six separate clusters: the anchor graph has several components, each an eigenvalue of 1,
    # and the constant one must still be the only direction left out.
    anchors = blobs[::10]
    indices, squared = nearest_anchors(blobs, anchors, 3)
    z = anchor_matrix(indices, anchor_weights(squared, float(squared.mean())), len(anchors))
    embedding = np.asarray(z @ spectral_projection(z, 5))
    np.testing.assert_allclose(embedding.T @ embedding / len(blobs), np.eye(5), atol=1e-8)
    np.testing.assert_allclose(embedding.sum(axis=0), 0.0, atol=1e-8)


def test_agh_second_layer_thresholds_minimise_the_balanced_relaxed_cut(cloud: np.ndarray) -> None:
    anchors = cloud[::15]
    indices, squared = nearest_anchors(cloud, anchors, 3)
    z = anchor_matrix(indices, anchor_weights(squared, float(squared.mean())), len(anchors))
    embedding = np.asarray(z @ spectral_projection(z, 3))
    b_plus, b_minus = second_layer_thresholds(embedding, z)
    degrees = np.asarray(z.sum(axis=0)).ravel()
    laplacian = np.eye(len(cloud)) - (z @ np.diag(1 / degrees) @ z.T.toarray())
    for k in range(3):
        y = embedding[:, k]
        positive = y >= 0

        def relaxed(plus: float, minus: float) -> np.ndarray:
            return np.where(positive, y - plus, minus - y)

        assert abs(relaxed(b_plus[k], b_minus[k]).sum()) < 1e-8
        # Moving (b_plus, b_minus) along (n-, n+) keeps the bit balanced; either way the cut grows.
        along = np.array([(~positive).sum(), positive.sum()]) / len(y)
        best = relaxed(b_plus[k], b_minus[k])
        for delta in (-0.05, 0.05):
            moved = relaxed(b_plus[k] + delta * along[0], b_minus[k] + delta * along[1])
            assert abs(moved.sum()) < 1e-8
            assert moved @ laplacian @ moved > best @ laplacian @ best
