"""Fixtures and helpers several test files share."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_book import copy_book_sources
from hashkit.data import ImageDataset, Split, load_dataset
from hashkit.metrics import mean_average_precision
from hashkit.shallow import LSH


def missing(what: str, reason: str) -> None:
    """Skip a test whose data or tool is missing here; under CI (``CI=true``) fail instead, so that a
    broken set-up cannot pass by skipping the behavioural tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing on CI, where the set-up provides it: {reason}")
    pytest.skip(f"{what} is missing: {reason}")


def build_book(root: Path, *extra: str) -> subprocess.CompletedProcess:
    """Execute the book copied into ``root`` with smoke settings, each build with its own empty feature
    cache: two builds then agree only if the learned features are deterministic too."""
    copy_book_sources(root)
    return subprocess.run([sys.executable, "-m", "hashkit.book", "--root", str(root), "--smoke", *extra],
                          capture_output=True, text=True, env={**os.environ, "HASHKIT_CACHE": str(root / ".cache")})


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The whole book built once with smoke settings and its HTML (``make book BOOK_ARGS='--smoke'``):
    the render checks and the documented smoke command share this one build."""
    root = tmp_path_factory.mktemp("book")
    completed = build_book(root)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    return root


def run_chapter(root: Path, chapter: str, *parameters: str) -> subprocess.CompletedProcess:
    """The book's sources copied into a new folder ``root``, and ``chapter`` run there by the runner
    with smoke settings, without the HTML, and the extra ``parameters`` (``"-p", name, value``)."""
    root.mkdir(parents=True)
    copy_book_sources(root)
    return subprocess.run([sys.executable, "-m", "hashkit.book", "--root", str(root), "--chapters", chapter,
                           "--smoke", "--no-html", *parameters], capture_output=True, text=True)


@pytest.fixture(scope="session")
def fashion_mnist_dataset() -> ImageDataset:
    """All of Fashion-MNIST, found as the loader finds it ($HASHKIT_DATA, data/, Debian's package)."""
    try:
        return load_dataset("fashion-mnist")
    except FileNotFoundError as error:
        missing("Fashion-MNIST, the embedded dataset", str(error))


@pytest.fixture(scope="session")
def fashion(fashion_mnist_dataset: ImageDataset) -> dict[str, np.ndarray]:
    """2,000 Fashion-MNIST training images (database and training set) and 500 official-test
    queries, pixels scaled to [0, 1]."""
    dataset = fashion_mnist_dataset
    train = np.flatnonzero(~dataset.official_test)[:2000]
    query = np.flatnonzero(dataset.official_test)[:500]

    def pixels(indices: np.ndarray) -> np.ndarray:
        return dataset.images(indices).reshape(len(indices), -1).astype(np.float32) / 255

    return {
        "train": pixels(train), "train_labels": dataset.labels[train],
        "query": pixels(query), "query_labels": dataset.labels[query],
    }


@pytest.fixture(scope="session")
def fashion_images(fashion_mnist_dataset: ImageDataset) -> tuple[ImageDataset, Split]:
    """Fashion-MNIST with 1,500 training images, also the database (as in the FDAH protocol), and
    500 official-test queries: the deep methods' short-training data."""
    dataset = fashion_mnist_dataset
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


def assert_learns_and_repeats(make, fashion_images: tuple[ImageDataset, Split], lsh_map: float, n_bits: int, *,
                              epochs: int, few_train: int) -> None:
    """A deep method ``make()`` trained by the engine beats LSH on pixels by 0.1 mAP, its loss stays
    finite, and the same seed gives the same codes (a different seed, different ones)."""
    from hashkit.deep.engine import train

    dataset, split = fashion_images
    trained = train(make(), dataset, split, n_bits, epochs=epochs, batch_size=64, progress=False, seed=0)
    learned_map = mean_average_precision(trained.encode(dataset, split.query), trained.encode(dataset, split.database),
                                         dataset.labels[split.query], dataset.labels[split.database])
    # Chance (a random ranking) is the share of relevant items, about 0.1; LSH on pixels is the bar.
    assert learned_map > lsh_map + 0.1, (learned_map, lsh_map)
    assert np.isfinite(trained.history["loss"]).all()
    few = Split(query=split.query[:50], database=split.train[:few_train], train=split.train[:few_train],
                protocol="given")
    runs = [train(make(), dataset, few, n_bits, epochs=1, batch_size=64, progress=False, seed=seed)
            .encode(dataset, few.query) for seed in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
