"""The Fashion-MNIST mosaic set: a multi-label stand-in for NUS-WIDE, MS-COCO and MIR FLICKR.

Each mosaic is a canvas twice the size of one source image each way (56×56 for Fashion-MNIST)
holding one to four source items. A mosaic's labels are the set of classes of its items, so one
image can hold a bag and a sneaker: MCH's premise (its Figure 1: one image with a dog and a cat),
on data that exists offline. Where every item sits is kept (:meth:`MosaicLayout.item_boxes`), so
region-based methods can be checked against where the objects really are.

Two layouts, chosen by ``make_fashion_mosaic(..., layout=...)``:

* ``"grid"`` (the default): the canvas is a 2×2 grid of cells, each the size of one source image;
  the items sit unchanged in randomly chosen cells and the other cells stay black.
* ``"jittered"``: the same items (and so the same labels) as ``"grid"`` for the same seed, but each
  item is shrunk by a random factor (``scale_range``, bilinear with anti-aliasing) and placed at a
  random position anywhere on the canvas where it fits; where items overlap, the brighter pixel
  wins (items are bright on black). It exists because the grid flatters crop-based methods: MCH
  crops the four corners and the centre at side ratio σ, and at σ = 0.5 the corner crops are
  *exactly* the four cells, so every crop holds one whole item or nothing. With jittered items,
  crops cut items, hold several, or miss them, as crops of real photographs do.

Slots are numbered like the grid's cells, row-major: 0 top-left, 1 top-right, 2 bottom-left,
3 bottom-right. In a jittered mosaic a slot is the cell the grid draw chose for the item; the
item itself may sit anywhere, as its box says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hashkit.data.dataset import ArrayImages, ImageDataset

GRID = 2
N_CELLS = GRID * GRID
# Probabilities of 1, 2, 3, 4 items per mosaic: 2.3 items on average. Two items of one class
# give a single label, so the mean label count is about 2.1, close to NUS-WIDE-21's ~2.
DEFAULT_ITEM_COUNT_PROBABILITIES = (0.25, 0.35, 0.25, 0.15)
DEFAULT_N_MOSAICS = 20_000
LAYOUTS = ("grid", "jittered")
DEFAULT_SCALE_RANGE = (0.6, 1.0)


@dataclass(frozen=True)
class MosaicLayout:
    """Where the items of each mosaic sit.

    Attributes:
        item_classes: ``(n, 4)`` ``int64`` class of the item in each slot, ``-1`` for an empty slot.
        source_ids: ``(n, 4)`` ``int64`` index into the source dataset of the item in each slot,
            ``-1`` for an empty slot. No source index appears twice in a mosaic set.
        cell_size: ``(height, width)`` of one cell (one source image) in pixels; the canvas is
            twice that each way.
        layout: ``"grid"`` (items fill the cells of their slots) or ``"jittered"`` (resized items
            anywhere on the canvas; see the module docstring).
        boxes: ``(n, 4, 4)`` ``int64`` explicit pixel box ``(top, left, bottom, right)`` of the
            item in each slot, bottom/right exclusive, all ``-1`` for an empty slot; ``None`` for
            the grid layout, whose boxes are the cells.
    """

    item_classes: np.ndarray
    source_ids: np.ndarray
    cell_size: tuple[int, int]
    layout: str = "grid"
    boxes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout: expected one of {', '.join(map(repr, LAYOUTS))}, got {self.layout!r}")
        if self.boxes is not None and self.boxes.shape != (*self.item_classes.shape, 4):
            raise ValueError(
                f"boxes: expected shape {(*self.item_classes.shape, 4)} (one box per slot), "
                f"got {self.boxes.shape}"
            )

    def cell_boxes(self) -> np.ndarray:
        """``(4, 4)`` pixel box ``(top, left, bottom, right)`` of each cell; bottom/right exclusive."""
        height, width = self.cell_size
        rows, cols = np.divmod(np.arange(N_CELLS), GRID)
        return np.stack([rows * height, cols * width, (rows + 1) * height, (cols + 1) * width], axis=1)

    def item_boxes(self) -> np.ndarray:
        """``(n, 4, 4)`` pixel box of the item in each slot of each mosaic, all ``-1`` for empty slots."""
        if self.boxes is not None:
            return self.boxes
        boxes = np.broadcast_to(self.cell_boxes(), (*self.item_classes.shape, 4))
        return np.where((self.item_classes >= 0)[..., None], boxes, -1)

    def items_per_image(self) -> np.ndarray:
        """``(n,)`` number of items in each mosaic."""
        return (self.item_classes >= 0).sum(axis=1)

    def items_inside(self, image_ids: np.ndarray, boxes: np.ndarray, min_share: float = 0.5) -> np.ndarray:
        """``(k,)`` ``int64`` number of items of mosaic ``image_ids[i]`` inside crop box ``boxes[i]``.

        An item counts as inside when at least ``min_share`` of its box's area lies within the crop
        box ``(top, left, bottom, right)`` (bottom/right exclusive, in canvas pixels; a crop may
        reach past the canvas). For sorting crops by content: empty, one item, several.
        """
        if not (isinstance(min_share, (int, float)) and 0 < min_share <= 1):
            raise ValueError(f"min_share: expected a number in (0, 1], got {min_share!r}")
        image_ids = np.asarray(image_ids)
        boxes = np.asarray(boxes)
        n_images = len(self.item_classes)
        if image_ids.ndim != 1 or (image_ids.size and not np.issubdtype(image_ids.dtype, np.integer)):
            raise ValueError(
                f"image_ids: expected a 1-D integer array, got {image_ids.dtype} of shape {image_ids.shape}"
            )
        if image_ids.size and (image_ids.min() < 0 or image_ids.max() >= n_images):
            raise ValueError(f"image_ids: expected mosaic indices in 0..{n_images - 1}, "
                             f"got min {image_ids.min()}, max {image_ids.max()}")
        if boxes.shape != (len(image_ids), 4):
            raise ValueError(f"boxes: expected shape ({len(image_ids)}, 4) (one crop box per image id), "
                             f"got {boxes.shape}")
        items = self.item_boxes()[image_ids].astype(np.int64)  # (k, 4, 4)
        crops = boxes.astype(np.int64)[:, None, :]  # (k, 1, 4)
        heights = np.clip(np.minimum(items[..., 2], crops[..., 2]) - np.maximum(items[..., 0], crops[..., 0]), 0, None)
        widths = np.clip(np.minimum(items[..., 3], crops[..., 3]) - np.maximum(items[..., 1], crops[..., 1]), 0, None)
        areas = (items[..., 2] - items[..., 0]) * (items[..., 3] - items[..., 1])
        occupied = self.item_classes[image_ids] >= 0
        inside = occupied & (heights * widths >= min_share * areas)
        return inside.sum(axis=1).astype(np.int64)


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


def resize_items(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """``uint8`` items ``(k, h, w[, 3])`` resized to ``(k, height, width[, 3])`` as the jittered layout does.

    Bilinear with anti-aliasing (``torch.nn.functional.interpolate``), rounded to the nearest
    integer; an item already of that size is returned unchanged.
    """
    if pixels.shape[1:3] == (height, width):
        return pixels
    import torch
    import torch.nn.functional as F

    channels_last = pixels.ndim == 4
    batch = torch.from_numpy(np.ascontiguousarray(pixels)).to(torch.float32)
    batch = batch.permute(0, 3, 1, 2) if channels_last else batch[:, None]
    resized = F.interpolate(batch, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    resized = resized.round_().clamp_(0, 255).to(torch.uint8)
    resized = resized.permute(0, 2, 3, 1) if channels_last else resized[:, 0]
    return np.ascontiguousarray(resized.numpy())


def _jittered_canvas(
    source_pixels: np.ndarray, source_ids: np.ndarray, scale_range: tuple[float, float], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels ``(n, 2h, 2w[, 3])`` and item boxes ``(n, 4, 4)`` of the jittered layout."""
    n_mosaics = len(source_ids)
    cell_height, cell_width = source_pixels.shape[1:3]
    canvas_height, canvas_width = GRID * cell_height, GRID * cell_width
    # A generator of its own, so the grid draws (and so items and labels) are the same as "grid"'s.
    jitter_rng = np.random.default_rng([seed, 1])
    low, high = scale_range
    scales = jitter_rng.uniform(low, high, size=(n_mosaics, N_CELLS))
    where = jitter_rng.random((n_mosaics, N_CELLS, 2))
    heights = np.maximum(1, np.floor(cell_height * scales + 0.5)).astype(np.int64)
    widths = np.maximum(1, np.floor(cell_width * scales + 0.5)).astype(np.int64)
    tops = np.floor(where[..., 0] * (canvas_height - heights + 1)).astype(np.int64)
    lefts = np.floor(where[..., 1] * (canvas_width - widths + 1)).astype(np.int64)

    occupied = source_ids >= 0
    boxes = np.stack([tops, lefts, tops + heights, lefts + widths], axis=-1)
    boxes[~occupied] = -1

    pixels = np.zeros((n_mosaics, canvas_height, canvas_width, *source_pixels.shape[3:]), dtype=np.uint8)
    mosaic_ids, slots = np.nonzero(occupied)
    sizes = heights[mosaic_ids, slots] * (cell_width + 1) + widths[mosaic_ids, slots]
    for size in np.unique(sizes):
        in_group = sizes == size
        height, width = divmod(int(size), cell_width + 1)
        group_mosaics, group_slots = mosaic_ids[in_group], slots[in_group]
        items = resize_items(source_pixels[source_ids[group_mosaics, group_slots]], height, width)
        # One slot at a time: no mosaic appears twice in a write, so read-max-write is exact.
        for slot in range(N_CELLS):
            of_slot = group_slots == slot
            if not of_slot.any():
                continue
            target = group_mosaics[of_slot]
            rows = tops[target, slot][:, None, None] + np.arange(height)[None, :, None]
            cols = lefts[target, slot][:, None, None] + np.arange(width)[None, None, :]
            index = (target[:, None, None], rows, cols)
            pixels[index] = np.maximum(pixels[index], items[of_slot])
    return pixels, boxes


def make_fashion_mosaic(
    source: ImageDataset,
    n_images: int | None = None,
    seed: int = 0,
    item_count_probabilities: tuple[float, float, float, float] = DEFAULT_ITEM_COUNT_PROBABILITIES,
    layout: Literal["grid", "jittered"] = "grid",
    scale_range: tuple[float, float] = DEFAULT_SCALE_RANGE,
) -> ImageDataset:
    """A multi-label set of mosaics built from a single-label in-memory ``source``.

    Each mosaic holds 1–4 source items (``item_count_probabilities`` gives the chance of each
    count; the default averages 2.3 items and about 2.1 distinct labels per mosaic) on a canvas
    of 2×2 source images. **Every source image is used at most once in the whole set**, so any
    split of the mosaics into query, database and training parts shares no source image between
    parts: a query cannot be found through a copy of one of its own items.

    ``layout="grid"`` puts each item unchanged in a randomly chosen cell of the 2×2 grid;
    ``layout="jittered"`` takes the same items, resizes each by a factor drawn uniformly from
    ``scale_range`` (``0 < low <= high <= 1``; sides rounded, at least 1 px) and puts it at a
    uniformly random position where it fits, overlaps keeping the brighter pixel (see the module
    docstring for why). Its random draws come from a generator of their own, so for one seed
    both layouts hold the same items, labels, ``item_classes`` and ``source_ids``.

    ``n_images`` defaults to 20,000 (capped to what the source can fill: 70,000 Fashion-MNIST
    items allow about 30,000 mosaics at the default counts). The same arguments give
    byte-identical pixels, labels and layout. The result is named ``"fashion-mosaic"`` for a
    Fashion-MNIST source and ``"<source name>-mosaic"`` otherwise (whatever the layout; its
    ``mosaic.layout`` tells); it has no official test part, because its mosaics mix items of
    Fashion-MNIST's train and test parts.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}")
    try:
        low, high = (float(bound) for bound in scale_range)
    except (TypeError, ValueError):
        raise ValueError(f"scale_range: expected two numbers (low, high), got {scale_range!r}") from None
    if not 0 < low <= high <= 1:
        raise ValueError(f"scale_range: expected 0 < low <= high <= 1, got {scale_range!r}")
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
    if layout == "grid":
        cells = np.zeros((n_mosaics, N_CELLS, *cell_pixels), dtype=np.uint8)
        cells[occupied] = source_pixels[chosen_sources]
        # (n, row, col, h, w, ...) -> (n, row, h, col, w, ...) -> (n, 2h, 2w, ...)
        grid = cells.reshape(n_mosaics, GRID, GRID, *cell_pixels).swapaxes(2, 3)
        mosaic_shape = (GRID * cell_height, GRID * cell_width, *cell_pixels[2:])
        pixels = np.ascontiguousarray(grid).reshape(n_mosaics, *mosaic_shape)
        boxes = None
    else:
        pixels, boxes = _jittered_canvas(source_pixels, source_ids, (low, high), seed)

    labels = np.zeros((n_mosaics, source.n_classes), dtype=np.uint8)
    mosaic_of_item, _ = np.nonzero(occupied)
    labels[mosaic_of_item, item_classes[occupied]] = 1

    return ImageDataset(
        name="fashion-mosaic" if source.name == "fashion-mnist" else f"{source.name}-mosaic",
        labels=labels,
        class_names=source.class_names,
        source=ArrayImages(pixels),
        mosaic=MosaicLayout(item_classes, source_ids, (cell_height, cell_width), layout=layout, boxes=boxes),
    )
