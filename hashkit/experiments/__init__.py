"""The experiment layer every chapter runs on; a paper's module declares only what is its own.

* :mod:`hashkit.experiments.methods` — one interface for every method (:class:`MethodSpec`,
  :func:`fit`, :func:`score`), the :class:`Benchmark` it runs on and the :class:`DeepSettings`
  its networks share;
* :mod:`hashkit.experiments.grid` — grids of runs, sweeps, timing, protocol-size and deviations
  tables;
* :mod:`hashkit.experiments.runs` — one scored run, tables of many, mean ± std over seeds;
* :mod:`hashkit.experiments.paper` — the papers' transcribed numbers, and tables with ours beside them;
* :mod:`hashkit.experiments.diagnostics` — bit usage, learning curves, the offset objective;
* :mod:`hashkit.experiments.fdah`, :mod:`hashkit.experiments.fdah_claims` — FDAH's declarations and claims.
"""

from hashkit.experiments.grid import Deviation, Sweep, deviations_table, run_grid, seconds_table, sizes_table, sweep_runs
from hashkit.experiments.methods import Benchmark, DeepSettings, MethodSpec, deep, fit, score, shallow
from hashkit.experiments.paper import beside_paper, paper_results
from hashkit.experiments.runs import (
    RunResult,
    code_geometry,
    mean_std_text,
    results_frame,
    summarise,
)

__all__ = ["Benchmark", "DeepSettings", "Deviation", "MethodSpec", "RunResult", "Sweep", "beside_paper",
           "code_geometry", "deep", "deviations_table", "fit", "mean_std_text", "paper_results", "results_frame",
           "run_grid", "score", "seconds_table", "shallow", "sizes_table", "summarise",
           "sweep_runs"]
