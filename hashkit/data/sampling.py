"""Random draws of item subsets: a number per class, or a number in total, from a pool of items."""

from __future__ import annotations

import numpy as np


def draw_per_class(
    labels: np.ndarray, pool: np.ndarray, per_class: int, rng: np.random.Generator, what: str
) -> np.ndarray:
    """``per_class`` items holding each label, drawn from ``pool``; sorted ``int64`` indices.

    For multi-label data an item holding several labels could count for each of them; here an
    item is taken at most once, for the first class that draws it, so the result has exactly
    ``per_class × n_classes`` items. Classes draw rarest first (counted within ``pool``), so a
    rare class is not left short by common classes taking its items. ``what`` names the draw in
    the error raised when a class has too few items left.
    """
    available = np.zeros(len(labels), dtype=bool)
    available[pool] = True
    class_sizes = labels[pool].sum(axis=0)
    taken = []
    for class_index in np.argsort(class_sizes, kind="stable"):
        candidates = np.flatnonzero(available & (labels[:, class_index] == 1))
        if candidates.size < per_class:
            raise ValueError(
                f"{what}: class {class_index} has {candidates.size:,} items left to draw from "
                f"(of {int(class_sizes[class_index]):,} in the pool), {per_class:,} per class needed"
            )
        chosen = rng.choice(candidates, size=per_class, replace=False)
        available[chosen] = False
        taken.append(chosen)
    return np.sort(np.concatenate(taken)).astype(np.int64)


def draw_total(pool: np.ndarray, total: int, rng: np.random.Generator, what: str) -> np.ndarray:
    """``total`` items drawn uniformly from ``pool`` without replacement; sorted ``int64`` indices."""
    if total > pool.size:
        raise ValueError(f"{what}: {total:,} items needed, the pool has {pool.size:,}")
    return np.sort(rng.choice(pool, size=total, replace=False)).astype(np.int64)
