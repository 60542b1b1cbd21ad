import numpy as np
import pytest

from hashkit.shallow import LSH


def test_lsh_codes_shape_values_and_reproducibility():
    features = np.random.default_rng(0).normal(size=(300, 20))
    codes = LSH(16, seed=1).fit(features).encode(features)
    assert codes.shape == (300, 16) and codes.dtype == np.int8 and set(np.unique(codes)) <= {-1, 1}
    np.testing.assert_array_equal(codes, LSH(16, seed=1).fit(features).encode(features))
    assert not np.array_equal(codes, LSH(16, seed=2).fit(features).encode(features))
    # Centring on the training mean balances the bits.
    assert np.abs(codes.mean(axis=0)).max() < 0.35


def test_lsh_encodes_unseen_items_and_keeps_near_items_near():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 30))
    lsh = LSH(64, seed=0).fit(features)
    unseen = rng.normal(size=(50, 30))
    near = lsh.encode(unseen + 0.05 * rng.normal(size=unseen.shape))
    far = lsh.encode(rng.normal(size=unseen.shape))
    base = lsh.encode(unseen)
    assert (base != near).sum(axis=1).mean() < (base != far).sum(axis=1).mean() / 4


@pytest.mark.parametrize("n_bits", [0, -3, 2.5, True])
def test_lsh_rejects_bad_n_bits(n_bits):
    with pytest.raises(ValueError, match="n_bits"):
        LSH(n_bits)


def test_lsh_rejects_bad_features_and_use_before_fit():
    with pytest.raises(RuntimeError, match="fit"):
        LSH(8).encode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        LSH(8).fit(np.array([[0.0, np.nan]]))
    lsh = LSH(8).fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="3 dimensions"):
        lsh.encode(np.zeros((2, 5)))
