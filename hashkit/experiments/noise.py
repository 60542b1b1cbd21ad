"""How much a difference of mAP between two methods moves by chance in this run.

With several seeds, the spread of the difference over the seeds; with one seed, the spread of the
mean per-query difference of AP when the queries are resampled with replacement (both methods are
scored on the same queries, so the difference is paired). A difference inside this noise is
"within noise" (:func:`hashkit.claims.beyond_noise`), neither a win nor a loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

RESAMPLES = 1000
# (method, dataset, bits) → one array of per-query AP per seed (:func:`hashkit.experiments.scores.per_query_ap`).
Cell = tuple[str, str, int]
PerQuery = Mapping[Cell, Sequence[np.ndarray]]


def difference_noise(first: Sequence[np.ndarray], second: Sequence[np.ndarray], resamples: int = RESAMPLES) -> float:
    """The noise of ``mean(first) − mean(second)``: one array of per-query AP per seed on each side,
    paired query by query."""
    if len(first) != len(second) or not first:
        raise ValueError(f"first, second: expected one array per seed on each side, got {len(first)} and {len(second)}")
    differences = [np.asarray(a, dtype=float) - np.asarray(b, dtype=float) for a, b in zip(first, second)]
    if len(differences) > 1:
        return float(np.std([difference.mean() for difference in differences], ddof=1))
    difference = differences[0]
    samples = np.random.default_rng(0).integers(0, len(difference), (resamples, len(difference)))
    return float(difference[samples].mean(axis=1).std())


def mean_ap(per_query: PerQuery, cell: Cell) -> float:
    """The cell's mAP, mean over seeds; NaN when the cell was not run."""
    return float(np.mean([ap.mean() for ap in per_query[cell]])) if cell in per_query else np.nan


def cell_noise(per_query: PerQuery, first: Cell, second: Cell) -> float:
    """:func:`difference_noise` of two cells; NaN when either was not run."""
    return difference_noise(per_query[first], per_query[second]) if first in per_query and second in per_query else np.nan


def comparisons(per_query: PerQuery, left: str, rivals: Sequence[str], dataset: str,
                bits: Sequence[int]) -> list[tuple[str, float, float, float]]:
    """``left`` against each rival at each length on ``dataset``: (label, left's mAP, the rival's,
    the noise of their difference), what :func:`hashkit.claims.beyond_noise` weighs."""
    return [(f"{rival} {n_bits} bits on {dataset}", mean_ap(per_query, (left, dataset, n_bits)),
             mean_ap(per_query, (rival, dataset, n_bits)),
             cell_noise(per_query, (left, dataset, n_bits), (rival, dataset, n_bits)))
            for n_bits in bits for rival in rivals]
