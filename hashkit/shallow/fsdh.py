"""Fast supervised discrete hashing (FSDH): labels regressed onto codes, so the codes have a closed form."""

from __future__ import annotations

import numpy as np

from hashkit.checks import check_non_negative
from hashkit.codes import sign
from hashkit.shallow.sdh import AnchorCodeHashing, ridge_regression


class FSDH(AnchorCodeHashing):
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
        super().__init__(n_bits, n_anchors, code_penalty, projection_ridge, n_iterations, seed)
        self.label_ridge = check_non_negative(label_ridge, "label_ridge")

    def _label_step(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return ridge_regression(labels, codes, self.label_ridge)

    def _code_step(self, codes: np.ndarray, labels: np.ndarray, label_map: np.ndarray,
                   hashed: np.ndarray) -> np.ndarray:
        # The closed form that makes FSDH fast: every bit at once, no cyclic descent.
        return sign(labels @ label_map + self.code_penalty * hashed).astype(np.float64)

    def _label_objective(self, codes: np.ndarray, labels: np.ndarray, label_map: np.ndarray) -> float:
        return float(np.square(codes - labels @ label_map).sum() + self.label_ridge * np.square(label_map).sum())
