"""Fingerprints that make up a cache key: what the dataset is and which of its items are meant.

Hashing every pixel of a large dataset would cost more than some of the features it guards, so a
dataset is identified by its name, size, image shape, a hash of all its labels and a hash of its
first and last images: enough to tell apart the datasets, mosaic draws and image sizes that hashkit
builds, at the price of one read of two images.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from hashkit.data import ImageDataset


def array_sha256(array: np.ndarray) -> str:
    """Hex SHA-256 of an array's dtype, shape and bytes (so ``[1, 2]`` and ``[[1], [2]]`` differ)."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def dataset_fingerprint(dataset: ImageDataset) -> dict[str, Any]:
    """Name, size, image shape, and hashes of the labels and of the first and last images."""
    end_images = dataset.images(np.array([0, len(dataset) - 1]))
    return {
        "name": dataset.name,
        "n_items": len(dataset),
        "image_shape": list(end_images.shape[1:]),
        "labels_sha256": array_sha256(dataset.labels),
        "end_images_sha256": array_sha256(end_images),
    }


def indices_fingerprint(indices: np.ndarray) -> dict[str, Any]:
    """Count and hash of an index array; order matters, as it fixes the order of the feature rows."""
    indices = np.asarray(indices, dtype=np.int64)
    return {"count": int(indices.size), "sha256": array_sha256(indices)}


# The code that computes features: a change to any of these files makes cached features stale.
FEATURE_CODE = ("features", "deep/backbones.py", "deep/tensors.py", "data/dataset.py", "runtime.py")


def feature_code_version() -> str:
    """Hex SHA-256 of the sources in :data:`FEATURE_CODE`, which every cache key of computed features holds."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(path for entry in FEATURE_CODE for path in
                   ((package / entry).rglob("*.py") if (package / entry).is_dir() else [package / entry]))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def canonical_key(key: dict[str, Any]) -> dict[str, Any]:
    """``key`` as it reads back from JSON (tuples become lists), so a stored key compares equal."""
    return json.loads(json.dumps(key, sort_keys=True))


def key_digest(key: dict[str, Any]) -> str:
    """Hex SHA-256 of the key's canonical JSON text."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
