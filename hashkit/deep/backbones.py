"""Networks that map an image to a feature vector; a hashing head is put on top by the methods."""

from __future__ import annotations

import torch
from torch import nn


class SmallCNN(nn.Module):
    """Two conv blocks and a fully connected layer: the study's default backbone for 28–56 px images.

    conv(5×5, ``channels[0]``) → ReLU → max-pool 2 → conv(5×5, ``channels[1]``) → ReLU → max-pool 2
    → flatten → linear(``feature_dim``) → ReLU. Small enough to train in seconds per epoch on two CPU
    cores (GUIDE §4: 16/32 channels train at ~4,300 28-px images/s there, 32/64 at ~1,950).
    """

    def __init__(self, in_channels: int = 1, image_size: tuple[int, int] = (28, 28),
                 channels: tuple[int, int] = (32, 64), feature_dim: int = 256) -> None:
        super().__init__()
        self.feature_dim = feature_dim
        self.convolutions = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(channels[0], channels[1], kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        flat_size = channels[1] * (image_size[0] // 4) * (image_size[1] // 4)
        self.fully_connected = nn.Sequential(nn.Flatten(), nn.Linear(flat_size, feature_dim), nn.ReLU(inplace=True))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fully_connected(self.convolutions(images))
