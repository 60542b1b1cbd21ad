"""ITQ-CCA: canonical correlation analysis against the labels, then ITQ's rotation."""

from __future__ import annotations

import numpy as np
from scipy.linalg import cholesky, solve_triangular

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features, check_labels
from hashkit.shallow.itq import itq_rotation

# Canonical correlations below this are zero up to rounding (directions past the label rank).
_ZERO_CORRELATION = 1e-8


def canonical_directions(
    features: np.ndarray, labels: np.ndarray, regularisation: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean of ``features`` and its canonical directions against ``labels``.

    Returns ``(mean, directions, correlations)``: ``directions`` is ``(n_dims, k)`` with
    ``k = min(n_dims, n_classes)``, ordered by decreasing canonical correlation ``correlations``
    and normalised so that ``w^T (C_xx + regularisation I) w = 1``: each projection
    ``(x - mean)^T w`` has unit variance up to the regularisation. Both covariances get
    ``regularisation * I``, as in the authors' code, which also keeps them invertible (constant
    pixels; one-hot labels, whose centred columns sum to zero).
    Solved as an SVD of ``C_xx^{-1/2} C_xy C_yy^{-1/2}`` (Cholesky factors); each direction's sign
    is fixed (largest-magnitude entry positive) so that codes do not depend on the LAPACK build.
    """
    mean = features.mean(axis=0, dtype=np.float64)
    centred = features.astype(np.float64) - mean
    centred_labels = labels.astype(np.float64) - labels.mean(axis=0, dtype=np.float64)
    n_items = len(features)
    feature_cov = centred.T @ centred / n_items + regularisation * np.eye(centred.shape[1])
    label_cov = centred_labels.T @ centred_labels / n_items + regularisation * np.eye(labels.shape[1])
    cross_cov = centred.T @ centred_labels / n_items
    feature_root = cholesky(feature_cov, lower=True)
    label_root = cholesky(label_cov, lower=True)
    feature_whitened = solve_triangular(feature_root, cross_cov, lower=True)
    whitened = solve_triangular(label_root, feature_whitened.T, lower=True).T
    left, correlations, _ = np.linalg.svd(whitened, full_matrices=False)
    directions = solve_triangular(feature_root.T, left, lower=False)
    largest = np.abs(directions).argmax(axis=0)
    directions = directions * np.sign(directions[largest, np.arange(directions.shape[1])])
    return mean, directions, correlations


class ITQCCA(ShallowHasher):
    """ITQ-CCA, the supervised variant of iterative quantization {cite}`gong2013itq`.

    Objective: project the centred features onto the directions most correlated with the labels
    (CCA between features and the multi-hot label matrix: maximise
    ``corr(X w_k, Y u_k)`` over pairs of directions, each uncorrelated with the earlier ones),
    then find the orthogonal ``R`` and codes ``B`` minimising ITQ's quantization loss
    ``||B - V R||_F^2`` on the projected data ``V``.

    Algorithm: :func:`canonical_directions` (regularised CCA), the top ``n_bits`` directions each
    scaled by its canonical correlation (the paper's weighting, so weakly correlated directions
    count less), then :func:`hashkit.shallow.itq.itq_rotation`; a new item's code is
    ``sign((x - mean)^T W diag(correlations) R)``.

    More bits than label directions: CCA has at most ``min(n_dims, n_classes)`` directions, and
    only ``rank`` of them carry label information (9 for 10 one-hot classes, whose centred label
    columns sum to zero); the others have correlation 0. As in the paper's procedure, where the
    direction is scaled by its correlation, such a direction contributes a zero column to ``V``
    (here exactly: ``directions_`` and ``correlations_`` are zero past the rank). ``n_bits`` above
    the label rank is therefore allowed, and ITQ's rotation spreads the label subspace over all
    ``n_bits`` hyperplanes (more hyperplanes through the same subspace, no new information).
    ``n_bits`` above the feature dimension is an error, as for ITQ.

    Defaults of the paper and its authors' code: regularisation ``1e-4`` on both covariances,
    50 ITQ iterations from a random orthogonal rotation (drawn from ``seed``).
    """

    def __init__(
        self, n_bits: int, regularisation: float = 1e-4, n_iterations: int = 50, seed: int = 0
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        is_number = isinstance(regularisation, int | float) and not isinstance(regularisation, bool)
        if not is_number or not 0 < regularisation < np.inf:
            raise ValueError(f"regularisation: expected a positive finite number, got {regularisation!r}")
        self.regularisation = float(regularisation)
        self.n_iterations = check_positive_int(n_iterations, "n_iterations")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> ITQCCA:
        """Learn the mean, the canonical directions and ITQ's rotation from labelled ``features``."""
        features = check_features(features)
        labels = check_labels(labels, len(features), "ITQ-CCA")
        n_dims = features.shape[1]
        if self.n_bits > n_dims:
            raise ValueError(
                f"n_bits: ITQ-CCA rotates n_bits canonical directions of the features, so n_bits "
                f"({self.n_bits}) cannot exceed the feature dimension ({n_dims})"
            )
        mean, directions, correlations = canonical_directions(features, labels, self.regularisation)
        n_kept = min(self.n_bits, int((correlations > _ZERO_CORRELATION).sum()))
        self.directions_ = np.zeros((n_dims, self.n_bits))
        self.directions_[:, :n_kept] = directions[:, :n_kept]
        self.correlations_ = np.zeros(self.n_bits)
        self.correlations_[:n_kept] = correlations[:n_kept]
        weighted = self.directions_ * self.correlations_
        self.rotation_ = itq_rotation((features - mean) @ weighted, self.n_iterations, self.seed)
        self.mean_ = mean.astype(features.dtype)
        # Projection, weighting and rotation folded into one matrix: encoding is a single product.
        self.projection_ = (weighted @ self.rotation_).astype(features.dtype)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``."""
        self._check_fitted("mean_", "projection_")
        features = check_features(features, n_dims=self.projection_.shape[0])
        return sign((features - self.mean_) @ self.projection_)
