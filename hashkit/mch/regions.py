"""MCH's image regions: random crops for the agent (Alg. 2), four corners and the centre for coding (§4.3).

A region is a box ``(top, left, bottom, right)`` in pixels (bottom and right exclusive) of side
``σ`` times the image's side. Every region is resized back to the image's own size, the network's
input, by ``torchvision.ops.roi_align`` (bilinear), which crops and resizes a whole batch of
differently placed boxes in one call; the whole image as a box gives back the image exactly, so
``σ = 1`` codes every crop as the whole image (MCH then degenerates to its base model, §5.5).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torchvision.transforms.v2.functional import InterpolationMode, resize

CropScale = Literal["fixed", "range"]
RegionMode = Literal["crop", "mask"]
N_FIXED_REGIONS = 5  # §4.3: four corners and one middle
REGION_NAMES = ("top-left", "top-right", "bottom-left", "bottom-right", "centre")


def check_ratio(value: float, name: str) -> float:
    """A ratio in [0, 1] (σ, ξ), else a ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)


def crop_side(size: int, sigma: float, min_side: int = 1) -> int:
    """The side in pixels of a region of ratio ``sigma`` on a side of ``size`` pixels, at least ``min_side``."""
    side = int(round(check_ratio(sigma, "sigma") * size))
    if side < min_side:
        raise ValueError(f"sigma: {sigma} gives {side}-pixel crops of a {size}-pixel image; the base model "
                         f"needs at least {min_side} pixels, so sigma must be at least {min_side / size:.3f}")
    return side


def fixed_boxes(height: int, width: int, sigma: float, min_side: int = 1) -> np.ndarray:
    """``(5, 4)`` boxes of §4.3, in :data:`REGION_NAMES` order: the four corners and the centre."""
    crop_height, crop_width = crop_side(height, sigma, min_side), crop_side(width, sigma, min_side)
    tops = [0, 0, height - crop_height, height - crop_height, (height - crop_height) // 2]
    lefts = [0, width - crop_width, 0, width - crop_width, (width - crop_width) // 2]
    return np.array([[top, left, top + crop_height, left + crop_width] for top, left in zip(tops, lefts)],
                    dtype=np.int64)


def random_boxes(n_boxes: int, height: int, width: int, sigma: float, rng: np.random.Generator,
                 scale: CropScale = "fixed", min_side: int = 1) -> np.ndarray:
    """``(n_boxes, 4)`` square-ratio boxes at uniform positions: Alg. 2's "randomly crop a region".

    ``scale="fixed"``: side ratio ``sigma``, so the agent learns on regions of the size it will
    judge (the paper leaves the training crops' size unstated); ``"range"``: a side ratio drawn
    uniformly from ``[sigma, 1]`` per box.
    """
    if scale not in ("fixed", "range"):
        raise ValueError(f"train_crop: expected 'fixed' or 'range', got {scale!r}")
    ratios = np.full(n_boxes, check_ratio(sigma, "sigma")) if scale == "fixed" else rng.uniform(sigma, 1.0, n_boxes)
    crop_side(min(height, width), sigma, min_side)  # the smallest box is checked once, with a clear message
    heights = np.maximum(np.rint(ratios * height).astype(np.int64), min_side)
    widths = np.maximum(np.rint(ratios * width).astype(np.int64), min_side)
    tops = np.floor(rng.random(n_boxes) * (height - heights + 1)).astype(np.int64)
    lefts = np.floor(rng.random(n_boxes) * (width - widths + 1)).astype(np.int64)
    return np.stack([tops, lefts, tops + heights, lefts + widths], axis=1)


def crop_regions(images: torch.Tensor, boxes: np.ndarray, mode: RegionMode = "crop") -> torch.Tensor:
    """The region ``boxes[i]`` of ``images[i]`` as a network input: ``(n, C, H, W)`` float.

    ``mode="crop"`` (the paper's): the region cut out and resized to the images' size;
    ``"mask"``: the image with everything outside the region set to 0, so the network sees the
    region at its own scale and place (for a base model never trained on enlarged regions).
    """
    if len(boxes) != len(images):
        raise ValueError(f"boxes: expected one box per image ({len(images)}), got {len(boxes)}")
    if mode not in ("crop", "mask"):
        raise ValueError(f"region_mode: expected 'crop' or 'mask', got {mode!r}")
    height, width = images.shape[-2:]
    box = torch.from_numpy(np.array(boxes, dtype=np.int64))
    if mode == "mask":
        rows, cols = torch.arange(height), torch.arange(width)
        inside_rows = (rows >= box[:, 0:1]) & (rows < box[:, 2:3])
        inside_cols = (cols >= box[:, 1:2]) & (cols < box[:, 3:4])
        inside = (inside_rows[:, :, None] & inside_cols[:, None, :])[:, None].to(images.device)
        return images * inside
    regions = torch.empty_like(images)
    sizes = box[:, 2:] - box[:, :2]
    # one gather and one resize per region size (a single size when σ is fixed)
    for size in torch.unique(sizes, dim=0):
        members = torch.nonzero((sizes == size).all(dim=1))[:, 0]
        rows = box[members, 0:1] + torch.arange(int(size[0]))
        cols = box[members, 1:2] + torch.arange(int(size[1]))
        cut = images[members[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
        regions[members] = cut if tuple(size.tolist()) == (height, width) else resize(
            cut, [height, width], interpolation=InterpolationMode.BILINEAR, antialias=True)
    return regions
