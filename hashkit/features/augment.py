"""Random views of an image batch for contrastive training, made with batched torch operations.

Each image gets its own random resized crop (area and aspect ratio drawn per image, as in SimCLR
{cite}`chen2020simclr`), a horizontal flip with probability 1/2 and a brightness and contrast
change; colour images are also turned grey with probability 1/5. All crops, flips and shifts are
one ``affine_grid`` + ``grid_sample`` call, so a batch costs a few tensor operations rather than a
Python loop over images. The randomness comes from the caller's generator, so a seed fixes the views.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_LOG_ASPECT = math.log(4 / 3)
GREY_PROBABILITY = 0.2
# ITU-R BT.601 luma weights, the usual RGB to grey conversion.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def _crop_and_flip(images: torch.Tensor, uniforms: torch.Tensor, min_crop_area: float) -> torch.Tensor:
    area = min_crop_area + (1 - min_crop_area) * uniforms[:, 0]
    aspect = torch.exp((2 * uniforms[:, 1] - 1) * MAX_LOG_ASPECT)
    # Width and height as fractions of the image: the affine map below scales output coordinates
    # in [-1, 1] to a window of that size, shifted so that it stays inside the image.
    width = torch.sqrt(area * aspect).clamp(max=1)
    height = torch.sqrt(area / aspect).clamp(max=1)
    flip = torch.where(uniforms[:, 4] < 0.5, -1.0, 1.0)
    theta = torch.zeros(len(images), 2, 3)
    theta[:, 0, 0] = width * flip
    theta[:, 0, 2] = (2 * uniforms[:, 2] - 1) * (1 - width)
    theta[:, 1, 1] = height
    theta[:, 1, 2] = (2 * uniforms[:, 3] - 1) * (1 - height)
    grid = F.affine_grid(theta.to(images.device), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _jitter_intensity(views: torch.Tensor, uniforms: torch.Tensor, strength: float) -> torch.Tensor:
    contrast = (1 + (2 * uniforms[:, 5] - 1) * strength).view(-1, 1, 1, 1).to(views.device)
    brightness = ((2 * uniforms[:, 6] - 1) * strength / 2).view(-1, 1, 1, 1).to(views.device)
    means = views.mean(dim=(1, 2, 3), keepdim=True)
    return ((views - means) * contrast + means + brightness).clamp(0, 1)


def _maybe_grey(views: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    weights = torch.tensor(LUMA_WEIGHTS, device=views.device).view(1, 3, 1, 1)
    grey = (views * weights).sum(dim=1, keepdim=True).expand_as(views)
    to_grey = (uniforms[:, 7] < GREY_PROBABILITY).view(-1, 1, 1, 1).to(views.device)
    return torch.where(to_grey, grey, views)


def random_views(images: torch.Tensor, generator: torch.Generator, min_crop_area: float,
                 intensity_jitter: float) -> torch.Tensor:
    """One random view of each image in an ``(n, C, H, W)`` batch in ``[0, 1]``; same shape and range.

    ``min_crop_area`` is the smallest crop, as a fraction of the image area; ``intensity_jitter``
    the largest relative contrast change (brightness moves by up to half of it).
    """
    # Drawn on the CPU from the caller's generator, so the views do not depend on the device.
    uniforms = torch.rand(len(images), 8, generator=generator)
    views = _jitter_intensity(_crop_and_flip(images, uniforms, min_crop_area), uniforms, intensity_jitter)
    return _maybe_grey(views, uniforms) if views.shape[1] == 3 else views
