"""The plain reference loops agree with hashkit's batched index and metrics (they are timed against them)."""

import numpy as np
import pytest

from hashkit.index import HammingIndex
from hashkit.metrics import mean_average_precision
from hashkit.reference import argsort_mean_average_precision, argsort_search
from hashkit.synthetic import class_clustered_codes


def test_reference_loops_agree_with_the_batched_implementations():
    rng = np.random.default_rng(0)
    class_ids = rng.integers(0, 5, size=600)
    codes = class_clustered_codes(class_ids, 12, flip_probability=0.2, seed=0)  # 12 bits: many ties
    labels = np.eye(5, dtype=np.uint8)[class_ids]
    queries, database = codes[:50], codes[50:]
    index = HammingIndex(12)
    index.add(database)
    for k in (1, 37, 550):
        loop_distances, loop_ids = argsort_search(queries, database, k)
        index_distances, index_ids = index.search(queries, k)
        np.testing.assert_array_equal(loop_ids, index_ids)
        np.testing.assert_array_equal(loop_distances, index_distances)
    for top_k in (None, 20):
        loop_map = argsort_mean_average_precision(queries, database, labels[:50], labels[50:], top_k)
        assert loop_map == pytest.approx(mean_average_precision(queries, database, labels[:50], labels[50:], top_k),
                                         abs=1e-12)
