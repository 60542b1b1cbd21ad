"""The Fashion-MNIST mosaic set: a multi-label stand-in for NUS-WIDE, MS-COCO and MIR FLICKR.

Each mosaic is a 2×2 grid of cells, each cell the size of one source image (28×28 for
Fashion-MNIST, so mosaics are 56×56). One to four source items sit in randomly chosen cells;
the other cells stay black. A mosaic's labels are the set of classes of its items, so one image
can hold a bag and a sneaker: MCH's premise (its Figure 1: one image with a dog and a cat), on
data that exists offline. The cell of every item is kept, so region-based methods can be checked
against where the objects really are.

Cells are numbered row-major: cell 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hashkit.data.dataset import ArrayImages, ImageDataset

GRID = 2
N_CELLS = GRID * GRID
# Probabilities of 1, 2, 3, 4 items per mosaic: 2.3 items on average. Two items of one class
# give a single label, so the mean label count is about 2.1, close to NUS-WIDE-21's ~2.
DEFAULT_ITEM_COUNT_PROBABILITIES = (0.25, 0.35, 0.25, 0.15)
DEFAULT_N_MOSAICS = 20_000


@dataclass(frozen=True)
class MosaicLayout:
    """Where the items of each mosaic sit.

    Attributes:
        item_classes: ``(n, 4)`` ``int64`` class of the item in each cell, ``-1`` for an empty cell.
        source_ids: ``(n, 4)`` ``int64`` index into the source dataset of the item in each cell,
            ``-1`` for an empty cell. No source index appears twice in a mosaic set.
        cell_size: ``(height, width)`` of one cell in pixels.
    """

    item_classes: np.ndarray
    source_ids: np.ndarray
    cell_size: tuple[int, int]

    def cell_boxes(self) -> np.ndarray:
        """``(4, 4)`` pixel box ``(top, left, bottom, right)`` of each cell; bottom/right exclusive."""
        height, width = self.cell_size
        rows, cols = np.divmod(np.arange(N_CELLS), GRID)
        return np.stack([rows * height, cols * width, (rows + 1) * height, (cols + 1) * width], axis=1)

    def item_boxes(self) -> np.ndarray:
        """``(n, 4, 4)`` pixel box of the item in each cell of each mosaic, all ``-1`` for empty cells."""
        boxes = np.broadcast_to(self.cell_boxes(), (*self.item_classes.shape, 4))
        return np.where((self.item_classes >= 0)[..., None], boxes, -1)

    def items_per_image(self) -> np.ndarray:
        """``(n,)`` number of items in each mosaic."""
        return (self.item_classes >= 0).sum(axis=1)


def _item_counts(
    n_images: int | None, probabilities: np.ndarray, n_sources: int, rng: np.random.Generator
) -> np.ndarray:
    """Items per mosaic, drawn so their total fits in ``n_sources`` distinct source images."""
    mean_items = float(probabilities @ np.arange(1, N_CELLS + 1))
    # Drawn counts vary around their mean; 1 % head-room keeps a default-sized set from
    # running out of sources by chance.
    largest = int(n_sources / mean_items * 0.99)
    if n_images is None:
        n_images = min(DEFAULT_N_MOSAICS, largest)
    if not isinstance(n_images, int) or n_images < 1:
        raise ValueError(f"n_images: expected a positive int, got {n_images!r}")
    counts = rng.choice(np.arange(1, N_CELLS + 1), size=n_images, p=probabilities)
    if counts.sum() > n_sources:
        raise ValueError(
            f"n_images={n_images:,}: these mosaics need {counts.sum():,} distinct source images "
            f"(mean {mean_items:.2f} per mosaic), the source has {n_sources:,}; "
            f"ask for at most about {largest:,}"
        )
    return counts


def make_fashion_mosaic(
    source: ImageDataset,
    n_images: int | None = None,
    seed: int = 0,
    item_count_probabilities: tuple[float, float, float, float] = DEFAULT_ITEM_COUNT_PROBABILITIES,
) -> ImageDataset:
    """A multi-label set of 2×2 mosaics built from a single-label in-memory ``source``.

    Each mosaic holds 1–4 source items (``item_count_probabilities`` gives the chance of each
    count; the default averages 2.3 items and about 2.1 distinct labels per mosaic) in randomly
    chosen cells. **Every source image is used at most once in the whole set**, so any split of
    the mosaics into query, database and training parts shares no source image between parts:
    a query cannot be found through a copy of one of its own items.

    ``n_images`` defaults to 20,000 (capped to what the source can fill: 70,000 Fashion-MNIST
    items allow about 30,000 mosaics at the default counts). The same ``seed`` and ``source``
    give byte-identical pixels, labels and layout. The result is named ``"fashion-mosaic"``
    for a Fashion-MNIST source and ``"<source name>-mosaic"`` otherwise; it has no official
    test part, because its mosaics mix items of Fashion-MNIST's train and test parts.
    """
    probabilities = np.asarray(item_count_probabilities, dtype=float)
    valid = probabilities.shape == (N_CELLS,) and (probabilities >= 0).all()
    if not valid or not np.isclose(probabilities.sum(), 1):
        raise ValueError(
            "item_count_probabilities: expected 4 non-negative numbers summing to 1 "
            f"(chances of 1, 2, 3, 4 items), got {item_count_probabilities!r}"
        )
    if not isinstance(source.source, ArrayImages):
        raise ValueError(f"source: dataset {source.name!r} must hold its images in memory")
    source_classes = source.class_ids()  # raises on a multi-label source
    rng = np.random.default_rng(seed)
    counts = _item_counts(n_images, probabilities, len(source), rng)
    n_mosaics = len(counts)

    # Items: a prefix of one random permutation of the sources, so none is used twice.
    chosen_sources = rng.permutation(len(source))[: counts.sum()]
    # Cells: the first `count` cells of a random ordering of the four cells of each mosaic.
    cell_order = np.argsort(rng.random((n_mosaics, N_CELLS)), axis=1)
    occupied = np.zeros((n_mosaics, N_CELLS), dtype=bool)
    np.put_along_axis(occupied, cell_order, np.arange(N_CELLS) < counts[:, None], axis=1)

    source_ids = np.full((n_mosaics, N_CELLS), -1, dtype=np.int64)
    source_ids[occupied] = chosen_sources
    item_classes = np.where(occupied, source_classes[np.maximum(source_ids, 0)], -1)

    source_pixels = source.source.pixels
    cell_pixels = source_pixels.shape[1:]  # (h, w) or (h, w, 3)
    cell_height, cell_width = cell_pixels[:2]
    cells = np.zeros((n_mosaics, N_CELLS, *cell_pixels), dtype=np.uint8)
    cells[occupied] = source_pixels[chosen_sources]
    # (n, row, col, h, w, ...) -> (n, row, h, col, w, ...) -> (n, 2h, 2w, ...)
    grid = cells.reshape(n_mosaics, GRID, GRID, *cell_pixels).swapaxes(2, 3)
    mosaic_shape = (GRID * cell_height, GRID * cell_width, *cell_pixels[2:])
    pixels = np.ascontiguousarray(grid).reshape(n_mosaics, *mosaic_shape)

    labels = np.zeros((n_mosaics, source.n_classes), dtype=np.uint8)
    mosaic_of_item, _ = np.nonzero(occupied)
    labels[mosaic_of_item, item_classes[occupied]] = 1

    return ImageDataset(
        name="fashion-mosaic" if source.name == "fashion-mnist" else f"{source.name}-mosaic",
        labels=labels,
        class_names=source.class_names,
        source=ArrayImages(pixels),
        mosaic=MosaicLayout(item_classes, source_ids, (cell_height, cell_width)),
    )
