"""Retrieval metrics for binary codes: mAP@K, precision/recall@N, Hamming-ball P/R/F1, F1-bucket, ANHC.

Conventions (GUIDE §3), shared by every function here:

* **Codes** are ±1 arrays checked by :func:`hashkit.codes.check_codes`. Query codes and database
  codes are separate arguments because asymmetric methods (ADSH, FDAH) rank the database by their
  *learned* database codes B, not by the network's codes (§3.8).
* **Several codes per item** (MCH): database codes may be a 3-D array
  ``(n_items, codes_per_item, n_bits)``; an item with fewer distinct codes repeats one of its own.
  An item's Hamming distance to a query is the minimum over its codes (MCH eq. 5), and each item
  counts once in every metric: database labels, ranks, N, K and the Hamming ball are all in items.
  A 2-D ``(n_items, n_bits)`` array is one code per item. Queries always hold one code each.
* **Labels** are either multi-hot ``(n, n_classes)`` 0/1 arrays or 1-D integer class ids; both
  sides must use the same form. A query and a database item are *relevant* to each other when they
  share at least one label (multi-hot dot product > 0, §3.2).
* **Ranking** is by Hamming distance, ascending. Ties (which dominate at 12–48 bits, §3.5) are
  broken by ``tie_order``: ``"stable"`` (default) ranks equal distances by ascending database index;
  ``"shuffle"`` ranks them by their position in :func:`tie_permutation` ``(n_database, seed)``,
  i.e. a random tie order that the same ``seed`` reproduces. Both order items, not codes.
* **Averaging** is over queries. A query with no relevant item in the whole database has recall 0;
  a retrieved set that is empty has precision 0 (§3.7); F1 is formed per query,
  ``2PR / (P + R)`` (0 when ``P + R = 0``), and then averaged, here and in the F1-bucket curve.

Everything is batched: queries are processed in chunks whose distance matrix (to every code of
every item, before the minimum per item) stays small (``_CHUNK_ELEMENTS``), and each chunk is
ranked with one stable ``argsort`` on ``uint8`` distances (``uint16`` above 255 bits), which numpy
performs as a linear-time radix sort. That choice was measured: sorting 2,000 × 50,000 distances
took 0.3 s this way, 1.7 s with torch's stable sort and 2.6 s with numpy on ``int32`` distances
(2 cores).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from hashkit.checks import check_positive_int
from hashkit.codes import check_codes, check_item_codes

if TYPE_CHECKING:  # the annotation only: importing the index at run time would pull in faiss
    from hashkit.index import BucketIndex

TieOrder = Literal["stable", "shuffle"]
NoRelevant = Literal["zero", "drop"]

# Entries of the (queries x database) distance matrix per chunk: 4 M was the fastest of 1-32 M in
# benchmarks/bench_metrics.py (by 5-20 %), and a fixed size bounds memory (~55 MB) for any database.
_CHUNK_ELEMENTS = 1 << 22


def tie_permutation(n_database: int, seed: int) -> np.ndarray:
    """The tie order of ``tie_order="shuffle"``: database items at equal Hamming distance are
    ranked in the order in which their indices appear in this permutation of ``range(n_database)``.
    """
    return np.random.default_rng(seed).permutation(n_database)


def average_precision(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    top_k: int | None = None,
    *,
    no_relevant: NoRelevant = "zero",
    tie_order: TieOrder = "stable",
    seed: int = 0,
) -> np.ndarray:
    """AP@K of each query, as a float64 array of shape ``(n_queries,)``.

    ``AP@K = sum_{k <= K} P@k * rel_k / (number of relevant items in the top K)`` (GUIDE §3.3).
    ``top_k=None`` ranks the whole database; a ``top_k`` above the database size means the same.
    A query with no relevant item in its top K gets AP 0 with ``no_relevant="zero"`` (as in
    DeepHash-pytorch and ADSH) or NaN with ``no_relevant="drop"`` (so that a mean skips it, as in
    thulab DeepHash and HashNet); GUIDE §3.4. Ties follow ``tie_order`` and ``seed`` (module doc).
    """
    _check_choice(no_relevant, "no_relevant", ("zero", "drop"))
    inputs = _check_inputs(query_codes, database_codes, query_labels, database_labels)
    n_database = len(inputs[1])
    depth = n_database if top_k is None else min(check_positive_int(top_k, "top_k"), n_database)
    missing = 0.0 if no_relevant == "zero" else np.nan
    precisions = np.empty(len(inputs[0]))
    for block, ranked_relevance in _ranked_chunks(*inputs, depth, tie_order, seed):
        precisions[block] = _average_precisions(ranked_relevance, missing)
    return precisions


def mean_average_precision(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    top_k: int | None = None,
    *,
    no_relevant: NoRelevant = "zero",
    tie_order: TieOrder = "stable",
    seed: int = 0,
) -> float:
    """mAP@K: the mean of :func:`average_precision` over queries (GUIDE §3.3–3.5).

    With ``no_relevant="drop"`` queries without a relevant item in their top K are left out of the
    mean; if that leaves no query at all, a ``ValueError`` is raised rather than returning NaN.
    """
    precisions = average_precision(
        query_codes,
        database_codes,
        query_labels,
        database_labels,
        top_k,
        no_relevant=no_relevant,
        tie_order=tie_order,
        seed=seed,
    )
    if np.isnan(precisions).all():
        ranked_part = "ranking" if top_k is None else f"top {top_k}"
        raise ValueError(
            f"no_relevant='drop' dropped every query: none has a relevant item in its {ranked_part}; "
            "mAP is undefined"
        )
    return float(np.nanmean(precisions))


def precision_recall_at_n(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    n_values: Sequence[int] | np.ndarray,
    *,
    tie_order: TieOrder = "stable",
    seed: int = 0,
) -> pd.DataFrame:
    """Precision@N and recall@N curves of Hamming ranking, one row per N (columns n, precision, recall).

    precision@N = relevant items in the top N / N; recall@N = relevant items in the top N / relevant
    items in the database (0 for a query with none). Both are averaged over all queries. Every N must
    lie in ``1..n_database``. Ties follow ``tie_order`` and ``seed`` (module doc, GUIDE §3.5).
    """
    inputs = _check_inputs(query_codes, database_codes, query_labels, database_labels)
    query_labels, database_labels = inputs[2:]
    n_values = _check_int_values(n_values, "n_values", 1, len(inputs[1]))
    precision_sum = np.zeros(len(n_values))
    recall_sum = np.zeros(len(n_values))
    for block, ranked_relevance in _ranked_chunks(*inputs, int(n_values.max()), tie_order, seed):
        n_relevant = _relevance(query_labels[block], database_labels).sum(axis=1)
        hits = np.cumsum(ranked_relevance, axis=1)[:, n_values - 1]
        precision_sum += np.sum(hits / n_values, axis=0)
        recall_sum += np.sum(_ratio_or_zero(hits, n_relevant[:, None]), axis=0)
    n_queries = len(inputs[0])
    return pd.DataFrame(
        {"n": n_values, "precision": precision_sum / n_queries, "recall": recall_sum / n_queries}
    )


def hamming_radius_metrics(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    radii: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Precision, recall and F1 within Hamming radius r (distance <= r), one row per radius.

    Columns: radius, precision, recall, f1. ``radii=None`` means r = 0..n_bits; r = 0 gives MCH's
    P@H=0 and R@H=0. The retrieved set of a query is its Hamming ball, so tie order plays no part.
    Per query: an empty ball has precision 0 (GUIDE §3.7), a query with no relevant database item
    has recall 0, and F1 = 2PR / (P + R) (0 when P + R = 0); each column is the mean over queries,
    so ``f1`` is the mean of per-query F1, not the F1 of the mean P and R.
    """
    inputs = _check_inputs(query_codes, database_codes, query_labels, database_labels)
    n_bits = inputs[0].shape[1]
    radii = np.arange(n_bits + 1) if radii is None else _check_int_values(radii, "radii", 0, n_bits)
    sums = {"precision": np.zeros(len(radii)), "recall": np.zeros(len(radii)), "f1": np.zeros(len(radii))}
    for block, distances in _distance_chunks(inputs[0], inputs[1]):
        relevance = _relevance(inputs[2][block], inputs[3])
        in_ball, relevant_in_ball = _ball_counts(distances, relevance, n_bits)
        for name, values in _ball_scores(in_ball[:, radii], relevant_in_ball[:, radii], relevance).items():
            sums[name] += values.sum(axis=0)
    n_queries = len(inputs[0])
    return pd.DataFrame({"radius": radii, **{name: total / n_queries for name, total in sums.items()}})


def map_and_ball_scores(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    radius: int,
) -> dict[str, float]:
    """mAP@all (stable ties, no-relevant queries count 0) and precision / recall / F1 within ``radius``.

    The values of :func:`mean_average_precision` and :func:`hamming_radius_metrics`, bit for bit,
    from one pass over the distances: what a table reports for every run, a third faster than the two.
    Keys: map, precision, recall, f1.
    """
    inputs = _check_inputs(query_codes, database_codes, query_labels, database_labels)
    n_bits = inputs[0].shape[1]
    radius = int(_check_int_values([radius], "radius", 0, n_bits)[0])
    precisions = np.empty(len(inputs[0]))
    sums = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    for block, distances in _distance_chunks(inputs[0], inputs[1]):
        relevance = _relevance(inputs[2][block], inputs[3])
        # one radius: two counts per query, not the histogram over every radius
        in_ball = distances <= radius
        counts = in_ball.sum(axis=1)[:, None], (in_ball & relevance).sum(axis=1)[:, None]
        for name, values in _ball_scores(*counts, relevance).items():
            sums[name] += values.sum(axis=0)
        precisions[block] = _average_precisions(_ranked_relevance(distances, inputs[2][block], inputs[3]), 0.0)
    n_queries = len(inputs[0])
    return {"map": float(np.nanmean(precisions)), **{name: float(total[0] / n_queries) for name, total in sums.items()}}


def precision_recall_curve(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
) -> pd.DataFrame:
    """The precision-recall curve of Hamming ranking, one point per Hamming radius r = 0..n_bits.

    Columns: radius, precision, recall. Each point is the Hamming ball of radius r: precision and
    recall of the items at distance <= r, averaged over queries, exactly as in
    :func:`hamming_radius_metrics` (empty ball: precision 0, GUIDE §3.7). Radius is the natural
    threshold of a Hamming ranking, since every item at one distance is retrieved together; with
    many empty balls at small radii the curve's low-recall end is pulled down by the §3.7 rule.
    """
    curve = hamming_radius_metrics(query_codes, database_codes, query_labels, database_labels)
    return curve[["radius", "precision", "recall"]]


def f1_bucket_curve(
    bucket_index: BucketIndex,
    query_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    k_values: Sequence[int] | np.ndarray,
) -> pd.DataFrame:
    """MCH's F1-bucket curve: hash bucket search (MCH Algorithm 1) for each K, one row per K.

    Columns: k, f1, precision, recall, buckets_visited, buckets_probed. For each K every query runs
    ``bucket_index.search(query_codes, K)``; its retrieved items (item ids index ``database_labels``)
    give a per-query precision (0 if nothing was retrieved), recall (0 if no database item is
    relevant) and F1 = 2PR / (P + R), each averaged over queries, as are the non-empty buckets visited
    and the bucket addresses probed. Items with several codes: build the index with
    :func:`hashkit.index.multi_code_index`.

    MCH's search cost is the number of bucket *addresses* probed (its §2.1 argument counts the
    addresses a growing radius flips to, empty or not), so the book plots ``f1`` against
    ``buckets_probed`` in ascending K, and keeps both columns in its tables.
    """
    query_codes = _check_nonempty(check_codes(query_codes, "query_codes"), "query_codes")
    query_labels, database_labels = _check_label_pair(query_labels, database_labels, len(query_codes))
    k_values = _check_int_values(k_values, "k_values", 1, None)
    columns = ("f1", "precision", "recall", "buckets_visited", "buckets_probed")
    sums = np.zeros((len(k_values), len(columns)))
    for block in _query_blocks(len(query_codes), len(database_labels)):
        n_relevant = _relevance(query_labels[block], database_labels).sum(axis=1)
        for row, k in enumerate(k_values):
            results = bucket_index.search(query_codes[block], int(k))
            n_retrieved = np.array([len(result.ids) for result in results])
            retrieved_ids = np.concatenate([result.ids for result in results]).astype(np.int64)
            if retrieved_ids.size and retrieved_ids.max() >= len(database_labels):
                raise ValueError(
                    f"bucket_index returned item id {retrieved_ids.max()}, but database_labels has "
                    f"only {len(database_labels)} rows; item ids must index database_labels"
                )
            owner = np.repeat(np.arange(len(results)), n_retrieved)
            # each (query, retrieved item) pair scored as a query with a one-item database
            pair_relevance = _relevance(query_labels[block][owner], database_labels[retrieved_ids, None])
            hits = np.bincount(owner, weights=pair_relevance[:, 0], minlength=len(results))
            precision = _ratio_or_zero(hits, n_retrieved)
            recall = _ratio_or_zero(hits, n_relevant)
            sums[row] += [
                _f1(precision, recall).sum(),
                precision.sum(),
                recall.sum(),
                sum(result.buckets_visited for result in results),
                # a Python int: past radius ~20 of 64 bits the addresses outgrow int64
                float(sum(result.buckets_probed for result in results)),
            ]
    means = sums / len(query_codes)
    return pd.DataFrame({"k": k_values, **dict(zip(columns, means.T))})


def average_number_of_hash_codes(
    code_probabilities: Sequence[np.ndarray] | np.ndarray, threshold: float
) -> float:
    """MCH's ANHC (eq. 8): the mean over items of how many candidate codes have P_im >= threshold.

    ``code_probabilities`` holds each item's keep-probabilities for its t_i candidate codes, either
    as a list of 1-D arrays (t_i may differ) or as a 2-D array ``(n_items, max t_i)`` padded with
    NaN, which never counts. MCH fixes the whole image's probability at 1, so pass that entry too
    when an item's whole-image code belongs in the count. ``threshold`` is MCH's ξ, in [0, 1].
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold: expected a probability in [0, 1], got {threshold}")
    if isinstance(code_probabilities, np.ndarray):
        if code_probabilities.ndim != 2:
            raise ValueError(
                "code_probabilities: expected a 2-D array (n_items, max codes per item) or a list "
                f"of 1-D arrays, got an array of shape {code_probabilities.shape}"
            )
        rows = list(code_probabilities)
    else:
        rows = [np.asarray(row, dtype=np.float64) for row in code_probabilities]
    if not rows or any(row.ndim != 1 for row in rows):
        raise ValueError("code_probabilities: expected at least one item, each a 1-D array of probabilities")
    probabilities = np.concatenate(rows).astype(np.float64)
    known = probabilities[~np.isnan(probabilities)]
    if ((known < 0) | (known > 1)).any():
        raise ValueError("code_probabilities: expected probabilities in [0, 1] (NaN for padding)")
    return float(np.count_nonzero(known >= threshold) / len(rows))


# --- shared machinery: validation, distances + relevance, ranking -------------------------------


def _check_inputs(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated (query codes, database codes, query labels, database labels).

    Database codes come back 3-D, ``(n_items, codes_per_item, n_bits)``: one code per item is
    ``codes_per_item = 1``.
    """
    query_codes = _check_nonempty(check_codes(query_codes, "query_codes"), "query_codes")
    database_codes = _check_nonempty(check_item_codes(database_codes, "database_codes"), "database_codes")
    if query_codes.shape[1] != database_codes.shape[2]:
        raise ValueError(
            f"query_codes have {query_codes.shape[1]} bits but database_codes have "
            f"{database_codes.shape[2]}; both must use the same code length"
        )
    query_labels, database_labels = _check_label_pair(
        query_labels, database_labels, len(query_codes), len(database_codes)
    )
    return query_codes, database_codes, query_labels, database_labels


def _check_nonempty(codes: np.ndarray, name: str) -> np.ndarray:
    if len(codes) == 0:
        raise ValueError(f"{name}: expected at least one code, got shape {codes.shape}")
    return codes


def _check_label_pair(
    query_labels: np.ndarray, database_labels: np.ndarray, n_queries: int, n_database: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Validated labels in the form _relevance uses: int64 class ids, or multi-hot rows as uint64 words."""
    query_labels = _check_labels(query_labels, "query_labels", n_queries, "one per query code")
    database_labels = _check_labels(database_labels, "database_labels", n_database, "one per database item")
    if query_labels.ndim != database_labels.ndim or query_labels.shape[1:] != database_labels.shape[1:]:
        raise ValueError(
            f"query_labels {query_labels.shape} and database_labels {database_labels.shape} must "
            "both be 1-D class ids or both multi-hot with the same number of classes"
        )
    if query_labels.ndim == 1:
        return query_labels.astype(np.int64), database_labels.astype(np.int64)
    return _label_words(query_labels), _label_words(database_labels)


def _check_labels(labels: np.ndarray, name: str, n_items: int | None, rows_are: str) -> np.ndarray:
    labels = np.asarray(labels)
    if n_items is not None and (labels.ndim == 0 or len(labels) != n_items):
        raise ValueError(f"{name}: expected {n_items} rows ({rows_are}), got shape {labels.shape}")
    if labels.ndim == 1 and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name}: 1-D labels must be integer class ids, got dtype {labels.dtype}")
    if labels.ndim == 2 and not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{name}: 2-D labels must be multi-hot 0/1 rows (n_items, n_classes)")
    if labels.ndim not in (1, 2):
        raise ValueError(f"{name}: expected 1-D class ids or 2-D multi-hot rows, got shape {labels.shape}")
    return labels


def _label_words(multi_hot: np.ndarray) -> np.ndarray:
    """``(n, ceil(n_classes / 64))`` uint64 words holding the class bits: sharing a label is then
    one AND, several times cheaper than a product of 0/1 rows when gathering ranked items."""
    label_bytes = np.packbits(multi_hot.astype(bool), axis=1)
    n_words = -(-label_bytes.shape[1] // 8)
    padded = np.zeros((len(multi_hot), 8 * n_words), dtype=np.uint8)
    padded[:, : label_bytes.shape[1]] = label_bytes
    return padded.view(np.uint64)


def _check_choice(value: str, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {allowed}, got {value!r}")


def _check_int_values(values: Sequence[int] | np.ndarray, name: str, low: int, high: int | None) -> np.ndarray:
    """A non-empty 1-D int64 array of values in [low, high] (no upper bound when high is None)."""
    array = np.asarray(values)
    is_int_vector = array.ndim == 1 and array.size > 0 and np.issubdtype(array.dtype, np.integer)
    if not is_int_vector or (array < low).any() or (high is not None and (array > high).any()):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: expected a non-empty 1-D sequence of integers in {bounds}, got {values!r}")
    return array.astype(np.int64)


def _relevance(query_labels: np.ndarray, database_labels: np.ndarray) -> np.ndarray:
    """``(n_queries, n_database)`` bool: query i shares at least one label with item j (GUIDE §3.2).

    ``database_labels`` is either one database for every query, ``(n_database[, n_words])``, or one
    per query, ``(n_queries, n_database[, n_words])``, such as each query's ranked items.
    """
    if database_labels.ndim == query_labels.ndim:
        database_labels = database_labels[None]
    query_labels = query_labels[:, None]
    if query_labels.ndim == 2:  # class ids
        return query_labels == database_labels
    return np.any(query_labels & database_labels, axis=-1)


def _query_blocks(n_queries: int, n_columns: int) -> Iterator[slice]:
    """Slices of queries whose ``(queries x n_columns)`` matrix holds about ``_CHUNK_ELEMENTS``."""
    rows = max(1, _CHUNK_ELEMENTS // n_columns)
    for start in range(0, n_queries, rows):
        yield slice(start, start + rows)


def _distance_chunks(query_codes: np.ndarray, database_codes: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (query rows, Hamming distance to every database item) per chunk of queries.

    ``database_codes`` is ``(n_items, codes_per_item, n_bits)``; an item's distance is the minimum
    over its codes (MCH eq. 5). Chunks are sized by the number of codes, the width of the matrix
    before that minimum. Distances are unsigned 8-bit (16-bit above 255 bits) so that a stable
    argsort is a radix sort; ``d = (L - <q, b>) / 2`` from a float32 product is exact for ±1 codes.
    """
    n_items, codes_per_item, n_bits = database_codes.shape
    distance_dtype = np.uint8 if n_bits <= np.iinfo(np.uint8).max else np.uint16
    # code-major columns (code j of item i at j * n_items + i): the minimum over codes is then an
    # elementwise minimum of contiguous (rows x n_items) slabs, not a reduction along a short axis
    database_float = database_codes.transpose(1, 0, 2).reshape(codes_per_item * n_items, n_bits)
    database_float = database_float.astype(np.float32)
    for block in _query_blocks(len(query_codes), len(database_float)):
        distances = query_codes[block].astype(np.float32) @ database_float.T
        if codes_per_item > 1:  # the nearest code has the largest inner product
            distances = distances.reshape(len(distances), codes_per_item, n_items).max(axis=1)
        # in place: this matrix is the largest array here, and each extra pass over it costs time
        np.subtract(n_bits, distances, out=distances)
        distances *= 0.5
        yield block, distances.astype(distance_dtype)


def _ranked_chunks(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    depth: int,
    tie_order: TieOrder,
    seed: int,
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (query rows, relevance of each query's first ``depth`` ranked items) per chunk.

    The one ranking every ranked metric uses: Hamming distance ascending, ties by ``tie_order``.
    Shuffled ties are a stable sort of the database items (each with all its codes) reordered by
    :func:`tie_permutation`.
    Relevance is computed for the ranked items only, not for the whole database.
    """
    _check_choice(tie_order, "tie_order", ("stable", "shuffle"))
    if tie_order == "shuffle":
        permutation = tie_permutation(len(database_codes), seed)
        database_codes, database_labels = database_codes[permutation], database_labels[permutation]
    for block, distances in _distance_chunks(query_codes, database_codes):
        yield block, _ranked_relevance(distances, query_labels[block], database_labels, depth)


def _ranked_relevance(distances: np.ndarray, query_labels: np.ndarray, database_labels: np.ndarray,
                      depth: int | None = None) -> np.ndarray:
    """Relevance of each query's first ``depth`` items (all when ``None``) by distance, ties in index order."""
    ranked_items = np.argsort(distances, axis=1, kind="stable")[:, :depth]
    return _relevance(query_labels, database_labels[ranked_items])


def _ball_counts(distances: np.ndarray, relevance: np.ndarray, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Per query and radius r = 0..n_bits: items, and relevant items, at distance <= r."""
    n_rows, n_radii = len(distances), n_bits + 1
    # One bincount over (row, distance) cells histograms every query at once.
    cells = distances + n_radii * np.arange(n_rows)[:, None]
    in_ball = np.bincount(cells.ravel(), minlength=n_rows * n_radii).reshape(n_rows, n_radii)
    relevant = np.bincount(cells[relevance], minlength=n_rows * n_radii).reshape(n_rows, n_radii)
    return np.cumsum(in_ball, axis=1), np.cumsum(relevant, axis=1)


def _average_precisions(ranked_relevance: np.ndarray, missing: float) -> np.ndarray:
    """AP of each row of ranked relevance (its whole length); ``missing`` where a row has no hit."""
    hits = np.cumsum(ranked_relevance, axis=1)
    n_hits = hits[:, -1]
    precision_sum = np.sum(hits / np.arange(1, ranked_relevance.shape[1] + 1) * ranked_relevance, axis=1)
    return np.where(n_hits > 0, precision_sum / np.maximum(n_hits, 1), missing)


def _ball_scores(in_ball: np.ndarray, relevant_in_ball: np.ndarray, relevance: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of Hamming balls from their counts, per query (rows) and radius (columns)."""
    precision = _ratio_or_zero(relevant_in_ball, in_ball)
    recall = _ratio_or_zero(relevant_in_ball, relevance.sum(axis=1)[:, None])
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def _ratio_or_zero(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (empty set: precision or recall 0)."""
    numerator, denominator = np.broadcast_arrays(np.asarray(numerator, float), np.asarray(denominator, float))
    return np.divide(numerator, denominator, out=np.zeros(numerator.shape), where=denominator > 0)


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    return _ratio_or_zero(2 * precision * recall, precision + recall)


def shared_positive_codes(query_codes: np.ndarray, database_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes whose Hamming ranking is DSHC's multi-label ranking: by shared *positive* bits, most first.

    DSHC (§4.1) turns a multi-label code's −1s into 0s and ranks by ``½(L − ⟨h_q, h_d⟩)`` on those
    0/1 codes: the more predicted labels two images share, the closer they are, and two images that
    both *lack* a label are not brought closer by it, as they are under Hamming distance. For 0/1
    vectors ``x`` (query) and ``y`` (item), ``Hamming(x, y) = |x| + |y| − 2⟨x, y⟩``; appending
    ``L`` bits, all +1 to the query and ``|y|`` of +1 then −1 to the item, adds ``L − |y|``, so the
    distance becomes ``|x| + L − 2⟨x, y⟩``: for each query, the same order as the paper's, ties
    included. Every ranked metric (mAP, P@N, the PR curve) then takes these codes as they are;
    distances *within a radius* are shifted per query and mean nothing.

    Returns ``(query codes, database codes)`` of ``2L`` bits, ``int8`` ±1.
    """
    query_codes = check_codes(query_codes, "query_codes")
    database_codes = check_codes(database_codes, "database_codes")
    n_bits = query_codes.shape[1]
    if database_codes.shape[1] != n_bits:
        raise ValueError(f"query_codes have {n_bits} bits but database_codes have {database_codes.shape[1]}")
    positives = (database_codes > 0).sum(axis=1)
    unary = np.where(np.arange(n_bits)[None, :] < positives[:, None], 1, -1).astype(np.int8)
    query_side = np.hstack([query_codes, np.ones((len(query_codes), n_bits), dtype=np.int8)])
    return query_side, np.hstack([database_codes, unary])
