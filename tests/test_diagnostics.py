"""hashkit.experiments.diagnostics: bit usage by hand, the offset objective's optimum, and a learning
curve that leaves training exactly as it is."""

import numpy as np
import pytest

from hashkit.deep.methods import FDAH
from hashkit.experiments import Benchmark, DeepSettings, deep, score
from hashkit.experiments.diagnostics import bit_usage, learning_curve, offset_objective, similar_share

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
    benchmark = Benchmark(name="fashion-mnist", paper_dataset="fashion-mnist", images=dataset, split=split,
                          training_sets={}, features=None, sample_size=300, seed=0)
    settings = DeepSettings(backbone_options=SMALL_CNN, batch_size=64, epochs={"rounds": 4}, epochs_per_round=2)
    spec = deep("FDAH", lambda benchmark, settings: FDAH(sample_size=benchmark.sample_size,
                                                         epochs_per_round=settings.epochs_per_round), epochs="rounds")
    curve = learning_curve(spec, benchmark, 32, settings, epochs_per_point=2)
    assert curve["round"].tolist() == [1, 2] and set(curve["method"]) == {"FDAH"}
    assert curve.iloc[-1]["map"] == score(spec, benchmark, 32, settings).map
    assert (curve["training seconds"].diff().dropna() > 0).all() and curve["update share"].between(0, 1).all()


def test_the_share_of_similar_pairs_is_exact_for_single_labels_and_counted_for_several():
    single = np.eye(4, dtype=np.uint8)[[0, 0, 1, 2]]
    assert similar_share(single) == pytest.approx((2 / 4) ** 2 + 2 * (1 / 4) ** 2)
    multi = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=np.uint8)
    assert similar_share(multi) == pytest.approx(5 / 9)  # (0,0) (0,1) (1,0) (1,1) (2,2)
