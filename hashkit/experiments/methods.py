"""One interface for every hashing method, so that scoring any of them is the same call.

A chapter declares its methods as :class:`MethodSpec` entries: a name (the label in its tables),
how the method is built from the chapter's :class:`Benchmark` and :class:`DeepSettings`, which of
the benchmark's training sets it fits on, and — for a network — which of the settings' epoch
counts it trains for. :func:`fit` turns a spec into a :class:`Fitted` method, whatever its kind:

* a shallow estimator (:mod:`hashkit.shallow`) fits on the benchmark's features and encodes
  queries and database alike;
* a deep method (:mod:`hashkit.deep`) trains a network with the shared engine; an asymmetric one
  ranks the database by the codes it learned (GUIDE §3.8);
* the kinds the later chapters bring fit the same shape: several codes per database item
  (``database_codes`` of shape ``(n, k, bits)``), a classifier whose outputs map to codes, a
  generative model with its own optimisers, a similarity refined between rounds — each a
  ``build`` that returns an object with :class:`Fitted`'s three members.

:func:`score` fits a spec and scores it (:func:`~hashkit.metrics.map_and_ball_scores`) into a
:class:`~hashkit.experiments.runs.RunResult`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset, Split
from hashkit.deep.backbones import check_backbone_choice
from hashkit.deep.augmentation import check_augmentation
from hashkit.deep.engine import OPTIMIZERS, TrainedModel, retrieval_codes, train
from hashkit.deep.method import HashingMethod
from hashkit.experiments.runs import RunResult
from hashkit.metrics import map_and_ball_scores
from hashkit.runtime import resolve_device
from hashkit.shallow import METHODS as SHALLOW_ESTIMATORS


@dataclass
class Benchmark:
    """One dataset under a paper's protocol, with everything its methods fit on.

    Attributes:
        name: our dataset's name; ``paper_dataset``: the column of the paper's tables it fills.
        images: the dataset. ``split``: queries, database and the whole training set.
        training_sets: further named subsets of ``split.train`` a method may train on (FDAH's
            symmetric methods on ``"subset"``, the shallow methods on ``"features fit"``).
        features: label-free features of every item for the shallow methods, or ``None``.
        sample_size: m, the items per round of the methods that sample (``None`` where none does).
        seed: the seed of every draw and every run on this benchmark.
        feature_sets: further named features of every item a shallow method may fit on instead
            (BGAN's "hand-crafted" pixels beside its learned features).
        extras: what several methods of a chapter share and compute once per benchmark (BGAN's
            neighbourhood of the training items).
    """

    name: str
    paper_dataset: str
    images: ImageDataset
    split: Split
    training_sets: dict[str, np.ndarray]
    features: np.ndarray | None
    sample_size: int | None
    seed: int
    feature_sets: dict[str, np.ndarray] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)

    def features_named(self, name: str | None) -> np.ndarray:
        """The features called ``name`` (``None``: :attr:`features`); an error naming what there is."""
        if name is None:
            if self.features is None:
                raise ValueError(f"features: {self.name} was prepared without features")
            return self.features
        if name not in self.feature_sets:
            raise ValueError(f"features: {self.name} has no features {name!r}; it has "
                             f"{', '.join(self.feature_sets) or 'none besides its default'}")
        return self.feature_sets[name]

    def split_for(self, trains_on: str) -> Split:
        """The evaluation split with ``trains_on`` (``"train"`` or a name in ``training_sets``) as training items."""
        if trains_on == "train":
            return self.split
        if trains_on not in self.training_sets:
            raise ValueError(f"trains_on: {self.name} has no training set {trains_on!r}; it has train, "
                             f"{', '.join(self.training_sets)}")
        return Split(query=self.split.query, database=self.split.database, train=self.training_sets[trains_on],
                     protocol=self.split.protocol)

    def sizes(self) -> dict:
        """The sizes of this run's roles, for a chapter's protocol table."""
        return {"dataset": self.name, "stands for": self.paper_dataset, "seed": self.seed,
                "queries": len(self.split.query), "database": len(self.split.database),
                "training set": len(self.split.train),
                **{name: len(items) for name, items in self.training_sets.items()},
                "m (per round)": self.sample_size,
                "feature dim": None if self.features is None else self.features.shape[1]}


@dataclass(frozen=True)
class DeepSettings:
    """What every network of a chapter shares; :meth:`check` validates it before any work.

    ``epochs`` maps an epoch role (what a :class:`MethodSpec` names: e.g. ``"subset"``,
    ``"whole"``, ``"rounds"``) to the engine's epochs for it. The optimiser's settings, the
    learning-rate steps and the augmentation are the engine's (:func:`hashkit.deep.engine.train`),
    with its defaults. ``epochs_per_round`` is the passes
    over each round's sample of the methods that train in rounds. ``progress`` shows one bar over
    each table's runs; the engine's per-epoch bars stay off, as hundreds of them would fill a page.
    """

    backbone: str = "small-cnn"
    backbone_options: dict = field(default_factory=dict)
    pretrained_weights: str | None = None
    device: str = "cpu"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 1e-5
    lr_step_epochs: int | None = None
    lr_decay: float = 0.1
    augmentation: str = "none"
    batch_size: int = 128
    epochs: Mapping[str, int] = field(default_factory=dict)
    epochs_per_round: int = 3
    progress: bool = False

    def check(self) -> None:
        """Backbone, weights file, device, optimiser, augmentation and epoch counts; raises naming the parameter."""
        check_backbone_choice(self.backbone, self.pretrained_weights, "all")
        resolve_device(self.device)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        check_augmentation(self.augmentation)
        if self.lr_step_epochs is not None:
            check_positive_int(self.lr_step_epochs, "lr_step_epochs")
        for name, value in [("batch_size", self.batch_size), ("epochs_per_round", self.epochs_per_round),
                            *((f"epochs[{role!r}]", epochs) for role, epochs in self.epochs.items())]:
            check_positive_int(value, name)

    def train_options(self, role: str) -> dict:
        """The engine's options for a network trained for the epochs of ``role``."""
        if role not in self.epochs:
            raise ValueError(f"epochs: no epoch count for {role!r}; the settings have {', '.join(self.epochs)}")
        return {"backbone": self.backbone, "backbone_options": dict(self.backbone_options),
                "pretrained_weights": self.pretrained_weights, "device": self.device, "epochs": self.epochs[role],
                "optimizer": self.optimizer, "learning_rate": self.learning_rate, "momentum": self.momentum,
                "weight_decay": self.weight_decay, "lr_step_epochs": self.lr_step_epochs, "lr_decay": self.lr_decay,
                "augmentation": self.augmentation, "batch_size": self.batch_size, "progress": False}


class Fitted(Protocol):
    """A fitted hashing method as retrieval sees it."""

    training_seconds: float
    images_per_second: float | None
    history: pd.DataFrame | None

    def codes(self, benchmark: Benchmark) -> tuple[np.ndarray, np.ndarray]:
        """``(query codes, database codes)`` of the benchmark's split, as they are ranked."""


@dataclass
class FittedShallow:
    """A :mod:`hashkit.shallow` estimator fitted on features (the benchmark's, or its feature set
    ``features``): queries and database encoded alike."""

    estimator: object
    training_seconds: float
    features: str | None = None
    images_per_second: None = None
    history: None = None

    def codes(self, benchmark: Benchmark) -> tuple[np.ndarray, np.ndarray]:
        features = benchmark.features_named(self.features)
        return (self.estimator.encode(features[benchmark.split.query]),
                self.estimator.encode(features[benchmark.split.database]))


@dataclass
class FittedNetwork:
    """A network trained by the engine; an asymmetric method ranks the database by its learned codes."""

    model: TrainedModel
    split: Split

    @property
    def training_seconds(self) -> float:
        return self.model.training_seconds

    @property
    def images_per_second(self) -> float:
        return self.model.images_per_second

    @property
    def history(self) -> pd.DataFrame:
        return self.model.history

    def codes(self, benchmark: Benchmark) -> tuple[np.ndarray, np.ndarray]:
        return retrieval_codes(self.model, benchmark.images, self.split)


Build = Callable[[Benchmark, "DeepSettings", int], object]


@dataclass(frozen=True)
class MethodSpec:
    """How a chapter runs one method: built by ``build`` from the benchmark and the deep settings
    (an estimator class's instance for ``kind="shallow"``, a :class:`HashingMethod` for
    ``kind="deep"``), fitted on the benchmark's ``trains_on`` items, a network for the epochs of
    ``epochs`` (a role of :attr:`DeepSettings.epochs`); a shallow method fits on the benchmark's
    feature set ``features`` (``None``: its default features)."""

    name: str
    kind: Literal["shallow", "deep"]
    build: Build
    trains_on: str = "train"
    epochs: str | None = None
    features: str | None = None


def shallow(name: str, trains_on: str = "features fit", features: str | None = None,
            label: str | None = None, options: Mapping[str, object] | None = None) -> MethodSpec:
    """The :mod:`hashkit.shallow` estimator called ``name``, seeded by the benchmark where it draws
    numbers, on the feature set ``features``, named ``label`` in the tables (default ``name``),
    built with the keyword ``options``."""
    if name not in SHALLOW_ESTIMATORS:
        raise ValueError(f"name: expected one of {', '.join(sorted(SHALLOW_ESTIMATORS))}, got {name!r}")
    estimator_class = SHALLOW_ESTIMATORS[name]
    takes_seed = "seed" in inspect.signature(estimator_class).parameters

    def build(benchmark: Benchmark, settings: DeepSettings, n_bits: int) -> object:
        return estimator_class(n_bits, **({"seed": benchmark.seed} if takes_seed else {}), **(options or {}))

    return MethodSpec(name=label or name, kind="shallow", build=build, trains_on=trains_on, features=features)


def deep(name: str, build: Callable[[Benchmark, DeepSettings], HashingMethod], *, trains_on: str = "train",
         epochs: str) -> MethodSpec:
    """A deep method built by ``build``, trained on ``trains_on`` for the epochs of role ``epochs``."""
    return MethodSpec(name=name, kind="deep", build=lambda benchmark, settings, n_bits: build(benchmark, settings),
                      trains_on=trains_on, epochs=epochs)


def fit(spec: MethodSpec, benchmark: Benchmark, n_bits: int, settings: DeepSettings,
        after_epoch: Callable[[TrainedModel], None] | None = None) -> Fitted:
    """``spec`` fitted on ``benchmark`` at ``n_bits``: the one call every kind of method goes through."""
    if spec.kind == "shallow" and spec.features is None and benchmark.features is None:
        raise ValueError(f"{spec.name}: a shallow method needs features; {benchmark.name} was prepared without")
    split = benchmark.split_for(spec.trains_on)
    method = spec.build(benchmark, settings, n_bits)
    if spec.kind == "shallow":
        features = benchmark.features_named(spec.features)
        started = time.perf_counter()
        method.fit(features[split.train], benchmark.images.labels[split.train])
        return FittedShallow(method, time.perf_counter() - started, spec.features)
    model = train(method, benchmark.images, split, n_bits, seed=benchmark.seed, after_epoch=after_epoch,
                  **settings.train_options(spec.epochs))
    return FittedNetwork(model, split)


def score(spec: MethodSpec, benchmark: Benchmark, n_bits: int, settings: DeepSettings, radius: int = 2,
          keep_fitted: bool = False) -> RunResult:
    """Fit ``spec`` and score it: mAP over the whole database and precision / recall / F1 within ``radius``.

    ``keep_fitted`` keeps the fitted method in the result (a network and its per-item state: kept
    only when asked, since a grid holds many results)."""
    fitted = fit(spec, benchmark, n_bits, settings)
    query_codes, database_codes = fitted.codes(benchmark)
    labels = benchmark.images.labels
    scores = map_and_ball_scores(query_codes, database_codes, labels[benchmark.split.query],
                         labels[benchmark.split.database], radius)
    return RunResult(method=spec.name, dataset=benchmark.name, bits=n_bits, seed=benchmark.seed, radius=radius,
                     training_seconds=fitted.training_seconds, images_per_second=fitted.images_per_second,
                     query_codes=query_codes, database_codes=database_codes, history=fitted.history,
                     fitted=fitted if keep_fitted else None, **scores)
