"""The shallow estimators on the Fashion-MNIST FDAH split, on the default label-free features.

Per method: fit time and encode throughput at 32 bits with 10,000 training items, and mAP@all
(10,000 official-test queries against the 60,000-image database) at 12, 24, 32 and 48 bits. Two
rows check the shape the papers report: supervised above unsupervised, and ITQ above LSH.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import row
from hashkit.data import load_dataset, protocol_split
from hashkit.features import DEFAULT_LEARNED_METHOD, extract_features
from hashkit.metrics import mean_average_precision
from hashkit.shallow import SUPERVISED, UNSUPERVISED

SEED = 0
N_TRAIN = 10_000
BITS = (12, 24, 32, 48)
TIMED_BITS = 32


def run() -> list[dict]:
    fashion = load_dataset("fashion-mnist")
    split = protocol_split("fdah", fashion, SEED)
    features = extract_features(fashion, np.arange(len(fashion)), "learned", train_indices=split.train, seed=SEED,
                                progress=False)
    fit_items = np.random.default_rng(SEED).choice(split.train, size=N_TRAIN, replace=False)
    class_ids = fashion.class_ids()
    setting = f"Fashion-MNIST FDAH split, {DEFAULT_LEARNED_METHOD} features ({features.shape[1]}-d)"
    rows, map_at = [], {}
    for cls in UNSUPERVISED + SUPERVISED:
        for bits in BITS:
            started = time.perf_counter()
            hasher = cls(bits).fit(features[fit_items], class_ids[fit_items])
            fit_seconds = time.perf_counter() - started
            started = time.perf_counter()
            database_codes = hasher.encode(features[split.database])
            encode_seconds = time.perf_counter() - started
            map_at[cls.__name__, bits] = mean_average_precision(
                hasher.encode(features[split.query]), database_codes, class_ids[split.query], class_ids[split.database])
            rows.append(row(f"{cls.__name__}, {setting}", f"mAP@all, {bits} bits", map_at[cls.__name__, bits]))
            if bits == TIMED_BITS:
                rows.append(row(f"{cls.__name__}, {setting}", f"fit seconds, {N_TRAIN:,} items, {bits} bits",
                                fit_seconds))
                rows.append(row(f"{cls.__name__}, {setting}", f"encode items/s, {bits} bits",
                                len(split.database) / encode_seconds))
    for bits in BITS:
        supervised = np.mean([map_at[cls.__name__, bits] for cls in SUPERVISED])
        unsupervised = np.mean([map_at[cls.__name__, bits] for cls in UNSUPERVISED])
        rows.append(row(f"mean mAP, supervised minus unsupervised, {setting}", f"{bits} bits",
                        supervised - unsupervised, "> 0", bool(supervised > unsupervised)))
        itq_gain = map_at["ITQ", bits] - map_at["LSH", bits]
        rows.append(row(f"mAP of ITQ minus LSH, {setting}", f"{bits} bits", itq_gain, "> 0", bool(itq_gain > 0)))
    return rows
