"""KSH, SDH and FSDH: the estimator contract, their objectives, and that labels buy retrieval quality."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hashkit.metrics import mean_average_precision
from hashkit.shallow.base import ShallowHasher
from hashkit.shallow.fsdh import FSDH
from hashkit.shallow.ksh import KSH
from hashkit.shallow.lsh import LSH
from hashkit.shallow.sdh import SDH

# Small anchor and labelled-set sizes keep the synthetic cases fast; defaults are tested on images.
SMALL: dict[str, Callable[..., ShallowHasher]] = {
    "KSH": lambda n_bits, seed=0: KSH(n_bits, n_anchors=40, n_labelled=150, seed=seed),
    "SDH": lambda n_bits, seed=0: SDH(n_bits, n_anchors=40, seed=seed),
    "FSDH": lambda n_bits, seed=0: FSDH(n_bits, n_anchors=40, seed=seed),
}
METHODS = sorted(SMALL)


def blobs(n_items: int, n_classes: int = 6, n_dims: int = 12, spread: float = 2.0, seed: int = 0):
    """Gaussian class clusters with random centres: ``(features, one-hot labels)``."""
    rng = np.random.default_rng(seed)
    centres = spread * rng.standard_normal((n_classes, n_dims))
    class_ids = np.arange(n_items) % n_classes
    features = centres[class_ids] + rng.standard_normal((n_items, n_dims))
    return features, np.eye(n_classes, dtype=np.uint8)[class_ids]


@pytest.mark.parametrize("method", METHODS)
def test_codes_shape_values_and_seed_reproducibility(method):
    features, labels = blobs(300)
    codes = SMALL[method](16, seed=3).fit(features, labels).encode(features)
    assert codes.shape == (300, 16) and codes.dtype == np.int8
    assert set(np.unique(codes)) == {-1, 1}
    np.testing.assert_array_equal(codes, SMALL[method](16, seed=3).fit(features, labels).encode(features))
    assert not np.array_equal(codes, SMALL[method](16, seed=4).fit(features, labels).encode(features))


@pytest.mark.parametrize("method", METHODS)
def test_unseen_items_get_their_class_codes(method):
    features, labels = blobs(600)
    hasher = SMALL[method](16).fit(features[:300], labels[:300])
    unseen_codes = hasher.encode(features[300:])
    assert unseen_codes.shape == (300, 16)
    unseen_map = mean_average_precision(unseen_codes, hasher.encode(features[:300]), labels[300:], labels[:300])
    assert unseen_map > 0.9


@pytest.mark.parametrize("method", METHODS)
def test_multi_label_rows_are_used(method):
    rng = np.random.default_rng(0)
    n_items, n_classes = 400, 5
    labels = (rng.random((n_items, n_classes)) < 0.3).astype(np.uint8)
    labels[labels.sum(axis=1) == 0, 0] = 1
    # An item's features sum its labels' centres, so items sharing labels lie close together.
    features = labels @ (3 * rng.standard_normal((n_classes, 10))) + rng.standard_normal((n_items, 10))
    learned = SMALL[method](16).fit(features, labels)
    lsh = LSH(16).fit(features)
    assert mean_average_precision(learned.encode(features), learned.encode(features), labels, labels) > (
        mean_average_precision(lsh.encode(features), lsh.encode(features), labels, labels) + 0.05
    )


@pytest.mark.parametrize("method", METHODS)
def test_beats_lsh_on_fashion_mnist(method, fashion):
    train, train_labels, queries, query_labels = (fashion[key] for key in ("train", "train_labels", "query",
                                                                          "query_labels"))
    # KSH's default 2,000 labelled items would be the whole set; 1,000 keeps the test quick.
    hasher = KSH(32, n_labelled=1000) if method == "KSH" else {"SDH": SDH, "FSDH": FSDH}[method](32)
    hasher.fit(train, train_labels)
    lsh = LSH(32).fit(train)
    learned_map = mean_average_precision(hasher.encode(queries), hasher.encode(train), query_labels, train_labels)
    lsh_map = mean_average_precision(lsh.encode(queries), lsh.encode(train), query_labels, train_labels)
    assert learned_map > lsh_map + 0.15, (learned_map, lsh_map)


def test_ksh_objective_falls_with_every_bit_when_labels_are_separable():
    # Two well-separated classes: one bit can match S exactly, so each greedy bit removes S once
    # from the residual r S and the objective ends at 0.
    features, labels = blobs(200, n_classes=2, spread=6.0)
    ksh = KSH(6, n_anchors=30, n_labelled=200).fit(features, labels)
    objective = ksh.objective_per_bit_
    assert len(objective) == 7
    assert (np.diff(objective) < 0).all()
    assert objective[-1] == 0


def test_ksh_objective_falls_over_the_bits_on_images(fashion):
    train, train_labels = fashion["train"], fashion["train_labels"]
    objective = KSH(16, n_labelled=500).fit(train, train_labels).objective_per_bit_
    assert objective[-1] < 0.95 * objective[0]
    assert (np.diff(objective) < 0).mean() > 0.8


@pytest.mark.parametrize("method", ["SDH", "FSDH"])
def test_alternating_objective_never_rises(method):
    features, labels = blobs(300)
    objective = SMALL[method](16).fit(features, labels).objective_per_iteration_
    assert len(objective) == 5
    assert (np.diff(objective) <= 1e-9 * objective[0]).all()
    assert objective[-1] < 0.5 * objective[0]


@pytest.mark.parametrize("method", METHODS)
def test_fit_without_labels_names_labels(method):
    features, _ = blobs(100)
    with pytest.raises(ValueError, match="labels"):
        SMALL[method](8).fit(features)


@pytest.mark.parametrize("method", METHODS)
def test_bad_labels_and_features_are_clear_errors(method):
    features, labels = blobs(200)
    with pytest.raises(ValueError, match="labels: 199 rows for 200"):
        SMALL[method](8).fit(features, labels[:199])
    with pytest.raises(ValueError, match="labels"):
        SMALL[method](8).fit(features, labels * 2)
    with pytest.raises(ValueError, match="features.*2-D"):
        SMALL[method](8).fit(features[:, 0], labels)
    with pytest.raises(ValueError, match="NaN"):
        SMALL[method](8).fit(np.where(np.eye(200, 12) == 1, np.nan, features), labels)
    with pytest.raises(RuntimeError, match="fit"):
        SMALL[method](8).encode(features)
    fitted = SMALL[method](8).fit(features, labels)
    with pytest.raises(ValueError, match="12 dimensions"):
        fitted.encode(features[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        fitted.encode(np.full((3, 12), np.nan))


@pytest.mark.parametrize("cls", [KSH, SDH, FSDH])
@pytest.mark.parametrize("n_bits", [0, -4, 1.5, True])
def test_bad_n_bits(cls, n_bits):
    with pytest.raises(ValueError, match="n_bits"):
        cls(n_bits)


@pytest.mark.parametrize("method", METHODS)
def test_more_anchors_than_items_names_n_anchors(method):
    features, labels = blobs(30)
    hasher = KSH(8, n_anchors=40, n_labelled=30) if method == "KSH" else SMALL[method](8)
    with pytest.raises(ValueError, match="n_anchors: 40 anchors cannot be drawn from 30"):
        hasher.fit(features, labels)


def test_ksh_rejects_more_labelled_items_than_given():
    features, labels = blobs(100)
    with pytest.raises(ValueError, match="n_labelled: 150"):
        KSH(8, n_anchors=20, n_labelled=150).fit(features, labels)


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: KSH(8, n_anchors=0), "n_anchors"),
        (lambda: KSH(8, n_labelled=-1), "n_labelled"),
        (lambda: KSH(8, n_gradient_steps=0), "n_gradient_steps"),
        (lambda: SDH(8, classifier_ridge=-1.0), "classifier_ridge"),
        (lambda: SDH(8, code_penalty=float("nan")), "code_penalty"),
        (lambda: SDH(8, n_dcc_sweeps=0), "n_dcc_sweeps"),
        (lambda: FSDH(8, label_ridge=-0.5), "label_ridge"),
        (lambda: FSDH(8, projection_ridge="1"), "projection_ridge"),
        (lambda: FSDH(8, n_iterations=0), "n_iterations"),
    ],
)
def test_bad_hyper_parameters_name_themselves(make, parameter):
    with pytest.raises(ValueError, match=parameter):
        make()
