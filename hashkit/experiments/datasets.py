"""The datasets a chapter runs on, and a benchmark made of one.

* :func:`load_chapter_data` — the real datasets where their files are given, else the embedded
  stand-ins: a seeded subset of Fashion-MNIST for a single-label set (CIFAR-10), the mosaic set
  for a multi-label one (NUS-WIDE, FLICKR25K).
* :func:`prepare_benchmark` — a dataset under a paper's protocol, with label-free features of
  every item and the subset the shallow methods fit on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset, load_dataset, protocol_split
from hashkit.experiments.methods import Benchmark
from hashkit.features import extract_features

# The training set's subset the shallow methods fit on.
FEATURES_FIT = "shallow fit items"


@dataclass
class ChapterData:
    """A chapter's single-label and multi-label dataset."""

    single_label: ImageDataset
    multi_label: ImageDataset


def seeded_subset(images: ImageDataset, items: int | None, seed: int) -> ImageDataset:
    """``items`` of ``images`` drawn with ``seed``, in their order; all of them when ``items`` is ``None`` or more."""
    if items is None or items >= len(images):
        return images
    return images.subset(np.sort(np.random.default_rng(seed).choice(len(images), items, replace=False)))


def load_chapter_data(p: Mapping[str, object], *, multi_label: str = "nus-wide",
                      mosaic_layout: str | None = None) -> ChapterData:
    """The datasets of a chapter with parameters ``p``: CIFAR-10 from ``cifar10_root``, else
    ``fashion_items`` of Fashion-MNIST; the multi-label set ``multi_label`` from
    ``<multi_label>_root`` (with ``<multi_label>_options``), else ``mosaic_images`` mosaics
    (``mosaic_layout``: the mosaic loader's layouts; ``None``, its default). Draws use ``seeds[0]``."""
    first_seed = p["seeds"][0]
    single = (load_dataset("cifar10", p["cifar10_root"]) if p["cifar10_root"]
              else seeded_subset(load_dataset("fashion-mnist", p["data_root"]), p["fashion_items"], first_seed))
    key = multi_label.replace("-", "_")
    layout = {} if mosaic_layout is None else {"layout": mosaic_layout}
    multi = (load_dataset(multi_label, p[f"{key}_root"], **p[f"{key}_options"]) if p[f"{key}_root"]
             else load_dataset("fashion-mosaic", p["data_root"], n_images=p["mosaic_images"], seed=first_seed, **layout))
    return ChapterData(single, multi)


def prepare_benchmark(images: ImageDataset, protocol: str, paper_dataset: str, seed: int,
                      overrides: Mapping[str, int | None], *, shallow_train: int, feature_source: str,
                      feature_options: Mapping[str, object] | None = None, feature_sets: tuple[str, ...] = (),
                      centre: bool = False, device: str = "cpu", progress: bool = False) -> Benchmark:
    """``images`` under ``protocol``'s split (``overrides``: :func:`~hashkit.data.protocol_split`'s
    ``query_per_class`` … ``train_total``; a ``None`` keeps the paper's draw), the learned
    ``feature_source`` of every item (trained on the training split), further named
    ``feature_sets`` (``"pixels"``), and ``shallow_train`` training items the shallow methods fit on.
    With ``centre`` the learned features have their mean over the training split subtracted (kept in
    ``extras["feature mean"]``), so that their cosines measure how items differ rather than what they share."""
    shallow_train = check_positive_int(shallow_train, "shallow_train")
    split = protocol_split(protocol, images, seed, **{name: value for name, value in overrides.items()
                                                      if value is not None})
    everything = np.arange(len(images))
    options = {"train_indices": split.train, "seed": seed, "device": device, "progress": progress}
    features = extract_features(images, everything, feature_source, **options, **(feature_options or {}))
    named = {name: extract_features(images, everything, name, **options) for name in feature_sets}
    fit_items = np.sort(np.random.default_rng(seed).choice(split.train, min(shallow_train, len(split.train)),
                                                           replace=False))
    extras = {}
    if centre:
        extras["feature mean"] = features[split.train].mean(axis=0)
        features = features - extras["feature mean"]
    return Benchmark(name=images.name, paper_dataset=paper_dataset, images=images, split=split,
                     training_sets={FEATURES_FIT: fit_items}, features=features, sample_size=None, seed=seed,
                     feature_sets=named, extras=extras)
