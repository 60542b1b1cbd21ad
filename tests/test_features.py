"""Tests of hashkit.features: the feature sources, their cache, and the k-NN label precision.

Training here is tiny (a few hundred 16-px images, one epoch, 4/8 channels), so the whole file
runs in seconds on two busy cores; what is tested is the plumbing, not the quality.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision

from hashkit.data import ArrayImages, ImageDataset, Split
from hashkit.features import (
    DEFAULT_LEARNED_METHOD,
    FEATURE_SOURCES,
    CorruptCacheWarning,
    FeatureCache,
    compare_feature_sources,
    extract_features,
    knn_label_precision,
)
from hashkit.features import keys
from hashkit.features import learned
from hashkit.features.augment import random_views
from hashkit.features.contrastive import nt_xent_loss
from hashkit.features.pretrained import IMAGENET_MEAN, IMAGENET_STD

TINY_NETWORK = {"epochs": 1, "batch_size": 64, "channels": (4, 8), "feature_dim": 16}
N_ITEMS = 240


def tiny_dataset(shape: tuple[int, ...] = (16, 16), labels: np.ndarray | None = None) -> ImageDataset:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (N_ITEMS, *shape), dtype=np.uint8)
    if labels is None:
        labels = np.eye(4, dtype=np.uint8)[np.arange(N_ITEMS) % 4]
    return ImageDataset("tiny", labels, ("a", "b", "c", "d"), ArrayImages(pixels))


TRAIN = np.arange(40, N_ITEMS)
QUERY = np.arange(40)


def learned_features(dataset: ImageDataset, source: str, cache_dir, indices: np.ndarray = QUERY,
                     seed: int = 0, **options) -> np.ndarray:
    return extract_features(dataset, indices, source, train_indices=TRAIN, seed=seed, cache_dir=cache_dir,
                            progress=False, **{**TINY_NETWORK, **options})


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Runs each test on one thread: for networks this small, a second thread costs more than it saves."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def training_runs(monkeypatch) -> list[str]:
    """Records every training run of a label-free network (its method name), without changing it."""
    runs: list[str] = []
    train = learned.train_encoder

    def counting_train(method, *args, **kwargs):
        runs.append(method)
        return train(method, *args, **kwargs)

    monkeypatch.setattr(learned, "train_encoder", counting_train)
    return runs


# ---------------------------------------------------------------- pixels and learned sources

def test_pixels_are_flattened_and_scaled():
    dataset = tiny_dataset()
    features = extract_features(dataset, np.array([5, 2]), "pixels")
    assert features.shape == (2, 256) and features.dtype == np.float32
    np.testing.assert_allclose(features[1], dataset.images(np.array([2]))[0].ravel() / 255, rtol=1e-6)


@pytest.mark.parametrize("source", ["autoencoder", "contrastive"])
def test_learned_features_have_the_right_shape_and_repeat_bit_for_bit(source, tmp_path):
    dataset = tiny_dataset()
    first = learned_features(dataset, source, tmp_path / "a")
    again = learned_features(dataset, source, tmp_path / "b")
    assert first.shape == (len(QUERY), TINY_NETWORK["feature_dim"]) and first.dtype == np.float32
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, learned_features(dataset, source, tmp_path / "a", seed=1))


def test_autoencoder_handles_sides_not_divisible_by_four_and_contrastive_handles_colour(tmp_path):
    odd = learned_features(tiny_dataset((18, 18)), "autoencoder", tmp_path)
    colour = learned_features(tiny_dataset((16, 16, 3)), "contrastive", tmp_path)
    assert odd.shape == colour.shape == (len(QUERY), TINY_NETWORK["feature_dim"])


def test_learned_means_the_measured_default(tmp_path, training_runs):
    dataset = tiny_dataset()
    default = learned_features(dataset, "learned", tmp_path)
    named = learned_features(dataset, DEFAULT_LEARNED_METHOD, tmp_path)
    np.testing.assert_array_equal(default, named)
    assert training_runs == [DEFAULT_LEARNED_METHOD]


def test_labels_never_reach_a_label_free_network(tmp_path):
    dataset = tiny_dataset()
    unlabelled = tiny_dataset(labels=np.zeros_like(dataset.labels))
    for source in ("autoencoder", "contrastive"):
        np.testing.assert_array_equal(learned_features(dataset, source, tmp_path / "labelled"),
                                      learned_features(unlabelled, source, tmp_path / "zeros"))


# ---------------------------------------------------------------- cache

def test_a_cache_hit_does_not_train_and_one_training_serves_every_item_set(tmp_path, training_runs):
    dataset = tiny_dataset()
    first = learned_features(dataset, "autoencoder", tmp_path)
    np.testing.assert_array_equal(first, learned_features(dataset, "autoencoder", tmp_path))
    database = learned_features(dataset, "autoencoder", tmp_path, indices=TRAIN)
    assert training_runs == ["autoencoder"]
    # The same network encodes the query and the database items; only the batch differs, which
    # can change the last bit of a float.
    np.testing.assert_allclose(database[:5], learned_features(dataset, "autoencoder", tmp_path, indices=TRAIN[:5]),
                               rtol=1e-5, atol=1e-6)
    assert training_runs == ["autoencoder"]


def test_the_cache_is_keyed_by_seed_source_and_options(tmp_path, training_runs):
    dataset = tiny_dataset()
    learned_features(dataset, "autoencoder", tmp_path)
    entries = set(tmp_path.glob("*.json"))
    learned_features(dataset, "autoencoder", tmp_path, seed=1)
    learned_features(dataset, "contrastive", tmp_path)
    learned_features(dataset, "autoencoder", tmp_path, feature_dim=8)
    assert training_runs == ["autoencoder", "autoencoder", "contrastive", "autoencoder"]
    # Each run adds an encoder entry and a feature entry, each a data file plus its JSON key.
    assert len(set(tmp_path.glob("*.json")) - entries) == 6
    assert {path.suffix for path in tmp_path.iterdir()} == {".json", ".npy", ".npz"}


def test_a_corrupt_feature_file_is_reported_and_recomputed(tmp_path, training_runs):
    dataset = tiny_dataset()
    expected = learned_features(dataset, "contrastive", tmp_path)
    (feature_file,) = tmp_path.glob("*.npy")
    feature_file.write_bytes(feature_file.read_bytes()[:-7])
    with pytest.warns(CorruptCacheWarning, match="checksum"):
        np.testing.assert_array_equal(learned_features(dataset, "contrastive", tmp_path), expected)
    # Recomputed from the cached encoder, and the entry is whole again.
    assert training_runs == ["contrastive"]
    (encoder_file,) = tmp_path.glob("*.npz")
    encoder_file.write_bytes(b"not a zip file")
    (feature_file.with_suffix(".json")).write_text("{ broken")
    with pytest.warns(CorruptCacheWarning) as caught:
        np.testing.assert_array_equal(learned_features(dataset, "contrastive", tmp_path), expected)
    assert sum(warning.category is CorruptCacheWarning for warning in caught) == 2
    assert training_runs == ["contrastive", "contrastive"]


def test_feature_cache_round_trip_and_key_mismatch(tmp_path):
    cache = FeatureCache(tmp_path)
    key = {"source": "torchvision:alexnet", "settings": {"channels": (4, 8)}}
    assert cache.load_array(key) is None
    path = cache.save_array(key, np.arange(6, dtype=np.float32).reshape(2, 3))
    assert ":" not in path.name and path.suffix == ".npy"
    np.testing.assert_array_equal(cache.load_array({**key, "settings": {"channels": [4, 8]}}), [[0, 1, 2], [3, 4, 5]])
    record = path.with_suffix(".json")
    record.write_text(record.read_text().replace('"torchvision:alexnet"', '"torchvision:vgg19"'))
    with pytest.warns(CorruptCacheWarning, match="different key"):
        assert cache.load_array(key) is None


# ---------------------------------------------------------------- torchvision, local weights only

@pytest.fixture(scope="module")
def alexnet_weights(tmp_path_factory):
    """A real-format AlexNet state dict (random values, as no ImageNet weights are available offline)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path


@pytest.fixture
def no_weights_anywhere(monkeypatch, tmp_path):
    """Points every default weight location at an empty directory."""
    monkeypatch.setenv("HASHKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr("hashkit.features.pretrained.REPO_DATA_DIR", tmp_path / "repo-data")


def test_torchvision_features_are_fc7_of_the_local_weights(alexnet_weights, tmp_path):
    dataset = tiny_dataset((28, 28))
    features = extract_features(dataset, np.array([3, 7]), "torchvision:alexnet", weights_path=alexnet_weights,
                                cache_dir=tmp_path, progress=False)
    assert features.shape == (2, 4096) and features.dtype == np.float32

    network = torchvision.models.alexnet(weights=None)
    network.load_state_dict(torch.load(alexnet_weights, weights_only=True))
    network.eval()
    images = torch.from_numpy(dataset.images(np.array([3, 7]))).float().div(255).unsqueeze(1).repeat(1, 3, 1, 1)
    images = torch.nn.functional.interpolate(images, size=(224, 224), mode="bilinear", antialias=True)
    images = (images - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        fc7 = network.classifier[:6](torch.flatten(network.avgpool(network.features(images)), 1))
    np.testing.assert_allclose(features, fc7.numpy(), rtol=1e-4, atol=1e-5)


def test_torchvision_weights_are_found_under_hashkit_data(alexnet_weights, no_weights_anywhere, tmp_path,
                                                         monkeypatch):
    placed = tmp_path / "data" / "weights" / "alexnet.pth"
    placed.parent.mkdir(parents=True)
    placed.symlink_to(alexnet_weights)
    features = extract_features(tiny_dataset(), np.array([0]), "torchvision:alexnet", cache_dir=tmp_path / "cache",
                                progress=False, batch_size=1)
    assert features.shape == (1, 4096)


class NoImagesDataset(ImageDataset):
    """A dataset that fails the test if anything reads its images."""

    def images(self, indices):
        raise AssertionError("images were read before the weight file was checked")


def test_missing_weights_stop_the_call_before_any_work(no_weights_anywhere, tmp_path):
    dataset = NoImagesDataset(**{field.name: getattr(tiny_dataset(), field.name)
                                 for field in dataclasses.fields(ImageDataset)})
    with pytest.raises(FileNotFoundError) as error:
        extract_features(dataset, np.arange(3), "torchvision:vgg19", cache_dir=tmp_path)
    message = str(error.value)
    for expected in ("vgg19.pth", "weights_path=", "HASHKIT_DATA", "never", "vgg19-dcbb9e9d.pth"):
        assert expected in message
    with pytest.raises(FileNotFoundError, match="weights_path"):
        extract_features(dataset, np.arange(3), "torchvision:alexnet", weights_path=tmp_path / "nope.pth")


def test_weights_of_another_network_are_refused(alexnet_weights, tmp_path):
    with pytest.raises(ValueError, match="state dict of torchvision.models.resnet18"):
        extract_features(tiny_dataset(), np.arange(2), "torchvision:resnet18", weights_path=alexnet_weights,
                         cache_dir=tmp_path, progress=False)


# ---------------------------------------------------------------- bad input

def test_unknown_sources_options_and_missing_training_items_are_clear_errors(tmp_path):
    dataset = tiny_dataset()
    with pytest.raises(ValueError, match="pixels, learned, autoencoder, contrastive, torchvision:<arch>"):
        extract_features(dataset, QUERY, "sift")
    with pytest.raises(ValueError, match="no classification network 'alexnett'.*alexnet"):
        extract_features(dataset, QUERY, "torchvision:alexnett")
    with pytest.raises(ValueError, match="unknown option.*epoch.*valid: epochs"):
        extract_features(dataset, QUERY, "contrastive", train_indices=TRAIN, epoch=3)
    with pytest.raises(ValueError, match="takes no options"):
        extract_features(dataset, QUERY, "pixels", epochs=3)
    with pytest.raises(ValueError, match="train_indices"):
        extract_features(dataset, QUERY, "autoencoder", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="indices"):
        extract_features(dataset, np.array([0, N_ITEMS]), "pixels")
    with pytest.raises(ValueError, match="channels"):
        extract_features(dataset, QUERY, "autoencoder", train_indices=TRAIN, channels=(4,))
    assert FEATURE_SOURCES[0] == "pixels"


# ---------------------------------------------------------------- k-NN label precision

def brute_force_precision(features, labels, k_values, queries, metric):
    if metric == "cosine":
        features = features / np.linalg.norm(features, axis=1, keepdims=True)
        distances = -features @ features.T
    else:
        distances = ((features[:, None, :] - features[None, :, :]) ** 2).sum(axis=2)
    precision = []
    for k in k_values:
        per_query = []
        for query in queries:
            order = [item for item in np.argsort(distances[query], kind="stable") if item != query][:k]
            per_query.append(np.mean([(labels[item] & labels[query]).any() for item in order]))
        precision.append(np.mean(per_query))
    return np.array(precision)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_knn_label_precision_matches_brute_force(metric):
    rng = np.random.default_rng(3)
    features = rng.normal(size=(90, 5)) + np.repeat(rng.normal(size=(3, 5)) * 2, 30, axis=0)
    labels = (rng.random((90, 6)) < 0.3).astype(np.uint8)
    queries = np.array([0, 5, 17, 44, 89, 60, 61])
    table = knn_label_precision(features, labels, [7, 1, 30, 89], queries, metric=metric, batch_size=3)
    assert list(table.columns) == ["k", "precision"] and list(table["k"]) == [1, 7, 30, 89]
    np.testing.assert_allclose(table["precision"], brute_force_precision(features, labels, [1, 7, 30, 89], queries,
                                                                         metric))


def test_knn_label_precision_takes_class_ids_and_excludes_the_query_itself():
    features = np.array([[0.0, 1.0], [0.0, 1.1], [5.0, 0.0], [5.0, 0.1]])
    table = knn_label_precision(features, np.array([0, 0, 1, 2]), [1, 3], metric="euclidean")
    np.testing.assert_allclose(table["precision"], [0.5, 1 / 6])
    with pytest.raises(ValueError, match="exceeds the 3 neighbours"):
        knn_label_precision(features, np.array([0, 0, 1, 2]), [4])
    with pytest.raises(ValueError, match="metric"):
        knn_label_precision(features, np.array([0, 0, 1, 2]), [1], metric="hamming")


def test_compare_feature_sources_gives_one_row_per_source_metric_and_k(tmp_path):
    dataset = tiny_dataset()
    split = Split(query=QUERY, database=TRAIN, train=TRAIN, protocol="tiny")
    table = compare_feature_sources(dataset, split, ["pixels"], k_values=(1, 5), n_queries=10)
    assert isinstance(table, pd.DataFrame) and len(table) == 4
    assert table["precision"].between(0, 1).all()


# ---------------------------------------------------------------- contrastive parts

def test_random_views_are_seeded_and_stay_in_range():
    images = torch.rand(6, 3, 16, 16)
    first = random_views(images, torch.Generator().manual_seed(1), 0.4, 0.4)
    again = random_views(images, torch.Generator().manual_seed(1), 0.4, 0.4)
    assert first.shape == images.shape and first.min() >= 0 and first.max() <= 1
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, images)


def test_nt_xent_matches_its_definition():
    first, second = torch.randn(3, 4), torch.randn(3, 4)
    views = torch.nn.functional.normalize(torch.cat([first, second]), dim=1)
    losses = []
    for anchor in range(6):
        partner = (anchor + 3) % 6
        others = [view for view in range(6) if view != anchor]
        logits = torch.stack([views[anchor] @ views[other] / 0.5 for other in others])
        losses.append(-(logits[others.index(partner)] - torch.logsumexp(logits, dim=0)))
    torch.testing.assert_close(nt_xent_loss(first, second, 0.5), torch.stack(losses).mean())


def test_every_cache_key_holds_the_device_and_a_version_of_the_feature_code(tmp_path, monkeypatch):
    learned_features(tiny_dataset(), "autoencoder", tmp_path)
    version = keys.feature_code_version()
    stored = [json.loads(path.read_text()) for path in tmp_path.glob("*.json")]
    assert len(stored) == 2  # the encoder and the features
    assert all(json.dumps(record).count(version) == 1 and '"device": "cpu"' in json.dumps(record) for record in stored)

    package = Path(keys.__file__).resolve().parents[1]
    original = Path.read_bytes

    def edited(path: Path) -> bytes:
        content = original(path)
        return content + b"\n# edited" if path == package / "features" / "autoencoder.py" else content

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert keys.feature_code_version() != version
