"""The on-disk feature cache: arrays stored as ``.npy`` / ``.npz``, each beside a JSON of its key.

Entries are named ``<source>-<digest of the key>``; the JSON holds the full key and the SHA-256 of
the data file, so a truncated, overwritten or mismatched file is noticed on reading. Such an entry
is reported with a :class:`CorruptCacheWarning` and treated as missing, so the caller recomputes it
and the next write replaces it. Files are written through :func:`hashkit.artifacts.atomic_path`
and read with ``allow_pickle=False``: nothing in the cache can run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np

from hashkit.artifacts import atomic_path
from hashkit.features.keys import canonical_key, key_digest

CACHE_ENV_VAR = "HASHKIT_CACHE"
REPO_CACHE_DIR = Path(__file__).resolve().parents[2] / "data" / "cache"
Payload = TypeVar("Payload")


class CorruptCacheWarning(UserWarning):
    """A cache entry could not be trusted and will be recomputed."""


def default_cache_dir() -> Path:
    """``$HASHKIT_CACHE/features`` when the variable is set, else the repository's ``data/cache/features``."""
    root = os.environ.get(CACHE_ENV_VAR)
    return (Path(root).expanduser() if root else REPO_CACHE_DIR) / "features"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FeatureCache:
    """Arrays keyed by JSON-able dicts under ``directory`` (created on the first write)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory).expanduser()

    def _paths(self, key: dict[str, Any], suffix: str) -> tuple[Path, Path]:
        # ':' (from "torchvision:alexnet") is not allowed in file names everywhere.
        stem = f"{str(key['source']).replace(':', '_')}-{key_digest(key)[:24]}"
        return self.directory / f"{stem}{suffix}", self.directory / f"{stem}.json"

    def _read(self, key: dict[str, Any], suffix: str, read: Callable[[Path], Payload]) -> Payload | None:
        key = canonical_key(key)
        data_path, key_path = self._paths(key, suffix)
        if not data_path.exists() and not key_path.exists():
            return None
        try:
            record = json.loads(key_path.read_text())
            if record["key"] != key:
                raise ValueError("its JSON holds a different key")
            if file_sha256(data_path) != record["sha256"]:
                raise ValueError("its checksum does not match the JSON")
            return read(data_path)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            warnings.warn(f"feature cache: ignoring {data_path} ({error}); recomputing it", CorruptCacheWarning,
                          stacklevel=3)
            return None

    def _write(self, key: dict[str, Any], suffix: str, write: Callable[[BinaryIO], None]) -> Path:
        key = canonical_key(key)
        data_path, key_path = self._paths(key, suffix)
        with atomic_path(data_path) as temporary:
            # Through a handle: given a path without ".npy", numpy would append the suffix itself.
            with temporary.open("wb") as handle:
                write(handle)
        record = {"key": key, "file": data_path.name, "sha256": file_sha256(data_path)}
        # The JSON goes last: a crash in between leaves a data file without a valid record, which
        # the next read reports and recomputes; an error in between takes the data file away too.
        try:
            with atomic_path(key_path) as temporary:
                temporary.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        except BaseException:
            data_path.unlink(missing_ok=True)
            raise
        return data_path

    def load_array(self, key: dict[str, Any]) -> np.ndarray | None:
        """The array stored under ``key``, or ``None`` when absent or corrupt."""
        return self._read(key, ".npy", lambda path: np.load(path, allow_pickle=False))

    def save_array(self, key: dict[str, Any], array: np.ndarray) -> Path:
        """Store ``array`` under ``key``; returns the ``.npy`` path."""
        return self._write(key, ".npy", lambda handle: np.save(handle, array, allow_pickle=False))

    def load_arrays(self, key: dict[str, Any]) -> dict[str, np.ndarray] | None:
        """The named arrays stored under ``key`` (e.g. a network's weights), or ``None``."""
        def read(path: Path) -> dict[str, np.ndarray]:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}

        return self._read(key, ".npz", read)

    def save_arrays(self, key: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
        """Store named arrays under ``key``; returns the ``.npz`` path."""
        # Refuse object arrays here: they would be pickled, and the reader (rightly) never unpickles.
        return self._write(key, ".npz", lambda handle: np.savez(handle, allow_pickle=False, **arrays))
