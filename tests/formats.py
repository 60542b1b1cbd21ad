"""Writers of small datasets in the real on-disk formats (IDX, CIFAR-10 pickles, list files + images),
shared by the loader tests and the chapters' paper-scale parameter tests."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
from PIL import Image


def write_idx_gz(path: Path, array: np.ndarray, magic: int | None = None) -> None:
    """An IDX file as the MNIST family ships it: magic, big-endian uint32 dims, bytes; gzipped."""
    magic = (0x08 << 8) | array.ndim if magic is None else magic
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


def write_fashion_mnist(directory: Path, n_train_per_class: int = 2, n_test_per_class: int = 1,
                        fill: int = 0) -> Path:
    """A tiny Fashion-MNIST copy; ``fill`` is the first pixel of every image, to tell copies apart."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(fill)
    for prefix, per_class in (("train", n_train_per_class), ("t10k", n_test_per_class)):
        labels = np.tile(np.arange(10, dtype=np.uint8), per_class)
        images = rng.integers(0, 256, size=(labels.size, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = fill
        write_idx_gz(directory / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx_gz(directory / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return directory


def write_cifar10(directory: Path, per_batch: int = 4) -> Path:
    """A tiny ``cifar-10-batches-py``: Python-2-style pickles with byte-string keys."""
    directory.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
    for number, name in enumerate(names):
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(label) for label in (np.arange(per_batch) + number) % 10],
            b"data": rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8),
            b"filenames": [f"{name}_{index}.png".encode() for index in range(per_batch)],
        }
        with open(directory / name, "wb") as stream:
            pickle.dump(batch, stream)
    label_names = [b"airplane", b"automobile", b"bird", b"cat", b"deer",
                   b"dog", b"frog", b"horse", b"ship", b"truck"]
    with open(directory / "batches.meta", "wb") as stream:
        pickle.dump({b"label_names": label_names, b"num_cases_per_batch": per_batch}, stream)
    return directory


def write_png(path: Path, value: int, size: tuple[int, int] = (12, 10), mode: str = "L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 255 - value)).save(path)


TRIO_LINES = {
    # path, labels (3 classes); train ⊂ database as in the community's lists
    "database.txt": [("img/a.png", "1 0 0"), ("img/b.png", "0 1 1"), ("img/c.png", "0 0 1"),
                     ("img/d.png", "1 1 0")],
    "test.txt": [("img/q1.png", "1 0 1"), ("img/q2.png", "0 1 0")],
    "train.txt": [("img/b.png", "0 1 1"), ("img/d.png", "1 1 0")],
}


def write_list_trio(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for file_name, lines in TRIO_LINES.items():
        (directory / file_name).write_text("".join(f"{path} {labels}\n" for path, labels in lines))
        for index, (path, _) in enumerate(lines):
            if not (directory / path).exists():  # the training list repeats database images
                write_png(directory / path, 40 * index, mode="RGB" if index % 2 else "L")
    return directory


def write_multi_label_trio(directory: Path, n_images: int, n_classes: int = 21, side: int = 8,
                           n_queries: int = 100) -> Path:
    """A NUS-WIDE-like trio: ``n_images`` small RGB PNGs with 1–3 of ``n_classes`` labels each.

    ``database.txt`` lists all but the first ``n_queries`` images, ``test.txt`` those, and
    ``train.txt`` every other database image, as the community's lists do.
    """
    rng = np.random.default_rng(0)
    lines = []
    for index in range(n_images):
        labels = np.zeros(n_classes, dtype=int)
        labels[rng.choice(n_classes, size=rng.integers(1, 4), replace=False)] = 1
        path = f"images/{index:05d}.png"
        (directory / "images").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8), "RGB").save(directory / path)
        lines.append(f"{path} {' '.join(map(str, labels))}\n")
    (directory / "test.txt").write_text("".join(lines[:n_queries]))
    (directory / "database.txt").write_text("".join(lines[n_queries:]))
    (directory / "train.txt").write_text("".join(lines[n_queries::2]))
    return directory
