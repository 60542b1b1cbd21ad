"""One retrieval run — a method at one code length, one seed, on one split — and tables of many.

A :class:`RunResult` is what :func:`hashkit.experiments.methods.score` gives for any method, scored
by :func:`hashkit.metrics.map_and_ball_scores` (GUIDE §3): mAP over the whole database with stable tie order, and
precision, recall and F1 within a Hamming radius. :func:`results_frame` puts many results in one
long table (a row per run), :func:`summarise` takes mean and standard deviation over seeds, and
:func:`mean_std_text` writes them as the book's tables show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hashkit.index import HammingIndex

RESULT_COLUMNS = ("method", "dataset", "bits", "seed", "map", "precision", "recall", "f1",
                  "training_seconds", "images_per_second")


@dataclass
class RunResult:
    """What one run produced: its scores, its training time and the codes they were computed from.

    ``precision``, ``recall`` and ``f1`` are within Hamming radius ``radius`` (FDAH's Figs. 2–3
    use 2). ``images_per_second`` is ``None`` for shallow methods, which fit on features.
    ``history`` is the engine's per-epoch table for deep methods; ``fitted`` the fitted method
    itself (:class:`~hashkit.experiments.methods.Fitted`), for what a chapter computes from the
    model beyond its codes (DSHC's codes from other top-K sub-classes).
    """

    method: str
    dataset: str
    bits: int
    seed: int
    map: float
    precision: float
    recall: float
    f1: float
    radius: int
    training_seconds: float
    query_codes: np.ndarray = field(repr=False)
    database_codes: np.ndarray = field(repr=False)
    images_per_second: float | None = None
    history: pd.DataFrame | None = field(default=None, repr=False)
    fitted: object | None = field(default=None, repr=False)

    def row(self) -> dict:
        return {column: getattr(self, column) for column in RESULT_COLUMNS}


def code_geometry(result: RunResult, radius: int) -> dict:
    """Where a run's query codes land among its database codes: what explains its lookup within ``radius``.

    Keys: method, dataset, bits, seed; ``distinct database codes`` (a method that gives each class
    one code has about as many as classes); ``median distance to nearest`` (from a query's code to
    the nearest database code); ``queries with a neighbour within r`` (the share whose ball of
    radius ``radius`` is not empty).
    """
    distinct = np.unique(result.database_codes, axis=0)
    index = HammingIndex(result.bits)
    index.add(distinct)
    nearest = index.search(result.query_codes, 1)[0][:, 0]
    return {"method": result.method, "dataset": result.dataset, "bits": result.bits, "seed": result.seed,
            "distinct database codes": len(distinct), "median distance to nearest": float(np.median(nearest)),
            "queries with a neighbour within r": float((nearest <= radius).mean())}


def results_frame(results: list[RunResult]) -> pd.DataFrame:
    """One row per run, the columns of :data:`RESULT_COLUMNS`."""
    return pd.DataFrame([result.row() for result in results], columns=list(RESULT_COLUMNS))


def summarise(results: pd.DataFrame, values: list[str], by: list[str]) -> pd.DataFrame:
    """Mean, standard deviation (0 for one seed) and number of seeds of ``values`` per group ``by``.

    Columns: ``by``, then ``<value>_mean``, ``<value>_std`` for each value, and ``seeds``. The
    groups keep their first appearance order, so tables list methods in the order they ran.
    """
    grouped = results.groupby(by, sort=False)
    summary = grouped[values].agg(["mean", "std"])
    summary.columns = [f"{value}_{statistic}" for value, statistic in summary.columns]
    summary = summary.fillna({f"{value}_std": 0.0 for value in values})
    summary["seeds"] = grouped.size()
    return summary.reset_index()


def mean_std_text(mean: float, std: float, seeds: int, scale: float = 1.0, digits: int = 2) -> str:
    """``"80.72"`` for one seed, ``"80.72 ± 0.31"`` for several (values times ``scale``)."""
    text = f"{mean * scale:.{digits}f}"
    return text if seeds < 2 else f"{text} ± {std * scale:.{digits}f}"
