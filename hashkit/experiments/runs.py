"""One retrieval run — a method at one code length, one seed, on one split — and tables of many.

:func:`run_shallow` fits a :mod:`hashkit.shallow` estimator on features, :func:`run_deep` trains a
:mod:`hashkit.deep` method on images; both return a :class:`RunResult` scored the same way
(GUIDE §3): mAP over the whole database with stable tie order, and precision, recall and F1
within a Hamming radius. :func:`results_frame` puts many results in one long table (a row per
run), :func:`summarise` takes mean and standard deviation over seeds, and :func:`mean_std_text`
writes them as the book's tables show them.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hashkit.data import ImageDataset, Split
from hashkit.deep.engine import retrieval_codes, train
from hashkit.deep.method import HashingMethod
from hashkit.index import HammingIndex
from hashkit.metrics import hamming_radius_metrics, mean_average_precision
from hashkit.shallow import METHODS

RESULT_COLUMNS = ("method", "dataset", "bits", "seed", "map", "precision", "recall", "f1",
                  "training_seconds", "images_per_second")


@dataclass
class RunResult:
    """What one run produced: its scores, its training time and the codes they were computed from.

    ``precision``, ``recall`` and ``f1`` are within Hamming radius ``radius`` (FDAH's Figs. 2–3
    use 2). ``images_per_second`` is ``None`` for shallow methods, which fit on features.
    ``history`` is the engine's per-epoch table for deep methods.
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

    def row(self) -> dict:
        return {column: getattr(self, column) for column in RESULT_COLUMNS}


def score_codes(query_codes: np.ndarray, database_codes: np.ndarray, query_labels: np.ndarray,
                database_labels: np.ndarray, radius: int) -> dict[str, float]:
    """mAP@all and precision / recall / F1 within ``radius`` of ±1 codes."""
    within = hamming_radius_metrics(query_codes, database_codes, query_labels, database_labels, radii=[radius])
    return {"map": mean_average_precision(query_codes, database_codes, query_labels, database_labels),
            "precision": float(within["precision"].iloc[0]), "recall": float(within["recall"].iloc[0]),
            "f1": float(within["f1"].iloc[0])}


def run_shallow(method: str, n_bits: int, features: np.ndarray, labels: np.ndarray, split: Split,
                fit_items: np.ndarray, *, dataset: str, seed: int = 0, radius: int = 2) -> RunResult:
    """Fit the shallow ``method`` (a name of :data:`hashkit.shallow.METHODS`) and score it.

    ``features`` and ``labels`` are indexed by dataset item; the estimator fits on ``fit_items``
    (their labels are used only by supervised methods), then encodes ``split.query`` and
    ``split.database``. ``training_seconds`` is the fit's wall time. Estimators that draw random
    numbers get ``seed``.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(sorted(METHODS))}, got {method!r}")
    estimator_class = METHODS[method]
    takes_seed = "seed" in inspect.signature(estimator_class).parameters
    estimator = estimator_class(n_bits, **({"seed": seed} if takes_seed else {}))
    started = time.perf_counter()
    estimator.fit(features[fit_items], labels[fit_items])
    training_seconds = time.perf_counter() - started
    query_codes = estimator.encode(features[split.query])
    database_codes = estimator.encode(features[split.database])
    scores = score_codes(query_codes, database_codes, labels[split.query], labels[split.database], radius)
    return RunResult(method=method, dataset=dataset, bits=n_bits, seed=seed, radius=radius,
                     training_seconds=training_seconds, query_codes=query_codes, database_codes=database_codes,
                     **scores)


def run_deep(method: HashingMethod, images: ImageDataset, split: Split, n_bits: int, *, dataset: str,
             seed: int = 0, radius: int = 2, name: str | None = None, **train_options: object) -> RunResult:
    """Train ``method`` on ``split.train`` with :func:`hashkit.deep.engine.train` and score it.

    Queries are encoded by the network; the database by
    :meth:`~hashkit.deep.engine.TrainedModel.codes_for_database` (an asymmetric method's learned
    codes). ``name`` labels the result (default: the method's name, e.g. ``"DPSH-A"`` for a
    variant); ``train_options`` go to :func:`~hashkit.deep.engine.train`.
    """
    trained = train(method, images, split, n_bits, seed=seed, **train_options)
    query_codes, database_codes = retrieval_codes(trained, images, split)
    scores = score_codes(query_codes, database_codes, images.labels[split.query], images.labels[split.database],
                         radius)
    return RunResult(method=name or method.name, dataset=dataset, bits=n_bits, seed=seed, radius=radius,
                     training_seconds=trained.training_seconds, images_per_second=trained.images_per_second,
                     query_codes=query_codes, database_codes=database_codes, history=trained.history, **scores)


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
