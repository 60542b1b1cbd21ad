import numpy as np
import pytest

from hashkit.codes import hamming_distances
from hashkit.synthetic import class_clustered_codes, random_codes


def test_random_codes_are_reproducible_and_balanced():
    codes = random_codes(2000, 32, seed=3)
    assert codes.dtype == np.int8 and codes.shape == (2000, 32)
    np.testing.assert_array_equal(codes, random_codes(2000, 32, seed=3))
    assert not np.array_equal(codes, random_codes(2000, 32, seed=4))
    assert abs(codes.mean()) < 0.05


def test_clustered_codes_keep_a_class_together():
    class_ids = np.repeat(np.arange(5), 200)
    codes = class_clustered_codes(class_ids, 64, flip_probability=0.1, seed=0)
    distances = hamming_distances(codes, codes)
    same_class = class_ids[:, None] == class_ids[None, :]
    # Two flips of probability 0.1 per bit: about 0.18 * 64 = 11.5 bits apart within a class, 32 across.
    assert distances[same_class].mean() == pytest.approx(64 * 2 * 0.1 * 0.9, abs=1.0)
    assert distances[~same_class].mean() == pytest.approx(32, abs=4)
    np.testing.assert_array_equal(codes, class_clustered_codes(class_ids, 64, 0.1, seed=0))


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="flip_probability"):
        class_clustered_codes(np.array([0, 1]), 8, 0.7, seed=0)
    with pytest.raises(ValueError, match="class_ids"):
        class_clustered_codes(np.array([[0, 1]]), 8, 0.1, seed=0)
    with pytest.raises(ValueError, match="n_bits"):
        random_codes(3, 0, seed=0)
