"""Neighbourhoods in a feature space, and how good they are: the precision of the neighbours' labels.

* :func:`nearest_neighbours` — each item's k nearest other items (cosine by default).
* :func:`expanded_neighbourhood` — BGAN's §3.1 {cite}`song2017bgan`: the K1 nearest neighbours,
  expanded through the K2 items whose neighbour lists overlap most, symmetric, stored sparse.
* :func:`shared_neighbour_similarity` — DSAH's W⁰ (eqs. 7–9): a pair is similar when one is
  among the other's k1 nearest and its neighbour list is among the k2 that overlap most.
* :func:`similarity_quality` — precision, recall and F_w of a similarity's positive pairs
  against "shares a label" (scoring only).
* :func:`knn_label_precision`, :func:`neighbourhood_label_precision` — the curves of BGAN's
  Fig. 2: an unsupervised method that trains on such "neighbours" (BGAN, DSAH's adaptive
  neighbours) inherits exactly this fraction of correct "labels", so a feature source with a
  higher curve gives those methods a better start.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy import sparse

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


def nearest_neighbours(features: np.ndarray, k: int, metric: str = "cosine", batch_size: int = 256) -> np.ndarray:
    """``(n_items, k)`` indices of each item's ``k`` nearest *other* items, nearest first.

    ``metric`` as in :func:`knn_label_precision`; neighbours at exactly the same distance keep
    ``topk``'s (deterministic) order.
    """
    if metric not in METRICS:
        raise ValueError(f"metric: expected one of {', '.join(METRICS)}, got {metric!r}")
    points, _ = _check_inputs(features, np.zeros(len(features), dtype=np.int64))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(points) - 1:
        raise ValueError(f"k: expected an int in 1..{len(points) - 1} (every other item), got {k!r}")
    if metric == "cosine":
        points = torch.nn.functional.normalize(points, dim=1)
    point_norms = (points * points).sum(dim=1) if metric == "euclidean" else None
    lists = []
    for start in range(0, len(points), batch_size):
        batch = torch.arange(start, min(start + batch_size, len(points)))
        scores = points[batch] @ points.T
        if point_norms is not None:
            scores = 2 * scores - point_norms
        scores[torch.arange(len(batch)), batch] = float("-inf")
        lists.append(scores.topk(int(k), dim=1).indices)
    return torch.cat(lists).numpy()


def _check_list_sizes(n_items: int, **sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= n_items - 1:
            raise ValueError(f"{name}: expected an int in 1..{n_items - 1} (the other items), got {value!r}")


def neighbour_lists(features: np.ndarray, k: int, metric: str = "cosine") -> sparse.csr_matrix:
    """``(n, n)`` 0/1 int32 CSR: row ``i`` marks item ``i`` itself and its ``k`` nearest other items."""
    n_items = len(features)
    lists = np.hstack([np.arange(n_items)[:, None], nearest_neighbours(features, int(k), metric)])
    rows = np.repeat(np.arange(n_items), lists.shape[1])
    return sparse.csr_matrix((np.ones(rows.size, dtype=np.int32), (rows, lists.ravel())), shape=(n_items, n_items))


# Rows of the overlap counts computed at once: a (block × n) int64 array, 21 MB at the paper's 10,500 items.
OVERLAP_BLOCK = 256


def most_overlapping(lists: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """``(n, n)`` 0/1 int32 CSR: row ``i`` marks the ``k`` items whose rows of ``lists`` share most
    entries with row ``i``, ties by index, among the items that share at least one; item ``i``
    shares all of its own, so it ranks first or tied first.

    Ranking by the shared count is ranking by BGAN's ``1/‖(S1)_i − (S1)_j‖²`` and DSAH's
    ``1/(1 + ‖(W_L)_i − (W_L)_j‖)``: for two ±1 rows with ``m`` marks each, the squared distance is
    ``4 (2m − 2 · shared)``. The counts go :data:`OVERLAP_BLOCK` rows at a time: with k1 in the
    hundreds nearly every pair shares an entry, so all the counts at once would be a dense n × n.
    """
    n_items = lists.shape[0]
    columns = lists.T.tocsc()
    # one key orders a row by (shared count, descending; index, ascending)
    tie_break = np.arange(n_items - 1, -1, -1, dtype=np.int64)
    kept = min(int(k), n_items)
    rows, cols = [], []
    for start in range(0, n_items, OVERLAP_BLOCK):
        shared = (lists[start:start + OVERLAP_BLOCK] @ columns).toarray().astype(np.int64)
        top = np.argpartition(-(shared * n_items + tie_break), kept - 1, axis=1)[:, :kept]
        block_rows = np.repeat(np.arange(len(shared)), kept)
        overlapping = shared[block_rows, top.ravel()] > 0
        rows.append(block_rows[overlapping] + start)
        cols.append(top.ravel()[overlapping])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n_items, n_items))


def expanded_neighbourhood(features: np.ndarray, k1: int, k2: int, metric: str = "cosine") -> sparse.csr_matrix:
    """BGAN's neighbourhood (§3.1, Alg. 1, as the authors' ``create_S.py`` computes it), sparse.

    Each item's list is itself and its ``k1`` nearest neighbours. The ``k2`` items whose lists
    share most entries with it (:func:`most_overlapping`) contribute their whole lists. The union
    is the item's neighbourhood, made symmetric, without the item itself.

    Returns an ``(n, n)`` boolean CSR matrix. Raises ``ValueError`` naming ``k1`` or ``k2`` when
    either is not a positive int below the number of items.
    """
    _check_list_sizes(len(features), k1=k1, k2=k2)
    lists = neighbour_lists(features, k1, metric)
    union = (most_overlapping(lists, k2) @ lists) > 0
    neighbourhood = (union + union.T).tolil()
    neighbourhood.setdiag(False)
    return neighbourhood.tocsr().astype(bool)


def shared_neighbour_similarity(features: np.ndarray, k1: int, k2: int, metric: str = "cosine") -> sparse.csr_matrix:
    """DSAH's initial similarity W⁰ (eqs. 7–9) {cite}`lin2021dsah`: the positive pairs, sparse.

    ``W_L`` marks each item's ``k1`` most similar items, itself included (eq. 7; the item is its
    own nearest); ``W_H`` the ``k2`` items whose ``W_L`` rows overlap most with its own (eq. 8,
    :func:`most_overlapping`); a pair is positive when both mark it (eq. 9), and, as in the
    authors' code, in either direction (symmetric). Every other pair is −1 and is not stored.

    Returns an ``(n, n)`` boolean CSR matrix whose diagonal is ``True``. Raises ``ValueError``
    naming ``k1`` or ``k2`` when either is not an int below the number of items, or ``k1`` is 1
    (a list of ``k1`` includes the item).
    """
    _check_list_sizes(len(features), k1=k1, k2=k2)
    if k1 < 2:
        raise ValueError(f"k1: expected at least 2 (the item and one neighbour), got {k1!r}")
    low_order = neighbour_lists(features, k1 - 1, metric)
    both = low_order.multiply(most_overlapping(low_order, k2)) > 0
    return (both + both.T).tocsr().astype(bool)


def batch_similarity(neighbourhood: sparse.csr_matrix, positions: np.ndarray) -> torch.Tensor:
    """``(B, B)`` float ±1: +1 where two of the batch's training items are neighbours (or the same)."""
    block = neighbourhood[positions][:, positions].toarray()
    np.fill_diagonal(block, True)
    return torch.from_numpy(np.where(block, 1.0, -1.0).astype(np.float32))


def similarity_quality(positives: sparse.spmatrix, labels: np.ndarray) -> dict[str, float]:
    """How well the positive off-diagonal pairs of a ±1 similarity agree with "shares a label":
    their number, precision, recall and F_w (the harmonic mean; DSAH §5.4.2 scores its W so).
    Labels only score here; they never build a similarity."""
    positives = sparse.csr_matrix(positives, dtype=bool).tolil()
    positives.setdiag(False)
    positives = positives.tocsr()
    _, label_sets = _check_inputs(np.zeros((positives.shape[0], 1)), labels)
    label_sets = label_sets.numpy()
    items, others = positives.nonzero()
    correct = int((label_sets[items] & label_sets[others]).any(axis=1).sum())
    as_float = label_sets.astype(np.float32)
    related = -len(label_sets)  # pairs sharing a label, off the diagonal; counted in blocks, never n × n at once
    for start in range(0, len(as_float), 1024):
        related += int(np.count_nonzero(as_float[start:start + 1024] @ as_float.T))
    precision = correct / max(len(items), 1)
    recall = correct / max(related, 1)
    f_score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"positive pairs": float(len(items)), "precision": precision, "recall": recall, "F_w": f_score}


def neighbourhood_label_precision(neighbourhood: sparse.spmatrix, labels: np.ndarray) -> dict[str, float]:
    """The mean size of each item's neighbourhood and the mean share of its neighbours that share a
    label with it (an item without neighbours counts as precision 0)."""
    neighbourhood = sparse.csr_matrix(neighbourhood, dtype=bool)
    _, label_sets = _check_inputs(np.zeros((neighbourhood.shape[0], 1)), labels)
    label_sets = label_sets.numpy()
    items, neighbours = neighbourhood.nonzero()
    correct = (label_sets[items] & label_sets[neighbours]).any(axis=1)
    sizes = np.bincount(items, minlength=neighbourhood.shape[0])
    hits = np.bincount(items, weights=correct, minlength=neighbourhood.shape[0])
    return {"mean size": float(sizes.mean()),
            "precision": float(np.divide(hits, sizes, out=np.zeros(len(sizes)), where=sizes > 0).mean())}
