"""Running a trained or pretrained network over dataset items, batch by batch, to a feature array."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from hashkit.data import ImageDataset
from hashkit.deep.tensors import iterate_batches

Preprocess = Callable[[torch.Tensor], torch.Tensor]


def encode_images(network: nn.Module, dataset: ImageDataset, indices: np.ndarray, *, device: torch.device,
                  batch_size: int, progress: bool, description: str,
                  preprocess: Preprocess | None = None) -> np.ndarray:
    """``(len(indices), dim)`` float32 outputs of ``network`` (in eval mode) on the items ``indices``.

    Batches of ``[0, 1]`` image tensors go through ``preprocess`` (on ``device``) before the network.
    """
    network.to(device).eval()
    features: np.ndarray | None = None
    done = 0
    with torch.no_grad(), tqdm(total=len(indices), desc=description, unit="img", disable=not progress,
                               leave=False) as bar:
        for images in iterate_batches(dataset, indices, batch_size):
            images = images.to(device)
            outputs = network(preprocess(images) if preprocess is not None else images)
            if features is None:
                # The feature size is known only once the network has run.
                features = np.empty((len(indices), outputs.shape[1]), dtype=np.float32)
            features[done:done + len(images)] = outputs.float().cpu().numpy()
            done += len(images)
            bar.update(len(images))
    if features is None:
        raise ValueError("indices: no items to encode")
    return features
