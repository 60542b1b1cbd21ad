"""Fashion-MNIST from its four original gzipped IDX files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hashkit.data import locate
from hashkit.data.dataset import ArrayImages, ImageDataset
from hashkit.data.idx import read_idx_gz

FASHION_MNIST_DIR = "fashion-mnist"
SYSTEM_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
# Label order of the Fashion-MNIST specification (zalandoresearch/fashion-mnist README).
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def find_fashion_mnist(data_root: str | os.PathLike | None = None) -> Path:
    """The directory holding the four Fashion-MNIST files; see :mod:`hashkit.data.locate` for the order.

    Raises ``FileNotFoundError`` naming every place looked and every way to provide the data.
    """
    candidates = locate.candidate_dirs(FASHION_MNIST_DIR, data_root, SYSTEM_FASHION_MNIST_DIR)
    return locate.find_dir_with("Fashion-MNIST", FASHION_MNIST_FILES, candidates, [
        f"as root: apt-get install dataset-fashion-mnist (installs into {SYSTEM_FASHION_MNIST_DIR})",
        f"copy the four files into {locate.REPO_DATA_DIR / FASHION_MNIST_DIR}/",
        f"set {locate.DATA_ENV_VAR}=<dir> (the dir itself or <dir>/{FASHION_MNIST_DIR} holding the files)",
        "pass data_root=<dir> to load_fashion_mnist / load_dataset",
    ])


def load_fashion_mnist(data_root: str | os.PathLike | None = None) -> ImageDataset:
    """All 70,000 Fashion-MNIST images (28×28 grey), the 60,000 training images first.

    ``official_test`` marks the last 10,000: the dataset's own test set.
    """
    directory = find_fashion_mnist(data_root)
    parts = []
    for prefix in ("train", "t10k"):
        images_file = directory / f"{prefix}-images-idx3-ubyte.gz"
        labels_file = directory / f"{prefix}-labels-idx1-ubyte.gz"
        images = read_idx_gz(images_file, n_dims=3)
        labels = read_idx_gz(labels_file, n_dims=1)
        if images.shape[1:] != (28, 28):
            raise ValueError(f"{images_file}: images of shape {images.shape[1:]}, expected (28, 28)")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{labels_file}: {labels.shape[0]:,} labels, but {images_file} holds {images.shape[0]:,} "
                "images; expected one label per image"
            )
        if labels.max(initial=0) >= len(FASHION_MNIST_CLASSES):
            raise ValueError(
                f"{labels_file}: label {labels.max()} found, expected 0..{len(FASHION_MNIST_CLASSES) - 1}"
            )
        parts.append((images, labels))

    pixels = np.concatenate([images for images, _ in parts])
    class_ids = np.concatenate([labels for _, labels in parts])
    n_train = parts[0][1].shape[0]
    official_test = np.arange(len(class_ids)) >= n_train
    return ImageDataset(
        name="fashion-mnist",
        labels=np.eye(len(FASHION_MNIST_CLASSES), dtype=np.uint8)[class_ids],
        class_names=FASHION_MNIST_CLASSES,
        source=ArrayImages(pixels),
        official_test=official_test,
    )
