"""Per-query scores of many runs, for the tables and claims that need more than each run's mAP.

* :func:`ranked_scores` — one run's per-query AP@K, ranked by Hamming distance or by shared
  positive bits (DSHC's multi-label ranking, :func:`hashkit.metrics.shared_positive_codes`);
* :func:`per_query_ap` — those of many runs, grouped by method, dataset and code length, a list
  over seeds (what :func:`hashkit.experiments.noise.difference_noise` pairs);
* :func:`map_summary` — their mean ± std over seeds, shaped as
  :func:`~hashkit.experiments.runs.summarise`'s tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hashkit.experiments.methods import Benchmark
from hashkit.experiments.runs import RunResult
from hashkit.metrics import average_precision, shared_positive_codes


def ranked_scores(result: RunResult, benchmark: Benchmark, top_k: int | None = None,
                  ranking: str = "hamming") -> np.ndarray:
    """Per-query AP@``top_k`` of a run's codes, ranked by Hamming distance or by shared positives (§4.1)."""
    labels = benchmark.images.labels
    codes = (result.query_codes, result.database_codes)
    if ranking == "shared-positives":
        codes = shared_positive_codes(*codes)
    return average_precision(*codes, labels[benchmark.split.query], labels[benchmark.split.database], top_k)


def per_query_ap(results: Sequence[RunResult], benchmarks: Mapping[tuple[str, int], Benchmark],
                 top_k: Mapping[str, int | None], ranking: str = "hamming") -> dict[tuple[str, str, int], list[np.ndarray]]:
    """Per-query AP@``top_k[dataset]`` of each run, grouped by (method, dataset, bits), one array
    per seed in the order of ``results``; ``benchmarks`` maps (dataset, seed) to its benchmark."""
    scores: dict[tuple[str, str, int], list[np.ndarray]] = {}
    for result in results:
        benchmark = benchmarks[(result.dataset, result.seed)]
        scores.setdefault((result.method, result.dataset, result.bits), []).append(
            ranked_scores(result, benchmark, top_k.get(result.dataset), ranking))
    return scores


def map_summary(scores: Mapping[tuple[str, str, int], Sequence[np.ndarray]], name: str = "map") -> pd.DataFrame:
    """mean ± std over seeds of the mAP in ``scores`` (:func:`per_query_ap`), a
    :func:`~hashkit.experiments.runs.summarise`-shaped table (method, dataset, bits, map_mean, map_std, seeds);
    ``name`` replaces "map" in the columns for other per-item scores of the same shape (silhouettes)."""
    rows = []
    for (method, dataset, n_bits), per_seed in scores.items():
        values = [float(ap.mean()) for ap in per_seed]
        rows.append({"method": method, "dataset": dataset, "bits": n_bits, f"{name}_mean": float(np.mean(values)),
                     f"{name}_std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0, "seeds": len(values)})
    return pd.DataFrame(rows)
