"""BGAN's expanded neighbourhood (§3.1) on a hand-made example, and its label precision."""

from __future__ import annotations

import numpy as np
import pytest

from hashkit.features.neighbourhood import (expanded_neighbourhood, knn_label_precision, nearest_neighbours,
                                            neighbourhood_label_precision)

# Unit vectors at these angles: two groups of three, each item's nearest neighbour unambiguous.
ANGLES = np.radians([0, 10, 25, 90, 100, 115])
POINTS = np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1)


def neighbours_of(matrix) -> list[list[int]]:
    return [sorted(matrix[i].nonzero()[1].tolist()) for i in range(matrix.shape[0])]


def test_nearest_neighbours_exclude_the_item_itself():
    assert nearest_neighbours(POINTS, 1)[:, 0].tolist() == [1, 0, 1, 4, 3, 4]
    assert nearest_neighbours(POINTS, 2)[0].tolist() == [1, 2]


def test_expansion_through_the_lists_that_overlap_most():
    # k1 = 1: lists {0,1}, {1,0}, {2,1}, {3,4}, {4,3}, {5,4}. With k2 = 1 an item keeps only its own
    # list; with k2 = 2 item 2 also takes the list of item 0 (sharing item 1 with it, the first of
    # the ties by index), so 0 and 2 become neighbours: two hops through 1.
    alone = expanded_neighbourhood(POINTS, k1=1, k2=1)
    assert neighbours_of(alone) == [[1], [0, 2], [1], [4], [3, 5], [4]]
    expanded = expanded_neighbourhood(POINTS, k1=1, k2=2)
    assert neighbours_of(expanded) == [[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]]
    assert (expanded != expanded.T).nnz == 0 and expanded.diagonal().sum() == 0
    assert expanded.dtype == bool


def test_label_precision_of_a_neighbourhood():
    labels = np.array([0, 0, 1, 2, 2, 2])
    expanded = expanded_neighbourhood(POINTS, k1=1, k2=2)
    measured = neighbourhood_label_precision(expanded, labels)
    # Item 0: {1 ✓, 2 ✗}; 1: {0 ✓, 2 ✗}; 2: {0 ✗, 1 ✗}; 3, 4, 5: both right.
    assert measured["mean size"] == 2.0
    assert measured["precision"] == pytest.approx((0.5 + 0.5 + 0 + 1 + 1 + 1) / 6)
    plain = knn_label_precision(POINTS, labels, [2])
    assert plain["precision"].iloc[0] == pytest.approx(measured["precision"])


@pytest.mark.parametrize(("options", "message"), [
    ({"k1": 0, "k2": 2}, "k1: expected an int in 1..5"),
    ({"k1": 2, "k2": 6}, "k2: expected an int in 1..5"),
])
def test_bad_neighbourhood_sizes_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        expanded_neighbourhood(POINTS, **options)
