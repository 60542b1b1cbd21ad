"""Gaussian RBF features against a set of anchor points: the input map of KSH, SDH and FSDH.

``phi(x) = [exp(-||x - a_1||^2 / (2 sigma^2)), ..., exp(-||x - a_m||^2 / (2 sigma^2))]`` with the
anchors ``a_j`` drawn at random from the training items and ``sigma`` the mean Euclidean distance
between the training items and the anchors, the data-scaled bandwidth KSH {cite}`liu2012ksh`
describes; SDH and FSDH leave the width to tuning and use the same rule here, so the three
methods see the same features. KSH zero-centres each kernel column on its training mean (so its
sign functions are balanced); SDH and FSDH regress on the raw kernel values, as their papers
write ``F(x) = P^T phi(x)``.
"""

from __future__ import annotations

import numpy as np

from hashkit.checks import check_positive_int

# Rows per block when mapping many items: bounds the (rows, n_anchors) distance block in memory.
ROWS_PER_BLOCK = 8192


def squared_distances(features: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """``(n, m)`` squared Euclidean distances, clipped at 0 against round-off of the expansion."""
    cross = features @ anchors.T
    squared = (features * features).sum(axis=1)[:, None] - 2 * cross + (anchors * anchors).sum(axis=1)[None, :]
    return np.maximum(squared, 0, out=squared)


class RBFAnchorMap:
    """RBF kernel values against ``n_anchors`` random training items, optionally zero-centred.

    ``fit`` draws the anchors with ``seed``, sets the bandwidth and (when ``zero_centred``) the
    per-anchor training means; ``transform`` maps any items with that state.
    """

    def __init__(self, n_anchors: int, seed: int = 0, zero_centred: bool = False) -> None:
        self.n_anchors = check_positive_int(n_anchors, "n_anchors")
        self.seed = seed
        self.zero_centred = zero_centred

    def fit(self, features: np.ndarray) -> RBFAnchorMap:
        """Draw anchors from ``features`` (already checked by the caller) and set the bandwidth."""
        if self.n_anchors > len(features):
            raise ValueError(
                f"n_anchors: {self.n_anchors} anchors cannot be drawn from {len(features)} training items"
            )
        rng = np.random.default_rng(self.seed)
        self.anchors_ = features[np.sort(rng.choice(len(features), self.n_anchors, replace=False))]
        distances = np.concatenate(
            [np.sqrt(squared_distances(block, self.anchors_)) for block in _blocks(features)]
        )
        self.bandwidth_ = float(distances.mean())
        if self.bandwidth_ == 0:
            raise ValueError("features: every training item equals every anchor; the RBF bandwidth would be 0")
        self.means_ = self._kernel(np.square(distances)).mean(axis=0) if self.zero_centred else None
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_anchors)`` kernel features of ``features`` (checked by the caller), in their dtype."""
        mapped = np.concatenate([self._kernel(squared_distances(block, self.anchors_)) for block in _blocks(features)])
        if self.means_ is not None:
            mapped -= self.means_
        return mapped

    def _kernel(self, squared: np.ndarray) -> np.ndarray:
        return np.exp(squared / (-2 * self.bandwidth_**2), out=squared)


def _blocks(features: np.ndarray) -> list[np.ndarray]:
    return [features[start : start + ROWS_PER_BLOCK] for start in range(0, len(features), ROWS_PER_BLOCK)]
