"""PCA hashing, and the principal directions that ITQ and spectral hashing start from."""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features


def check_bits_within_dims(n_bits: int, n_dims: int, method: str) -> None:
    """A ``ValueError`` naming ``n_bits`` when a method that projects onto ``n_bits`` principal
    directions is asked for more bits than the features have dimensions."""
    if n_bits > n_dims:
        raise ValueError(
            f"n_bits: {method} takes one bit per principal direction, so n_bits ({n_bits}) "
            f"cannot exceed the feature dimension ({n_dims})"
        )


def principal_directions(features: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean of ``features`` and its ``n_components`` leading principal directions.

    Returns ``(mean, directions, variances)``: ``directions`` is ``(n_dims, n_components)`` with
    orthonormal columns ordered by decreasing variance, ``variances`` the variance along each.
    Each direction's sign is fixed (its largest-magnitude entry is positive) because an
    eigensolver may return either sign, and codes should not depend on which one it picked.
    """
    if len(features) < 2:
        raise ValueError(f"features: principal directions need at least 2 items, got {len(features)}")
    mean = features.mean(axis=0, dtype=np.float64)
    centred = features.astype(np.float64) - mean
    covariance = centred.T @ centred / (len(features) - 1)
    n_dims = covariance.shape[0]
    variances, directions = eigh(covariance, subset_by_index=[n_dims - n_components, n_dims - 1])
    variances, directions = variances[::-1], directions[:, ::-1]
    largest = np.abs(directions).argmax(axis=0)
    directions = directions * np.sign(directions[largest, np.arange(n_components)])
    return mean, directions, np.clip(variances, 0.0, None)


class PCAH(ShallowHasher):
    """PCA hashing (PCAH), the baseline of {cite}`wang2012ssh`.

    Objective: keep the ``n_bits`` directions of largest variance, i.e. maximise the variance of
    the real-valued projections ``W^T (x - mean)`` under ``W^T W = I``; each bit is the sign of one
    projection. Algorithm: the leading ``n_bits`` eigenvectors of the training covariance, then
    ``sign``. It is deterministic and has no hyper-parameter beyond ``n_bits``, which cannot exceed
    the feature dimension. Known weakness, the one ITQ addresses: later directions carry little
    variance, yet each counts for one full bit.
    """

    def __init__(self, n_bits: int) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> PCAH:
        """Learn the mean and the ``n_bits`` principal directions of ``features``; ``labels`` are ignored."""
        features = check_features(features)
        check_bits_within_dims(self.n_bits, features.shape[1], "PCAH")
        mean, directions, _ = principal_directions(features, self.n_bits)
        self.mean_ = mean.astype(features.dtype)
        self.projection_ = directions.astype(features.dtype)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``."""
        self._check_fitted("mean_", "projection_")
        features = check_features(features, n_dims=self.projection_.shape[0])
        return sign((features - self.mean_) @ self.projection_)
