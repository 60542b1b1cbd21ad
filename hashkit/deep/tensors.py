"""From hashkit's uint8 images to the float tensors networks take, batch by batch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset

from hashkit.data import ImageDataset


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """``(n, H, W)`` or ``(n, H, W, 3)`` ``uint8`` images as ``(n, C, H, W)`` float32 in [0, 1]."""
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(f"images: expected uint8 (n, H, W) or (n, H, W, 3), got {images.dtype} {images.shape}")
    tensor = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255)
    return tensor.unsqueeze(1) if images.ndim == 3 else tensor.permute(0, 3, 1, 2).contiguous()


def image_shape(dataset: ImageDataset) -> tuple[int, int, int]:
    """``(channels, height, width)`` of the dataset's images, read from its first item."""
    first = dataset.images(np.array([0]))
    return (1, *first.shape[1:3]) if first.ndim == 3 else (first.shape[3], *first.shape[1:3])


class SplitImages(Dataset):
    """The items ``indices`` of ``dataset`` as ``(image tensor, multi-hot label tensor, position)``.

    ``position`` is the item's place in ``indices``, which is what methods that keep per-item state
    (ADSH's database codes, DSDH's discrete codes) index by.
    """

    def __init__(self, dataset: ImageDataset, indices: np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        self.labels = torch.from_numpy(dataset.labels[self.indices].astype(np.float32))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        image = to_tensor(self.dataset.images(self.indices[position:position + 1]))[0]
        return image, self.labels[position], position

    def __getitems__(self, positions: list[int]) -> list[tuple[torch.Tensor, torch.Tensor, int]]:
        """A batch's items, the same as ``__getitem__`` gives one by one, read from the dataset at once:
        the DataLoader calls this for each batch, and one read per image cost a mosaic more than its training."""
        images = to_tensor(self.dataset.images(self.indices[np.asarray(positions, dtype=np.int64)]))
        return [(image, self.labels[position], position) for image, position in zip(images, positions)]


def iterate_batches(dataset: ImageDataset, indices: np.ndarray, batch_size: int) -> Iterator[torch.Tensor]:
    """Image tensors of ``indices`` in order, ``batch_size`` at a time (for encoding, no shuffling).

    Reading a whole batch from the dataset at once is far faster than item by item, and bounded
    batches keep memory flat: encoding 70,000 images in one call is memory-bound (GUIDE §4).
    """
    indices = np.asarray(indices, dtype=np.int64)
    for start in range(0, len(indices), batch_size):
        yield to_tensor(dataset.images(indices[start:start + batch_size]))
