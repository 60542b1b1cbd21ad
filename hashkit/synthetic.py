"""Synthetic binary codes for teaching and benchmarks: uniform random, and class-clustered.

A trained hashing network puts the items of one class near one another in Hamming space; the
class-clustered codes imitate that without training (each class gets a random prototype code and
every item flips each bit of its class's prototype with probability ``flip_probability``), so the
index and the metrics can be studied on codes with the shape of learned ones.
"""

from __future__ import annotations

import numpy as np


def random_codes(n_items: int, n_bits: int, seed: int) -> np.ndarray:
    """``(n_items, n_bits)`` ``int8`` ±1 codes, each bit an independent fair coin."""
    if n_items < 0 or n_bits <= 0:
        raise ValueError(f"random_codes: expected n_items >= 0 and n_bits > 0, got {n_items} and {n_bits}")
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2, size=(n_items, n_bits), dtype=np.int8) * 2 - 1).astype(np.int8)


def class_clustered_codes(class_ids: np.ndarray, n_bits: int, flip_probability: float, seed: int) -> np.ndarray:
    """±1 codes around one random prototype per class, each bit flipped with ``flip_probability``."""
    class_ids = np.asarray(class_ids)
    if class_ids.ndim != 1 or not np.issubdtype(class_ids.dtype, np.integer) or (class_ids < 0).any():
        raise ValueError(f"class_ids: expected a 1-D array of non-negative class indices, got shape {class_ids.shape}")
    if not 0 <= flip_probability <= 0.5:
        raise ValueError(f"flip_probability: expected a value in [0, 0.5], got {flip_probability}")
    rng = np.random.default_rng(seed)
    n_classes = int(class_ids.max()) + 1 if class_ids.size else 0
    prototypes = random_codes(n_classes, n_bits, seed=int(rng.integers(2**32)))
    flips = rng.random((class_ids.size, n_bits)) < flip_probability
    return np.where(flips, -prototypes[class_ids], prototypes[class_ids]).astype(np.int8)
