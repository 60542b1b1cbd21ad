"""Locality-sensitive hashing by random projections."""

from __future__ import annotations

import numpy as np

from hashkit.codes import sign
from hashkit.checks import check_positive_int
from hashkit.shallow.base import ShallowHasher, check_features


class LSH(ShallowHasher):
    """Random-projection LSH {cite}`gionis1999lsh` (the sign-random-projection family).

    Objective: none is learned; each bit is ``sign(w_k^T (x - mean))`` with ``w_k`` drawn from a
    standard Gaussian, so the probability that two items differ on a bit grows with the angle
    between them. ``fit`` only learns the feature mean (centring makes the bits balanced) and draws
    the projection from ``seed``. Defaults: none beyond ``n_bits``.
    """

    def __init__(self, n_bits: int, seed: int = 0) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> LSH:
        """Learn the mean of ``features`` and draw the projection; ``labels`` are ignored."""
        features = check_features(features)
        self.mean_ = features.mean(axis=0)
        rng = np.random.default_rng(self.seed)
        self.projection_ = rng.standard_normal((features.shape[1], self.n_bits)).astype(features.dtype)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``."""
        self._check_fitted("mean_", "projection_")
        features = check_features(features, n_dims=self.projection_.shape[0])
        return sign((features - self.mean_) @ self.projection_)
