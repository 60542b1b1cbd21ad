"""``extract_features``: the one entry point from a dataset's items to a feature matrix, by source name.

Sources:

* ``"pixels"`` — the images flattened, divided by 255 (not cached: recomputing is as fast as reading).
* ``"learned"`` — the better of the two label-free networks below, as measured (see
  :mod:`hashkit.features.learned`); ``"autoencoder"`` and ``"contrastive"`` name each one.
  They train on the pixels of ``train_indices`` only and take the options of
  :class:`~hashkit.features.autoencoder.AutoencoderSettings` /
  :class:`~hashkit.features.contrastive.ContrastiveSettings` (``epochs``, ``batch_size``, ...).
* ``"torchvision:<arch>"`` — the penultimate layer of an ImageNet-pretrained torchvision network,
  from local weights only (see :mod:`hashkit.features.pretrained`); options ``weights_path``,
  ``batch_size`` (64) and ``image_size`` (224).

Features other than pixels are cached under ``cache_dir`` (default: see
:func:`~hashkit.features.cache.default_cache_dir`), keyed by the dataset, the requested items,
the source and its options, the training items and seed where the source trains, and the weight
file's hash where it loads one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset
from hashkit.features import pretrained
from hashkit.features.cache import FeatureCache, file_sha256, default_cache_dir
from hashkit.features.encoding import encode_images
from hashkit.features.keys import dataset_fingerprint, feature_code_version, indices_fingerprint
from hashkit.features.learned import DEFAULT_LEARNED_METHOD, LEARNED_METHODS, learned_features, learned_settings
from hashkit.features.pixels import pixel_features
from hashkit.runtime import resolve_device

LEARNED_ALIAS = "learned"
FEATURE_SOURCES = ("pixels", LEARNED_ALIAS, *LEARNED_METHODS, f"{pretrained.SOURCE_PREFIX}<arch>")
PRETRAINED_OPTIONS = {"weights_path": None, "batch_size": 64, "image_size": 224}


@dataclass(frozen=True)
class FeaturePlan:
    """What a source will compute: ``key`` (``None``: do not cache) and ``compute(indices) -> features``."""

    key: dict[str, Any] | None
    compute: Callable[[np.ndarray], np.ndarray]


def _check_indices(indices: np.ndarray, n_items: int, name: str) -> np.ndarray:
    indices = np.asarray(indices)
    if indices.ndim != 1 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"{name}: expected a non-empty 1-D integer index array, got {indices.dtype} {indices.shape}")
    if indices.min() < 0 or indices.max() >= n_items:
        raise ValueError(f"{name}: indices must lie in [0, {n_items}), got [{indices.min()}, {indices.max()}]")
    return indices.astype(np.int64)


def _plan_pixels(dataset: ImageDataset, options: dict[str, Any]) -> FeaturePlan:
    if options:
        raise ValueError(f"source 'pixels' takes no options, got {', '.join(sorted(options))}")
    return FeaturePlan(None, lambda indices: pixel_features(dataset, indices))


def _plan_learned(method: str, dataset: ImageDataset, train_indices: np.ndarray | None, seed: int,
                  cache: FeatureCache, device: torch.device, progress: bool, options: dict[str, Any]) -> FeaturePlan:
    settings = learned_settings(method, options)
    if train_indices is None:
        raise ValueError(f"train_indices: source {method!r} trains on the protocol's training items; pass split.train")
    train_indices = _check_indices(train_indices, len(dataset), "train_indices")
    key = {"source": method, "settings": asdict(settings), "train_indices": indices_fingerprint(train_indices),
           "seed": seed}
    return FeaturePlan(key, lambda indices: learned_features(dataset, indices, train_indices, method, settings, seed,
                                                             cache, device, progress))


def _plan_pretrained(arch: str, dataset: ImageDataset, device: torch.device, progress: bool,
                     options: dict[str, Any]) -> FeaturePlan:
    pretrained.check_architecture(arch)
    unknown = sorted(set(options) - set(PRETRAINED_OPTIONS))
    if unknown:
        raise ValueError(f"source {pretrained.SOURCE_PREFIX + arch!r}: unknown option(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(PRETRAINED_OPTIONS)}")
    settings = {**PRETRAINED_OPTIONS, **options}
    batch_size = check_positive_int(settings["batch_size"], "batch_size")
    image_size = check_positive_int(settings["image_size"], "image_size")
    # Found before anything else is read or built, so a missing file stops the call at once.
    weights_file = pretrained.find_weights(arch, settings["weights_path"])
    key = {"source": pretrained.SOURCE_PREFIX + arch, "image_size": image_size,
           "weights_sha256": file_sha256(weights_file)}

    def compute(indices: np.ndarray) -> np.ndarray:
        network = pretrained.penultimate_network(arch, weights_file)
        return encode_images(network, dataset, indices, device=device, batch_size=batch_size, progress=progress,
                             description=f"{arch} features", preprocess=pretrained.imagenet_preprocess(image_size))

    return FeaturePlan(key, compute)


def _plan(source: str, dataset: ImageDataset, train_indices: np.ndarray | None, seed: int, cache: FeatureCache,
          device: torch.device, progress: bool, options: dict[str, Any]) -> FeaturePlan:
    if source == "pixels":
        return _plan_pixels(dataset, options)
    if source == LEARNED_ALIAS or source in LEARNED_METHODS:
        method = DEFAULT_LEARNED_METHOD if source == LEARNED_ALIAS else source
        return _plan_learned(method, dataset, train_indices, seed, cache, device, progress, options)
    if isinstance(source, str) and source.startswith(pretrained.SOURCE_PREFIX):
        return _plan_pretrained(source.removeprefix(pretrained.SOURCE_PREFIX), dataset, device, progress, options)
    raise ValueError(f"source: unknown feature source {source!r}; expected one of {', '.join(FEATURE_SOURCES)}")


def extract_features(
    dataset: ImageDataset,
    indices: np.ndarray,
    source: str,
    *,
    train_indices: np.ndarray | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    device: str = "cpu",
    progress: bool = True,
    **options: Any,
) -> np.ndarray:
    """``(len(indices), dim)`` float32 features of the items ``indices`` of ``dataset`` from ``source``.

    ``source`` is one of :data:`FEATURE_SOURCES` (see the module docstring); ``options`` go to it.
    ``train_indices`` (the protocol's ``split.train``) is what the learned sources train on, and
    ``seed`` fixes their training: the same seed gives the same features. ``progress=False``
    silences the progress bars. Every argument is checked, and a missing weight file reported,
    before any training, encoding or reading of images.
    """
    indices = _check_indices(indices, len(dataset), "indices")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed: expected an integer, got {seed!r}")
    seed = int(seed)
    torch_device = resolve_device(device)
    cache = FeatureCache(default_cache_dir() if cache_dir is None else cache_dir)
    plan = _plan(source, dataset, train_indices, seed, cache, torch_device, progress, options)
    if plan.key is None:
        return plan.compute(indices)
    # Another torch, device or version of the feature code may compute other numbers: not these features.
    key = {**plan.key, "dataset": dataset_fingerprint(dataset), "indices": indices_fingerprint(indices),
           "torch": torch.__version__, "device": str(torch_device), "code": feature_code_version()}
    features = cache.load_array(key)
    if features is None:
        features = plan.compute(indices)
        cache.save_array(key, features)
    return features
