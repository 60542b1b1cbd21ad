"""Label-free features learned on the training split: an autoencoder or a contrastive network.

Both train a SmallCNN encoder on the pixels of the protocol's training items (never their labels;
see :mod:`hashkit.features.training`) and then encode the requested items with it. The trained
encoder is cached on its own, keyed without the requested items, so the query, database and
training features of one split come from one training run.

Which is the default (``source="learned"``)
-------------------------------------------
The one whose neighbourhoods are better, by :func:`~hashkit.features.comparison.compare_feature_sources`
on Fashion-MNIST: FDAH split (seed 0; 60,000 training items, of which the default draws 20,000),
each network at its default budget (about 100 s each at GUIDE §4's uncontended speeds), precision
of the k nearest neighbours' labels for 2,000 of the split's queries among all 70,000 items.
Provisional: ``"contrastive"``, until the measurement below is filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from hashkit.data import ImageDataset
from hashkit.deep.tensors import image_shape
from hashkit.features.autoencoder import AutoencoderSettings, train_autoencoder
from hashkit.features.cache import FeatureCache
from hashkit.features.contrastive import ContrastiveSettings, train_contrastive
from hashkit.features.encoding import encode_images
from hashkit.features.keys import dataset_fingerprint, indices_fingerprint
from hashkit.features.training import EncoderSettings, ReadPixels, draw_training_items
from hashkit.runtime import seed_everything

Trainer = Callable[[ReadPixels, np.ndarray, tuple[int, int, int], Any, torch.Generator, torch.device, bool],
                   nn.Module]
LEARNED_METHODS: dict[str, tuple[type[EncoderSettings], Trainer]] = {
    "autoencoder": (AutoencoderSettings, train_autoencoder),
    "contrastive": (ContrastiveSettings, train_contrastive),
}
DEFAULT_LEARNED_METHOD = "contrastive"
# Inference batches of 1,000 run at full speed on two cores without holding the whole set (GUIDE §4).
ENCODE_BATCH = 1000


def learned_settings(method: str, options: dict[str, Any]) -> EncoderSettings:
    """The settings of ``method`` with ``options`` replacing the defaults; unknown options are an error."""
    settings_type = LEARNED_METHODS[method][0]
    valid = [field.name for field in fields(settings_type)]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"source {method!r}: unknown option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    return settings_type(**options)


def train_encoder(method: str, read_pixels: ReadPixels, positions: np.ndarray, shape: tuple[int, int, int],
                  settings: EncoderSettings, generator: torch.Generator, device: torch.device,
                  progress: bool) -> nn.Module:
    """Train ``method``'s network on the training images at ``positions``; returns its encoder."""
    return LEARNED_METHODS[method][1](read_pixels, positions, shape, settings, generator, device, progress)


def learned_encoder(dataset: ImageDataset, train_indices: np.ndarray, method: str, settings: EncoderSettings,
                    seed: int, cache: FeatureCache, device: torch.device, progress: bool) -> nn.Module:
    """``method``'s encoder trained on ``train_indices`` with ``seed``: from the cache, or trained and cached."""
    key = {
        "source": method,
        "stage": "encoder",
        "dataset": dataset_fingerprint(dataset),
        "train_indices": indices_fingerprint(train_indices),
        "settings": asdict(settings),
        "seed": seed,
        # Another torch may round differently, so its training would not give these weights.
        "torch": torch.__version__,
    }
    shape = image_shape(dataset)
    stored = cache.load_arrays(key)
    if stored is not None:
        encoder = settings.build_encoder(shape)
        encoder.load_state_dict({name: torch.from_numpy(values) for name, values in stored.items()})
        return encoder
    generator = seed_everything(seed)
    positions = draw_training_items(len(train_indices), settings.max_train_items, generator)

    def read_pixels(batch_positions: np.ndarray) -> np.ndarray:
        return dataset.images(train_indices[batch_positions])

    encoder = train_encoder(method, read_pixels, positions, shape, settings, generator, device, progress)
    cache.save_arrays(key, {name: values.detach().cpu().numpy() for name, values in encoder.state_dict().items()})
    return encoder


def learned_features(dataset: ImageDataset, indices: np.ndarray, train_indices: np.ndarray, method: str,
                     settings: EncoderSettings, seed: int, cache: FeatureCache, device: torch.device,
                     progress: bool) -> np.ndarray:
    """Features of the items ``indices`` from ``method``'s encoder trained on ``train_indices``."""
    encoder = learned_encoder(dataset, train_indices, method, settings, seed, cache, device, progress)
    return encode_images(encoder, dataset, indices, device=device, batch_size=ENCODE_BATCH, progress=progress,
                         description=f"{method} features")
