"""Iterative quantization (ITQ): PCA, then the rotation that best fits the binary hypercube."""

from __future__ import annotations

import numpy as np

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features
from hashkit.shallow.pcah import check_bits_within_dims, principal_directions


def random_rotation(n_dims: int, seed: int) -> np.ndarray:
    """A random ``(n_dims, n_dims)`` orthogonal matrix drawn uniformly (Haar) from ``seed``."""
    gaussian = np.random.default_rng(seed).standard_normal((n_dims, n_dims))
    q, r = np.linalg.qr(gaussian)
    # QR alone is not uniform over rotations; fixing the signs of R's diagonal makes it so.
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def quantization_loss(projected: np.ndarray, rotation: np.ndarray) -> float:
    """ITQ's objective ``||sign(V R) - V R||_F^2`` for projected data ``V`` and a rotation ``R``."""
    rotated = projected @ rotation
    return float(np.square(sign(rotated) - rotated).sum())


def itq_rotation(projected: np.ndarray, n_iterations: int, seed: int) -> np.ndarray:
    """The ``(c, c)`` rotation ITQ learns for zero-centred projected data ``V`` of shape ``(n, c)``.

    Starting from a random rotation drawn from ``seed``, alternates ``n_iterations`` times between
    the codes ``B = sign(V R)`` (optimal for a fixed ``R``) and the orthogonal Procrustes solution
    for a fixed ``B``: with ``V^T B = U S W^T`` (SVD), ``R = U W^T`` maximises ``tr(B^T V R)``,
    i.e. minimises ``||B - V R||_F``. Each half-step can only lower the quantization loss, so the
    loss never increases from one iteration to the next. ``n_iterations=0`` returns the start.
    """
    projected = np.asarray(projected, dtype=np.float64)
    if projected.ndim != 2:
        raise ValueError(f"projected: expected a 2-D array (n_items, n_bits), got shape {projected.shape}")
    if isinstance(n_iterations, bool) or not isinstance(n_iterations, int | np.integer) or n_iterations < 0:
        raise ValueError(f"n_iterations: expected a non-negative integer, got {n_iterations!r}")
    rotation = random_rotation(projected.shape[1], seed)
    for _ in range(n_iterations):
        codes = sign(projected @ rotation).astype(np.float64)
        u, _, w_t = np.linalg.svd(projected.T @ codes)
        rotation = u @ w_t
    return rotation


class ITQ(ShallowHasher):
    """Iterative quantization, PCA-ITQ {cite}`gong2011itq,gong2013itq`.

    Objective: with ``V`` the zero-centred data projected onto its top ``n_bits`` principal
    directions, find binary codes ``B`` and an orthogonal ``R`` minimising the quantization loss
    ``||B - V R||_F^2``; rotating keeps the PCA variance but spreads it evenly over the bits, so
    fewer points sit near a threshold. Algorithm: PCA to ``n_bits`` dimensions, then
    :func:`itq_rotation` (random orthogonal start from ``seed``, alternate ``B = sign(V R)`` and the
    orthogonal Procrustes update of ``R`` by SVD); a new item's code is
    ``sign((x - mean)^T W R)``. Defaults of the paper: 50 iterations, random orthogonal start;
    ``n_bits`` cannot exceed the feature dimension.
    """

    def __init__(self, n_bits: int, n_iterations: int = 50, seed: int = 0) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_iterations = check_positive_int(n_iterations, "n_iterations")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> ITQ:
        """Learn the mean, the principal directions and the rotation; ``labels`` are ignored."""
        features = check_features(features)
        check_bits_within_dims(self.n_bits, features.shape[1], "ITQ")
        mean, directions, _ = principal_directions(features, self.n_bits)
        rotation = itq_rotation((features - mean) @ directions, self.n_iterations, self.seed)
        self.mean_ = mean.astype(features.dtype)
        self.rotation_ = rotation
        # PCA and rotation folded into one matrix: encoding is then a single product.
        self.projection_ = (directions @ rotation).astype(features.dtype)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``."""
        self._check_fitted("mean_", "projection_")
        features = check_features(features, n_dims=self.projection_.shape[0])
        return sign((features - self.mean_) @ self.projection_)
