"""Label-free features learned on the training split: an autoencoder or a contrastive network.

Both train a SmallCNN encoder on the pixels of the protocol's training items (never their labels;
see :mod:`hashkit.features.training`) and then encode the requested items with it. The trained
encoder is cached on its own, keyed without the requested items, so the query, database and
training features of one split come from one training run.

Which is the default (``source="learned"``): the autoencoder
-----------------------------------------------------------
Measured on 2026-11-22 with :func:`~hashkit.features.comparison.compare_feature_sources`:
Fashion-MNIST, FDAH split (60,000 training items, of which each network trains on a seeded draw of
20,000), each network at its default settings (SmallCNN 32/64 channels, 256 features, batches of
256, Adam 1e-3; autoencoder 8 epochs, contrastive 4 epochs at temperature 0.2 and crops of at least
60 %), seeds 0 and 1. Precision of the k nearest neighbours' labels (cosine), for 2,000 of the
split's queries among all 70,000 items, mean of the two seeds (seed 0 / seed 1):

=====  ======================  ======================  ======================
k      pixels                  autoencoder             contrastive
=====  ======================  ======================  ======================
1      0.864 (0.861 / 0.866)   0.851 (0.854 / 0.849)   0.838 (0.832 / 0.845)
10     0.817 (0.815 / 0.819)   0.821 (0.818 / 0.823)   0.804 (0.801 / 0.807)
50     0.774 (0.772 / 0.777)   0.789 (0.789 / 0.789)   0.773 (0.768 / 0.778)
100    0.753 (0.751 / 0.755)   0.773 (0.773 / 0.772)   0.758 (0.753 / 0.762)
500    0.686 (0.684 / 0.688)   0.721 (0.722 / 0.720)   0.713 (0.709 / 0.718)
1000   0.652 (0.649 / 0.654)   0.688 (0.689 / 0.686)   0.686 (0.681 / 0.691)
=====  ======================  ======================  ======================

The autoencoder is ahead of the contrastive network at every k up to 500 on both seeds (by 0.2
to 2.3 points) and level with it at 1,000, so it is the default. The margin is small and belongs
to this budget: a pilot with an eighth of it (5,000 training images, half the epochs) ranked the
contrastive network first, and SimCLR gains from longer training {cite}`chen2020simclr`. Euclidean
distances (seed 0) also put the autoencoder above the contrastive network at every k, each value
0.3 to 2.1 points below its cosine counterpart. Raw pixels stay best at k = 1; the autoencoder
overtakes them from k = 10 on, the contrastive network from k = 100. With its first settings
(temperature 0.5, crops from 40 %) the contrastive network scored 0.817 / 0.779 / 0.737 / 0.671
at k = 1 / 10 / 100 / 1,000 (seed 0).

Training cost, measured as CPU time of one thread on the shared two-core machine (its wall time
was 4 to 18 minutes, as other jobs shared the cores): 206 s for the autoencoder (160,000 images
through the network) and 188 s for the contrastive network (80,000 images, two views each), which
GUIDE §4's two-core speeds put at about two minutes each. Encoding the 70,000 items took 78 s of
wall time on the shared machine.
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
from hashkit.features.keys import dataset_fingerprint, feature_code_version, indices_fingerprint
from hashkit.features.training import EncoderSettings, ReadPixels, draw_training_items
from hashkit.runtime import seed_everything

Trainer = Callable[[ReadPixels, np.ndarray, tuple[int, int, int], Any, torch.Generator, torch.device, bool],
                   nn.Module]
LEARNED_METHODS: dict[str, tuple[type[EncoderSettings], Trainer]] = {
    "autoencoder": (AutoencoderSettings, train_autoencoder),
    "contrastive": (ContrastiveSettings, train_contrastive),
}
DEFAULT_LEARNED_METHOD = "autoencoder"
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
        # Another torch, device or version of the training code would not give these weights.
        "torch": torch.__version__,
        "device": str(device),
        "code": feature_code_version(),
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
