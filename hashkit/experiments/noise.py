"""How much a difference of mAP between two methods moves by chance in this run.

With several seeds, the spread of the difference over the seeds; with one seed, the spread of the
mean per-query difference of AP when the queries are resampled with replacement (both methods are
scored on the same queries, so the difference is paired). A difference inside this noise is
"within noise" (:func:`hashkit.claims.beyond_noise`), neither a win nor a loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESAMPLES = 1000


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
