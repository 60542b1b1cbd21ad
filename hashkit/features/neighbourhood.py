"""How good a feature space's neighbourhoods are: precision of the k nearest neighbours' labels.

This is the curve behind BGAN's Fig. 2 {cite}`song2017bgan`: an unsupervised method that builds
its similarity matrix from the k nearest neighbours of each training image (BGAN's ``K1``, DSAH's
adaptive neighbours) inherits exactly this fraction of correct "labels", so a feature source with
a higher curve gives those methods a better start.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

METRICS = ("cosine", "euclidean")


def _check_k_values(k_values: list[int] | np.ndarray, n_candidates: int) -> np.ndarray:
    ks = np.unique(np.asarray(k_values))
    if ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or ks.min() < 1:
        raise ValueError(f"k_values: expected positive integers, got {list(np.asarray(k_values))}")
    if ks.max() > n_candidates:
        raise ValueError(
            f"k_values: k={int(ks.max())} exceeds the {n_candidates} neighbours each query has "
            "(every other item)"
        )
    return ks.astype(np.int64)


def _check_inputs(features: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    features = np.asarray(features)
    if features.ndim != 2 or len(features) < 2 or not np.issubdtype(features.dtype, np.number):
        raise ValueError(
            f"features: expected a numeric (n_items >= 2, n_dims) array, got {features.dtype} {features.shape}"
        )
    if not np.isfinite(features).all():
        raise ValueError("features: contains NaN or infinite values")
    labels = np.asarray(labels)
    if labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
            raise ValueError("labels: 1-D labels must be non-negative integer class ids")
        labels = np.eye(int(labels.max()) + 1, dtype=bool)[labels]
    if labels.ndim != 2 or len(labels) != len(features) or not np.isin(labels, (0, 1)).all():
        raise ValueError(
            f"labels: expected class ids or a multi-hot 0/1 matrix with {len(features)} rows, got shape {labels.shape}"
        )
    return torch.from_numpy(features.astype(np.float32)), torch.from_numpy(labels.astype(bool))


def knn_label_precision(
    features: np.ndarray,
    labels: np.ndarray,
    k_values: list[int] | np.ndarray,
    query_indices: np.ndarray | None = None,
    metric: str = "cosine",
    batch_size: int = 256,
) -> pd.DataFrame:
    """Mean precision of each query's ``k`` nearest neighbours, for every ``k`` in ``k_values``.

    Each row of ``features`` listed in ``query_indices`` (default: every row) is a query; its
    neighbours are all *other* rows, ranked by ``metric`` — ``"cosine"`` (BGAN's choice, the
    default) or ``"euclidean"``. A neighbour is correct when it shares at least one label with the
    query (``labels``: multi-hot ``(n, n_classes)`` 0/1 or 1-D class ids), the project's one
    relevance rule. Returns a table with columns ``k`` and ``precision``, one row per distinct k.

    Queries go ``batch_size`` at a time through one matrix product and one ``topk``, so memory
    stays at ``batch_size × n`` scores. Neighbours at exactly the same distance keep ``topk``'s
    order, which is deterministic but not by index.
    """
    if metric not in METRICS:
        raise ValueError(f"metric: expected one of {', '.join(METRICS)}, got {metric!r}")
    points, label_sets = _check_inputs(features, labels)
    n_items = len(points)
    ks = _check_k_values(k_values, n_items - 1)
    queries = np.arange(n_items) if query_indices is None else np.asarray(query_indices)
    if queries.ndim != 1 or queries.size == 0 or not np.issubdtype(queries.dtype, np.integer):
        raise ValueError(f"query_indices: expected a non-empty 1-D integer array, got {queries.dtype} {queries.shape}")
    if queries.min() < 0 or queries.max() >= n_items:
        raise ValueError(f"query_indices: must lie in [0, {n_items}), got [{queries.min()}, {queries.max()}]")

    if metric == "cosine":
        points = torch.nn.functional.normalize(points, dim=1)
    # For Euclidean ranking -||q - x||^2 = 2 q.x - ||x||^2 - ||q||^2; the last term is the same for
    # every neighbour of a query, so it is left out.
    point_norms = (points * points).sum(dim=1) if metric == "euclidean" else None
    k_max = int(ks[-1])
    hits_at_k = torch.zeros(len(ks), dtype=torch.float64)
    k_positions = torch.from_numpy(ks - 1)
    for start in range(0, len(queries), batch_size):
        batch = torch.from_numpy(queries[start:start + batch_size].astype(np.int64))
        scores = points[batch] @ points.T
        if point_norms is not None:
            scores = 2 * scores - point_norms
        scores[torch.arange(len(batch)), batch] = float("-inf")
        neighbours = scores.topk(k_max, dim=1).indices
        shares_label = (label_sets[neighbours] & label_sets[batch].unsqueeze(1)).any(dim=2)
        hits_at_k += shares_label.cumsum(dim=1)[:, k_positions].sum(dim=0, dtype=torch.float64)
    precision = hits_at_k.numpy() / (len(queries) * ks)
    return pd.DataFrame({"k": ks, "precision": precision})
