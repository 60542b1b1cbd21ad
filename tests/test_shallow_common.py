"""The contract every shallow estimator keeps, checked on all of them at once."""

import numpy as np
import pytest

from hashkit.data import load_dataset
from hashkit.metrics import mean_average_precision
from hashkit.shallow import LSH, METHODS, SUPERVISED, UNSUPERVISED

# Settings that let every method fit 600 items in about a second; the defaults suit 10,000.
SMALL = {
    "KSH": {"n_anchors": 100, "n_labelled": 400}, "SDH": {"n_anchors": 200}, "FSDH": {"n_anchors": 200},
    "MLH": {"n_epochs": 2, "pairs_per_epoch": 5_000}, "BRE": {"n_training_points": 300},
    "AGH": {"n_anchors": 100}, "SGH": {"n_epochs": 5}, "GH": {"epochs": 5},
    "TBH": {"hidden_units": 64, "continuous_units": 32, "iterations": 50},
}
ALL = UNSUPERVISED + SUPERVISED


def make(cls, n_bits=16, **overrides):
    return cls(n_bits, **{**SMALL.get(cls.__name__, {}), **overrides})


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    class_ids = rng.integers(0, 5, size=800)
    centres = rng.normal(scale=3.0, size=(5, 40))
    features = (centres[class_ids] + rng.normal(size=(800, 40))).astype(np.float32)
    return features[:600], class_ids[:600], features[600:]


def test_every_method_in_the_papers_tables_is_exported():
    assert set(METHODS) >= {"LSH", "SH", "BRE", "ITQ", "PCAH", "SpH", "AGH", "SP", "SGH",
                            "KSH", "SDH", "FSDH", "ITQ-CCA", "MLH", "COSDISH"}


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_codes_are_int8_plus_minus_one_and_unseen_items_encode(cls, blobs):
    train, class_ids, unseen = blobs
    hasher = make(cls).fit(train, class_ids)
    assert hasher is not None and hasattr(hasher, "n_bits")
    for features in (train, unseen):
        codes = hasher.encode(features)
        assert codes.shape == (len(features), 16) and codes.dtype == np.int8
        assert set(np.unique(codes)) <= {-1, 1}
    assert [name for name in vars(hasher) if name.endswith("_")], "learned state must end in '_'"


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_the_same_seed_gives_the_same_codes(cls, blobs):
    train, class_ids, unseen = blobs
    first = make(cls).fit(train, class_ids).encode(unseen)
    second = make(cls).fit(train, class_ids).encode(unseen)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_bad_input_is_named(cls, blobs):
    train, class_ids, _ = blobs
    for bad_bits in (0, -1):
        with pytest.raises(ValueError, match="n_bits"):
            make(cls, n_bits=bad_bits)
    with_nan = train.copy()
    with_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make(cls).fit(with_nan, class_ids)
    with pytest.raises(ValueError, match="features"):
        make(cls).fit(train[:, 0], class_ids)
    with pytest.raises(RuntimeError, match="fit"):
        make(cls).encode(train)


@pytest.mark.parametrize("cls", SUPERVISED, ids=lambda cls: cls.__name__)
def test_supervised_methods_ask_for_labels(cls, blobs):
    train, _, _ = blobs
    with pytest.raises(ValueError, match="labels"):
        make(cls).fit(train)


def test_more_bits_do_not_make_lsh_worse_on_average_over_seeds():
    fashion = load_dataset("fashion-mnist")
    pixels = fashion.images(np.arange(3000)).reshape(3000, -1) / 255
    queries, database = pixels[:300], pixels[300:]
    labels = fashion.class_ids()[:3000]
    mean_map = {
        bits: np.mean([mean_average_precision(lsh.encode(queries), lsh.encode(database), labels[:300], labels[300:])
                       for lsh in (LSH(bits, seed).fit(database) for seed in range(4))])
        for bits in (8, 16, 32, 64)
    }
    assert mean_map[8] <= mean_map[16] <= mean_map[32] <= mean_map[64], mean_map
