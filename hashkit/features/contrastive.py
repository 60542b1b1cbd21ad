"""A contrastive network trained on pixels alone (SimCLR-style); its encoder gives label-free features.

Two random views of every image in a batch (:func:`hashkit.features.augment.random_views`) go
through the SmallCNN encoder and a two-layer projection head; the NT-Xent loss
{cite}`chen2020simclr` pulls each view towards its partner and away from the other ``2n - 2``
views of the batch. As in SimCLR, the features are the encoder's output *before* the projection
head, which keeps more of what the augmentations do not ask to forget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hashkit.features.augment import random_views
from hashkit.features.training import EncoderSettings, ReadPixels, train_without_labels


@dataclass(frozen=True)
class ContrastiveSettings(EncoderSettings):
    """The contrastive network's budget and loss; also the fields of :class:`EncoderSettings`.

    Attributes:
        epochs: four, half the autoencoder's, because each step encodes two views of every image.
        temperature: NT-Xent's temperature.
        projection_dim: output size of the projection head.
        min_crop_area: smallest random crop, as a fraction of the image.
        intensity_jitter: largest relative contrast change of a view.

    ``temperature`` 0.2 and ``min_crop_area`` 0.6 replaced a first choice of 0.5 and 0.4 after they
    gave better neighbourhoods on Fashion-MNIST at the full budget (the numbers are in
    :mod:`hashkit.features.learned`); in a short pilot the temperature brought most of the gain.
    """

    epochs: int = 4
    temperature: float = 0.2
    projection_dim: int = 128
    min_crop_area: float = 0.6
    intensity_jitter: float = 0.4

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.temperature > 0:
            raise ValueError(f"temperature: expected a positive number, got {self.temperature!r}")
        if not 0 < self.min_crop_area <= 1:
            raise ValueError(f"min_crop_area: expected a fraction in (0, 1], got {self.min_crop_area!r}")
        if not 0 <= self.intensity_jitter < 1:
            raise ValueError(f"intensity_jitter: expected a value in [0, 1), got {self.intensity_jitter!r}")


def nt_xent_loss(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent over ``2n`` projections: row ``i`` of ``first`` and row ``i`` of ``second`` are partners.

    Every view is classified, by softmax over its cosine similarities to the other ``2n - 1`` views
    divided by ``temperature``, as belonging with its partner; the loss is the mean cross-entropy.
    """
    projections = F.normalize(torch.cat([first, second]), dim=1)
    similarities = projections @ projections.T / temperature
    n_pairs = len(first)
    itself = torch.eye(2 * n_pairs, dtype=torch.bool, device=similarities.device)
    similarities = similarities.masked_fill(itself, float("-inf"))
    partners = torch.cat([torch.arange(n_pairs, 2 * n_pairs), torch.arange(n_pairs)]).to(similarities.device)
    return F.cross_entropy(similarities, partners)


class ContrastiveNetwork(nn.Module):
    """SmallCNN encoder followed by the projection head ``linear → ReLU → linear``."""

    def __init__(self, encoder: nn.Module, feature_dim: int, projection_dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.projection = nn.Sequential(nn.Linear(feature_dim, feature_dim), nn.ReLU(inplace=True),
                                        nn.Linear(feature_dim, projection_dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.projection(self.encoder(images))


def train_contrastive(read_pixels: ReadPixels, positions: np.ndarray, image_shape: tuple[int, int, int],
                      settings: ContrastiveSettings, generator: torch.Generator, device: torch.device,
                      progress: bool) -> nn.Module:
    """Train a contrastive network on the images at ``positions`` and return its (trained) encoder."""
    encoder = settings.build_encoder(image_shape)
    network = ContrastiveNetwork(encoder, settings.feature_dim, settings.projection_dim)

    def batch_loss(images: torch.Tensor) -> torch.Tensor:
        # Both views of a batch go through the network together: one pass, and batch-wide
        # operations see the same mix of views on each side.
        views = torch.cat([random_views(images, generator, settings.min_crop_area, settings.intensity_jitter)
                           for _ in range(2)])
        first, second = network(views).chunk(2)
        return nt_xent_loss(first, second, settings.temperature)

    train_without_labels(network, batch_loss, read_pixels, positions, settings, generator, device, progress,
                         "contrastive")
    return encoder
