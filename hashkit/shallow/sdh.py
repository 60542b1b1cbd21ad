"""Supervised discrete hashing (SDH): codes that linearly classify the labels, kept binary throughout."""

from __future__ import annotations

import numpy as np

from hashkit.checks import check_non_negative, check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features, check_labels
from hashkit.shallow.kernels import RBFAnchorMap


def ridge_regression(inputs: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """``argmin_M ||targets - inputs M||_F^2 + ridge ||M||_F^2``, solved in float64."""
    inputs = inputs.astype(np.float64, copy=False)
    normal = inputs.T @ inputs
    normal[np.diag_indices_from(normal)] += ridge
    return np.linalg.solve(normal, inputs.T @ targets)


class AnchorCodeHashing(ShallowHasher):
    """What SDH and FSDH share: RBF anchor features ``phi(X)``, codes ``B`` of the training items
    learned by rounds of block updates, and the hash function ``sign(phi(x) P)``.

    A round: the label step (the subclass's regression between ``Y`` and ``B``), the F-step (``P``
    by ridge regression of ``B`` on ``phi(X)``), the code step (the subclass's update of ``B``); the
    objective after each round goes to ``objective_per_iteration_``.
    """

    def __init__(self, n_bits: int, n_anchors: int, code_penalty: float, projection_ridge: float,
                 n_iterations: int, seed: int) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_anchors = check_positive_int(n_anchors, "n_anchors")
        self.code_penalty = check_non_negative(code_penalty, "code_penalty")
        self.projection_ridge = check_non_negative(projection_ridge, "projection_ridge")
        self.n_iterations = check_positive_int(n_iterations, "n_iterations")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> AnchorCodeHashing:
        """Learn the anchors, the codes of the training items and the hash function."""
        features = check_features(features)
        labels = check_labels(labels, len(features), type(self).__name__).astype(np.float64)
        rng = np.random.default_rng(self.seed)
        self.kernel_map_ = RBFAnchorMap(self.n_anchors, seed=int(rng.integers(2**32))).fit(features)
        kernel = self.kernel_map_.transform(features).astype(np.float64)
        codes = rng.choice([-1.0, 1.0], size=(len(features), self.n_bits))
        objective_per_iteration = []
        for _ in range(self.n_iterations):
            label_map = self._label_step(codes, labels)
            projection = ridge_regression(kernel, codes, self.projection_ridge)
            hashed = kernel @ projection
            codes = self._code_step(codes, labels, label_map, hashed)
            hashing = np.square(codes - hashed).sum() + self.projection_ridge * np.square(projection).sum()
            objective_per_iteration.append(float(self._label_objective(codes, labels, label_map)
                                                 + self.code_penalty * hashing))
        self.projection_ = projection.astype(features.dtype)
        self.objective_per_iteration_ = np.array(objective_per_iteration)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes ``sign(phi(x) P)`` of ``features``."""
        self._check_fitted("kernel_map_", "projection_")
        features = check_features(features, n_dims=self.kernel_map_.anchors_.shape[1])
        return sign(self.kernel_map_.transform(features) @ self.projection_)

    def _label_step(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _code_step(self, codes: np.ndarray, labels: np.ndarray, label_map: np.ndarray,
                   hashed: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _label_objective(self, codes: np.ndarray, labels: np.ndarray, label_map: np.ndarray) -> float:
        raise NotImplementedError


class SDH(AnchorCodeHashing):
    """Supervised discrete hashing {cite}`shen2015sdh`.

    Objective, over binary codes ``B`` (``n x r``, ±1), a linear classifier ``W`` (``r x c``) on
    the codes and a kernel hash function ``F(x) = phi(x) P`` on RBF anchor features ``phi``::

        ||Y - B W||^2 + lambda ||W||^2 + nu (||B - phi(X) P||^2 + delta ||P||^2)

    with ``Y`` the multi-hot labels, so the codes must classify the items and the hash function
    must reproduce the codes.

    Algorithm: ``B`` starts as random signs, then ``n_iterations`` rounds of three exact block
    updates: the G-step (``W`` by ridge regression of ``Y`` on ``B``), the F-step (``P`` by ridge
    regression of ``B`` on ``phi(X)``) and the B-step, discrete cyclic coordinate descent: each
    bit (column of ``B``) in turn is set to its exact minimiser with the others fixed,
    ``sign(q_k - B' W' w_k)`` with ``Q = Y W^T + nu phi(X) P``, for at most ``n_dcc_sweeps``
    sweeps over the bits or until no bit changes. The objective cannot increase, and
    ``objective_per_iteration_`` records it after each round.

    Parameters: ``lambda`` is ``classifier_ridge``, ``nu`` ``code_penalty``, ``delta``
    ``projection_ridge``. Defaults: ``lambda = 1``, ``nu = 1e-5`` and 1,000 anchors as in the
    paper; 5 rounds and ``delta = 0.01`` as in the authors' released demo (the paper writes the F-step as plain least
    squares, which ``delta`` keeps well posed with 1,000 anchors). The paper fixes no number of
    DCC sweeps; ``n_dcc_sweeps = 5`` is ours, and sweeps stop early once no bit changes.
    """

    def __init__(
        self,
        n_bits: int,
        n_anchors: int = 1000,
        classifier_ridge: float = 1.0,
        code_penalty: float = 1e-5,
        projection_ridge: float = 1e-2,
        n_iterations: int = 5,
        n_dcc_sweeps: int = 5,
        seed: int = 0,
    ) -> None:
        super().__init__(n_bits, n_anchors, code_penalty, projection_ridge, n_iterations, seed)
        self.classifier_ridge = check_non_negative(classifier_ridge, "classifier_ridge")
        self.n_dcc_sweeps = check_positive_int(n_dcc_sweeps, "n_dcc_sweeps")

    def _label_step(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return ridge_regression(codes, labels, self.classifier_ridge)

    def _code_step(self, codes: np.ndarray, labels: np.ndarray, label_map: np.ndarray,
                   hashed: np.ndarray) -> np.ndarray:
        return self._discrete_cyclic_descent(codes, labels, label_map, hashed)

    def _discrete_cyclic_descent(
        self, codes: np.ndarray, labels: np.ndarray, classifier: np.ndarray, hashed: np.ndarray
    ) -> np.ndarray:
        """The B-step: each bit set to its exact minimiser given the others, sweep after sweep."""
        codes = codes.copy()
        target = labels @ classifier.T + self.code_penalty * hashed
        # B W W^T, kept current as bits change, so each bit's update costs O(n r), not O(n r c).
        coupled = codes @ (classifier @ classifier.T)
        for _ in range(self.n_dcc_sweeps):
            changed = False
            for bit in range(self.n_bits):
                weights = classifier[bit]
                # B' W' w_k: the other bits' pull on bit k, i.e. (B W W^T)_k minus bit k's own share.
                others = coupled[:, bit] - codes[:, bit] * (weights @ weights)
                updated = np.where(target[:, bit] - others >= 0, 1.0, -1.0)
                flipped = updated != codes[:, bit]
                if flipped.any():
                    changed = True
                    coupled += np.outer(updated - codes[:, bit], classifier @ weights)
                    codes[:, bit] = updated
            if not changed:
                break
        return codes

    def _label_objective(self, codes: np.ndarray, labels: np.ndarray, label_map: np.ndarray) -> float:
        return float(np.square(labels - codes @ label_map).sum() + self.classifier_ridge * np.square(label_map).sum())
