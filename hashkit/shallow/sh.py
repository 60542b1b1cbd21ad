"""Spectral hashing: analytical eigenfunctions of a uniform distribution over a PCA-aligned box."""

from __future__ import annotations

import numpy as np

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features
from hashkit.shallow.pcah import principal_directions


def smallest_modes(ranges: np.ndarray, n_modes: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_modes`` one-dimensional eigenfunctions of smallest eigenvalue over a box.

    Along a direction of range ``b - a``, mode ``k >= 1`` has angular frequency
    ``k pi / (b - a)`` and eigenvalue ``1 - exp(-eps^2 / 2 |k pi / (b - a)|^2)``, which grows
    with the frequency whatever ``eps``; so the smallest eigenvalues are the lowest frequencies
    over all (direction, k) pairs. Returns ``(directions, frequencies)``, one entry per mode, in
    increasing frequency. Candidates go up to ``k = n_modes`` per direction, enough since at most
    ``n_modes`` modes can come from one direction.
    """
    n_directions = len(ranges)
    orders = np.arange(1, n_modes + 1)[:, None]
    with np.errstate(divide="ignore"):
        # A direction of zero range (constant data) gets infinite frequencies: never chosen.
        frequencies = orders * np.pi / ranges[None, :]
    # Rows are mode orders, columns directions: a stable sort breaks ties by lower order first,
    # then by the direction of larger variance.
    chosen = np.argsort(frequencies, axis=None, kind="stable")[:n_modes]
    if not np.isfinite(frequencies.flat[chosen]).all():
        raise ValueError("features: every principal direction is constant; spectral hashing needs spread data")
    return chosen % n_directions, frequencies.flat[chosen]


class SH(ShallowHasher):
    """Spectral hashing {cite}`weiss2008sh`.

    Objective: codes that minimise the average Hamming distance between neighbours,
    ``sum_ij W_ij ||y_i - y_j||^2`` with ``W_ij = exp(-||x_i - x_j||^2 / eps^2)``, subject to
    balanced (``sum_i y_i = 0``) and uncorrelated (``(1/n) sum_i y_i y_i^T = I``) bits. Relaxed,
    its solution is the eigenfunctions of the weighted Laplace-Beltrami operator of the data
    distribution. Algorithm: rotate the data onto its top ``min(n_bits, n_dims)`` principal
    directions, approximate the distribution by a uniform one over the box ``[a, b]`` spanned by
    the training projections, whose eigenfunctions are known in closed form; take the ``n_bits``
    one-dimensional eigenfunctions of smallest eigenvalue over all directions (see
    :func:`smallest_modes`), and threshold each at zero:
    ``bit = sign(sin(pi/2 + k pi / (b - a) (x - a)))`` for a mode ``k`` along one direction. A
    direction of large range can give several bits, of growing frequency. The paper has no
    further hyper-parameter (``eps`` only scales the eigenvalues, not their order); the method is
    deterministic and ``n_bits`` may exceed the feature dimension.
    """

    def __init__(self, n_bits: int) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> SH:
        """Learn the principal directions, the box and the modes; ``labels`` are ignored."""
        features = check_features(features)
        n_directions = min(self.n_bits, features.shape[1])
        mean, directions, _ = principal_directions(features, n_directions)
        projected = (features - mean) @ directions
        lower, upper = projected.min(axis=0), projected.max(axis=0)
        bit_directions, frequencies = smallest_modes(upper - lower, self.n_bits)
        self.mean_ = mean.astype(features.dtype)
        self.projection_ = directions.astype(features.dtype)
        self.lower_ = lower.astype(features.dtype)
        self.bit_directions_ = bit_directions
        self.frequencies_ = frequencies.astype(features.dtype)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``."""
        self._check_fitted("mean_", "projection_", "lower_", "bit_directions_", "frequencies_")
        features = check_features(features, n_dims=self.projection_.shape[0])
        offsets = (features - self.mean_) @ self.projection_ - self.lower_
        return sign(np.sin(np.pi / 2 + self.frequencies_ * offsets[:, self.bit_directions_]))
