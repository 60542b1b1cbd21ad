"""Raw pixels as features: each image flattened and scaled to ``[0, 1]``."""

from __future__ import annotations

import numpy as np

from hashkit.data import ImageDataset

# Bounded batches keep the uint8 → float32 conversion from holding two full copies at once.
PIXEL_BATCH = 4096


def pixel_features(dataset: ImageDataset, indices: np.ndarray) -> np.ndarray:
    """``(len(indices), H·W·C)`` float32 pixels of the items ``indices``, divided by 255."""
    first = dataset.images(indices[:1])
    features = np.empty((len(indices), first[0].size), dtype=np.float32)
    for start in range(0, len(indices), PIXEL_BATCH):
        batch = dataset.images(indices[start:start + PIXEL_BATCH])
        features[start:start + len(batch)] = batch.reshape(len(batch), -1)
    features /= 255
    return features
