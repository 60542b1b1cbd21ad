"""Sparse projections: an ITQ-like quantiser whose projection matrix is mostly zeros."""

from __future__ import annotations

import math

import numpy as np

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features


def keep_largest(matrix: np.ndarray, n_nonzero: int) -> np.ndarray:
    """``matrix`` with all but its ``n_nonzero`` largest-magnitude entries set to zero."""
    flat = matrix.ravel()
    kept = np.argpartition(np.abs(flat), flat.size - n_nonzero)[flat.size - n_nonzero :]
    sparse = np.zeros_like(flat)
    sparse[kept] = flat[kept]
    return sparse.reshape(matrix.shape)


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The ``(d, c)`` matrix ``R`` with orthonormal rows or columns minimising ``||source R - target||``.

    With ``R R^T = I`` (``c >= d``) or ``R^T R = I`` (``c <= d``, ``source`` square-rotated),
    ``||source R||`` does not depend on ``R``, so the minimiser is the orthogonal Procrustes
    solution ``U V^T`` of ``source^T target = U S V^T``.
    """
    left, _, right = np.linalg.svd(source.T @ target, full_matrices=False)
    return left @ right


def orthogonal_projection(basis: np.ndarray | None, fitted: np.ndarray) -> np.ndarray:
    """``R_o`` from its fitted part: ``basis @ fitted``, or ``fitted`` when ``basis`` is ``None``
    (all directions, which spares a ``(d, d)`` identity product for codes longer than ``d``)."""
    return fitted if basis is None else basis @ fitted


class SP(ShallowHasher):
    """Sparse projections (SP) {cite}`xia2015sp`.

    Objective (variable splitting with a penalty, as in the paper and its released code): on
    centred features ``X``,
    ``min ||B - X R_o||^2 + beta ||X R_o - X R_s||^2`` over codes ``B`` in ``{-1, +1}``, an
    orthogonal projection ``R_o`` and a sparse projection ``R_s`` with at most
    ``ceil((1 - sparsity) * n_dims * n_bits)`` non-zero entries. ``R_o`` keeps the codes balanced
    and decorrelated as in ITQ; ``R_s`` is what encodes new items, ``sign((x - mean) R_s)``, so
    encoding costs a fraction ``1 - sparsity`` of a dense projection.

    Algorithm: alternate, for ``n_iter`` rounds, (1) ``R_o`` by orthogonal Procrustes onto
    ``Y = (B + beta X R_s) / (1 + beta)`` — within the top-``n_bits`` PCA subspace when
    ``n_bits < n_dims`` (ITQ's rotation of PCA directions), over all directions otherwise;
    (2) ``R_s`` as the largest-magnitude entries of ``R_o``, the released code's step: it is the
    exact sparse minimiser of ``||R_o - R_s||_F``, which equals the penalty term when the
    features are whitened and approximates it otherwise; (3) ``B = sign(X R_o)``. Steps (1) and
    (3) are exact, (2) is not on unwhitened data, so the objective (per item, in
    ``objective_history_``) falls overall but may rise slightly between late rounds. ``R_o``
    starts as a random rotation of the PCA directions (random orthonormal rows when
    ``n_bits >= n_dims``).

    Defaults are those of the paper's released code: ``sparsity=0.9`` (10% of the entries
    non-zero), ``beta=1``, ``n_iter=50``.
    """

    def __init__(self, n_bits: int, sparsity: float = 0.9, beta: float = 1.0, n_iter: int = 50, seed: int = 0) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        if not 0 <= sparsity < 1:
            raise ValueError(f"sparsity: expected the fraction of zero entries in [0, 1), got {sparsity!r}")
        self.sparsity = float(sparsity)
        if not beta > 0:
            raise ValueError(f"beta: expected a positive penalty weight, got {beta!r}")
        self.beta = float(beta)
        self.n_iter = check_positive_int(n_iter, "n_iter")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> SP:
        """Learn the mean, the orthogonal and the sparse projection; ``labels`` are ignored."""
        features = check_features(features)
        rng = np.random.default_rng(self.seed)
        self.mean_ = features.mean(axis=0)
        centred = (features - self.mean_).astype(np.float64)
        n_dims = centred.shape[1]
        n_nonzero = math.ceil((1 - self.sparsity) * n_dims * self.n_bits)

        # Procrustes fits ``fitted``: a rotation of the top PCA directions ``basis`` when
        # n_bits < n_dims (ITQ's parametrisation), the whole R_o otherwise.
        if self.n_bits < n_dims:
            _, eigenvectors = np.linalg.eigh(centred.T @ centred)
            basis = eigenvectors[:, ::-1][:, : self.n_bits]
            fitted, _ = np.linalg.qr(rng.standard_normal((self.n_bits, self.n_bits)))
        else:
            basis = None
            rows, _ = np.linalg.qr(rng.standard_normal((self.n_bits, n_dims)))
            fitted = rows.T
        reduced = centred if basis is None else centred @ basis
        sparse = keep_largest(orthogonal_projection(basis, fitted), n_nonzero)

        # One (n x d) by (d x c) product per round: X R_o comes from the reduced data.
        projected = reduced @ fitted
        projected_sparse = centred @ sparse
        codes = sign(projected)
        history = [self._objective(codes, projected, projected_sparse, len(centred))]
        for _ in range(self.n_iter):
            target = (codes + self.beta * projected_sparse) / (1 + self.beta)
            fitted = procrustes(reduced, target)
            projected = reduced @ fitted
            sparse = keep_largest(orthogonal_projection(basis, fitted), n_nonzero)
            projected_sparse = centred @ sparse
            codes = sign(projected)
            history.append(self._objective(codes, projected, projected_sparse, len(centred)))

        self.projection_ = sparse.astype(features.dtype)
        self.objective_history_ = history
        return self

    def _objective(self, codes: np.ndarray, projected: np.ndarray, projected_sparse: np.ndarray, n_items: int) -> float:
        """The SP objective per training item, from ``B``, ``X R_o`` and ``X R_s``."""
        quantisation = np.sum((codes - projected) ** 2)
        split = np.sum((projected - projected_sparse) ** 2)
        return float((quantisation + self.beta * split) / n_items)

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``, from the sparse projection."""
        self._check_fitted("mean_", "projection_")
        features = check_features(features, n_dims=self.projection_.shape[0])
        return sign((features - self.mean_) @ self.projection_)
