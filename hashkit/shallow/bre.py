"""Binary reconstructive embedding: kernel hash functions fitted to reproduce Euclidean distances."""

from __future__ import annotations

import numpy as np

from hashkit.checks import check_positive_int
from hashkit.codes import sign
from hashkit.shallow.base import ShallowHasher, check_features


def unit_rows(features: np.ndarray) -> np.ndarray:
    """``features`` scaled to unit Euclidean norm per row; an all-zero row stays zero."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1)


def sample_pairs(n_items: int, pairs_per_item: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``pairs_per_item`` distinct random partners ``j != i`` for every item ``i``, as two index arrays."""
    # Ranking random keys per row draws partners without replacement; the diagonal gets the
    # largest key so an item is never its own partner.
    keys = rng.random((n_items, n_items), dtype=np.float32)
    np.fill_diagonal(keys, 2.0)
    partners = np.argpartition(keys, pairs_per_item - 1, axis=1)[:, :pairs_per_item]
    return np.repeat(np.arange(n_items), pairs_per_item), partners.ravel()


def best_weight_for_flips(
    thresholds: np.ndarray, start_bits: np.ndarray, first: np.ndarray, second: np.ndarray, pair_costs: np.ndarray
) -> float:
    """Exact line search over one weight: the value that minimises ``sum(pair_costs * xor)``.

    ``thresholds[i]`` is the weight at which item ``i``'s bit flips (``inf``: never), and
    ``start_bits`` the bits below every threshold. Moving the weight up past the sorted thresholds
    flips one item at a time, so a pair's XOR toggles once at each of its two items' ranks: the
    objective over all ``n + 1`` intervals is a cumulative sum of those toggles, O(pairs + n log n)
    instead of re-evaluating every pair in every interval. Returns a weight inside the best
    interval (its middle; beyond the outermost threshold by the mean threshold gap).
    """
    order = np.argsort(thresholds, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    n_flippable = int(np.isfinite(thresholds).sum())

    start_xor = start_bits[first] != start_bits[second]
    toggle = pair_costs * np.where(start_xor, -1.0, 1.0)
    rank_first, rank_second = rank[first], rank[second]
    # Interval m holds the bits after the first m flips; a pair toggles entering interval
    # min(rank)+1 and toggles back entering max(rank)+1. Items that never flip have rank >=
    # n_flippable, whose intervals are never evaluated.
    enter = np.minimum(rank_first, rank_second) + 1
    leave = np.maximum(rank_first, rank_second) + 1
    n_intervals = len(order) + 2
    steps = np.bincount(enter, toggle, n_intervals) - np.bincount(leave, toggle, n_intervals)
    objective = pair_costs[start_xor].sum() + np.cumsum(steps)[: n_flippable + 1]

    sorted_thresholds = thresholds[order[:n_flippable]]
    # Between two equal thresholds lies no weight, so that interval cannot be chosen.
    reachable = np.ones(n_flippable + 1, dtype=bool)
    reachable[1:n_flippable] = sorted_thresholds[1:] > sorted_thresholds[:-1]
    best = int(np.argmin(np.where(reachable, objective, np.inf)))

    if 0 < best < n_flippable:
        return float(0.5 * (sorted_thresholds[best - 1] + sorted_thresholds[best]))
    # Outside the thresholds any value works; a step of the mean gap keeps weights on their scale.
    spread = sorted_thresholds[-1] - sorted_thresholds[0]
    margin = spread / n_flippable if spread > 0 else 1e-6
    return float(sorted_thresholds[0] - margin if best == 0 else sorted_thresholds[-1] + margin)


class BRE(ShallowHasher):
    """Binary reconstructive embedding (BRE) {cite}`kulis2009bre`.

    Objective: with items scaled to unit norm and ``d(x, y) = ||x - y||^2 / 2`` divided by its
    largest value on the training sample (so it lies in ``[0, 1]``, like the normalised Hamming
    distance), minimise ``sum over sampled pairs (d(x_i, x_j) - hamming(h(x_i), h(x_j)) / n_bits)^2``.
    Each bit is a kernel hash function ``h_k(x) = sign(sum_q W_kq kappa(a_kq, x))`` over
    ``n_anchors`` anchor points ``a_kq`` drawn from the training sample for that bit; the kernel
    is linear, ``kappa(a, x) = a^T x``, as in the authors' released code, so encoding collapses to
    one projection ``sum_q W_kq a_kq`` per bit.

    Algorithm (the paper's coordinate descent): ``W`` starts at ``N(0, 0.001^2)``; each sweep visits
    every bit and updates one randomly chosen weight ``W_kq`` by an *exact* line search. Each
    training item's bit flips at one value of ``W_kq``, so the objective is piecewise constant in
    it; the thresholds are sorted and the objective of every interval is evaluated at once (see
    :func:`best_weight_for_flips`), and the weight moves to the middle of the best interval. The
    objective therefore never increases. Sweeps stop when a sweep lowers the mean squared error by
    less than ``tol`` (the released code stops when a sweep leaves the objective unchanged) or
    after ``max_sweeps``; ``objective_history_`` records the error before and after each sweep.

    Defaults are the paper's set-up as run by its released code: ``n_training_points=1000``
    items (a random subset of ``fit``'s features; the paper also trains on a small sample),
    ``pair_fraction=0.05`` (each training item is paired with 5% of the others, 50 random pairs
    per item), ``n_anchors=50`` points per hash function. ``max_sweeps`` bounds the run time,
    which the paper's "until convergence" does not.
    """

    def __init__(
        self,
        n_bits: int,
        n_training_points: int = 1000,
        pair_fraction: float = 0.05,
        n_anchors: int = 50,
        max_sweeps: int = 200,
        tol: float = 1e-9,
        seed: int = 0,
    ) -> None:
        self.n_bits = check_positive_int(n_bits, "n_bits")
        self.n_training_points = check_positive_int(n_training_points, "n_training_points")
        if not 0 < pair_fraction <= 1:
            raise ValueError(f"pair_fraction: expected a fraction in (0, 1], got {pair_fraction!r}")
        self.pair_fraction = float(pair_fraction)
        self.n_anchors = check_positive_int(n_anchors, "n_anchors")
        self.max_sweeps = check_positive_int(max_sweeps, "max_sweeps")
        if not tol >= 0:
            raise ValueError(f"tol: expected a non-negative number, got {tol!r}")
        self.tol = float(tol)
        self.seed = seed

    def fit(self, features: np.ndarray, labels: np.ndarray | None = None) -> BRE:
        """Fit the hash functions on a random ``n_training_points`` subset; ``labels`` are ignored."""
        features = check_features(features)
        rng = np.random.default_rng(self.seed)
        n_train = min(self.n_training_points, len(features))
        if self.n_anchors > n_train:
            raise ValueError(f"n_anchors: {self.n_anchors} anchors per bit need at least as many training items, got {n_train}")
        if n_train < 2:
            raise ValueError("features: BRE needs at least 2 items to form pairs")
        train = unit_rows(features[rng.choice(len(features), n_train, replace=False)].astype(np.float64))

        pairs_per_item = min(max(1, int(round(self.pair_fraction * n_train))), n_train - 1)
        first, second = sample_pairs(n_train, pairs_per_item, rng)
        gram = train @ train.T
        half_squared = 1.0 - gram  # ||x - y||^2 / 2 for unit rows
        target = half_squared[first, second] / max(half_squared.max(), np.finfo(np.float64).tiny)

        anchor_ids = np.stack([rng.choice(n_train, self.n_anchors, replace=False) for _ in range(self.n_bits)])
        # kernels[k, :, q] = kappa(anchor q of bit k, every training item).
        kernels = np.transpose(gram[:, anchor_ids], (1, 0, 2))
        weights = 0.001 * rng.standard_normal((self.n_bits, self.n_anchors))
        projections = np.einsum("kiq,kq->ik", kernels, weights)
        bits = projections >= 0
        residual = (bits[first] != bits[second]).mean(axis=1) - target

        history = [float(np.mean(residual**2))]
        for _ in range(self.max_sweeps):
            for bit in range(self.n_bits):
                anchor = int(rng.integers(self.n_anchors))
                self._update_weight(bit, anchor, kernels, weights, projections, bits, residual, first, second)
            history.append(float(np.mean(residual**2)))
            if history[-2] - history[-1] < self.tol:
                break

        self.anchors_ = train[anchor_ids]
        self.weights_ = weights
        self.projection_ = np.einsum("kqd,kq->dk", self.anchors_, weights)
        self.objective_history_ = history
        return self

    def _update_weight(
        self,
        bit: int,
        anchor: int,
        kernels: np.ndarray,
        weights: np.ndarray,
        projections: np.ndarray,
        bits: np.ndarray,
        residual: np.ndarray,
        first: np.ndarray,
        second: np.ndarray,
    ) -> None:
        """Move ``weights[bit, anchor]`` to its exact minimiser, updating the state arrays in place."""
        column = kernels[bit, :, anchor]
        movable = column != 0
        if not movable.any():  # an all-zero anchor: its weight changes no projection
            return
        current = weights[bit, anchor]
        thresholds = np.full(len(column), np.inf)
        thresholds[movable] = current - projections[movable, bit] / column[movable]
        # Far below every threshold, the projection has the sign of -column.
        start_bits = np.where(movable, column < 0, bits[:, bit])

        old_xor = bits[first, bit] != bits[second, bit]
        rest = residual - old_xor / self.n_bits
        # (rest + xor / L)^2 = rest^2 + xor * (2 rest / L + 1 / L^2) because xor is 0 or 1.
        pair_costs = 2.0 * rest / self.n_bits + 1.0 / self.n_bits**2
        new_weight = best_weight_for_flips(thresholds, start_bits, first, second, pair_costs)

        projections[:, bit] += (new_weight - current) * column
        weights[bit, anchor] = new_weight
        bits[:, bit] = projections[:, bit] >= 0
        residual[:] = rest + (bits[first, bit] != bits[second, bit]) / self.n_bits

    def encode(self, features: np.ndarray) -> np.ndarray:
        """``(n, n_bits)`` ``int8`` ±1 codes of ``features``."""
        self._check_fitted("projection_")
        features = check_features(features, n_dims=self.projection_.shape[0])
        return sign(unit_rows(features) @ self.projection_.astype(features.dtype))
