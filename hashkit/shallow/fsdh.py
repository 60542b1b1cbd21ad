"""Fast supervised discrete hashing (FSDH): labels regressed onto codes, so the codes have a closed form."""

from __future__ import annotations

import numpy as np

from hashkit.checks import check_non_negative, check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features, check_labels
from hashkit.shallow.kernels import RBFAnchorMap
from hashkit.shallow.sdh import ridge_regression


class FSDH(ShallowHasher):
    """Fast supervised discrete hashing {cite}`gui2018fsdh`.

    Objective: SDH's {cite}`shen2015sdh` with the regression turned around, the labels ``Y``
    mapped onto the codes by ``W`` (``c x r``) instead of the codes onto the labels::

        ||B - Y W||^2 + lambda ||W||^2 + nu (||B - phi(X) P||^2 + delta ||P||^2)

    over ±1 codes ``B`` (``n x r``) and the kernel hash function ``F(x) = phi(x) P`` on RBF anchor
    features. Because ``||B||^2`` is the constant ``n r``, the code step is exact in one line,
    ``B = sign(Y W + nu phi(X) P)``, where SDH needs bit-by-bit cyclic coordinate descent.

    Algorithm: ``B`` starts as random signs, then ``n_iterations`` rounds of ``W`` by ridge
    regression of ``B`` on ``Y``, ``P`` by ridge regression of ``B`` on ``phi(X)`` and the
    closed-form ``B``. Each step is an exact block minimiser, so the objective cannot increase;
    ``objective_per_iteration_`` records it after each round.

    Parameters: ``lambda`` is ``label_ridge``, ``nu`` ``code_penalty``, ``delta``
    ``projection_ridge``. Defaults are SDH's, the setting under which the paper compares the
    two: ``lambda = 1``, ``nu = 1e-5``, 1,000 anchors, 5 rounds, and ``delta = 0.01`` to keep
    the projection's regression well posed.
    """

    def __init__(
        self,
        n_bits: int,
        n_anchors: int = 1000,
        label_ridge: float = 1.0,
        code_penalty: float = 1e-5,
        projection_ridge: float = 1e-2,
        n_iterations: int = 5,
        seed: int = 0,
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_anchors = check_positive_int(n_anchors, "n_anchors")
        self.label_ridge = check_non_negative(label_ridge, "label_ridge")
        self.code_penalty = check_non_negative(code_penalty, "code_penalty")
        self.projection_ridge = check_non_negative(projection_ridge, "projection_ridge")
        self.n_iterations = check_positive_int(n_iterations, "n_iterations")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> FSDH:
        """Learn the anchors, the codes of the training items and the hash function."""
        features = check_features(features)
        labels = check_labels(labels, len(features), "FSDH").astype(np.float64)
        rng = np.random.default_rng(self.seed)
        self.kernel_map_ = RBFAnchorMap(self.n_anchors, seed=int(rng.integers(2**32))).fit(features)
        kernel = self.kernel_map_.transform(features).astype(np.float64)
        codes = rng.choice([-1.0, 1.0], size=(len(features), self.n_bits))
        objective_per_iteration = []
        for _ in range(self.n_iterations):
            label_map = ridge_regression(labels, codes, self.label_ridge)
            projection = ridge_regression(kernel, codes, self.projection_ridge)
            hashed = kernel @ projection
            codes = sign(labels @ label_map + self.code_penalty * hashed).astype(np.float64)
            objective_per_iteration.append(self._objective(codes, labels, label_map, hashed, projection))
        self.projection_ = projection.astype(features.dtype)
        self.objective_per_iteration_ = np.array(objective_per_iteration)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes ``sign(phi(x) P)`` of ``features``."""
        self._check_fitted("kernel_map_", "projection_")
        features = check_features(features, n_dims=self.kernel_map_.anchors_.shape[1])
        return sign(self.kernel_map_.transform(features) @ self.projection_)

    def _objective(
        self, codes: np.ndarray, labels: np.ndarray, label_map: np.ndarray, hashed: np.ndarray, projection: np.ndarray
    ) -> float:
        regression = np.square(codes - labels @ label_map).sum() + self.label_ridge * np.square(label_map).sum()
        hashing = np.square(codes - hashed).sum() + self.projection_ridge * np.square(projection).sum()
        return float(regression + self.code_penalty * hashing)
