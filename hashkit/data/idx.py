"""Reader for gzipped IDX files, the format MNIST and Fashion-MNIST are distributed in.

An IDX file starts with a 4-byte magic number: two zero bytes, a type code (``0x08`` =
unsigned byte, the only type these datasets use) and the number of dimensions; then one
big-endian ``uint32`` per dimension; then the values, row-major. A labels file is
``0x00000801`` with one dimension, an images file ``0x00000803`` with three (n, rows, cols).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from hashkit.inputs import record_input

UNSIGNED_BYTE = 0x08


def read_idx_gz(path: Path, n_dims: int) -> np.ndarray:
    """The ``uint8`` array stored in the gzipped IDX file ``path``, checked to have ``n_dims`` dims.

    Raises ``ValueError`` naming the file when it is not gzip, is truncated, has a wrong magic
    number, or holds fewer or more bytes than its header announces.
    """
    record_input(path)
    try:
        with gzip.open(path, "rb") as stream:
            content = stream.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: not a complete gzip file ({error})") from error

    if len(content) < 4:
        raise ValueError(f"{path}: {len(content)} bytes, too short for an IDX header")
    expected_magic = (UNSIGNED_BYTE << 8) | n_dims
    magic = int.from_bytes(content[:4], "big")
    if magic != expected_magic:
        raise ValueError(
            f"{path}: IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {n_dims} dimension{'s' if n_dims > 1 else ''})"
        )
    header_end = 4 + 4 * n_dims
    if len(content) < header_end:
        raise ValueError(f"{path}: truncated IDX header ({len(content)} bytes)")
    shape = tuple(int(size) for size in np.frombuffer(content, dtype=">u4", count=n_dims, offset=4))
    n_values = int(np.prod(shape))
    n_present = len(content) - header_end
    if n_present != n_values:
        raise ValueError(
            f"{path}: header announces shape {shape} = {n_values:,} bytes of data, "
            f"file holds {n_present:,} (truncated or corrupted)"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_end).reshape(shape)
