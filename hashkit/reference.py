"""Deliberately plain reference implementations, in the style of research repositories.

They are what hashkit's index and metrics are timed against (the book and ``make bench``) and
what they must agree with: one query at a time, a float32 matrix-vector product for the distances and a full stable
``argsort`` of the database.
"""

from __future__ import annotations

import numpy as np

from hashkit.codes import check_codes


def argsort_search(query_codes: np.ndarray, database_codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` Hamming neighbours, one query at a time; ties in ascending database index."""
    query_codes = check_codes(query_codes, "query_codes").astype(np.float32)
    database_codes = check_codes(database_codes, "database_codes").astype(np.float32)
    n_bits = query_codes.shape[1]
    k = min(k, len(database_codes))
    distances = np.empty((len(query_codes), k), dtype=np.int32)
    ids = np.empty((len(query_codes), k), dtype=np.int64)
    for row, query in enumerate(query_codes):
        query_distances = ((n_bits - database_codes @ query) / 2).astype(np.int32)
        order = np.argsort(query_distances, kind="stable")[:k]
        ids[row], distances[row] = order, query_distances[order]
    return distances, ids


def argsort_mean_average_precision(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    top_k: int | None = None,
) -> float:
    """mAP@K, one query at a time (AP 0 for a query with no relevant item in its top K)."""
    query_codes = check_codes(query_codes, "query_codes").astype(np.float32)
    database_codes = check_codes(database_codes, "database_codes").astype(np.float32)
    database_labels = np.asarray(database_labels, dtype=np.float32)
    n_bits = query_codes.shape[1]
    depth = len(database_codes) if top_k is None else min(top_k, len(database_codes))
    average_precisions = []
    for query, labels in zip(query_codes, query_labels):
        order = np.argsort((n_bits - database_codes @ query) / 2, kind="stable")[:depth]
        relevant = (database_labels[order] @ labels > 0).astype(np.float64)
        hits = np.cumsum(relevant)
        n_relevant = hits[-1]
        precision_sum = np.sum(relevant * hits / np.arange(1, depth + 1))
        average_precisions.append(precision_sum / n_relevant if n_relevant else 0.0)
    return float(np.mean(average_precisions))
