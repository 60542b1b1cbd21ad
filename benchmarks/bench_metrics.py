"""mAP@5000 on a NUS-WIDE-sized problem: hashkit.metrics against a research-repo per-query loop.

2,000 queries × 50,000 database items, 64-bit codes, 21 multi-hot labels (1–3 per item, about 2
on average, skewed class frequencies like NUS-WIDE's 21 concepts). Codes are signs of a noisy
projection of the labels, so that items sharing labels share bits and the mAP is far from trivial.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import best_times, row
from hashkit.codes import sign
from hashkit.metrics import mean_average_precision
from hashkit.reference import argsort_mean_average_precision

N_QUERIES, N_DATABASE, N_BITS, N_CLASSES, TOP_K = 2_000, 50_000, 64, 21, 5_000
REPEATS = 2
TARGET_SPEED_UP = 4.0
TARGET_DIFFERENCE = 1e-9


def nus_wide_like_labels(rng: np.random.Generator, n_items: int) -> np.ndarray:
    """Multi-hot ``int8`` labels: 1, 2 or 3 distinct classes per item, drawn with Zipf-like weights."""
    class_weights = 1.0 / np.arange(1, N_CLASSES + 1)
    # weighted sampling without replacement: the m largest of u ** (1 / w) per row
    keys = rng.random((n_items, N_CLASSES)) ** (1.0 / class_weights)
    key_ranks = np.argsort(np.argsort(-keys, axis=1), axis=1)
    labels_per_item = rng.choice([1, 2, 3], size=n_items, p=[0.35, 0.35, 0.30])
    return (key_ranks < labels_per_item[:, None]).astype(np.int8)


def label_correlated_codes(rng: np.random.Generator, labels: np.ndarray, projection: np.ndarray) -> np.ndarray:
    noise = rng.standard_normal((len(labels), N_BITS)) * 1.5
    return sign(labels @ projection + noise)


def run() -> list[dict]:
    rng = np.random.default_rng(2024)
    projection = rng.standard_normal((N_CLASSES, N_BITS))
    query_labels = nus_wide_like_labels(rng, N_QUERIES)
    database_labels = nus_wide_like_labels(rng, N_DATABASE)
    query_codes = label_correlated_codes(rng, query_labels, projection)
    database_codes = label_correlated_codes(rng, database_labels, projection)
    data = (query_codes, database_codes, query_labels, database_labels)

    hashkit_map = mean_average_precision(*data, TOP_K)
    reference_map = argsort_mean_average_precision(*data, TOP_K)
    hashkit_seconds, loop_seconds = best_times(
        [lambda: mean_average_precision(*data, TOP_K), lambda: argsort_mean_average_precision(*data, TOP_K)],
        repeats=REPEATS,
    )
    speed_up = loop_seconds / hashkit_seconds
    difference = abs(hashkit_map - reference_map)

    name = f"mAP@{TOP_K}, {N_QUERIES:,} x {N_DATABASE:,}, {N_BITS} bits, {N_CLASSES} labels"
    return [
        row(name, "mAP (hashkit)", hashkit_map),
        row(name, "hashkit time (s)", hashkit_seconds),
        row(name, "per-query argsort loop time (s)", loop_seconds),
        row(name, "speed-up over the loop (x)", speed_up, f">= {TARGET_SPEED_UP:g}", bool(speed_up >= TARGET_SPEED_UP)),
        row(name, "|mAP - stable-sort loop mAP|", difference, f"<= {TARGET_DIFFERENCE:g}",
            bool(difference <= TARGET_DIFFERENCE)),
    ]
