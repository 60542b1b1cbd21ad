"""What every benchmark module shares: the row format of the table, and fair timing."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def best_times(functions: list[Callable[[], object]], repeats: int = 3) -> list[float]:
    """Best wall time of each function; the functions take turns, so that a burst of load from
    other processes does not land on one of them only."""
    best = [math.inf] * len(functions)
    for _ in range(repeats):
        for position, function in enumerate(functions):
            started = time.perf_counter()
            function()
            best[position] = min(best[position], time.perf_counter() - started)
    return best


def row(benchmark: str, measure: str, value: float, target: str = "report", met: bool | None = None) -> dict:
    """One row of the ``make bench`` table; ``met`` is None where there is no target."""
    return {"benchmark": benchmark, "measure": measure, "value": float(value), "target": target, "met": met}
