"""Binary codes in the three forms the study uses, and Hamming distances between them.

* **±1 codes** — ``int8`` arrays (or float tensors during training) with values in {-1, +1};
  the form every loss and metric speaks.
* **bits** — ``uint8`` arrays with values in {0, 1}; bit ``1`` stands for ``+1``.
* **packed bytes** — ``uint8`` arrays of shape ``(n, ceil(n_bits / 8))`` in faiss's layout:
  bit ``i`` of a code lives in byte ``i // 8`` at position ``i % 8`` (least significant first),
  exactly what ``faiss.IndexBinaryFlat`` expects.

The sign rule: ``sign(0) = +1``. ``torch.sign`` and ``np.sign`` map 0 to 0, which is not a binary
code; an exact zero is rare for a trained network but common for an untrained one or a ReLU
feature, so the rule has to be fixed once, here, for every method.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)


def sign(values: ArrayOrTensor) -> ArrayOrTensor:
    """±1 codes from real values, with ``sign(0) = +1``.

    A numpy input gives ``int8`` codes; a tensor gives a tensor of the input's dtype and device
    (so it can sit inside a straight-through training step).
    """
    if isinstance(values, torch.Tensor):
        return torch.where(values >= 0, 1, -1).to(values.dtype)
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.number):
        raise TypeError(f"sign: values must be numeric, got dtype {values.dtype}")
    return np.where(values >= 0, 1, -1).astype(np.int8)


def check_codes(codes: np.ndarray, name: str = "codes") -> np.ndarray:
    """Return ``codes`` as a 2-D ``int8`` ±1 array, or raise naming ``name`` and what is wrong."""
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().numpy()
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (n_items, n_bits), got shape {codes.shape}")
    if codes.shape[1] == 0:
        raise ValueError(f"{name}: codes have 0 bits")
    if not np.isin(codes, (-1, 1)).all():
        raise ValueError(f"{name}: expected ±1 values; use hashkit.codes.sign() on real outputs first")
    return codes.astype(np.int8, copy=False)


def check_item_codes(codes: np.ndarray, name: str = "codes") -> np.ndarray:
    """Database codes as a 3-D ``int8`` ±1 array ``(n_items, codes_per_item, n_bits)``.

    MCH gives a database item several codes (MCH eq. 5: its distance to a query is the minimum
    over them). A 3-D array holds them, an item with fewer distinct codes repeating one of its own
    (a repeated code changes no minimum, so no mask is needed); a 2-D ``(n_items, n_bits)`` array
    is one code per item and comes back as ``(n_items, 1, n_bits)``.
    """
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().numpy()
    codes = np.asarray(codes)
    if codes.ndim == 2:
        return check_codes(codes, name)[:, None, :]
    if codes.ndim != 3:
        raise ValueError(
            f"{name}: expected a 2-D array (n_items, n_bits) or a 3-D array "
            f"(n_items, codes_per_item, n_bits), got shape {codes.shape}"
        )
    if codes.shape[1] == 0:
        raise ValueError(f"{name}: 3-D codes need at least one code per item, got shape {codes.shape}")
    n_items, codes_per_item, n_bits = codes.shape
    return check_codes(codes.reshape(n_items * codes_per_item, n_bits), name).reshape(codes.shape)


def to_bits(codes: np.ndarray) -> np.ndarray:
    """{0, 1} ``uint8`` bits from ±1 codes (``+1 -> 1``, ``-1 -> 0``)."""
    return (check_codes(codes) > 0).astype(np.uint8)


def from_bits(bits: np.ndarray) -> np.ndarray:
    """±1 ``int8`` codes from {0, 1} bits."""
    bits = np.asarray(bits)
    if bits.ndim != 2 or not np.isin(bits, (0, 1)).all():
        raise ValueError(f"bits: expected a 2-D array of 0/1 values, got shape {bits.shape}")
    return (bits.astype(np.int8) * 2 - 1).astype(np.int8)


def pack(codes: np.ndarray) -> np.ndarray:
    """Packed bytes in faiss's bit layout from ±1 codes; the last byte is zero-padded."""
    return np.packbits(to_bits(codes), axis=1, bitorder="little")


def unpack(packed: np.ndarray, n_bits: int) -> np.ndarray:
    """±1 codes of ``n_bits`` bits from packed bytes in faiss's layout."""
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.ndim != 2 or packed.shape[1] * 8 < n_bits or n_bits <= 0:
        raise ValueError(
            f"packed: shape {packed.shape} cannot hold n_bits={n_bits} (need {(n_bits + 7) // 8} bytes per code)"
        )
    bits = np.unpackbits(packed, axis=1, count=n_bits, bitorder="little")
    return from_bits(bits)


def hamming_distances(query_codes: np.ndarray, database_codes: np.ndarray) -> np.ndarray:
    """``(n_queries, n_database)`` ``int32`` matrix of Hamming distances between ±1 codes.

    Uses ``d = (L - <q, b>) / 2``: one float32 matrix product, exact for any practical ``L``.
    """
    query_codes = check_codes(query_codes, "query_codes")
    database_codes = check_codes(database_codes, "database_codes")
    if query_codes.shape[1] != database_codes.shape[1]:
        raise ValueError(
            f"query_codes have {query_codes.shape[1]} bits but database_codes have {database_codes.shape[1]}"
        )
    n_bits = query_codes.shape[1]
    inner = query_codes.astype(np.float32) @ database_codes.astype(np.float32).T
    return np.rint((n_bits - inner) / 2).astype(np.int32)
