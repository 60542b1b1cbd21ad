"""The retrieval split: which items are queries, which form the database, which train the model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _as_index_array(indices: np.ndarray, role: str) -> np.ndarray:
    array = np.asarray(indices)
    if array.ndim != 1:
        raise ValueError(f"Split.{role}: expected a 1-D index array, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"Split.{role}: expected integer indices, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise ValueError(f"Split.{role}: indices must be >= 0, got {array.min()}")
    if np.unique(array).size != array.size:
        raise ValueError(f"Split.{role}: indices repeat; an item can appear at most once per role")
    # Read-only, so a frozen Split cannot be changed through its arrays either.
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Split:
    """Item indices of the three roles of a retrieval experiment.

    ``query`` items are searched for, ``database`` items are searched in, ``train`` items fit
    the model. Each is a 1-D ``int64`` array of indices into one dataset, without repeats
    (the sampled protocols return them sorted; a given list keeps its file order). Whether
    roles may overlap is the protocol's business (see :mod:`hashkit.data.protocols`);
    :meth:`overlaps` reports it.
    """

    query: np.ndarray
    database: np.ndarray
    train: np.ndarray
    protocol: str

    def __post_init__(self) -> None:
        for role in ("query", "database", "train"):
            object.__setattr__(self, role, _as_index_array(getattr(self, role), role))

    def sizes(self) -> dict[str, int]:
        """Number of items in each role, e.g. ``{"query": 1000, "database": 69000, "train": 10000}``."""
        return {"query": self.query.size, "database": self.database.size, "train": self.train.size}

    def overlaps(self) -> dict[str, int]:
        """Number of items shared by each pair of roles."""
        return {
            "query & database": np.intersect1d(self.query, self.database).size,
            "query & train": np.intersect1d(self.query, self.train).size,
            "train & database": np.intersect1d(self.train, self.database).size,
        }

    def train_within_database(self) -> bool:
        """True when every training item is also a database item."""
        return bool(np.isin(self.train, self.database).all())

    def summary(self) -> str:
        """One line for logs, e.g. ``dsah: 1,000 query / 69,000 database / 10,000 train``."""
        sizes = self.sizes()
        return (
            f"{self.protocol}: {sizes['query']:,} query / {sizes['database']:,} database / "
            f"{sizes['train']:,} train"
        )
