"""One dataset type for every source: multi-hot labels, class names, and images on request.

Pixels live either in memory (:class:`ArrayImages`: Fashion-MNIST, CIFAR-10, the mosaic set) or
on disk (:class:`ImageFiles`: the list-file datasets, read and resized only when asked for), so
a 270,000-image NUS-WIDE list costs a list of paths, not 40 GB of pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PIL import Image

from hashkit.data.split import Split

if TYPE_CHECKING:
    from hashkit.data.mosaic import MosaicLayout


class ImageSource(Protocol):
    """Anything that can hand out the pixels of items by index."""

    def __len__(self) -> int: ...

    def read(self, indices: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ArrayImages:
    """Images held in memory as one ``uint8`` array ``(n, H, W)`` or ``(n, H, W, 3)``."""

    pixels: np.ndarray

    def __post_init__(self) -> None:
        if self.pixels.dtype != np.uint8 or self.pixels.ndim not in (3, 4):
            raise ValueError(
                "ArrayImages.pixels: expected a uint8 array (n, H, W) or (n, H, W, 3), "
                f"got {self.pixels.dtype} of shape {self.pixels.shape}"
            )

    def __len__(self) -> int:
        return len(self.pixels)

    def read(self, indices: np.ndarray) -> np.ndarray:
        return self.pixels[indices]


@dataclass(frozen=True)
class ImageFiles:
    """Images stored as files under ``root``; read as RGB and resized to ``size`` = (height, width)."""

    root: Path
    paths: tuple[str, ...]
    size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, indices: np.ndarray) -> np.ndarray:
        height, width = self.size
        batch = np.empty((len(indices), height, width, 3), dtype=np.uint8)
        for row, index in enumerate(indices):
            with Image.open(self.root / self.paths[index]) as image:
                # PIL's size is (width, height); bilinear is the torchvision default for resizing.
                resized = image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
            batch[row] = np.asarray(resized)
        return batch


@dataclass(frozen=True)
class SubsetImages:
    """The items ``indices`` of another source, in that order (see :meth:`ImageDataset.subset`)."""

    source: ImageSource
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)

    def read(self, indices: np.ndarray) -> np.ndarray:
        return self.source.read(self.indices[indices])


@dataclass(frozen=True)
class ImageDataset:
    """A labelled image collection, the one type every loader returns.

    Attributes:
        name: the dataset's name, e.g. ``"fashion-mnist"``; the protocols use it to pick the
            paper setting that applies (see :mod:`hashkit.data.protocols`).
        labels: ``(n, n_classes)`` ``uint8`` multi-hot labels, also for single-label sets, so
            that "relevant = shares a label" is one rule for every dataset.
        class_names: one name per label column.
        source: where the pixels come from; use :meth:`images` rather than reading it directly.
        official_test: boolean mask of the dataset's own test part, or ``None`` where the
            dataset has no official train/test split.
        mosaic: the item layout of a mosaic set (see :func:`hashkit.data.make_fashion_mosaic`),
            ``None`` for other datasets.
        given_split: the split shipped with the data (list-file trios), ``None`` otherwise;
            ``protocol_split("given", dataset)`` returns it.
    """

    name: str
    labels: np.ndarray
    class_names: tuple[str, ...]
    source: ImageSource
    official_test: np.ndarray | None = None
    mosaic: MosaicLayout | None = None
    given_split: Split | None = None

    def __post_init__(self) -> None:
        labels = self.labels
        if labels.ndim != 2 or labels.dtype != np.uint8 or not np.isin(labels, (0, 1)).all():
            raise ValueError(
                f"dataset {self.name!r}: labels must be a (n, n_classes) uint8 array of 0/1, "
                f"got {labels.dtype} of shape {labels.shape}"
            )
        if len(self.class_names) != labels.shape[1]:
            raise ValueError(
                f"dataset {self.name!r}: {len(self.class_names)} class names for "
                f"{labels.shape[1]} label columns"
            )
        if len(self.source) != len(labels):
            raise ValueError(
                f"dataset {self.name!r}: {len(self.source)} images but {len(labels)} label rows"
            )
        if self.official_test is not None and (
            self.official_test.dtype != bool or self.official_test.shape != (len(labels),)
        ):
            raise ValueError(
                f"dataset {self.name!r}: official_test must be a boolean mask of shape "
                f"({len(labels)},), got {self.official_test.dtype} of shape {self.official_test.shape}"
            )
        if self.given_split is not None:
            split = self.given_split
            referenced = np.concatenate([split.query, split.database, split.train])
            if referenced.size and referenced.max() >= len(labels):
                raise ValueError(
                    f"dataset {self.name!r}: given_split refers to item {referenced.max()}, "
                    f"but the dataset has {len(labels)} items"
                )

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_classes(self) -> int:
        return self.labels.shape[1]

    @property
    def is_multi_label(self) -> bool:
        """True when some item holds other than exactly one label."""
        return bool((self.labels.sum(axis=1) != 1).any())

    def class_ids(self) -> np.ndarray:
        """1-D ``int64`` class index per item; only for single-label datasets."""
        per_item = self.labels.sum(axis=1)
        if (per_item != 1).any():
            offending = int(np.flatnonzero(per_item != 1)[0])
            raise ValueError(
                f"dataset {self.name!r} is multi-label (item {offending} has "
                f"{int(per_item[offending])} labels); class_ids() needs exactly one label per "
                "item, use .labels (multi-hot) instead"
            )
        return self.labels.argmax(axis=1).astype(np.int64)

    def subset(self, indices: np.ndarray) -> ImageDataset:
        """The items ``indices`` (distinct, in range) as a dataset of their own, under the same name.

        Labels, pixels and the official test mask follow the items, so a protocol split of the
        subset follows the paper's setting for the full dataset: what a smaller run (a smoke test, a
        quick exercise) needs. A mosaic layout and a shipped split do not carry over.
        """
        indices = np.asarray(indices)
        if (indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer) or len(np.unique(indices)) != len(indices)
                or (indices.size and (indices.min() < 0 or indices.max() >= len(self)))):
            raise ValueError(f"indices: expected distinct item indices of dataset {self.name!r} "
                             f"(0..{len(self) - 1}), got {indices.dtype} of shape {indices.shape}")
        indices = indices.astype(np.int64)
        return ImageDataset(
            name=self.name, labels=self.labels[indices], class_names=self.class_names,
            source=SubsetImages(self.source, indices),
            official_test=None if self.official_test is None else self.official_test[indices],
        )

    def images(self, indices: np.ndarray | list[int] | slice) -> np.ndarray:
        """``uint8`` pixels of the given items: ``(len, H, W)`` grey or ``(len, H, W, 3)`` RGB."""
        positions = np.arange(len(self))[indices] if isinstance(indices, slice) else np.asarray(indices)
        if positions.ndim != 1 or (positions.size and not np.issubdtype(positions.dtype, np.integer)):
            raise ValueError(
                f"dataset {self.name!r}: images() expects a 1-D integer index array or a slice, "
                f"got {positions.dtype} of shape {positions.shape}"
            )
        if positions.size and (positions.min() < -len(self) or positions.max() >= len(self)):
            raise IndexError(
                f"dataset {self.name!r}: index out of range for {len(self)} items "
                f"(got min {positions.min()}, max {positions.max()})"
            )
        return self.source.read(positions.astype(np.int64))
