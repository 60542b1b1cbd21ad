"""What building DSAH's W⁰ costs in memory and time, measured in a fresh process.

A process's peak resident memory only ever grows, so a measurement inside a chapter's kernel would
mostly report what the kernel already held. :func:`similarity_footprint` builds W⁰ in a new
(spawned) process instead and reports its peak above what that process held once its inputs
existed: the cost of the construction alone, whatever ran before.
"""

from __future__ import annotations

import resource
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np


def _build_and_measure(n_items: int, k1: int, k2: int, dims: int, seed: int) -> dict[str, float]:
    from hashkit.features.neighbourhood import shared_neighbour_similarity

    features = np.random.default_rng(seed).normal(size=(n_items, dims)).astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    similarity = shared_neighbour_similarity(features, k1, k2)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stored = similarity.data.nbytes + similarity.indices.nbytes + similarity.indptr.nbytes
    return {"training items": n_items, "k1": k1, "k2": k2, "positive pairs": float(similarity.nnz),
            "W⁰ stored (MB)": stored / 2**20, "peak while building (MB)": (after - before) / 1024,
            "dense float32 n × n (MB)": 4 * n_items**2 / 2**20, "seconds": seconds}


def similarity_footprint(n_items: int, k1: int, k2: int, dims: int = 64, seed: int = 0) -> dict[str, float]:
    """W⁰ (:func:`~hashkit.features.neighbourhood.shared_neighbour_similarity`) of ``n_items``
    seeded random ``dims``-dimensional features, built in a fresh process: its positive pairs, the
    bytes its sparse storage takes, the process's peak resident memory above what it held before
    building (``ru_maxrss``, Linux's kilobytes), a dense float32 n × n for scale, and the seconds."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_build_and_measure, n_items, k1, k2, dims, seed).result()
