"""The papers' experiments, as functions the chapters call: runs, published numbers, one module per paper.

* :mod:`hashkit.experiments.runs` — one scored run of a shallow or deep method, and tables of many;
* :mod:`hashkit.experiments.paper` — the papers' transcribed numbers, and tables with ours beside them;
* :mod:`hashkit.experiments.fdah` — FDAH's Tables 1–2, Figs. 2–4 and claims.
"""

from hashkit.experiments.paper import beside_paper, paper_results
from hashkit.experiments.runs import (
    RunResult,
    code_geometry,
    mean_std_text,
    results_frame,
    run_deep,
    run_shallow,
    summarise,
)

__all__ = ["RunResult", "beside_paper", "code_geometry", "mean_std_text", "paper_results", "results_frame", "run_deep",
           "run_shallow", "summarise"]
