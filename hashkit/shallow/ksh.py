"""Kernel-based supervised hashing (KSH): bits fitted greedily to a pairwise label similarity."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features, check_labels
from hashkit.shallow.kernels import RBFAnchorMap

# Added to the diagonal of K^T K (relative to its mean diagonal) so the generalised eigenproblem
# stays positive definite when centring or duplicate anchors make K^T K singular.
EIGEN_JITTER = 1e-6
# Backtracking line search of the gradient steps: shrink factor and sufficient-decrease constant.
STEP_SHRINK = 0.5
ARMIJO_FRACTION = 1e-4
# The search gives up (a stationary point, up to round-off) below this fraction of the first step.
SMALLEST_STEP_FRACTION = 1e-12
# Descent of one bit stops once a step lowers the smoothed loss by less than this fraction.
RELATIVE_TOLERANCE = 1e-6


def label_similarity(labels: np.ndarray) -> np.ndarray:
    """``(l, l)`` similarity: +1 where two items share a label, -1 where they share none."""
    shares_label = labels @ labels.T > 0
    return np.where(shares_label, np.float32(1), np.float32(-1))


def squared_norm(residual: np.ndarray) -> float:
    """``||R||_F^2``, summed in float64 so the integer-valued residual's norm stays exact."""
    return float(np.square(residual).sum(dtype=np.float64))


def smooth_sign(values: np.ndarray) -> np.ndarray:
    """KSH's sigmoid smoothing of ``sign``: ``2 / (1 + exp(-x)) - 1``, written as ``tanh(x / 2)``."""
    return np.tanh(values / 2)


class KSH(ShallowHasher):
    """Supervised hashing with kernels {cite}`liu2012ksh`.

    Objective: with ``K`` the zero-centred RBF features of ``l`` labelled items against ``m``
    anchors and ``S`` their label similarity (+1 share a label, -1 not), find ``A`` (``m x r``)
    minimising ``|| sign(K A) sign(K A)^T - r S ||_F^2``: code inner products fitted to ``r S``
    (MCH's Table 1 writes the same loss per pair, with Hamming distances).

    Algorithm: bits are learned greedily. For bit ``k`` the residual
    ``R = r S - sum_{t<k} h_t h_t^T`` is fixed and ``a_k`` maximises ``h^T R h`` with
    ``h = sign(K a)``: first by spectral relaxation (the top generalised eigenvector of
    ``K^T R K a = lambda K^T K a``, scaled so ``a^T K^T K a = l``), then by gradient descent
    (Nesterov acceleration, backtracking line search) on the sigmoid-smoothed
    ``-phi(K a)^T R phi(K a)``. The smoothed solution is kept only if its signs score better
    on ``h^T R h`` than the spectral one, and ``h_k h_k^T`` leaves the residual.

    Defaults follow the paper: ``m = 300`` anchors drawn at random from the training items, the
    Gaussian kernel's width the mean item-to-anchor distance, and ``l = 2,000`` labelled items
    (the paper uses 1,000 and 2,000); ``fit`` draws them at random from the items it is given and
    raises if it is given fewer. ``n_gradient_steps`` caps the descent of each bit.

    ``objective_per_bit_`` holds ``||R||_F^2`` before the first bit and after each bit; its last
    value is ``r^2`` times the paper's ``|| H H^T / r - S ||_F^2`` on the labelled items.
    """

    def __init__(
        self,
        n_bits: int,
        n_anchors: int = 300,
        n_labelled: int = 2000,
        n_gradient_steps: int = 500,
        seed: int = 0,
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_anchors = check_positive_int(n_anchors, "n_anchors")
        self.n_labelled = check_positive_int(n_labelled, "n_labelled")
        self.n_gradient_steps = check_positive_int(n_gradient_steps, "n_gradient_steps")
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> KSH:
        """Learn the anchors and the ``n_bits`` projections from ``features`` and their ``labels``."""
        features = check_features(features)
        labels = check_labels(labels, len(features), "KSH")
        if self.n_labelled > len(features):
            raise ValueError(f"n_labelled: {self.n_labelled} labelled items requested, fit got {len(features)} items")
        rng = np.random.default_rng(self.seed)
        self.kernel_map_ = RBFAnchorMap(self.n_anchors, seed=int(rng.integers(2**32)), zero_centred=True).fit(features)
        labelled = np.sort(rng.choice(len(features), self.n_labelled, replace=False))
        # float32 halves the memory traffic of the (l, l) residual products that dominate fit;
        # the residual holds small integers, which float32 stores exactly.
        kernel = self.kernel_map_.transform(features[labelled]).astype(np.float32)
        residual = self.n_bits * label_similarity(labels[labelled])
        gram = kernel.T.astype(np.float64) @ kernel
        gram[np.diag_indices_from(gram)] += EIGEN_JITTER * np.trace(gram) / len(gram)
        projections = np.empty((self.n_anchors, self.n_bits), dtype=np.float32)
        objective_per_bit = [squared_norm(residual)]
        for bit in range(self.n_bits):
            projections[:, bit] = self._fit_bit(kernel, gram, residual)
            codes = sign(kernel @ projections[:, bit]).astype(np.float32)
            residual -= np.outer(codes, codes)
            objective_per_bit.append(squared_norm(residual))
        self.projections_ = projections.astype(features.dtype)
        self.objective_per_bit_ = np.array(objective_per_bit)
        return self

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes ``sign(k(x) A)`` of ``features``."""
        self._check_fitted("kernel_map_", "projections_")
        features = check_features(features, n_dims=self.kernel_map_.anchors_.shape[1])
        return sign(self.kernel_map_.transform(features) @ self.projections_)

    def _fit_bit(self, kernel: np.ndarray, gram: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """Projection of one bit: spectral start, smoothed descent, whichever signs score better."""
        spectral = self._spectral_projection(kernel, gram, residual)
        smoothed = self._descend(kernel, residual, spectral)

        def score(projection: np.ndarray) -> float:
            codes = sign(kernel @ projection).astype(np.float32)
            return float(codes @ (residual @ codes).astype(np.float64))

        # The paper keeps the spectral solution only when its signs score strictly better.
        return spectral if score(spectral) > score(smoothed) else smoothed

    @staticmethod
    def _spectral_projection(kernel: np.ndarray, gram: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """Top generalised eigenvector of ``K^T R K a = lambda K^T K a``, scaled to ``a^T K^T K a = l``."""
        target = (kernel.T @ (residual @ kernel)).astype(np.float64)
        n_anchors = len(gram)
        _, vectors = scipy.linalg.eigh(target, gram, subset_by_index=(n_anchors - 1, n_anchors - 1))
        # eigh normalises to v^T (K^T K) v = 1, so this scale gives the paper's a^T K^T K a = l.
        return (vectors[:, 0] * np.sqrt(len(kernel))).astype(np.float32)

    def _descend(self, kernel: np.ndarray, residual: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Nesterov-accelerated descent with backtracking on ``-phi(K a)^T R phi(K a)``."""

        def loss_and_gradient(projection: np.ndarray) -> tuple[float, np.ndarray]:
            smoothed = smooth_sign(kernel @ projection)
            pulled = residual @ smoothed
            # d phi / dx = (1 - phi^2) / 2 and R is symmetric, so the two factors of 2 cancel.
            return float(-smoothed @ pulled), -kernel.T @ (pulled * (1 - smoothed**2))

        # 1 / (a rough scale of the loss's curvature): a small first step that the search can grow.
        step = 1.0 / float(np.abs(residual).sum(axis=1).max() * np.square(kernel).sum(axis=0).max())
        smallest_step = step * SMALLEST_STEP_FRACTION
        current = previous = start
        for iteration in range(1, self.n_gradient_steps + 1):
            lookahead = current + (iteration - 1) / (iteration + 2) * (current - previous)
            lookahead_loss, gradient = loss_and_gradient(lookahead)
            squared_gradient = float(gradient @ gradient)
            while step > smallest_step:
                candidate = lookahead - step * gradient
                candidate_loss, _ = loss_and_gradient(candidate)
                if candidate_loss <= lookahead_loss - ARMIJO_FRACTION * step * squared_gradient:
                    break
                step *= STEP_SHRINK
            else:
                break  # no step lowers the loss: a stationary point, up to round-off
            converged = lookahead_loss - candidate_loss <= RELATIVE_TOLERANCE * abs(lookahead_loss)
            previous, current = current, candidate
            if converged:
                break
            # Let the step grow again where the search shrank it for a sharper region.
            step /= STEP_SHRINK
        return current
