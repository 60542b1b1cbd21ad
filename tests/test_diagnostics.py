"""hashkit.experiments.diagnostics: bit usage by hand, the offset objective's optimum, and a learning
curve that leaves training exactly as it is."""

import numpy as np
import pytest

from hashkit.deep.engine import retrieval_codes, train
from hashkit.deep.methods import FDAH
from hashkit.experiments.diagnostics import bit_usage, learning_curve, offset_objective, similar_share
from hashkit.experiments.runs import score_codes

SMALL_CNN = {"channels": (8, 16), "feature_dim": 64}


def test_bit_usage_counts_constant_bits_and_the_queries_that_flip_them():
    database = np.array([[1, 1, -1], [1, -1, -1], [1, 1, -1]], dtype=np.int8)  # bits 0 and 2 constant
    queries = np.array([[-1, 1, -1], [-1, -1, 1]], dtype=np.int8)
    usage = bit_usage(queries, database)
    assert usage["constant database bits"] == 2
    assert usage["query agreement on constant bits"] == pytest.approx(1 / 4)  # only query 0's bit 2 agrees
    assert usage["distinct database codes"] == 2
    assert usage["database bit balance"] == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert np.isnan(bit_usage(queries, np.array([[1, 1, 1], [-1, -1, -1]], dtype=np.int8))[
        "query agreement on constant bits"])


@pytest.mark.parametrize(("n_bits", "similar_share", "best"), [(32, 0.1, 22), (12, 0.1, 8), (32, 0.5, 6), (32, 1.0, 0)])
def test_the_offset_objective_is_smallest_where_its_closed_form_says(n_bits, similar_share, best):
    curve = offset_objective(n_bits, similar_share)
    assert int(curve.loc[curve["expected loss"].idxmin(), "offset bits"]) == best
    assert best == round((1 - similar_share) * n_bits / (1 + 3 * similar_share))


def test_a_learning_curve_scores_each_round_and_changes_nothing_in_the_training(fashion_images):
    dataset, split = fashion_images
    options = {"epochs": 4, "batch_size": 64, "backbone_options": SMALL_CNN, "progress": False}
    traced, curve = learning_curve(FDAH(sample_size=300, epochs_per_round=2), dataset, split, 32,
                                   epochs_per_point=2, **options)
    plain = train(FDAH(sample_size=300, epochs_per_round=2), dataset, split, 32, **options)
    assert curve["round"].tolist() == [1, 2]
    for model in (traced, plain):
        query_codes, database_codes = retrieval_codes(model, dataset, split)
        final = score_codes(query_codes, database_codes, dataset.labels[split.query], dataset.labels[split.database], 2)
        assert curve.iloc[-1]["map"] == final["map"]
    assert (curve["training seconds"].diff().dropna() > 0).all() and curve["update share"].between(0, 1).all()


def test_the_share_of_similar_pairs_is_exact_for_single_labels_and_counted_for_several():
    single = np.eye(4, dtype=np.uint8)[[0, 0, 1, 2]]
    assert similar_share(single) == pytest.approx((2 / 4) ** 2 + 2 * (1 / 4) ** 2)
    multi = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=np.uint8)
    assert similar_share(multi) == pytest.approx(5 / 9)  # (0,0) (0,1) (1,0) (1,1) (2,2)
