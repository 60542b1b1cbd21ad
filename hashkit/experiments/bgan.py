"""BGAN's experiments {cite}`song2017bgan`, declared: its methods, benchmarks, variants and deviations.

The chapter ``notebooks/bgan.py`` runs them with the generic layer (:mod:`hashkit.experiments.grid`):

* :class:`BGANSettings` and :func:`bgan_spec` — BGAN with any subset of its losses (Table 2), the
  two-step or a continuation variant (Table 4), its neighbourhood from features or, for BGAN_s,
  from labels (Table 5); DSAH's chapter builds its BGAN baseline with the same function.
* :func:`method_specs` — every method of Tables 3 and 5 and Fig. 4: the shallow methods on pixels
  (the paper's hand-crafted features) and on label-free learned features (its "+VGG" rows),
  DeepBit, DH, DNNH, CNNH, DHN.
* :func:`prepare_benchmarks` — both datasets under BGAN's protocol (§4.1.1) with their features
  and pixels; :func:`neighbourhood_of` — a benchmark's neighbourhood (§3.1), computed once.
* :data:`DEVIATIONS` — the paper's setting beside this run's.

Its claims are in :mod:`hashkit.experiments.bgan_claims`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import sparse

from hashkit.checks import check_positive_int
from hashkit.deep.methods import CNNH, DHN, DNNH, DeepBit
from hashkit.deep.methods.bgan import BGAN, PAPER_BETAS, check_betas, check_generator_shape, label_neighbourhood
from hashkit.experiments.datasets import FEATURES_FIT, ChapterData, load_chapter_data, prepare_benchmark
from hashkit.experiments.grid import Deviation
from hashkit.experiments.methods import Benchmark, DeepSettings, FittedNetwork, MethodSpec, deep, shallow
from hashkit.experiments.runs import RunResult
from hashkit.features.neighbourhood import expanded_neighbourhood, knn_label_precision, neighbourhood_label_precision
from hashkit.shallow import KSH

PIXELS = "pixels"
HAND_CRAFTED = ("ITQ", "SH", "LSH", "SpH")
# Ours on the learned features, named as the paper's rows on VGG features they stand for.
ON_FEATURES = {f"{name}+feat": f"{name}+VGG" for name in HAND_CRAFTED}
DEEP_UNSUPERVISED = ("DeepBit", "DH")
TABLE3_METHODS = (*HAND_CRAFTED, *ON_FEATURES, *DEEP_UNSUPERVISED, "BGAN")
FIG4_EXTRA = ("PCAH", "AGH", "DGH")
SUPERVISED_SHALLOW = ("ITQ-CCA", "KSH", "MLH")
SUPERVISED_DEEP = ("DNNH", "CNNH", "DHN")
TABLE5_METHODS = (*SUPERVISED_SHALLOW, *SUPERVISED_DEEP, "BGAN_s")
ABLATION = ("N", "C", "A", "N+C", "N+A", "C+A", "N+C+A")
VARIANTS = {"two-step": ("tanh", False), "continuation-tanh": ("tanh", True), "continuation-app": ("app", True)}
PAPER_NAMES = {**ON_FEATURES, **{f"BGAN[{combo}]": f"BGAN[{combo}]" for combo in ABLATION}}
PAPER_DATASETS = {"single": "cifar10", "multi": "nus-wide"}
KSH_LABELLED = 2_000
# The chapter's parameters in smoke mode: a minute-long run for the tests.
SMOKE = {"bits": [12, 32], "mosaic_bits": [12, 32], "supervised_bits": [12, 32], "ablation_bits": 32, "fashion_items": 2_000, "mosaic_images": 1_200,
         "query_per_class": 10, "train_per_class": 60, "mosaic_query_per_class": 10, "mosaic_train_per_class": 40,
         "feature_options": {"channels": [4, 8], "feature_dim": 32, "max_train_items": 600, "epochs": 1},
         "backbone_options": {"channels": [4, 8], "feature_dim": 32}, "epochs": 1, "baseline_epochs": 1,
         "generator_channels": [8, 4, 4], "discriminator_channels": [4, 8], "discriminator_dense": 16,
         "betas": [1.0, 10.0], "mlh_epochs": 2, "k1": 5, "k2": 5, "fig2_k1": [5], "fig2_k": [5, 20], "convergence_epochs": 2,
         "shallow_train": 600}
SIZES_COLUMNS = ("dataset", "stands for", "seed", "queries", "database", "training set", FEATURES_FIT, "feature dim")


@dataclass(frozen=True)
class BGANSettings:
    """BGAN's hyper-parameters (§4.1.4 and §3), the defaults the paper's where it gives them.

    ``betas``/``epochs_per_stage`` are the continuation schedule of the continuation variants; the
    two-step variant trains at β = 1 throughout. ``k1``/``k2`` build the neighbourhood (§3.1).
    The network shapes are those of the scaled-down generator and discriminator (the paper's:
    generator 256, 256, 128, 32 from 8 × 8 to 64 px; discriminator 32, 128, 256, 512, dense 1,024).
    """

    lambda1: float = 0.1
    lambda2: float = 0.1
    k1: int = 20
    k2: int = 30
    betas: tuple[float, ...] = PAPER_BETAS
    epochs_per_stage: int = 1
    adversarial: str = "saturating"
    generator_channels: tuple[int, ...] = (32, 16, 8)
    discriminator_channels: tuple[int, ...] = (8, 16, 32)
    discriminator_dense: int = 64
    gan_learning_rate: float = 1e-3

    def check(self, image_sizes: Sequence[int]) -> None:
        """The schedule, the weights and the generator against every dataset's image size: errors before training."""
        check_betas(self.betas)
        for name in ("lambda1", "lambda2"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: expected a weight >= 0, got {getattr(self, name)}")
        for size in image_sizes:
            check_generator_shape(size, self.generator_channels)


# The image sizes and class counts of the datasets the chapter loads without files.
EMBEDDED_IMAGE_SIZES = {"single": 28, "multi": 56}
SINGLE_LABEL_CLASSES = 10


def check_chapter_parameters(p: Mapping[str, object]) -> None:
    """The chapter's BGAN settings before anything loads: the schedule, the weights, the generator
    against the embedded datasets' image sizes, and K1, K2 against the single-label training set.
    (With CIFAR-10 or NUS-WIDE files the generator is checked again once their images are read.)"""
    sizes = [size for role, size in EMBEDDED_IMAGE_SIZES.items()
             if not p[{"single": "cifar10_root", "multi": "nus_wide_root"}[role]]]
    if p["cifar10_root"]:
        sizes.append(32)
    bgan_settings(p).check(sizes)
    n_train = SINGLE_LABEL_CLASSES * (p["train_per_class"] or 1_000)
    for name, values in (("k1", [p["k1"]]), ("k2", [p["k2"]]), ("fig2_k1", p["fig2_k1"])):
        if max(values) >= n_train:
            raise ValueError(f"{name}: {max(values)} neighbours need more than the {n_train:,} training images "
                             f"(train_per_class × {SINGLE_LABEL_CLASSES} classes); expected at most {n_train - 1:,}")


def neighbourhood_of(benchmark: Benchmark, k1: int, k2: int, from_labels: bool = False) -> sparse.csr_matrix:
    """The neighbourhood of the benchmark's training items, computed once and kept in its extras:
    §3.1's from the learned features, or BGAN_s's from labels."""
    key = ("neighbourhood", "labels") if from_labels else ("neighbourhood", k1, k2)
    if key not in benchmark.extras:
        train = benchmark.split.train
        benchmark.extras[key] = (label_neighbourhood(benchmark.images.labels[train]) if from_labels
                                 else expanded_neighbourhood(benchmark.features[train], k1, k2))
    return benchmark.extras[key]


def bgan_spec(name: str, settings: BGANSettings, *, losses: Sequence[str] = ("N", "C", "A"),
              variant: str = "two-step", from_labels: bool = False) -> MethodSpec:
    """BGAN as a method of the experiment layer: its ``losses``, its ``variant`` (:data:`VARIANTS`),
    its neighbourhood from the benchmark's features or (``from_labels``, BGAN_s) from labels."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
    relaxation, continued = VARIANTS[variant]

    def build(benchmark: Benchmark, deep_settings: DeepSettings) -> BGAN:
        return BGAN(neighbourhood_of(benchmark, settings.k1, settings.k2, from_labels), lambda1=settings.lambda1,
                    lambda2=settings.lambda2, losses=losses, betas=settings.betas if continued else (1.0,),
                    epochs_per_stage=settings.epochs_per_stage, relaxation=relaxation,
                    adversarial=settings.adversarial, generator_channels=settings.generator_channels,
                    discriminator_channels=settings.discriminator_channels,
                    discriminator_dense=settings.discriminator_dense, gan_learning_rate=settings.gan_learning_rate)

    return deep(name, build, epochs="bgan")


def method_specs(settings: BGANSettings = BGANSettings(), mlh_epochs: int = 50) -> dict[str, MethodSpec]:
    """Every method of Tables 2–5 and Fig. 4, by the name its tables give it; MLH makes
    ``mlh_epochs`` passes over its pairs (its default: 50).

    Epoch roles: ``"bgan"`` (BGAN and its variants) and ``"baselines"`` (the deep baselines).
    """
    specs = {name: shallow(name, trains_on=FEATURES_FIT, features=PIXELS) for name in (*HAND_CRAFTED, *FIG4_EXTRA)}
    specs |= {ours: shallow(ours.removesuffix("+feat"), trains_on=FEATURES_FIT, label=ours) for ours in ON_FEATURES}
    specs |= {name: shallow(name, trains_on=FEATURES_FIT) for name in ("DH", "ITQ-CCA")}
    specs["MLH"] = shallow("MLH", trains_on=FEATURES_FIT, options={"n_epochs": check_positive_int(mlh_epochs,
                                                                                                  "mlh_epochs")})
    # KSH learns from its paper's 2,000 labelled items, or from as many as the fit set has.
    specs["KSH"] = MethodSpec(name="KSH", kind="shallow", trains_on=FEATURES_FIT, build=lambda benchmark, _, n_bits: KSH(
        n_bits, n_labelled=min(KSH_LABELLED, len(benchmark.training_sets[FEATURES_FIT])), seed=benchmark.seed))
    specs |= {name: deep(name, lambda benchmark, deep_settings, cls=cls: cls(), epochs="baselines")
              for name, cls in {"DeepBit": DeepBit, "DNNH": DNNH, "CNNH": CNNH, "DHN": DHN}.items()}
    specs["BGAN"] = bgan_spec("BGAN", settings)
    specs["BGAN_s"] = bgan_spec("BGAN_s", settings, from_labels=True)
    specs |= {f"BGAN[{combo}]": bgan_spec(f"BGAN[{combo}]", settings, losses=combo.split("+")) for combo in ABLATION}
    specs |= {f"BGAN[{variant}]": bgan_spec(f"BGAN[{variant}]", settings, variant=variant) for variant in VARIANTS}
    return specs


def load_data(p: Mapping[str, object]) -> ChapterData:
    """The chapter's datasets from its parameters ``p`` (:func:`~hashkit.experiments.datasets.load_chapter_data`)."""
    return load_chapter_data(p, mosaic_layout="jittered")


def bgan_settings(p: Mapping[str, object]) -> BGANSettings:
    """:class:`BGANSettings` from the chapter's parameters ``p``."""
    return BGANSettings(lambda1=p["lambda1"], lambda2=p["lambda2"], k1=p["k1"], k2=p["k2"], betas=tuple(p["betas"]),
                        epochs_per_stage=p["epochs_per_stage"], adversarial=p["adversarial"],
                        generator_channels=tuple(p["generator_channels"]),
                        discriminator_channels=tuple(p["discriminator_channels"]),
                        discriminator_dense=p["discriminator_dense"], gan_learning_rate=p["learning_rate"])


def deep_settings(p: Mapping[str, object]) -> DeepSettings:
    """What every network of the chapter shares, from its parameters ``p``; BGAN's epochs cover its
    continuation schedule (one stage per ``epochs_per_stage``)."""
    return DeepSettings(backbone=p["backbone"], backbone_options=p["backbone_options"],
                        pretrained_weights=p["pretrained_weights"], device=p["device"],
                        learning_rate=p["learning_rate"], batch_size=p["batch_size"],
                        epochs={"bgan": p["epochs"], "baselines": p["baseline_epochs"]}, progress=p["progress"])


def prepare_benchmarks(data: ChapterData, p: Mapping[str, object], seed: int) -> tuple[Benchmark, Benchmark]:
    """The single-label and the multi-label benchmark for ``seed``."""
    common = {"shallow_train": p["shallow_train"], "feature_source": p["feature_source"],
              "feature_options": p["feature_options"], "device": p["device"], "progress": p["progress"],
              "feature_sets": (PIXELS,)}
    single = prepare_benchmark(data.single_label, "bgan", PAPER_DATASETS["single"], seed,
                               {"query_per_class": p["query_per_class"], "train_per_class": p["train_per_class"]},
                               **common)
    multi = prepare_benchmark(data.multi_label, "bgan", PAPER_DATASETS["multi"], seed,
                              {"query_per_class": p["mosaic_query_per_class"],
                               "train_per_class": p["mosaic_train_per_class"]}, **common)
    return single, multi


def neighbourhood_precision(benchmark: Benchmark, k1_values: Sequence[int], k2: int,
                            k_values: Sequence[int]) -> pd.DataFrame:
    """Fig. 2: the label precision of plain k-NN lists of the training items (one row per k) and of
    §3.1's expanded neighbourhoods (one row per K1, at their mean size), from the learned features."""
    train = benchmark.split.train
    features, labels = benchmark.features[train], benchmark.images.labels[train]
    plain = knn_label_precision(features, labels, [k for k in k_values if k < len(train)])
    rows = [{"construction": "k nearest neighbours", "K1": None, "neighbours": float(row.k), "precision": row.precision}
            for row in plain.itertuples()]
    for k1 in k1_values:
        measured = neighbourhood_label_precision(expanded_neighbourhood(features, k1, k2), labels)
        rows.append({"construction": f"expanded (K2 = {k2})", "K1": k1, "neighbours": measured["mean size"],
                     "precision": measured["precision"]})
    return pd.DataFrame(rows)


DEVIATIONS = [
    Deviation("encoder", "VGG-style (Table 1), ImageNet weights in the authors' code, 224 px",
              lambda p: f"{p['backbone']} {p['backbone_options']}"
              + (f", weights {p['pretrained_weights']}" if p["pretrained_weights"] else ", from scratch")
              + ", images at their own size"),
    Deviation("generator, discriminator", "generator 8×8×256 → 256, 128, 32 maps → 64 px; discriminator 32, 128, "
              "256, 512 maps, dense 1,024",
              lambda p: f"generator {p['generator_channels']} maps; discriminator "
                        f"{p['discriminator_channels']} maps, dense {p['discriminator_dense']}"),
    Deviation("neighbourhood features", "ResNet pool5 (2,048-d) of the training images",
              lambda p: f"{p['feature_source']} features (label-free), K1 = {p['k1']}, K2 = {p['k2']}"),
    Deviation("optimiser", "SGD, learning rate 0.01, batch 256 (the authors' code: Adam 1e-3, batch 40)",
              lambda p: f"Adam, learning rate {p['learning_rate']:g}, batch {p['batch_size']}"),
    Deviation("epochs", "until convergence (the authors' code: 51)",
              lambda p: f"BGAN {p['epochs']} (continuation: a stage per {p['epochs_per_stage']} epoch(s), β "
                        f"{p['betas']}); deep baselines {p['baseline_epochs']}"),
    Deviation("training set", "1,000 images per class (CIFAR-10, NUS-WIDE), 4,000 (Flickr)",
              lambda p: f"{p['train_per_class'] or 1000} per class; mosaic {p['mosaic_train_per_class']} per class"),
    Deviation("hand-crafted features", "1,134-d colour, edge, texture and SIFT features (or 512-d GIST)",
              lambda p: "the pixels"),
    Deviation("+VGG features", "VGG fc7 (or CNN-F) features", lambda p: f"{p['feature_source']} features"),
    Deviation("NUS-WIDE", "195,834 images, 21 labels", lambda p: "NUS-WIDE files given" if p["nus_wide_root"]
              else f"the jittered mosaic stands in ({p['mosaic_images']:,} images)"),
    Deviation("Flickr", "25,000 images", lambda p: "not run (no files); the paper's numbers shown"),
    Deviation("seeds", "one run, none stated", lambda p: ", ".join(map(str, p["seeds"]))),
    Deviation("device", "GPU", lambda p: p["device"]),
]



def ablation_table(results: Sequence[RunResult], paper: pd.DataFrame, collapsed: int = 2) -> pd.DataFrame:
    """Table 2 beside the paper: per loss combination, mAP, the database's distinct codes, and the
    paper's cell; a run whose database has at most ``collapsed`` distinct codes reads "identical
    codes for all images" instead of a number, as the paper's "-" does."""
    published = paper.set_index(["method", "bits"])["map"]
    rows = []
    for result in results:
        distinct = len(np.unique(result.database_codes, axis=0))
        paper_value = published.get((result.method, result.bits), np.nan)
        rows.append({"losses": result.method.removeprefix("BGAN[").removesuffix("]"), "bits": result.bits,
                     "seed": result.seed, "distinct database codes": distinct,
                     "mAP": "identical codes for all images" if distinct <= collapsed else f"{result.map:.3f}",
                     "paper": "identical codes for all images" if pd.isna(paper_value) else f"{paper_value:.3f}"})
    return pd.DataFrame(rows)


def encoding_milliseconds(result: RunResult, benchmark: Benchmark, repeats: int = 3) -> float:
    """Milliseconds to encode one query image (Table 6's "testing time"): the best of ``repeats``
    encodings of the whole query set, images for a network, features for a shallow method."""
    fitted = result.fitted
    queries = benchmark.split.query
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        if isinstance(fitted, FittedNetwork):
            fitted.model.encode(benchmark.images, queries)
        else:
            fitted.estimator.encode(benchmark.features_named(fitted.features)[queries])
        timings.append(time.perf_counter() - started)
    return 1000 * min(timings) / len(queries)


def reconstructions(fitted: FittedNetwork, benchmark: Benchmark, n_images: int, seed: int) -> dict[str, np.ndarray]:
    """Fig. 6's three rows as ``uint8`` images: the generator's images from random codes, its
    reconstructions of ``n_images`` queries from their codes, and those queries."""
    model, images = fitted.model, benchmark.images
    queries = benchmark.split.query[:n_images]
    generator = torch.Generator().manual_seed(seed)
    random_codes = torch.where(torch.rand(n_images, model.n_bits, generator=generator) < 0.5, -1.0, 1.0)
    codes = torch.from_numpy(model.encode(images, queries).astype(np.float32))

    def as_images(tensor: torch.Tensor) -> np.ndarray:
        pixels = (tensor.clamp(0, 1) * 255).round().byte().numpy()
        return pixels[:, 0] if pixels.shape[1] == 1 else pixels.transpose(0, 2, 3, 1)

    return {"from random codes": as_images(model.method.reconstruct(random_codes)),
            "reconstructions": as_images(model.method.reconstruct(codes)), "inputs": images.images(queries)}


def cost_table(results: Sequence[RunResult], benchmark: Benchmark, paper: pd.DataFrame) -> pd.DataFrame:
    """Table 6: training seconds and milliseconds to encode a query image of each run (DH's first),
    their ratios to DH's, and the paper's ratios (its hours and milliseconds)."""
    ordered = sorted(results, key=lambda result: result.method != "DH")
    table = pd.DataFrame([{"method": r.method, "training seconds": r.training_seconds,
                           "encoding ms per image": encoding_milliseconds(r, benchmark)} for r in ordered])
    published = paper.set_index("method")
    for ours, theirs, label in (("training seconds", "training_time_hours", "training"),
                                ("encoding ms per image", "testing_time_ms_per_image", "encoding")):
        table[f"{label} / DH"] = table[ours] / table[ours].iloc[0]
        table[f"paper {label} / DH"] = [published.loc[m, theirs] / published.loc["DH", theirs] for m in table["method"]]
    return table
