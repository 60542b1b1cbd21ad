"""The datasets a chapter runs on: the real ones where their files are given, else the embedded
stand-ins — a seeded subset of Fashion-MNIST for a single-label set (CIFAR-10), the mosaic set
for a multi-label one (NUS-WIDE, FLICKR25K)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hashkit.data import ImageDataset, load_dataset


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
