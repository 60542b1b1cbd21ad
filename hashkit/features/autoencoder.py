"""A convolutional autoencoder trained on pixels alone; its encoder gives label-free features.

The encoder is the study's SmallCNN; the decoder mirrors it (a linear layer back to the last
feature map, then two stride-2 transposed convolutions) and the network learns to reproduce its
input under a mean squared error {cite}`hinton2006autoencoder,masci2011cae`. The features are the
encoder's output, the bottleneck.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hashkit.features.training import EncoderSettings, ReadPixels, train_without_labels


@dataclass(frozen=True)
class AutoencoderSettings(EncoderSettings):
    """The autoencoder's budget; the fields are those of :class:`EncoderSettings`.

    Eight epochs of 20,000 images take about as long as the contrastive network's four, whose
    every step encodes two views: the measured comparison gives both the same time.
    """

    epochs: int = 8


class ConvAutoencoder(nn.Module):
    """SmallCNN encoder → feature vector → mirrored decoder → image in ``[0, 1]``."""

    def __init__(self, encoder: nn.Module, image_shape: tuple[int, int, int], channels: tuple[int, int],
                 feature_dim: int) -> None:
        super().__init__()
        in_channels, height, width = image_shape
        self.image_size = (height, width)
        self.encoder = encoder
        # The SmallCNN's feature map before flattening: two max-pools of 2 leave a quarter per side.
        map_shape = (channels[1], height // 4, width // 4)
        self.decoder = nn.Sequential(
            nn.Linear(feature_dim, int(np.prod(map_shape))), nn.ReLU(inplace=True), nn.Unflatten(1, map_shape),
            nn.ConvTranspose2d(channels[1], channels[0], kernel_size=4, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(channels[0], in_channels, kernel_size=4, stride=2, padding=1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = self.decoder(self.encoder(images))
        if logits.shape[-2:] != self.image_size:
            # Sides not divisible by 4 lose their remainder in the pools; stretch back to the input size.
            logits = F.interpolate(logits, size=self.image_size, mode="bilinear", align_corners=False)
        return torch.sigmoid(logits)


def train_autoencoder(read_pixels: ReadPixels, positions: np.ndarray, image_shape: tuple[int, int, int],
                      settings: AutoencoderSettings, generator: torch.Generator, device: torch.device,
                      progress: bool) -> nn.Module:
    """Train an autoencoder on the images at ``positions`` and return its (trained) encoder."""
    encoder = settings.build_encoder(image_shape)
    network = ConvAutoencoder(encoder, image_shape, settings.channels, settings.feature_dim)
    train_without_labels(network, lambda images: F.mse_loss(network(images), images), read_pixels, positions,
                         settings, generator, device, progress, "autoencoder")
    return encoder
