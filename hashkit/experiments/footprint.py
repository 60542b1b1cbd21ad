"""What building DSAH's W⁰ costs in memory and time, measured in a fresh process.

:func:`peak_memory` measures any block (the cross-paper chapter wraps each training in it).

:func:`similarity_footprint` builds W⁰ in a new (spawned) process, so that nothing a chapter's
kernel allocated before is reused, and reports the process's peak resident memory while building
above what it held once its inputs existed: the cost of the construction alone. The peak is
Linux's ``VmHWM``, reset just before building (``/proc/self/clear_refs``), since the high-water
mark of the imports before would otherwise hide a smaller one.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np


def _status_kilobytes(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``)."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1])


@contextlib.contextmanager
def peak_memory() -> Iterator[dict[str, float]]:
    """The process's peak resident memory while the block runs, above what it held when it began,
    in MB (``result["peak MB"]``; NaN off Linux). Memory freed by earlier runs is first handed back
    to the system (``malloc_trim``), so that the block's allocations show as new resident memory
    instead of reusing pages the process kept."""
    result = {"peak MB": math.nan}
    if not Path("/proc/self/clear_refs").exists():
        yield result
        return
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the resident memory now
    before = _status_kilobytes("VmRSS")
    yield result
    result["peak MB"] = (_status_kilobytes("VmHWM") - before) / 1024


def _build_and_measure(n_items: int, k1: int, k2: int, dims: int, seed: int) -> dict[str, float | int]:
    from hashkit.features.neighbourhood import shared_neighbour_similarity

    features = np.random.default_rng(seed).normal(size=(n_items, dims)).astype(np.float32)
    with peak_memory() as memory:
        started = time.perf_counter()
        similarity = shared_neighbour_similarity(features, k1, k2)
        seconds = time.perf_counter() - started
    stored = similarity.data.nbytes + similarity.indices.nbytes + similarity.indptr.nbytes
    return {"training items": n_items, "k1": k1, "k2": k2, "positive pairs": int(similarity.nnz),
            "W⁰ stored (MB)": stored / 2**20, "peak while building (MB)": memory["peak MB"],
            "dense float32 n × n (MB)": 4 * n_items**2 / 2**20, "seconds": seconds}


def similarity_footprint(n_items: int, k1: int, k2: int, dims: int = 64, seed: int = 0) -> dict[str, float | int]:
    """W⁰ (:func:`~hashkit.features.neighbourhood.shared_neighbour_similarity`) of ``n_items``
    seeded random ``dims``-dimensional features, built in a fresh process: its positive pairs, the
    bytes its sparse storage takes, the process's peak resident memory above what it held before
    building (Linux only), a dense float32 n × n for scale, and the seconds."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_build_and_measure, n_items, k1, k2, dims, seed).result()
