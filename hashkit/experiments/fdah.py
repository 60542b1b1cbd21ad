"""FDAH's experiments {cite}`lin2021fdah`, declared: its methods, benchmarks, sweeps, deviations and claims.

The chapter ``notebooks/fdah.py`` runs them with the generic layer (:mod:`hashkit.experiments.grid`):

* :func:`method_specs` — LSH, SH, BRE, ITQ, SDH, FSDH on label-free features; DPSH, DSDH, DDSH on
  FDAH's 5,000-image training subset and, as DPSH-A, DSDH-A, DDSH-A, on the whole training set
  (Table 2); ADSH and FDAH on the whole training set, m items per round.
* :func:`prepare_benchmark` — one dataset under FDAH's protocol (§3.1).
* :func:`sweeps` — Fig. 4's γ1 and m, and §3.2's γ2 and γ3.
* :data:`DEVIATIONS` — the paper's setting beside this run's.

Its claims are in :mod:`hashkit.experiments.fdah_claims`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset, Split, load_dataset, paper_setting, protocol_split
from hashkit.deep.methods import ADSH, DDSH, DPSH, DSDH, FDAH
from hashkit.experiments.grid import Deviation, Sweep
from hashkit.experiments.methods import Benchmark, DeepSettings, MethodSpec, deep, shallow
from hashkit.features import extract_features

SHALLOW = ("LSH", "SH", "BRE", "ITQ", "SDH", "FSDH")
SYMMETRIC = ("DPSH", "DSDH", "DDSH")
ASYMMETRIC = ("ADSH", "FDAH")
TABLE1_METHODS = SHALLOW + SYMMETRIC + ASYMMETRIC
WHOLE_TRAINING = tuple(f"{name}-A" for name in SYMMETRIC)
TABLE2_METHODS = WHOLE_TRAINING + ASYMMETRIC
PAPER_DATASETS = ("fashion-mnist", "cifar10", "nus-wide")
SUBSET, FEATURES_FIT = "symmetric training subset", "shallow fit items"
# The chapter's parameters in smoke mode: a minute-long run for the tests.
SMOKE = {"bits": [12, 24], "fashion_items": 2_500, "mosaic_images": 2_500, "n_queries": 150, "table2_items": 1_500,
         "symmetric_train": 500, "mosaic_symmetric_train": 300, "shallow_train": 1_000, "query_sample": 300,
         "mosaic_query_sample": 200, "nus_wide_symmetric_train": 300, "nus_wide_query_sample": 200,
         "feature_options": {"channels": [4, 8], "feature_dim": 32, "max_train_items": 1_000, "epochs": 1},
         "backbone_options": {"channels": [4, 8], "feature_dim": 32}, "symmetric_epochs": 1,
         "whole_training_epochs": 1, "rounds": 1, "epochs_per_round": 1, "gamma1_grid": [1e-4, 1e-3],
         "m_grid": [200, 300], "sensitivity_bits": 12, "trend_rounds": 2, "trend_bits": 12}
# The protocol table's columns, in the order the chapter shows them.
SIZES_COLUMNS = ("dataset", "stands for", "seed", "queries", "database", "training set", SUBSET, "m (per round)",
                 FEATURES_FIT, "feature dim")


@dataclass(frozen=True)
class FDAHSettings:
    """FDAH's hyper-parameters (§3.1 defaults); ``sample_size`` ``None`` takes the benchmark's m."""

    gamma1: float = 1e-3
    gamma2: float = 10.0
    gamma3: float = 1.0
    sample_size: int | None = None


def method_specs(fdah: FDAHSettings = FDAHSettings()) -> dict[str, MethodSpec]:
    """Every method of Tables 1 and 2, by the name its tables give it.

    The epoch roles are ``"symmetric"`` (passes over the subset), ``"whole"`` (over the whole
    training set) and ``"rounds"`` (rounds × passes per round over each round's m items).
    """
    symmetric = {"DPSH": DPSH, "DSDH": DSDH, "DDSH": DDSH}
    specs = {name: shallow(name, trains_on=FEATURES_FIT) for name in SHALLOW}
    specs |= {name: deep(name, lambda benchmark, settings, cls=cls: cls(), trains_on=SUBSET, epochs="symmetric")
              for name, cls in symmetric.items()}
    specs |= {f"{name}-A": deep(f"{name}-A", lambda benchmark, settings, cls=cls: cls(), epochs="whole")
              for name, cls in symmetric.items()}
    specs["ADSH"] = deep("ADSH", lambda benchmark, settings: ADSH(
        sample_size=benchmark.sample_size, epochs_per_round=settings.epochs_per_round), epochs="rounds")
    specs["FDAH"] = deep("FDAH", lambda benchmark, settings: FDAH(
        gamma1=fdah.gamma1, gamma2=fdah.gamma2, gamma3=fdah.gamma3, sample_size=fdah.sample_size or benchmark.sample_size,
        epochs_per_round=settings.epochs_per_round), epochs="rounds")
    return specs


def prepare_benchmark(images: ImageDataset, paper_dataset: str, seed: int, *, n_queries: int | None,
                      symmetric_train: int, shallow_train: int, sample_size: int | None, feature_source: str | None,
                      feature_options: dict | None = None, device: str = "cpu", progress: bool = False) -> Benchmark:
    """FDAH's split of ``images`` (§3.1) and everything its methods need.

    ``n_queries`` draws that many of the protocol's queries (``None``: all of them);
    ``symmetric_train`` and ``shallow_train`` are capped at the training set's size;
    ``sample_size`` ``None`` is the paper's m for the dataset (2,000, or 5,000 on NUS-WIDE and
    its stand-ins). The features are extracted (or read from the cache) for every item;
    ``feature_source=None`` skips them, for a benchmark of deep methods only.
    """
    if paper_dataset not in PAPER_DATASETS:
        raise ValueError(f"paper_dataset: expected one of {', '.join(PAPER_DATASETS)}, got {paper_dataset!r}")
    symmetric_train = check_positive_int(symmetric_train, "symmetric_train")
    shallow_train = check_positive_int(shallow_train, "shallow_train")
    protocol = protocol_split("fdah", images, seed)
    rng = np.random.default_rng(seed)
    queries = protocol.query
    if n_queries is not None and check_positive_int(n_queries, "n_queries") < len(queries):
        queries = np.sort(rng.choice(queries, n_queries, replace=False))
    split = Split(query=queries, database=protocol.database, train=protocol.train, protocol="fdah")
    subset = np.sort(rng.choice(protocol.train, min(symmetric_train, len(protocol.train)), replace=False))
    fit_items = np.sort(rng.choice(protocol.train, min(shallow_train, len(protocol.train)), replace=False))
    m = paper_setting("fdah", images).round_sample if sample_size is None else check_positive_int(sample_size,
                                                                                                   "sample_size")
    if m > len(protocol.train):
        raise ValueError(f"sample_size: m={m:,} is more than the {len(protocol.train):,} training items of "
                         f"{images.name}; pass a smaller sample_size")
    features = None if feature_source is None else extract_features(
        images, np.arange(len(images)), feature_source, train_indices=protocol.train, seed=seed, device=device,
        progress=progress, **(feature_options or {}))
    training_sets = {SUBSET: subset, **({} if features is None else {FEATURES_FIT: fit_items})}
    return Benchmark(name=images.name, paper_dataset=paper_dataset, images=images, split=split,
                     training_sets=training_sets, features=features, sample_size=m, seed=seed)


@dataclass
class FDAHData:
    """The datasets of a run: the single-label ones (Fashion-MNIST, CIFAR-10 when given), the multi-label
    one (NUS-WIDE when given, else the mosaic set), and Table 2's (a seeded subset of the last
    single-label dataset, or all of it)."""

    single_label: list[ImageDataset]
    multi_label: ImageDataset
    table2: ImageDataset


def load_data(p: Mapping[str, object]) -> FDAHData:
    """The chapter's datasets from its parameters ``p`` (``data_root``, ``fashion_items``, ``cifar10_root``,
    ``nus_wide_root``, ``nus_wide_options``, ``mosaic_images``, ``table2_items``, ``seeds``)."""
    first_seed = p["seeds"][0]
    fashion = load_dataset("fashion-mnist", p["data_root"])
    if p["fashion_items"] is not None:
        fashion = fashion.subset(np.sort(np.random.default_rng(first_seed).choice(len(fashion), p["fashion_items"],
                                                                                  replace=False)))
    single_label = [fashion] + ([load_dataset("cifar10", p["cifar10_root"])] if p["cifar10_root"] else [])
    multi = (load_dataset("nus-wide", p["nus_wide_root"], **p["nus_wide_options"]) if p["nus_wide_root"]
             else load_dataset("fashion-mosaic", p["data_root"], n_images=p["mosaic_images"], seed=first_seed))
    source, items = single_label[-1], p["table2_items"]
    table2 = source if items is None or items >= len(source) else source.subset(
        np.sort(np.random.default_rng(first_seed).choice(len(source), items, replace=False)))
    return FDAHData(single_label, multi, table2)


def deep_settings(p: Mapping[str, object]) -> DeepSettings:
    """What every network of the chapter shares, from its parameters ``p``; the epoch roles of
    :func:`method_specs` (``rounds`` counts the engine's epochs: rounds × passes per round)."""
    return DeepSettings(backbone=p["backbone"], backbone_options=p["backbone_options"],
                        pretrained_weights=p["pretrained_weights"], device=p["device"],
                        learning_rate=p["learning_rate"], epochs_per_round=p["epochs_per_round"],
                        epochs={"symmetric": p["symmetric_epochs"], "whole": p["whole_training_epochs"],
                                "rounds": p["rounds"] * p["epochs_per_round"]}, progress=p["progress"])


def prepare_benchmarks(data: FDAHData, p: Mapping[str, object],
                       seed: int) -> tuple[list[Benchmark], Benchmark]:
    """Table 1's benchmarks (each single-label dataset, then the multi-label one) and Table 2's, for ``seed``."""
    common = {"n_queries": p["n_queries"], "shallow_train": p["shallow_train"]}
    features = {"feature_source": p["feature_source"], "feature_options": p["feature_options"],
                "device": p["device"], "progress": p["progress"]}
    on_nus_wide = data.multi_label.name == "nus-wide"
    table1 = [prepare_benchmark(images, images.name, seed, symmetric_train=p["symmetric_train"],
                                sample_size=p["query_sample"], **common, **features) for images in data.single_label]
    table1.append(prepare_benchmark(
        data.multi_label, "nus-wide", seed, **common, **features,
        symmetric_train=p["nus_wide_symmetric_train"] if on_nus_wide else p["mosaic_symmetric_train"],
        sample_size=p["nus_wide_query_sample"] if on_nus_wide else p["mosaic_query_sample"]))
    table2 = prepare_benchmark(data.table2, data.table2.name, seed, symmetric_train=p["symmetric_train"],
                               sample_size=p["query_sample"], feature_source=None, **common)
    return table1, table2


def sweeps(benchmark: Benchmark, fdah: FDAHSettings, grids: Mapping[str, Sequence[float]]) -> list[Sweep]:
    """FDAH with one of γ1, m, γ2, γ3 moved over ``grids[parameter]`` (m: sizes above the training set left out)."""
    default_m = fdah.sample_size or benchmark.sample_size
    defaults = {"gamma1": fdah.gamma1, "m": default_m, "gamma2": fdah.gamma2, "gamma3": fdah.gamma3}

    def spec_at(parameter: str) -> object:
        field = "sample_size" if parameter == "m" else parameter
        return lambda value: method_specs(replace(fdah, **{field: value}))["FDAH"]

    return [Sweep(parameter, [int(v) if parameter == "m" else float(v) for v in grids.get(parameter, [])
                              if parameter != "m" or v <= len(benchmark.split.train)],
                  defaults[parameter], spec_at(parameter))
            for parameter in ("gamma1", "m", "gamma2", "gamma3")]


DEVIATIONS = [
    Deviation("backbone", "CNN-F, ImageNet weights, all layers fine-tuned",
              lambda p: f"{p['backbone']} {p['backbone_options']}"
              + (f", weights {p['pretrained_weights']}" if p["pretrained_weights"] else ", from scratch")),
    Deviation("image size", "224 × 224 (resized)", lambda p: "the dataset's own (28 × 28 Fashion-MNIST, 56 × 56 mosaics)"),
    Deviation("training length", "150 iterations (ADSH / FDAH: 50 rounds × 3 epochs)",
              lambda p: f"DPSH/DSDH/DDSH {p['symmetric_epochs']} epochs; -A {p['whole_training_epochs']}; "
                        f"ADSH/FDAH {p['rounds']} rounds × {p['epochs_per_round']} epochs"),
    Deviation("optimiser", "learning rate tuned in 1e-6 … 1e-2, batch 128",
              lambda p: f"Adam, learning rate {p['learning_rate']:g}, batch 128"),
    Deviation("shallow features", "CNN-F (ImageNet) features, whole training set",
              lambda p: f"{p['feature_source']} features {p['feature_options']}, {p['shallow_train']:,} training items"),
    Deviation("queries", "all (10,000 on Fashion-MNIST)",
              lambda p: "all" if p["n_queries"] is None else f"{p['n_queries']:,} drawn from them"),
    Deviation("NUS-WIDE", "190,000+ training images, 2,100 queries",
              lambda p: "NUS-WIDE files given" if p["nus_wide_root"]
              else f"not available offline: the mosaic set ({p['multi_label_images']:,} images)"),
    Deviation("CIFAR-10", "59,000 training images, 1,000 queries",
              lambda p: "CIFAR-10 files given" if p["cifar10_root"] else "not run (no files given); the paper's numbers shown"),
    Deviation("Table 2 data", "CIFAR-10, 59,000 training images",
              lambda p: f"{p['table2_dataset']}, {p['table2_size']:,} images"
              + (" (a seeded subset)" if p["table2_items"] else "")),
    Deviation("seeds", "one run, none stated", lambda p: ", ".join(map(str, p["seeds"]))),
    Deviation("device", "GPU", lambda p: p["device"]),
]
