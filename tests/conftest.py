"""Fixtures several test files share."""

import numpy as np
import pytest

from hashkit.data import fashion_mnist, load_dataset


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
