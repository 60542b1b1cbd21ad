"""One table of neighbourhood quality per feature source: the measurement behind the default source."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset, Split
from hashkit.features.extract import extract_features
from hashkit.features.neighbourhood import METRICS, knn_label_precision

# The neighbourhood sizes of the table in the docstring of hashkit.features.learned: BGAN's Fig. 2
# runs K from 1 into the thousands.
DEFAULT_K_VALUES = (1, 10, 50, 100, 500, 1000)


def compare_feature_sources(
    dataset: ImageDataset,
    split: Split,
    sources: list[str],
    k_values: tuple[int, ...] = DEFAULT_K_VALUES,
    n_queries: int = 2000,
    seed: int = 0,
    metrics: tuple[str, ...] = METRICS,
    **extract_options: Any,
) -> pd.DataFrame:
    """Precision of the k nearest neighbours' labels for each source, metric and k.

    Queries are ``n_queries`` items drawn (with ``seed``) from ``split.query``, items no source has
    trained on; their neighbours are all other query and database items. Each source's features
    come from :func:`~hashkit.features.extract_features` with ``train_indices=split.train`` and
    ``seed``; ``extract_options`` (``cache_dir``, ``progress``, ...) go there too. Columns:
    ``source``, ``metric``, ``k``, ``precision``, and ``seconds``, the time the source's
    features took (training included, unless they came from the cache).
    """
    n_queries = check_positive_int(n_queries, "n_queries")
    items = np.union1d(split.query, split.database)
    if n_queries > len(split.query):
        raise ValueError(f"n_queries: {n_queries} exceeds the split's {len(split.query)} queries")
    queries = np.sort(np.random.default_rng(seed).choice(split.query, n_queries, replace=False))
    query_positions = np.searchsorted(items, queries)
    labels = dataset.labels[items]
    tables = []
    for source in sources:
        started = time.perf_counter()
        features = extract_features(dataset, items, source, train_indices=split.train, seed=seed, **extract_options)
        seconds = time.perf_counter() - started
        for metric in metrics:
            table = knn_label_precision(features, labels, k_values, query_positions, metric=metric)
            tables.append(table.assign(source=source, metric=metric, seconds=seconds))
    return pd.concat(tables, ignore_index=True)[["source", "metric", "k", "precision", "seconds"]]
