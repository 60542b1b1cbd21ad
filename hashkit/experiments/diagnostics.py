"""Measurements that explain a result rather than score it: how codes use their bits, how a method
learns round by round, and what its objective prefers.

* :func:`bit_usage` — bits that are constant over the whole database, and whether the queries
  set them the same way (an asymmetric method can rank well while every query sits many bits
  from every database code, which empties a radius-2 lookup).
* :func:`learning_curve` — one training run, scored after every round: mAP, lookup within a
  radius, bit usage, and the share of the time spent in the method's discrete update.
* :func:`offset_objective` — the pairwise objective ``(uᵀb − l·s)²`` with ``s ∈ {−1, +1}`` as a
  function of how many bits every query sets opposite to a database-wide constant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hashkit.deep.engine import TrainedModel, retrieval_codes
from hashkit.experiments.methods import Benchmark, DeepSettings, Fitted, MethodSpec, fit
from hashkit.metrics import map_and_ball_scores


def bit_usage(query_codes: np.ndarray, database_codes: np.ndarray) -> dict[str, float]:
    """How ±1 codes use their bits.

    ``constant database bits``: bits with the same sign on every database item (they cannot tell
    items apart); ``query agreement on constant bits``: the share of (query, constant bit) pairs
    where the query has the database's sign (``NaN`` when no bit is constant); ``database bit
    balance`` and ``query bit balance``: the mean over bits of |mean code value| (0: every bit splits
    the items in half, 1: every bit constant); ``distinct database codes``.
    """
    database_mean = database_codes.mean(axis=0, dtype=np.float64)
    constant = np.abs(database_mean) == 1
    agreement = (float((query_codes[:, constant] == np.sign(database_mean[constant])).mean())
                 if constant.any() else float("nan"))
    return {"constant database bits": int(constant.sum()), "query agreement on constant bits": agreement,
            "database bit balance": float(np.abs(database_mean).mean()),
            "query bit balance": float(np.abs(query_codes.mean(axis=0, dtype=np.float64)).mean()),
            "distinct database codes": len(np.unique(database_codes, axis=0))}


def learning_curve(spec: MethodSpec, benchmark: Benchmark, n_bits: int, settings: DeepSettings, *,
                   epochs_per_point: int, radius: int = 2) -> pd.DataFrame:
    """Fit the deep method ``spec`` once and score it after every ``epochs_per_point`` epochs (a round).

    One row per point: ``round`` (from 1), ``map`` (over the whole database), ``precision``,
    ``recall``, ``f1`` within ``radius``, :func:`bit_usage`'s columns, ``training seconds``
    (cumulated, scoring excluded) and ``update share`` (of those seconds, the part spent in the
    method's update outside gradient descent). The run is the one :func:`~hashkit.experiments.methods.fit`
    makes, so the last point is what :func:`~hashkit.experiments.methods.score` gives at that length.
    """
    return fitted_learning_curve(spec, benchmark, n_bits, settings, epochs_per_point=epochs_per_point,
                                 radius=radius)[0]


def fitted_learning_curve(spec: MethodSpec, benchmark: Benchmark, n_bits: int, settings: DeepSettings, *,
                          epochs_per_point: int, radius: int = 2) -> tuple[pd.DataFrame, Fitted]:
    """:func:`learning_curve`, and the fitted method it followed (its history, its modules)."""
    rows = []
    labels = benchmark.images.labels
    query_labels, database_labels = labels[benchmark.split.query], labels[benchmark.split.database]

    def score_point(model: TrainedModel) -> None:
        finished = len(model.history)
        if finished % epochs_per_point:
            return
        query_codes, database_codes = retrieval_codes(model, benchmark.images, benchmark.split_for(spec.trains_on))
        seconds = float(model.history["seconds"].sum())
        rows.append({"method": spec.name, "round": finished // epochs_per_point,
                     **map_and_ball_scores(query_codes, database_codes, query_labels, database_labels, radius),
                     **bit_usage(query_codes, database_codes), "training seconds": seconds,
                     "update share": float(model.history["update_seconds"].sum()) / seconds})

    fitted = fit(spec, benchmark, n_bits, settings, after_epoch=score_point)
    return pd.DataFrame(rows), fitted


def offset_objective(n_bits: int, similar_share: float) -> pd.DataFrame:
    """The expected pairwise loss per pair when every query flips ``k`` database-wide constant bits.

    Model: class codes that are otherwise uncorrelated; database codes share ``k`` constant bits
    that every query sets the other way. A similar pair then has ``uᵀb = l − 2k`` against the target
    ``l`` (loss ``(2k)²``); a dissimilar pair ``uᵀb ≈ −k`` against ``−l`` (loss ``(l − k)²``). With a
    share ``p`` of similar pairs the expected loss ``p·(2k)² + (1 − p)·(l − k)²`` is smallest at
    ``k = (1 − p)·l / (1 + 3p)``: for ten balanced classes (``p = 0.1``) about 0.69·l, not 0. Columns:
    ``offset bits`` (0 … l) and ``expected loss``.
    """
    offsets = np.arange(n_bits + 1)
    loss = similar_share * (2 * offsets) ** 2 + (1 - similar_share) * (n_bits - offsets) ** 2
    return pd.DataFrame({"offset bits": offsets, "expected loss": loss.astype(float)})


def similar_share(labels: np.ndarray, sample: int = 2048) -> float:
    """The share of pairs of items that share a label.

    Exact for single-label data (``Σ_c (n_c / n)²``); for multi-label data, measured from up to
    ``sample`` items (the first ones, in blocks) against all.
    """
    labels = np.asarray(labels, dtype=np.float32)
    if (labels.sum(axis=1) == 1).all():
        return float(((labels.sum(axis=0) / len(labels)) ** 2).sum())
    rows = labels[:sample]
    shared = sum(int(((rows[start:start + 256] @ labels.T) > 0).sum()) for start in range(0, len(rows), 256))
    return shared / (len(rows) * len(labels))


def offset_summary(curves: pd.DataFrame, train_labels: np.ndarray, n_bits: int) -> pd.DataFrame:
    """The objective's preferred offset (:func:`offset_objective`) beside each method's constant bits at the
    last point of its learning curve, and the share of its training time spent in its discrete update.

    Rows of ``quantity`` and ``value``; ``curves`` are :func:`learning_curve` rows with a ``method`` column.
    """
    share = similar_share(train_labels)
    objective = offset_objective(n_bits, share)
    last = curves[curves["round"] == curves["round"].max()].set_index("method")
    rows = [("share of similar pairs", share),
            ("offset bits at the objective's optimum",
             int(objective.loc[objective["expected loss"].idxmin(), "offset bits"]))]
    rows += [(f"{method} constant database bits, round {int(last.loc[method, 'round'])}",
              int(last.loc[method, "constant database bits"])) for method in last.index]
    rows += [(f"{method} share of training time in its discrete update", float(last.loc[method, "update share"]))
             for method in last.index]
    # object values, so that counts print as counts beside the shares
    return pd.DataFrame(rows, columns=["quantity", "value"], dtype=object)
