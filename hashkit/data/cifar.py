"""CIFAR-10 from its "python version" directory, ``cifar-10-batches-py/``.

The directory holds six pickled batches (``data_batch_1`` … ``data_batch_5``, ``test_batch``),
each a dict with byte-string keys: ``b"data"``, a ``(10000, 3072)`` ``uint8`` array with the red,
green and blue 32×32 planes one after the other, and ``b"labels"``, a list of class indices;
``batches.meta`` holds ``b"label_names"``. Pickles can run code when loaded: point this loader
only at a copy of the official archive.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from hashkit.data import locate
from hashkit.data.dataset import ArrayImages, ImageDataset
from hashkit.inputs import record_input

CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{number}" for number in range(1, 6))
CIFAR10_FILES = (*CIFAR10_TRAIN_BATCHES, "test_batch", "batches.meta")


def _read_pickle(path: Path) -> dict:
    record_input(path)
    with open(path, "rb") as stream:
        try:
            # The archive was written by Python 2; "bytes" keeps its str keys as bytes.
            content = pickle.load(stream, encoding="bytes")
        except Exception as error:  # unpickling foreign bytes can raise any type (ImportError, KeyError, ...)
            raise ValueError(
                f"{path}: not a readable CIFAR-10 pickle ({type(error).__name__}: {error}); "
                "expected a batch file of cifar-10-python.tar.gz"
            ) from error
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(content).__name__}")
    return content


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _read_pickle(path)
    if b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"{path}: expected keys b'data' and b'labels', found {sorted(batch)}")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: b'data' is {data.dtype} {data.shape}, expected uint8 (n, 3072)")
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: {data.shape[0]} images but {labels.size} labels")
    # Stored channel-major (n, 3, 32, 32); images are handed out channel-last like PIL's.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def find_cifar10(data_root: str | os.PathLike | None = None) -> Path:
    """The ``cifar-10-batches-py`` directory; ``data_root`` may be that directory or its parent."""
    candidates = locate.candidate_dirs(CIFAR10_DIR, data_root)
    return locate.find_dir_with("CIFAR-10 (python version)", CIFAR10_FILES, candidates, [
        f"unpack cifar-10-python.tar.gz into {locate.REPO_DATA_DIR}/",
        f"set {locate.DATA_ENV_VAR}=<dir holding {CIFAR10_DIR}>",
        "pass data_root=<that dir>",
    ])


def load_cifar10(data_root: str | os.PathLike | None = None) -> ImageDataset:
    """All 60,000 CIFAR-10 images (32×32 RGB), the five training batches first.

    ``official_test`` marks the 10,000 images of ``test_batch``.
    """
    directory = find_cifar10(data_root)
    meta = _read_pickle(directory / "batches.meta")
    if b"label_names" not in meta:
        raise ValueError(f"{directory / 'batches.meta'}: no b'label_names' key; expected the ten class names there")
    class_names = tuple(name.decode() for name in meta[b"label_names"])

    batches = [_read_batch(directory / name) for name in (*CIFAR10_TRAIN_BATCHES, "test_batch")]
    class_ids = np.concatenate([labels for _, labels in batches])
    if class_ids.min(initial=0) < 0 or class_ids.max(initial=0) >= len(class_names):
        raise ValueError(
            f"{directory}: labels outside 0..{len(class_names) - 1} "
            f"(batches.meta names {len(class_names)} classes)"
        )
    n_test = len(batches[-1][1])
    return ImageDataset(
        name="cifar10",
        labels=np.eye(len(class_names), dtype=np.uint8)[class_ids],
        class_names=class_names,
        source=ArrayImages(np.ascontiguousarray(np.concatenate([images for images, _ in batches]))),
        official_test=np.arange(len(class_ids)) >= len(class_ids) - n_test,
    )
