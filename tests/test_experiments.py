"""hashkit.experiments: scored runs, tables over seeds, the paper beside ours (FDAH's claims: test_fdah_claims)."""

import numpy as np
import pandas as pd
import pytest
import torch

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.deep.methods import DPSH
from hashkit.experiments import (
    Benchmark,
    DeepSettings,
    RunResult,
    beside_paper,
    code_geometry,
    deep,
    mean_std_text,
    paper_results,
    score,
    shallow,
    summarise,
)
from hashkit.experiments.fdah import (ASYMMETRIC, SYMMETRIC, TABLE1_METHODS, TABLE2_METHODS, method_specs,
                                     prepare_benchmark)
from hashkit.metrics import hamming_radius_metrics, mean_average_precision

torch.set_num_threads(2)


def clustered(n_per_class=40, n_classes=3, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (n_classes, dim))
    classes = np.repeat(np.arange(n_classes), n_per_class)
    features = (centres[classes] + rng.normal(0, 1, (len(classes), dim))).astype(np.float32)
    return features, np.eye(n_classes, dtype=np.uint8)[classes]


def test_a_shallow_method_is_fitted_and_scored_by_the_one_call_every_method_takes():
    features, labels = clustered()
    everything = np.arange(len(labels))
    split = Split(query=everything[::4], database=np.setdiff1d(everything, everything[::4]),
                  train=np.setdiff1d(everything, everything[::4]), protocol="given")
    images = ImageDataset("blobs", labels, ("a", "b", "c"), ArrayImages(np.zeros((len(labels), 2, 2), np.uint8)))
    benchmark = Benchmark(name="blobs", paper_dataset="blobs", images=images, split=split,
                          training_sets={"fit": split.train[::2]}, features=features, sample_size=None, seed=3)
    result = score(shallow("ITQ", trains_on="fit"), benchmark, 8, DeepSettings())
    expected = mean_average_precision(result.query_codes, result.database_codes, labels[split.query],
                                      labels[split.database])
    within = hamming_radius_metrics(result.query_codes, result.database_codes, labels[split.query],
                                    labels[split.database], radii=[2])
    assert result.map == pytest.approx(expected) and result.map > 0.9
    assert result.f1 == pytest.approx(float(within["f1"].iloc[0]))
    assert result.query_codes.shape == (len(split.query), 8) and result.bits == 8 and result.seed == 3
    with pytest.raises(ValueError, match="name"):
        shallow("NOPE")
    with pytest.raises(ValueError, match="no training set 'subset'"):
        score(shallow("ITQ", trains_on="subset"), benchmark, 8, DeepSettings())


def test_a_deep_method_is_scored_by_the_same_call_under_its_tables_name_and_keeps_its_history():
    rng = np.random.default_rng(0)
    classes = np.arange(60) % 2
    pixels = rng.integers(0, 60, (60, 8, 8), dtype=np.uint8)
    pixels[classes == 1, :4] += 180
    images = ImageDataset("halves", np.eye(2, dtype=np.uint8)[classes], ("top", "none"), ArrayImages(pixels))
    split = Split(query=np.arange(40, 60), database=np.arange(40), train=np.arange(40), protocol="given")
    benchmark = Benchmark(name="halves", paper_dataset="halves", images=images, split=split, training_sets={},
                          features=None, sample_size=None, seed=0)
    settings = DeepSettings(backbone_options={"channels": (4, 8), "feature_dim": 16}, batch_size=20,
                            epochs={"whole": 2})
    result = score(deep("DPSH-A", lambda benchmark, settings: DPSH(), epochs="whole"), benchmark, 8, settings)
    assert result.method == "DPSH-A" and len(result.history) == 2
    assert result.training_seconds > 0 and result.images_per_second > 0
    expected = mean_average_precision(result.query_codes, result.database_codes, images.labels[split.query],
                                      images.labels[split.database])
    assert result.map == pytest.approx(expected)
    with pytest.raises(ValueError, match="shallow method needs features"):
        score(shallow("ITQ", trains_on="train"), benchmark, 8, settings)


def test_code_geometry_counts_distinct_database_codes_and_how_far_queries_land():
    database = np.array([[1, 1, 1, 1]] * 5 + [[-1, -1, -1, -1]] * 5, dtype=np.int8)
    queries = np.array([[1, 1, 1, -1], [1, -1, -1, 1], [-1, -1, -1, -1]], dtype=np.int8)
    result = RunResult(method="M", dataset="d", bits=4, seed=0, map=0.0, precision=0.0, recall=0.0, f1=0.0,
                       radius=1, training_seconds=0.0, query_codes=queries, database_codes=database)
    geometry = code_geometry(result, radius=1)
    assert geometry["distinct database codes"] == 2
    assert geometry["median distance to nearest"] == 1.0  # distances 1, 2, 0
    assert geometry["queries with a neighbour within r"] == pytest.approx(2 / 3)


def test_summaries_give_mean_and_std_over_seeds_and_write_them_as_the_tables_do():
    runs = pd.DataFrame({"method": ["A", "A", "B"], "dataset": "d", "bits": 12, "seed": [0, 1, 0],
                         "map": [0.5, 0.7, 0.4]})
    summary = summarise(runs, ["map"], ["method", "dataset", "bits"])
    a, b = summary.set_index("method").loc["A"], summary.set_index("method").loc["B"]
    assert a["map_mean"] == pytest.approx(0.6) and a["map_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert b["map_std"] == 0 and b["seeds"] == 1 and summary["method"].tolist() == ["A", "B"]
    assert mean_std_text(0.6, 0.1414, 2, scale=100) == "60.00 ± 14.14"
    assert mean_std_text(0.4, 0.0, 1, scale=100) == "40.00"


def test_our_numbers_sit_beside_the_papers_and_missing_columns_read_not_run():
    ours = summarise(pd.DataFrame({"method": ["FDAH", "FDAH"], "dataset": "fashion-mnist", "bits": [12, 24],
                                   "seed": 0, "map": [0.9, 0.8]}), ["map"], ["method", "dataset", "bits"])
    paper = paper_results("fdah_table1")
    table = beside_paper(ours, paper, "map", "map_percent", {"fashion-mnist": "fashion-mnist", "cifar10": None},
                         ["FDAH"])
    assert table.loc["FDAH", ("fashion-mnist", "12 bits")] == "90.00 (94.18)"
    assert table.loc["FDAH", ("fashion-mnist", "32 bits")] == "not run (94.39)"
    assert table.loc["FDAH", ("cifar10", "48 bits")] == "not run (94.31)"
    with pytest.raises(FileNotFoundError, match="fdah_table1"):
        paper_results("no_such_table")


def test_every_method_of_tables_1_and_2_is_declared_once():
    assert set(TABLE2_METHODS) == {f"{m}-A" for m in SYMMETRIC} | set(ASYMMETRIC)
    assert set(method_specs()) == set(TABLE1_METHODS) | set(TABLE2_METHODS)


def test_bad_chapter_settings_are_named_before_any_work(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights"):
        DeepSettings(backbone="alexnet", pretrained_weights=str(tmp_path / "missing.pth")).check()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device"):
            DeepSettings(device="cuda").check()
    with pytest.raises(ValueError, match="rounds"):
        DeepSettings(epochs={"rounds": 0}).check()
    labels = np.eye(10, dtype=np.uint8)[np.arange(700) % 10]
    small = ImageDataset("fashion-mnist", labels, tuple("abcdefghij"), ArrayImages(np.zeros((700, 4, 4), np.uint8)),
                         official_test=np.arange(700) >= 600)
    with pytest.raises(ValueError, match="sample_size"):
        prepare_benchmark(small, "fashion-mnist", 0, n_queries=None, symmetric_train=100, shallow_train=100,
                          sample_size=None, feature_source="pixels")
    deep_only = prepare_benchmark(small, "fashion-mnist", 0, n_queries=None, symmetric_train=100, shallow_train=100,
                                  sample_size=50, feature_source=None)
    with pytest.raises(ValueError, match="features"):
        score(method_specs()["LSH"], deep_only, 12, DeepSettings())
    with pytest.raises(ValueError, match="paper_dataset"):
        prepare_benchmark(small, "mnist", 0, n_queries=None, symmetric_train=100, shallow_train=100,
                          sample_size=50, feature_source="pixels")


def test_centred_features_lose_the_training_items_mean_and_keep_it_aside():
    from hashkit.experiments.datasets import prepare_benchmark as prepare_protocol_benchmark

    labels = np.eye(10, dtype=np.uint8)[np.arange(400) % 10]
    pixels = np.random.default_rng(0).integers(0, 256, (400, 4, 4), dtype=np.uint8)
    small = ImageDataset("fashion-mnist", labels, tuple("abcdefghij"), ArrayImages(pixels),
                         official_test=np.arange(400) >= 350)
    options = {"shallow_train": 50, "feature_source": "pixels"}
    raw = prepare_protocol_benchmark(small, "dsah", "cifar10", 0, {"query_per_class": 2, "train_per_class": 10}, **options)
    centred = prepare_protocol_benchmark(small, "dsah", "cifar10", 0, {"query_per_class": 2, "train_per_class": 10},
                                         centre=True, **options)
    mean = raw.features[raw.split.train].mean(axis=0)
    np.testing.assert_allclose(centred.extras["feature mean"], mean)
    np.testing.assert_allclose(centred.features, raw.features - mean, atol=1e-6)
    np.testing.assert_allclose(centred.features[centred.split.train].mean(axis=0), 0, atol=1e-5)
    assert "feature mean" not in raw.extras
