"""Fixtures several test files share."""

import numpy as np
import pytest

from hashkit.data import ImageDataset, Split, fashion_mnist, load_dataset
from hashkit.metrics import mean_average_precision
from hashkit.shallow import LSH


@pytest.fixture(scope="session")
def fashion() -> dict[str, np.ndarray]:
    """2,000 Fashion-MNIST training images (database and training set) and 500 official-test
    queries, pixels scaled to [0, 1]."""
    if not fashion_mnist.SYSTEM_FASHION_MNIST_DIR.is_dir():
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    dataset = load_dataset("fashion-mnist")
    train = np.flatnonzero(~dataset.official_test)[:2000]
    query = np.flatnonzero(dataset.official_test)[:500]

    def pixels(indices: np.ndarray) -> np.ndarray:
        return dataset.images(indices).reshape(len(indices), -1).astype(np.float32) / 255

    return {
        "train": pixels(train), "train_labels": dataset.labels[train],
        "query": pixels(query), "query_labels": dataset.labels[query],
    }


@pytest.fixture(scope="session")
def fashion_images() -> tuple[ImageDataset, Split]:
    """Fashion-MNIST with 1,500 training images, also the database (as in the FDAH protocol), and
    500 official-test queries: the deep methods' short-training data."""
    if not fashion_mnist.SYSTEM_FASHION_MNIST_DIR.is_dir():
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    dataset = load_dataset("fashion-mnist")
    rng = np.random.default_rng(0)
    train_items = np.sort(rng.choice(np.flatnonzero(~dataset.official_test), 1500, replace=False))
    queries = np.sort(rng.choice(np.flatnonzero(dataset.official_test), 500, replace=False))
    return dataset, Split(query=queries, database=train_items, train=train_items, protocol="given")


@pytest.fixture(scope="session")
def fashion_images_lsh_map(fashion_images: tuple[ImageDataset, Split]) -> float:
    """mAP of 32-bit LSH on the pixels of ``fashion_images``: the bar a trained method must clear."""
    dataset, split = fashion_images

    def pixels(indices: np.ndarray) -> np.ndarray:
        return dataset.images(indices).reshape(len(indices), -1).astype(np.float32) / 255

    lsh = LSH(32).fit(pixels(split.train))
    return mean_average_precision(lsh.encode(pixels(split.query)), lsh.encode(pixels(split.database)),
                                  dataset.labels[split.query], dataset.labels[split.database])
