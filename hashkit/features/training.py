"""The one training loop both label-free networks share, and the settings they have in common.

The loop sees pixels only: it gets a function from positions in the training split to ``uint8``
images, never the dataset, so no label can reach a label-free network through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from hashkit.checks import check_positive_int
from hashkit.deep.backbones import SmallCNN
from hashkit.deep.tensors import to_tensor

ReadPixels = Callable[[np.ndarray], np.ndarray]
BatchLoss = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class EncoderSettings:
    """What every label-free network shares: its SmallCNN encoder and its training budget.

    Attributes:
        epochs: passes over the (possibly subsampled) training images.
        batch_size: images per gradient step.
        learning_rate: Adam's step size.
        channels: the SmallCNN's two convolution widths.
        feature_dim: length of the feature vector, the SmallCNN's last layer.
        max_train_items: train on a seeded draw of at most this many training images (``None``:
            all of them), which keeps the default budget at a minute or two on two CPU cores even
            for 60,000-image training splits.
    """

    epochs: int = 5
    batch_size: int = 256
    learning_rate: float = 1e-3
    channels: tuple[int, int] = (32, 64)
    feature_dim: int = 256
    max_train_items: int | None = 20_000

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "feature_dim"):
            check_positive_int(getattr(self, name), name)
        if self.max_train_items is not None:
            check_positive_int(self.max_train_items, "max_train_items")
        if len(self.channels) != 2:
            raise ValueError(f"channels: expected two convolution widths, got {self.channels!r}")
        for width in self.channels:
            check_positive_int(width, "channels")
        # Tuples, also when given as lists, so that settings compare and hash by value.
        object.__setattr__(self, "channels", tuple(int(width) for width in self.channels))
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate)
                and self.learning_rate > 0):
            raise ValueError(f"learning_rate: expected a positive number, got {self.learning_rate!r}")

    def build_encoder(self, image_shape: tuple[int, int, int]) -> SmallCNN:
        """A freshly initialised SmallCNN for images of ``(channels, height, width)``."""
        return SmallCNN(in_channels=image_shape[0], image_size=image_shape[1:], channels=self.channels,
                        feature_dim=self.feature_dim)


def draw_training_items(n_items: int, max_items: int | None, generator: torch.Generator) -> np.ndarray:
    """Sorted positions of the training images to use: all, or a seeded draw of ``max_items``."""
    if max_items is None or n_items <= max_items:
        return np.arange(n_items)
    return np.sort(torch.randperm(n_items, generator=generator)[:max_items].numpy())


def train_without_labels(
    network: nn.Module,
    batch_loss: BatchLoss,
    read_pixels: ReadPixels,
    positions: np.ndarray,
    settings: EncoderSettings,
    generator: torch.Generator,
    device: torch.device,
    progress: bool,
    description: str,
) -> list[float]:
    """Train ``network`` with Adam on ``batch_loss`` of image batches; returns the mean loss per epoch.

    Each epoch visits ``positions`` (of the training split) in an order drawn from ``generator``;
    ``read_pixels`` turns positions into ``uint8`` images and ``batch_loss`` turns a ``[0, 1]``
    float batch on ``device`` into a scalar loss.
    """
    network.to(device).train()
    optimiser = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    epoch_losses = []
    with tqdm(total=settings.epochs * len(positions), desc=description, unit="img", disable=not progress,
              leave=False) as bar:
        for _ in range(settings.epochs):
            order = positions[torch.randperm(len(positions), generator=generator).numpy()]
            loss_sum = 0.0
            for start in range(0, len(order), settings.batch_size):
                batch_positions = order[start:start + settings.batch_size]
                images = to_tensor(read_pixels(batch_positions)).to(device)
                loss = batch_loss(images)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                loss_sum += loss.item() * len(batch_positions)
                bar.update(len(batch_positions))
            epoch_losses.append(loss_sum / len(order))
            bar.set_postfix(loss=f"{epoch_losses[-1]:.4f}")
    network.eval()
    return epoch_losses
