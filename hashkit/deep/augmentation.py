"""Training-time augmentation of a batch of images, drawn from the run's seeded generator.

``"crop-flip"`` is the standard CIFAR recipe of the ResNet papers {cite}`he2016resnet`: pad by 4
pixels with zeros, take a random crop of the original size, and flip horizontally with
probability ½. DSHC trains its CIFAR-style ResNet for 160 epochs, which is where this recipe
comes from; the paper does not say whether it augments, so it is a parameter.
"""

from __future__ import annotations

import torch
from torch.nn import functional

AUGMENTATIONS = ("none", "crop-flip")
CROP_PADDING = 4


def check_augmentation(name: str) -> str:
    """``name`` if it is one of :data:`AUGMENTATIONS`, else a ``ValueError`` naming ``augmentation``."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"augmentation: expected one of {', '.join(AUGMENTATIONS)}, got {name!r}")
    return name


def augment(images: torch.Tensor, name: str, generator: torch.Generator) -> torch.Tensor:
    """``images`` ``(batch, channels, height, width)`` augmented by ``name`` (``"none"``: as they are)."""
    if name == "none":
        return images
    batch, _, height, width = images.shape
    padded = functional.pad(images, (CROP_PADDING,) * 4)
    tops = torch.randint(0, 2 * CROP_PADDING + 1, (batch,), generator=generator).tolist()
    lefts = torch.randint(0, 2 * CROP_PADDING + 1, (batch,), generator=generator).tolist()
    flips = (torch.rand(batch, generator=generator) < 0.5).tolist()
    crops = [padded[item, :, top:top + height, left:left + width] for item, top, left in zip(range(batch), tops, lefts)]
    return torch.stack([crop.flip(-1) if flip else crop for crop, flip in zip(crops, flips)])
