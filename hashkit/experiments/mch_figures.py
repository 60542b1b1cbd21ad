"""What MCH's illustrative figures show, computed from a run: Fig. 2's regions and decisions, Fig. 1's
bucket lookups, Fig. 8's retrievals, and the keep rate by what a region holds.

Each function returns arrays and tables; the chapter draws them with :mod:`hashkit.plots`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hashkit.codes import hamming_distances
from hashkit.data import ImageDataset, Split
from hashkit.experiments.mch import BaseRun, CodeSet
from hashkit.index import multi_code_index
from hashkit.mch.regions import REGION_NAMES, fixed_boxes


def two_label_example(images: ImageDataset, split: Split, mch_code_set: CodeSet) -> int:
    """The database position of the two-label image whose most confident region the policy likes best."""
    two_labels = np.flatnonzero(images.labels[split.database].sum(axis=1) == 2)
    if len(two_labels) == 0:
        raise ValueError(f"{images.name}: no database image has exactly two labels to show")
    return int(two_labels[np.argmax(mch_code_set.keep_probabilities[two_labels].max(axis=1))])


def region_decisions(images: ImageDataset, split: Split, base: CodeSet, mch_code_set: CodeSet, item: int,
                     sigma: float, xi: float) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Fig. 2 from the run: database item ``item`` whole and in its five regions, each captioned with
    P(keep), the decision at ``xi`` and its code's distance to the whole image's; returns the six
    images, their captions and one box each ``(6, 1, 4)``."""
    image = images.images(split.database[[item]])
    height, width = image.shape[1:3]
    whole_code = base.database_codes[item]
    distances = hamming_distances(mch_code_set.region_codes[item], whole_code[None])[:, 0]
    captions = ["whole image\nalways kept"] + [
        f"{name}\nP = {p:.2f}, {'kept' if p >= xi else 'dropped'}\nd to whole = {int(d)}"
        for name, p, d in zip(REGION_NAMES, mch_code_set.keep_probabilities[item], distances)]
    boxes = np.concatenate([[[0, 0, height, width]], fixed_boxes(height, width, sigma)])[:, None, :]
    return np.repeat(image, len(captions), axis=0), captions, boxes


def bucket_lookups(images: ImageDataset, split: Split, base: CodeSet, mch_code_set: CodeSet, item: int) -> pd.DataFrame:
    """Fig. 1 on a real image: for one single-label query of each of ``item``'s classes, the radius at which
    Algorithm 1 finds the item and the addresses it probes, under the base model's one code and MCH's codes."""
    query_labels = images.labels[split.query]
    rows = []
    for column in np.flatnonzero(images.labels[split.database[item]]):
        queries = np.flatnonzero(query_labels[:, column] & (query_labels.sum(axis=1) == 1))
        if len(queries) == 0:
            continue
        row = {"query class": images.class_names[column]}
        for method, codes in ((base.method, base.database_codes[item][None]),
                              (mch_code_set.method, mch_code_set.database_codes[item][None])):
            found = multi_code_index(codes).search(mch_code_set.query_codes[queries[:1]], 1)[0]
            row |= {f"radius ({method})": found.radius, f"addresses probed ({method})": found.buckets_probed}
        rows.append(row)
    return pd.DataFrame(rows)


def retrieval_strip(images: ImageDataset, split: Split, base: CodeSet, mch_code_set: CodeSet, seed: int,
                    n_queries: int = 3, per_query: int = 10) -> tuple[np.ndarray, list[str]]:
    """Fig. 8: ``n_queries`` random queries, each followed by the ``per_query`` relevant database images
    nearest under MCH, captioned with their distance under the base model (H@base) and under MCH."""
    query_labels, database_labels = images.labels[split.query], images.labels[split.database]
    strip, captions = [], []
    for query in np.random.default_rng(seed).choice(len(split.query), n_queries, replace=False):
        relevant = np.flatnonzero(database_labels @ query_labels[query] > 0)
        query_code = mch_code_set.query_codes[[query]]
        single = hamming_distances(query_code, base.database_codes[relevant])[0]
        multi = np.min([hamming_distances(query_code, mch_code_set.database_codes[relevant, slot])[0]
                        for slot in range(mch_code_set.database_codes.shape[1])], axis=0)
        nearest = np.argsort(multi, kind="stable")[:per_query]
        strip += [images.images(split.query[[query]])[0], *images.images(split.database[relevant[nearest]])]
        captions += ["query"] + [f"H@{base.method} {single[i]}\nH@MCH {multi[i]}" for i in nearest]
    return np.stack(strip), captions


def keep_by_content(images: ImageDataset, runs: Mapping[str, BaseRun], xi: float) -> pd.DataFrame:
    """On a mosaic: the held-out regions of each base's agent by what they hold (empty, one item, several:
    items with at least half their box inside), with the share kept and the share with a positive reward."""
    rows = []
    for base, run in runs.items():
        report = run.mch.report_
        inside = images.mosaic.items_inside(report.held_out_images, report.held_out_boxes)
        content = np.select([inside == 0, inside == 1], ["empty", "one item"], "several items")
        for kind in ("empty", "one item", "several items"):
            chosen = content == kind
            rows.append({"method": f"MCH-{base}", "region holds": kind, "regions": int(chosen.sum()),
                         "kept (P ≥ ξ)": float(np.mean(report.held_out_probabilities[chosen] >= xi))
                         if chosen.any() else np.nan,
                         "positive reward": float(np.mean(report.held_out_rewards[chosen] > 0))
                         if chosen.any() else np.nan})
    return pd.DataFrame(rows)
