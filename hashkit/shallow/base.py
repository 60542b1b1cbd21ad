"""What every shallow hashing estimator shares: parameter and input checks, and the encode contract."""

from __future__ import annotations

import numpy as np


def check_features(features: np.ndarray, name: str = "features", n_dims: int | None = None) -> np.ndarray:
    """``features`` as a finite 2-D float array (with ``n_dims`` columns when given), or a clear error."""
    features = np.asarray(features)
    if features.ndim != 2 or len(features) == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array (n_items, n_dims), got shape {features.shape}")
    if not np.issubdtype(features.dtype, np.number):
        raise ValueError(f"{name}: expected numbers, got dtype {features.dtype}")
    if n_dims is not None and features.shape[1] != n_dims:
        raise ValueError(f"{name}: expected {n_dims} dimensions (as in fit), got {features.shape[1]}")
    features = features.astype(np.float64 if features.dtype == np.float64 else np.float32, copy=False)
    if not np.isfinite(features).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return features


class ShallowHasher:
    """Base of the shallow estimators: hyper-parameters in ``__init__``, learned state ending in ``_``."""

    n_bits: int

    def _check_fitted(self, *attributes: str) -> None:
        if any(not hasattr(self, attribute) for attribute in attributes):
            raise RuntimeError(f"{type(self).__name__}: call fit() before encode()")


def check_labels(labels: np.ndarray | None, n_items: int, method: str) -> np.ndarray:
    """Labels for a supervised method as a float32 multi-hot ``(n_items, n_classes)`` array.

    Accepts multi-hot 0/1 rows or 1-D integer class ids; ``None`` (a supervised method given no
    labels) and a length that does not match the features are errors naming ``labels``.
    """
    if labels is None:
        raise ValueError(f"labels: {method} is supervised; fit(features, labels) needs the training labels")
    labels = np.asarray(labels)
    if labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer) or (labels < 0).any():
            raise ValueError("labels: 1-D labels must be non-negative integer class ids")
        labels = np.eye(int(labels.max()) + 1, dtype=np.float32)[labels]
    elif labels.ndim != 2 or not np.isin(labels, (0, 1)).all():
        raise ValueError(f"labels: expected class ids or a multi-hot 0/1 matrix, got shape {labels.shape}")
    if len(labels) != n_items:
        raise ValueError(f"labels: {len(labels)} rows for {n_items} feature rows")
    return labels.astype(np.float32, copy=False)
