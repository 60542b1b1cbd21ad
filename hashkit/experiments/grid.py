"""The experiments every chapter runs, generic over its declarations.

* :func:`run_grid` — methods × benchmarks (datasets and seeds) × code lengths, each run scored.
* :class:`Sweep` and :func:`sweep_runs` — one hyper-parameter moved at a time, the run at the
  default reused from the grid instead of trained again.
* :func:`seconds_table` — training seconds per code length, the longest/shortest ratio, and the
  paper's ratio beside it.
* :func:`sizes_table` — the protocol's sizes of every benchmark, per use.
* :class:`Deviation` and :func:`deviations_table` — the paper's setting beside this run's,
  computed from the chapter's parameters.

Tables over seeds are :func:`~hashkit.experiments.runs.summarise`; beside the paper,
:func:`~hashkit.experiments.paper.beside_paper`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from tqdm.auto import tqdm

from hashkit.experiments.methods import Benchmark, DeepSettings, MethodSpec, score
from hashkit.experiments.runs import RunResult


def run_grid(specs: Sequence[MethodSpec], benchmarks: Sequence[Benchmark], bits: Sequence[int],
             settings: DeepSettings, *, radius: int = 2, description: str = "runs",
             keep_fitted: bool = False) -> list[RunResult]:
    """Every spec at every code length on every benchmark (benchmark by benchmark, method by method);
    ``keep_fitted`` keeps each fitted method in its result."""
    plan = [(benchmark, spec, n_bits) for benchmark in benchmarks for spec in specs for n_bits in bits]
    return [score(spec, benchmark, n_bits, settings, radius, keep_fitted)
            for benchmark, spec, n_bits in tqdm(plan, desc=description, disable=not settings.progress)]


@dataclass(frozen=True)
class Sweep:
    """One hyper-parameter of a method moved over ``values``; ``spec_at(value)`` is the method there.

    ``default`` is the value the grid ran with: that point is taken from the grid's run.
    """

    parameter: str
    values: Sequence[float]
    default: float
    spec_at: Callable[[float], MethodSpec]


def sweep_runs(sweeps: Sequence[Sweep], benchmark: Benchmark, n_bits: int, settings: DeepSettings,
               reuse: RunResult | None = None, description: str = "sweeps") -> pd.DataFrame:
    """Each sweep's points on ``benchmark`` at ``n_bits``; ``reuse`` is the grid's run at the defaults.

    Columns: parameter, value, map, training_seconds, seed.
    """
    plan = [(sweep, value) for sweep in sweeps for value in sweep.values]
    rows = []
    for sweep, value in tqdm(plan, desc=description, disable=not settings.progress):
        if value == sweep.default and reuse is not None:
            result = reuse
        else:
            result = score(sweep.spec_at(value), benchmark, n_bits, settings)
        rows.append({"parameter": sweep.parameter, "value": value, "map": result.map,
                     "training_seconds": result.training_seconds, "seed": benchmark.seed})
    return pd.DataFrame(rows, columns=["parameter", "value", "map", "training_seconds", "seed"])


def seconds_table(summary: pd.DataFrame, methods: Sequence[str], paper: pd.DataFrame | None = None,
                  paper_value: str = "training_minutes") -> pd.DataFrame:
    """Mean training seconds per method (rows, in ``methods``' order) and code length, with the
    longest/shortest-code ratio and, from ``paper`` (a :func:`~hashkit.experiments.paper.paper_results`
    table), the paper's ratio of ``paper_value`` between its longest and shortest codes."""
    seconds = summary.pivot(index="method", columns="bits", values="training_seconds_mean").loc[list(methods)]
    longest, shortest = max(seconds.columns), min(seconds.columns)
    seconds.columns = [f"{n_bits} bits (s)" for n_bits in seconds.columns]
    seconds[f"{longest} / {shortest} bits"] = seconds[f"{longest} bits (s)"] / seconds[f"{shortest} bits (s)"]
    if paper is not None:
        published = paper.pivot(index="method", columns="bits", values=paper_value)
        seconds[f"paper {published.columns.max()} / {published.columns.min()} bits"] = (
            published[published.columns.max()] / published[published.columns.min()])
    return seconds


def sizes_table(uses: Mapping[str, Sequence[Benchmark]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per benchmark and use (``{"Table 1": [...], "Table 2": [...]}``) with its sizes, in
    ``columns``' order when given."""
    table = pd.DataFrame([{"used for": use, **benchmark.sizes()} for use, benchmarks in uses.items()
                          for benchmark in benchmarks])
    return table if columns is None else table.reindex(columns=["used for", *columns])


@dataclass(frozen=True)
class Deviation:
    """One way this run may differ from the paper: the paper's setting, and this run's, computed
    from the chapter's parameters by ``this_run``."""

    aspect: str
    paper: str
    this_run: Callable[[Mapping[str, object]], str]


def deviations_table(deviations: Sequence[Deviation], parameters: Mapping[str, object]) -> pd.DataFrame:
    """The chapter's deviations with this run's values, columns aspect, paper, this run."""
    return pd.DataFrame([(deviation.aspect, deviation.paper, deviation.this_run(parameters))
                         for deviation in deviations], columns=["aspect", "paper", "this run"])
