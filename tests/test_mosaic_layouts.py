"""Tests of the mosaic set's layouts: the 2×2 grid and the jittered layout (resized items at random
places, overlaps composited by maximum), and ``MosaicLayout.items_inside`` for sorting crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hashkit.data import ArrayImages, ImageDataset, MosaicLayout, load_dataset, make_fashion_mosaic

N_MOSAICS = 200


@pytest.fixture(scope="module")
def grid_and_jittered(fashion_mnist_dataset: ImageDataset) -> tuple[ImageDataset, ImageDataset]:
    return (make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=4),
            make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=4, layout="jittered"))


def rgb_source(n_per_class: int = 20, n_classes: int = 3, side: int = 6) -> ImageDataset:
    class_ids = np.repeat(np.arange(n_classes), n_per_class)
    pixels = np.random.default_rng(0).integers(1, 256, size=(class_ids.size, side, side, 3), dtype=np.uint8)
    return ImageDataset(name="rgb", labels=np.eye(n_classes, dtype=np.uint8)[class_ids],
                        class_names=tuple(f"c{index}" for index in range(n_classes)), source=ArrayImages(pixels))


def resized(item: np.ndarray, height: int, width: int) -> np.ndarray:
    """The item resized as the brief says, written out independently of hashkit."""
    if item.shape[:2] == (height, width):
        return item
    batch = torch.from_numpy(item.astype(np.float32))
    batch = batch.permute(2, 0, 1)[None] if item.ndim == 3 else batch[None, None]
    out = F.interpolate(batch, size=(height, width), mode="bilinear", antialias=True)[0]
    out = out.round().clamp(0, 255).to(torch.uint8)
    return (out.permute(1, 2, 0) if item.ndim == 3 else out[0]).numpy()


def composite(source: ImageDataset, mosaic: ImageDataset, index: int) -> np.ndarray:
    """Mosaic ``index`` rebuilt item by item from its layout: each resized item max-ed into its box."""
    layout = mosaic.mosaic
    canvas = np.zeros(mosaic.images([index]).shape[1:], dtype=np.uint8)
    for slot, (top, left, bottom, right) in enumerate(layout.item_boxes()[index]):
        source_id = layout.source_ids[index, slot]
        if source_id < 0:
            assert top == left == bottom == right == -1
            continue
        item = resized(source.images([source_id])[0], bottom - top, right - left)
        canvas[top:bottom, left:right] = np.maximum(canvas[top:bottom, left:right], item)
    return canvas


# ---------------------------------------------------------------- the two layouts

def test_grid_is_the_default_and_unchanged(fashion_mnist_dataset: ImageDataset,
                                           grid_and_jittered: tuple[ImageDataset, ImageDataset]) -> None:
    default, _ = grid_and_jittered
    explicit = make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=4, layout="grid")
    assert default.images(slice(None)).tobytes() == explicit.images(slice(None)).tobytes()
    assert default.labels.tobytes() == explicit.labels.tobytes()
    for attribute in ("item_classes", "source_ids"):
        assert getattr(default.mosaic, attribute).tobytes() == getattr(explicit.mosaic, attribute).tobytes()
    assert default.mosaic.layout == "grid" and default.mosaic.boxes is None
    np.testing.assert_array_equal(default.mosaic.item_boxes(), explicit.mosaic.item_boxes())


def test_jittered_holds_the_grid_items(grid_and_jittered: tuple[ImageDataset, ImageDataset]) -> None:
    grid, jittered = grid_and_jittered
    assert jittered.name == "fashion-mosaic" and jittered.mosaic.layout == "jittered"
    assert jittered.images([0]).shape == (1, 56, 56) and jittered.images([0]).dtype == np.uint8
    np.testing.assert_array_equal(jittered.labels, grid.labels)
    np.testing.assert_array_equal(jittered.mosaic.item_classes, grid.mosaic.item_classes)
    np.testing.assert_array_equal(jittered.mosaic.source_ids, grid.mosaic.source_ids)
    assert not np.array_equal(jittered.images(slice(None)), grid.images(slice(None)))


def test_jittered_is_deterministic_per_seed(fashion_mnist_dataset: ImageDataset,
                                            grid_and_jittered: tuple[ImageDataset, ImageDataset]) -> None:
    _, jittered = grid_and_jittered
    again = make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=4, layout="jittered")
    assert again.images(slice(None)).tobytes() == jittered.images(slice(None)).tobytes()
    assert again.mosaic.boxes.tobytes() == jittered.mosaic.boxes.tobytes()
    other = make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=5, layout="jittered")
    assert not np.array_equal(other.mosaic.boxes, jittered.mosaic.boxes)
    # Another scale range moves and resizes the same items.
    smaller = make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=4, layout="jittered",
                                  scale_range=(0.3, 0.5))
    np.testing.assert_array_equal(smaller.mosaic.source_ids, jittered.mosaic.source_ids)
    assert not np.array_equal(smaller.mosaic.boxes, jittered.mosaic.boxes)


@pytest.mark.parametrize("scale_range", [(0.6, 1.0), (0.25, 0.4), (0.5, 0.5), (0.01, 0.02)])
def test_jittered_boxes_fit_the_canvas_and_the_scale_range(fashion_mnist_dataset: ImageDataset,
                                                           scale_range: tuple[float, float]) -> None:
    mosaic = make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=1, layout="jittered",
                                 scale_range=scale_range)
    layout = mosaic.mosaic
    boxes = layout.item_boxes()
    assert boxes.shape == (N_MOSAICS, 4, 4) and boxes.dtype == np.int64
    occupied = layout.item_classes >= 0
    assert (boxes[~occupied] == -1).all()
    top, left, bottom, right = np.moveaxis(boxes[occupied], -1, 0)
    assert (top >= 0).all() and (left >= 0).all() and (bottom <= 56).all() and (right <= 56).all()
    heights, widths = bottom - top, right - left
    np.testing.assert_array_equal(heights, widths)  # square items keep their aspect
    low, high = scale_range
    assert heights.min() >= max(1, np.floor(28 * low + 0.5)) and heights.max() <= max(1, np.floor(28 * high + 0.5))
    if low < high and 28 * (high - low) >= 4:  # the sizes spread over the range and the places over the canvas
        assert np.unique(heights).size >= 3
        assert top.min() <= 2 and (bottom.max() >= 54) and left.min() <= 2 and right.max() >= 54


def test_jittered_pixels_are_the_max_composite_of_the_resized_items(
        fashion_mnist_dataset: ImageDataset, grid_and_jittered: tuple[ImageDataset, ImageDataset]) -> None:
    _, jittered = grid_and_jittered
    layout = jittered.mosaic
    overlapping = 0
    for index in range(N_MOSAICS):
        image = jittered.images([index])[0]
        covered = np.zeros(image.shape, dtype=int)
        for slot, (top, left, bottom, right) in enumerate(layout.item_boxes()[index]):
            if top < 0:
                continue
            source_item = fashion_mnist_dataset.images([layout.source_ids[index, slot]])[0]
            item = resized(source_item, bottom - top, right - left)
            assert (image[top:bottom, left:right] >= item).all()
            covered[top:bottom, left:right] += 1
        assert not image[covered == 0].any()  # black outside every item box
        overlapping += int((covered > 1).any())
        np.testing.assert_array_equal(image, composite(fashion_mnist_dataset, jittered, index))
    assert overlapping > 0  # the check above met some overlaps


def test_jittered_rgb_source() -> None:
    source = rgb_source()
    mosaic = make_fashion_mosaic(source, n_images=15, seed=2, layout="jittered", scale_range=(0.4, 1.0))
    assert mosaic.name == "rgb-mosaic" and mosaic.images([0]).shape == (1, 12, 12, 3)
    for index in range(len(mosaic)):
        np.testing.assert_array_equal(mosaic.images([index])[0], composite(source, mosaic, index))


def test_load_dataset_passes_the_layout_options(fashion_mnist_dataset: ImageDataset) -> None:
    loaded = load_dataset("fashion-mosaic", None, n_images=N_MOSAICS, seed=3, layout="jittered",
                          scale_range=(0.5, 0.9))
    built = make_fashion_mosaic(fashion_mnist_dataset, n_images=N_MOSAICS, seed=3, layout="jittered",
                                scale_range=(0.5, 0.9))
    assert loaded.mosaic.layout == "jittered"
    assert loaded.images(slice(None)).tobytes() == built.images(slice(None)).tobytes()
    np.testing.assert_array_equal(loaded.mosaic.boxes, built.mosaic.boxes)


# ---------------------------------------------------------------- items_inside

@pytest.mark.parametrize("which", [0, 1])
def test_items_inside_whole_image_and_away_boxes(grid_and_jittered: tuple[ImageDataset, ImageDataset],
                                                 which: int) -> None:
    layout = grid_and_jittered[which].mosaic
    ids = np.arange(N_MOSAICS)
    whole = np.tile([0, 0, 56, 56], (N_MOSAICS, 1))
    np.testing.assert_array_equal(layout.items_inside(ids, whole), layout.items_per_image())
    np.testing.assert_array_equal(layout.items_inside(ids, whole, min_share=1.0), layout.items_per_image())
    for away in ([56, 56, 80, 80], [-20, -20, 0, 0], [10, 10, 10, 30]):  # past the canvas; empty box
        assert not layout.items_inside(ids, np.tile(away, (N_MOSAICS, 1))).any()
    assert layout.items_inside(np.array([], dtype=np.int64), np.zeros((0, 4))).shape == (0,)


def test_items_inside_grid_corner_crops_at_half_side(grid_and_jittered: tuple[ImageDataset, ImageDataset]) -> None:
    layout = grid_and_jittered[0].mosaic
    ids = np.arange(N_MOSAICS)
    side = 28  # sigma = 0.5 of the 56-px canvas
    corners = [(0, 0), (0, 56 - side), (56 - side, 0), (56 - side, 56 - side)]  # cells 0, 1, 2, 3
    for cell, (top, left) in enumerate(corners):
        crops = np.tile([top, left, top + side, left + side], (N_MOSAICS, 1))
        for min_share in (0.5, 1.0, 1e-6):
            counts = layout.items_inside(ids, crops, min_share=min_share)
            np.testing.assert_array_equal(counts, (layout.item_classes[:, cell] >= 0).astype(np.int64))
    # The centre crop at sigma = 0.5 holds a quarter of each item: none at min_share 0.5, all at 0.25.
    centre = np.tile([14, 14, 42, 42], (N_MOSAICS, 1))
    assert not layout.items_inside(ids, centre).any()
    np.testing.assert_array_equal(layout.items_inside(ids, centre, min_share=0.25), layout.items_per_image())


def test_items_inside_hand_made_layout() -> None:
    boxes = np.full((2, 4, 4), -1, dtype=np.int64)
    boxes[0, 0] = [0, 0, 10, 10]
    boxes[0, 2] = [5, 5, 15, 15]
    boxes[1, 3] = [20, 20, 30, 40]
    classes = np.where(boxes[..., 0] >= 0, 1, -1)
    layout = MosaicLayout(classes, np.where(classes >= 0, np.arange(8).reshape(2, 4), -1), (20, 20),
                          layout="jittered", boxes=boxes)
    np.testing.assert_array_equal(layout.item_boxes(), boxes)
    ids = np.array([0, 0, 0, 0, 1, 1, 1])
    crops = np.array([
        [0, 0, 10, 5],     # half of item 0, none of item 2
        [0, 0, 15, 15],    # both items of image 0
        [5, 5, 10, 10],    # a quarter of each
        [10, 10, 40, 40],  # a quarter of item 2
        [20, 20, 30, 30],  # half of image 1's item
        [20, 20, 30, 29],  # just under half
        [0, 0, 40, 40],    # whole canvas
    ])
    np.testing.assert_array_equal(layout.items_inside(ids, crops), [1, 2, 0, 0, 1, 0, 1])
    np.testing.assert_array_equal(layout.items_inside(ids, crops, min_share=0.25), [1, 2, 2, 1, 1, 1, 1])
    np.testing.assert_array_equal(layout.items_inside(ids, crops, min_share=1.0), [0, 2, 0, 0, 0, 0, 1])


# ---------------------------------------------------------------- bad inputs

def test_bad_options_name_the_parameter(grid_and_jittered: tuple[ImageDataset, ImageDataset]) -> None:
    source = rgb_source()
    with pytest.raises(ValueError, match="layout"):
        make_fashion_mosaic(source, n_images=5, layout="random")
    for scale_range in [(0.0, 1.0), (0.8, 0.5), (0.5, 1.2), (-0.1, 0.5), (0.5,), "big"]:
        with pytest.raises(ValueError, match="scale_range"):
            make_fashion_mosaic(source, n_images=5, layout="jittered", scale_range=scale_range)
    with pytest.raises(ValueError, match="scale_range"):  # checked for the grid layout too
        make_fashion_mosaic(source, n_images=5, scale_range=(0.0, 1.0))
    layout = grid_and_jittered[1].mosaic
    crops = np.array([[0, 0, 56, 56]])
    for min_share in (0, 0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match="min_share"):
            layout.items_inside(np.array([0]), crops, min_share=min_share)
    with pytest.raises(ValueError, match="image_ids"):
        layout.items_inside(np.array([N_MOSAICS]), crops)
    with pytest.raises(ValueError, match="boxes"):
        layout.items_inside(np.array([0, 1]), crops)
    with pytest.raises(ValueError, match="layout"):
        MosaicLayout(layout.item_classes, layout.source_ids, (28, 28), layout="spiral")
    with pytest.raises(ValueError, match="boxes"):
        MosaicLayout(layout.item_classes, layout.source_ids, (28, 28), layout="jittered", boxes=np.zeros((1, 4, 4)))
