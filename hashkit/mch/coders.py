"""MCH's frozen base model (§4.1): one object that turns images or regions into features f(x) and codes b.

The agent's state (eq. 3) needs both, for the whole image and for a region, so every base model is
wrapped as a :class:`RegionCoder`:

* a network trained by the engine (HashNet, ADSH, DCH, MMHH): f is the backbone's output (AlexNet's
  fc7 in the paper), b the sign of the activated hashing layer — the network's own codes for every
  image, ADSH's included (MCH needs one hash function for images and regions alike);
* a shallow estimator on image features (KSH): f is the feature extractor's output on the image or
  region, b the estimator's code of it.

:func:`encode_regions` runs a coder over dataset items and, per item, several regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from hashkit.codes import sign
from hashkit.data import ImageDataset
from hashkit.deep.engine import TrainedModel
from hashkit.deep.tensors import to_tensor
from hashkit.mch.regions import RegionMode, crop_regions

ENCODE_BATCH = 500  # images per forward pass; each brings its regions along


class RegionCoder(Protocol):
    """A frozen base model as MCH's agent sees it."""

    n_bits: int

    def features_and_codes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(features, ±1 codes)`` of a batch of image tensors in [0, 1], both ``(n, ·)`` on the images' device."""

    def modules(self) -> list[nn.Module]:
        """The networks to move to the device and put in eval mode before coding."""


@dataclass
class NetworkCoder:
    """A network trained by the engine: backbone features and the sign of its activated hash layer."""

    model: TrainedModel

    @property
    def n_bits(self) -> int:
        return self.model.n_bits

    def features_and_codes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        network = self.model.network
        features = network.backbone(images)
        outputs = self.model.method.activation(network.hash_layer(features), self.model.context)
        return features, sign(outputs)

    def modules(self) -> list[nn.Module]:
        return [self.model.network]


@dataclass
class FeatureCoder:
    """A shallow estimator on the features of an image encoder (KSH on label-free learned features)."""

    encoder: nn.Module
    hasher: object  # a fitted hashkit.shallow estimator: encode(features) -> ±1 codes

    @property
    def n_bits(self) -> int:
        return self.hasher.n_bits

    def features_and_codes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encoder(images)
        codes = torch.from_numpy(self.hasher.encode(features.cpu().numpy())).to(features.device)
        return features, codes

    def modules(self) -> list[nn.Module]:
        return [self.encoder]


@dataclass
class CodedRegions:
    """Features and codes of ``n`` items times ``v`` regions each.

    ``features``: ``(n, v, d)`` float32; ``codes``: ``(n, v, bits)`` int8 ±1; ``boxes``: ``(n, v, 4)``
    the regions (top, left, bottom, right) they were computed from.
    """

    features: np.ndarray
    codes: np.ndarray
    boxes: np.ndarray


def encode_regions(coder: RegionCoder, dataset: ImageDataset, indices: np.ndarray, boxes: np.ndarray, *,
                   region_mode: RegionMode = "crop", device: str | torch.device = "cpu", progress: bool = False,
                   description: str = "coding regions") -> CodedRegions:
    """Features and codes of every region ``boxes[i, r]`` of item ``indices[i]`` (``boxes``: ``(n, v, 4)``,
    or ``(v, 4)`` for the same regions of every item). The whole image is the box ``(0, 0, H, W)``;
    ``region_mode`` is :func:`~hashkit.mch.regions.crop_regions`'s ``mode``."""
    indices = np.asarray(indices, dtype=np.int64)
    boxes = np.broadcast_to(boxes, (len(indices), *boxes.shape[-2:])) if boxes.ndim == 2 else boxes
    if boxes.shape[0] != len(indices) or boxes.shape[2] != 4:
        raise ValueError(f"boxes: expected ({len(indices)}, regions, 4) or (regions, 4), got {boxes.shape}")
    n_regions = boxes.shape[1]
    for module in coder.modules():
        module.to(device).eval()
    features = codes = None
    with torch.no_grad(), tqdm(total=len(indices) * n_regions, desc=description, unit="region",
                               disable=not progress, leave=False) as bar:
        for start in range(0, len(indices), ENCODE_BATCH):
            batch = slice(start, start + ENCODE_BATCH)
            images = to_tensor(dataset.images(indices[batch])).to(device)
            batch_boxes = boxes[batch]
            regions = crop_regions(images.repeat_interleave(n_regions, dim=0), batch_boxes.reshape(-1, 4),
                                   region_mode)
            batch_features, batch_codes = coder.features_and_codes(regions)
            if features is None:
                features = np.empty((len(indices), n_regions, batch_features.shape[1]), dtype=np.float32)
                codes = np.empty((len(indices), n_regions, coder.n_bits), dtype=np.int8)
            features[batch] = batch_features.float().cpu().numpy().reshape(len(images), n_regions, -1)
            codes[batch] = batch_codes.cpu().numpy().astype(np.int8).reshape(len(images), n_regions, -1)
            bar.update(len(images) * n_regions)
    if features is None:
        raise ValueError("indices: no items to encode")
    return CodedRegions(features, codes, np.ascontiguousarray(boxes))


def whole_image_box(dataset: ImageDataset) -> np.ndarray:
    """``(1, 4)``: the box of the whole image."""
    height, width = dataset.images(np.array([0])).shape[1:3]
    return np.array([[0, 0, height, width]], dtype=np.int64)
