"""What a run's codes look like beyond one number, for any chapter's figures.

* :func:`precision_curves` — precision@N of Hamming ranking (BGAN's Fig. 4, DSAH's Fig. 3);
* :func:`pr_curves` — precision against recall, a point per Hamming radius (DSAH's Fig. 3);
* :func:`tsne_embedding` — a 2-D t-SNE of database codes (DSHC's Fig. 2, DSAH's Fig. 10), and
  :func:`silhouette_samples_by_run`, the number that goes with the picture;
* :func:`top_retrievals` — the nearest database images of a few queries under each run (DSAH's Fig. 11).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_samples

from hashkit.experiments.methods import Benchmark
from hashkit.experiments.runs import RunResult
from hashkit.index import HammingIndex
from hashkit.metrics import precision_recall_at_n, precision_recall_curve


def precision_curves(results: Sequence[RunResult], benchmark: Benchmark, n_values: Sequence[int]) -> pd.DataFrame:
    """precision@N of each run's Hamming ranking (columns method, bits, seed, n, precision); N beyond
    the database is dropped."""
    labels = benchmark.images.labels
    n_values = [n for n in n_values if n <= len(benchmark.split.database)]
    frames = [precision_recall_at_n(r.query_codes, r.database_codes, labels[benchmark.split.query],
                                    labels[benchmark.split.database], n_values)
              .assign(method=r.method, bits=r.bits, seed=r.seed) for r in results]
    return pd.concat(frames, ignore_index=True)[["method", "bits", "seed", "n", "precision"]]


def pr_curves(results: Sequence[RunResult], benchmark: Benchmark) -> pd.DataFrame:
    """Each run's precision-recall curve, a point per Hamming radius
    (:func:`hashkit.metrics.precision_recall_curve`; columns method, bits, seed, radius, precision, recall)."""
    labels = benchmark.images.labels
    frames = [precision_recall_curve(r.query_codes, r.database_codes, labels[benchmark.split.query],
                                     labels[benchmark.split.database]).assign(method=r.method, bits=r.bits, seed=r.seed)
              for r in results]
    return pd.concat(frames, ignore_index=True)[["method", "bits", "seed", "radius", "precision", "recall"]]


def _sampled_database(benchmark: Benchmark, points: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The same seeded ``points`` database positions for every run, and their class indices."""
    database = benchmark.split.database
    chosen = np.sort(np.random.default_rng(seed).choice(len(database), min(points, len(database)), replace=False))
    return chosen, benchmark.images.labels[database[chosen]].argmax(axis=1)


def tsne_embedding(results: Sequence[RunResult], benchmark: Benchmark, points: int, seed: int) -> pd.DataFrame:
    """t-SNE {cite}`vandermaaten2008tsne` of the database codes of each run, on the same seeded
    ``points`` database items; columns panel, x, y, label (the item's class: single-label data)."""
    chosen, labels = _sampled_database(benchmark, points, seed)
    frames = []
    for result in results:
        codes = result.database_codes[chosen].astype(np.float32)
        xy = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30, len(chosen) - 1)).fit_transform(codes)
        frames.append(pd.DataFrame({"panel": f"{result.method}, {result.bits} bits", "x": xy[:, 0], "y": xy[:, 1],
                                    "label": labels}))
    return pd.concat(frames, ignore_index=True)


def silhouette_samples_by_run(results: Sequence[RunResult], benchmark: Benchmark, points: int,
                              seed: int) -> dict[tuple[str, str, int], list[np.ndarray]]:
    """Each item's silhouette in each run's database codes grouped by class, in Hamming distance, on
    the items :func:`tsne_embedding` draws: from −1 to 1, higher when the item's code is nearer its
    own class's codes than the nearest other class's. Keyed like
    :func:`~hashkit.experiments.scores.per_query_ap` (a list over seeds), so that the noise helpers
    of :mod:`hashkit.experiments.noise` pair two runs item by item."""
    chosen, labels = _sampled_database(benchmark, points, seed)
    samples: dict[tuple[str, str, int], list[np.ndarray]] = {}
    for result in results:
        samples.setdefault((result.method, result.dataset, result.bits), []).append(
            silhouette_samples(result.database_codes[chosen] > 0, labels, metric="hamming"))
    return samples


def top_retrievals(results: Sequence[RunResult], benchmark: Benchmark, n_queries: int, per_query: int,
                   seed: int) -> tuple[np.ndarray, list[str]]:
    """For ``n_queries`` seeded queries, a row per run: the query, then its ``per_query`` nearest
    database images by Hamming ranking (ties by database order, :class:`~hashkit.index.HammingIndex`).
    Returns the images row by row and their captions: the run and its precision over the row under
    the query, "✓" or "✗ <class>" and the distance under each retrieval."""
    images, split = benchmark.images, benchmark.split
    names = np.asarray(images.class_names)
    queries = np.random.default_rng(seed).choice(len(split.query), n_queries, replace=False)
    pictures, captions = [], []
    for query in queries:
        query_labels = images.labels[split.query[query]]
        for result in results:
            index = HammingIndex(result.bits)
            index.add(result.database_codes)
            distances, ids = index.search(result.query_codes[[query]], per_query)
            found = split.database[ids[0]]
            relevant = images.labels[found] @ query_labels > 0
            pictures += [images.images(split.query[[query]])[0], *images.images(found)]
            captions.append(f"{result.method}\nP@{per_query} {relevant.mean():.1f}")
            captions += [("✓" if hit else "✗ " + "/".join(names[images.labels[item] > 0])) + f"\nd = {distance}"
                         for item, hit, distance in zip(found, relevant, distances[0])]
    return np.stack(pictures), captions
