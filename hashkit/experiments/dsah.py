"""DSAH's experiments {cite}`lin2021dsah`, declared: its methods, benchmarks, variants and deviations.

The chapter ``notebooks/dsah.py`` runs them with the generic layer (:mod:`hashkit.experiments.grid`):

* :class:`DSAHSettings` and :func:`dsah_spec` — DSAH and its ablations (Figs. 4 and 6: PIC⁰, PIC,
  PIC⁻, AND⁰, AND, AND+PIC) and the loss-scale control, as switches of one method;
* :func:`method_specs` — every method of Table 1: the shallow methods on label-free features (the
  paper's "+VGG" rows), GH and TBH on the same features, SSDH and MLS³RDUH with their own
  pseudo-similarities, BGAN from the BGAN chapter, DSAH;
* :func:`prepare_benchmarks` — both datasets under DSAH's protocol (§5.1);
  :func:`initial_similarity` — a benchmark's W⁰, computed once;
* :func:`similarity_table`, :func:`precision_at`, :func:`ablation_table`, :func:`round_table`,
  :func:`pair_weight_maps`, :func:`scale_control_table` — W⁰'s quality, Table 3 (and Fig. 11's P@10), Figs. 4 and 6, Fig. 7 and Fig. 5;
* :func:`sensitivity_points`, :func:`sensitivity_spec`, :func:`sensitivity_frame` — Fig. 8's λ and τ;
  :func:`gamma_round_table` — Fig. 9's γ × rounds; :func:`centring_table` — why the features are centred;
  :func:`scaled_top_k` — the cut-off of MAP@5000 scaled to our database;
* :data:`DEVIATIONS` — the paper's setting beside this run's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse

from hashkit.deep.methods.dsah import DSAH, cosine_matrix, pair_weights
from hashkit.deep.methods.mls3rduh import MLS3RDUH
from hashkit.deep.methods.ssdh import SSDH
from hashkit.experiments.bgan import BGANSettings, bgan_spec
from hashkit.experiments.datasets import FEATURES_FIT, ChapterData, load_chapter_data, prepare_benchmark
from hashkit.experiments.grid import Deviation
from hashkit.experiments.methods import Benchmark, DeepSettings, FittedNetwork, MethodSpec, deep, shallow
from hashkit.experiments.runs import RunResult, summarise
from hashkit.features.neighbourhood import neighbour_lists, shared_neighbour_similarity, similarity_quality
from hashkit.features.pseudo_similarity import mls3rduh_similarity, ssdh_similarity
from hashkit.metrics import precision_recall_at_n
from hashkit.shallow.gh import GH

PAPER_DATASETS = {"single": "cifar10", "multi": "mir-flickr"}
ON_FEATURES = {f"{name}+feat": f"{name}+VGG" for name in ("LSH", "SH", "ITQ", "AGH", "SP", "SGH")}
DEEP_BASELINES = ("GH", "SSDH", "BGAN", "MLS3RDUH", "TBH")
TABLE1_METHODS = (*ON_FEATURES, *DEEP_BASELINES, "DSAH")
# Figs. 4 and 6 (§5.4): each variant as DSAH's switches. PIC's variants run without AND (the
# authors' scripts for Fig. 4); AND⁰ is PIC⁰ and AND+PIC is DSAH, so neither is trained twice.
VARIANTS = {"PIC⁰": {"weighting": "none", "adaptive": False}, "PIC": {"weighting": "pic", "adaptive": False},
            "PIC⁻": {"weighting": "negative", "adaptive": False}, "AND": {"weighting": "none", "adaptive": True}}
SAME_RUN = {"AND⁰": "PIC⁰", "AND+PIC": "DSAH"}
# The loss-scale control: PIC⁰'s weight 1 replaced by PIC's mean weight, under plain SGD (the scale
# a loss carries is the step an SGD update takes; Adam would divide most of it away).
SCALED = "PIC⁰ × mean a"
SCALE_CONTROL = {SCALED: {"weighting": "constant", "adaptive": False}}
PAPER_NAMES = {**ON_FEATURES, "MLS3RDUH": "MLS3RDUH"}
# The paper's MAP@5000 ranks 59,000 CIFAR-10 images; the cut-off is scaled to our database.
PAPER_TOP_K, PAPER_DATABASE = 5_000, 59_000
# The chapter's parameters in smoke mode: a minute-long run for the tests.
SMOKE = {"bits": [16, 32], "ablation_bits": [16], "sensitivity_bits": 16, "fashion_items": 2_000, "mosaic_images": 1_200,
         "query_per_class": 10, "train_per_class": 40, "mosaic_queries": 100, "mosaic_train": 400, "rounds": 2,
         "epochs_per_round": 1, "max_rounds": 3, "lambda_grid": [10.0, 100.0], "tau_grid": [0.1, 1.0],
         "gamma_grid": [-1.0, 1.0], "tsne_points": 100, "retrieval_queries": 1, "baseline_epochs": 1, "bgan_epochs": 1,
         "shallow_train": 400, "memory_check_items": None,
         "gh_options": {"optimizer": "adam", "learning_rate": 1e-3, "epochs": 2},
         "tbh_options": {"hidden_units": 32, "continuous_units": 16, "batch_size": 64, "iterations": 40},
         "feature_options": {"channels": [4, 8], "feature_dim": 32, "max_train_items": 600, "epochs": 1},
         "backbone_options": {"channels": [4, 8], "feature_dim": 32}}
# The paper's k1 = k2 (§5.2), with which W⁰'s memory is measured at ``memory_check_items``.
MEMORY_CHECK_K = 500
SIZES_COLUMNS = ("dataset", "stands for", "seed", "queries", "database", "training set", FEATURES_FIT, "feature dim")


@dataclass(frozen=True)
class DSAHSettings:
    """DSAH's hyper-parameters (§5.2): λ, τ, γ (per dataset: the paper's 1 on CIFAR-10, 0 on
    FLICKR25K), R rounds of T epochs, ``k1`` = ``k2`` neighbours for W⁰ (``None``: 5 % of the
    training set, as the paper's 500 of 10,000), and the switches the authors' code decides
    otherwise (:class:`~hashkit.deep.methods.dsah.DSAH`)."""

    lam: float = 10.0
    tau: float = 1.0
    gamma: float = 1.0
    mosaic_gamma: float = 0.0
    rounds: int = 3
    epochs_per_round: int = 2
    k1: int | None = None
    k2: int | None = None
    pic_gradient: str = "through"
    quantisation: str = "paper"

    def neighbours(self, n_train: int) -> tuple[int, int]:
        """``k1``, ``k2`` for a training set of ``n_train`` items."""
        share = max(2, round(0.05 * n_train))
        return self.k1 or share, self.k2 or share

    def gamma_for(self, benchmark: Benchmark) -> float:
        return self.gamma if benchmark.paper_dataset == PAPER_DATASETS["single"] else self.mosaic_gamma


def check_chapter_parameters(p: Mapping[str, object]) -> None:
    """K1 and K2 against both training sets, and the memory check's size, before anything loads (τ > 0 and
    R ≥ 1 are their types').
    The single-label set has 10 classes (Fashion-MNIST, CIFAR-10); the mosaic's size is ``mosaic_train``."""
    sizes = {"the single-label training set": 10 * (p["train_per_class"] or 1_000),
             "the multi-label training set": p["mosaic_train"] or 10_000}
    for name in ("k1", "k2"):
        for where, n_train in sizes.items():
            if p[name] is not None and p[name] >= n_train:
                raise ValueError(f"{name}: {p[name]} neighbours need more than the {n_train:,} images of {where}; "
                                 f"expected at most {n_train - 1:,}")
    if p["memory_check_items"] is not None and p["memory_check_items"] <= MEMORY_CHECK_K:
        raise ValueError(f"memory_check_items: W⁰'s memory is measured with k1 = k2 = {MEMORY_CHECK_K}, so it needs more "
                         f"than {MEMORY_CHECK_K} items; got {p['memory_check_items']} (None skips the measurement)")


def initial_similarity(benchmark: Benchmark, settings: DSAHSettings) -> sparse.csr_matrix:
    """W⁰ of the benchmark's training items from its learned features (eqs. 7–9), computed once."""
    k1, k2 = settings.neighbours(len(benchmark.split.train))
    key = ("W0", k1, k2)
    if key not in benchmark.extras:
        benchmark.extras[key] = shared_neighbour_similarity(benchmark.features[benchmark.split.train], k1, k2)
    return benchmark.extras[key]


def _targets(benchmark: Benchmark, name: str, build) -> object:
    key = ("targets", name)
    if key not in benchmark.extras:
        benchmark.extras[key] = build(benchmark.features[benchmark.split.train])
    return benchmark.extras[key]


def dsah_spec(name: str, settings: DSAHSettings, *, weighting: str = "pic", adaptive: bool = True,
              keep_similarities: bool = False) -> MethodSpec:
    """DSAH, or one of its variants (:data:`VARIANTS`), as a method of the experiment layer."""

    def build(benchmark: Benchmark, deep_settings: DeepSettings) -> DSAH:
        return DSAH(initial_similarity(benchmark, settings), weighting=weighting, adaptive=adaptive, tau=settings.tau,
                    lam=settings.lam, gamma=settings.gamma_for(benchmark), epochs_per_round=settings.epochs_per_round,
                    pic_gradient=settings.pic_gradient, quantisation=settings.quantisation,
                    keep_similarities=keep_similarities)

    return deep(name, build, epochs="dsah")


# Figs. 8 and 9 (§5.5): which DSAHSettings field each swept symbol moves.
SWEPT = {"λ": "lam", "τ": "tau", "γ": "gamma"}


def sensitivity_points(settings: DSAHSettings, grids: Mapping[str, Sequence[float]]) -> list[tuple[str, str, float]]:
    """Fig. 8's points as (run name, symbol, value), for each swept symbol of :data:`SWEPT` (λ, τ) and
    each value of its grid. At the chapter's own value the run is "DSAH" itself, trained once for
    Table 1 and shared by every sweep; elsewhere "DSAH (λ = 0)" and so on (:func:`sensitivity_spec`)."""
    return [("DSAH" if value == getattr(settings, SWEPT[symbol]) else f"DSAH ({symbol} = {value:g})", symbol,
             float(value)) for symbol, values in grids.items() for value in values]


def sensitivity_spec(name: str, settings: DSAHSettings, symbol: str, value: float,
                     keep_similarities: bool = False) -> MethodSpec:
    """DSAH with the hyper-parameter ``symbol`` (a key of :data:`SWEPT`) at ``value``."""
    return dsah_spec(name, replace(settings, **{SWEPT[symbol]: value}), keep_similarities=keep_similarities)


def sensitivity_frame(per_query: Mapping[tuple[str, str, int], Sequence[np.ndarray]],
                      points: Sequence[tuple[str, str, float]], dataset: str, n_bits: int) -> pd.DataFrame:
    """Fig. 8's points as rows (parameter, value, map, seed; MAP@K per seed), what
    :func:`hashkit.plots.sensitivity_panels` draws."""
    rows = [{"parameter": symbol, "value": value, "map": float(ap.mean()), "seed": seed}
            for name, symbol, value in points
            for seed, ap in enumerate(per_query.get((name, dataset, n_bits), []))]
    return pd.DataFrame(rows, columns=["parameter", "value", "map", "seed"])


def gamma_round_table(curves: Mapping[float, tuple[pd.DataFrame, FittedNetwork]]) -> pd.DataFrame:
    """Fig. 9: for each γ, the mAP after each round (over the whole database) and the positive pairs
    that round trained on, from one run of ``max_rounds`` rounds per γ (γ → its learning curve and
    fitted method). Columns γ, round, mAP, n₊ trained on (off the diagonal), added."""
    rows = []
    for gamma, (curve, fitted) in curves.items():
        updates = fitted.model.method.rounds_
        diagonal = fitted.model.method.similarity.shape[0]  # W's diagonal is always positive: counted out, as Fig. 7 does
        trained_on = [fitted.model.method.similarity.nnz - diagonal] + [update["n_positive"] - diagonal
                                                                       for update in updates[:-1]]
        for index, update in enumerate(updates):
            rows.append({"γ": gamma, "round": index + 1, "mAP": float(curve["map"].iloc[index]),
                         "n₊ trained on": int(trained_on[index]), "added": int(update["added"])})
    return pd.DataFrame(rows)


def method_specs(settings: DSAHSettings, bgan: BGANSettings, gh_options: Mapping[str, object] | None = None,
                 tbh_options: Mapping[str, object] | None = None) -> dict[str, MethodSpec]:
    """Every method of Table 1 and of the ablations, by the name its tables give it; GH and TBH
    built with ``gh_options`` and ``tbh_options`` (their estimators' keywords).

    Epoch roles: ``"dsah"`` (DSAH and its variants: rounds × epochs per round), ``"baselines"``
    (SSDH, MLS³RDUH), ``"bgan"``.
    """
    specs = {ours: shallow(ours.removesuffix("+feat"), trains_on=FEATURES_FIT, label=ours) for ours in ON_FEATURES}
    specs["GH"] = shallow("GH", trains_on=FEATURES_FIT, options=gh_options)
    specs["TBH"] = shallow("TBH", trains_on=FEATURES_FIT, options=tbh_options)
    specs["SSDH"] = deep("SSDH", lambda benchmark, _: SSDH(_targets(benchmark, "SSDH", ssdh_similarity)),
                         epochs="baselines")
    specs["MLS3RDUH"] = deep("MLS3RDUH", lambda benchmark, _: MLS3RDUH(
        _targets(benchmark, "MLS3RDUH", mls3rduh_similarity)), epochs="baselines")
    specs["BGAN"] = bgan_spec("BGAN", bgan)
    specs["DSAH"] = dsah_spec("DSAH", settings)
    specs |= {name: dsah_spec(name, settings, **switches) for name, switches in {**VARIANTS, **SCALE_CONTROL}.items()}
    return specs


def load_data(p: Mapping[str, object]) -> ChapterData:
    """The chapter's datasets: CIFAR-10 or Fashion-MNIST, FLICKR25K or the jittered mosaic."""
    return load_chapter_data(p, multi_label="mir-flickr", mosaic_layout="jittered")


def prepare_benchmarks(data: ChapterData, p: Mapping[str, object], seed: int) -> tuple[Benchmark, Benchmark]:
    """The single-label and the multi-label benchmark for ``seed`` under DSAH's protocol (§5.1)."""
    common = {"shallow_train": p["shallow_train"], "feature_source": p["feature_source"],
              "feature_options": p["feature_options"], "centre": p["centre_features"], "device": p["device"],
              "progress": p["progress"]}
    single = prepare_benchmark(data.single_label, "dsah", PAPER_DATASETS["single"], seed,
                               {"query_per_class": p["query_per_class"], "train_per_class": p["train_per_class"]},
                               **common)
    multi = prepare_benchmark(data.multi_label, "dsah", PAPER_DATASETS["multi"], seed,
                              {"query_total": p["mosaic_queries"], "train_total": p["mosaic_train"]}, **common)
    return single, multi


def scaled_top_k(benchmark: Benchmark, top_k: int | None) -> int:
    """MAP@``top_k``, or (``None``) the paper's 5,000 of 59,000 scaled to the benchmark's database."""
    return top_k or max(1, round(PAPER_TOP_K * len(benchmark.split.database) / PAPER_DATABASE))


def similarity_table(benchmarks: Sequence[Benchmark], settings: DSAHSettings) -> pd.DataFrame:
    """W⁰ against its low-order half W_L (eq. 7 alone) on each benchmark's training items: positive
    pairs, precision, recall and F_w against "shares a label" (labels score only)."""
    rows = []
    for benchmark in benchmarks:
        train = benchmark.split.train
        k1, k2 = settings.neighbours(len(train))
        labels = benchmark.images.labels[train]
        low_order = neighbour_lists(benchmark.features[train], k1 - 1)
        for name, matrix in (("W_L (k1 nearest)", low_order + low_order.T),
                             ("W⁰ (and k2 most overlapping)", initial_similarity(benchmark, settings))):
            quality = similarity_quality(matrix, labels)
            rows.append({"dataset": benchmark.name, "similarity": name, "k1": k1, "k2": k2, **quality,
                         "positive pairs": int(quality["positive pairs"])})
    return pd.DataFrame(rows)


def centring_table(benchmark: Benchmark, settings: DSAHSettings, gh_options: Mapping[str, object], n_bits: int,
                   pairs: int = 5_000) -> pd.DataFrame:
    """Why the features are centred: on the benchmark's training items, raw and centred, the cosine of
    ``pairs`` seeded random pairs (mean and spread), W⁰'s precision against "shares a label", and the
    distinct codes GH (with ``gh_options``) gives the database at ``n_bits``."""
    train = benchmark.split.train
    raw = benchmark.features + benchmark.extras.get("feature mean", 0.0)
    k1, k2 = settings.neighbours(len(train))
    first, second = np.random.default_rng(benchmark.seed).integers(0, len(train), (2, pairs))
    rows = []
    for name, features in (("raw", raw), ("centred", raw - raw[train].mean(axis=0))):
        unit = features[train] / np.maximum(np.linalg.norm(features[train], axis=1, keepdims=True), 1e-12)
        cosines = (unit[first] * unit[second]).sum(axis=1)
        gh = GH(n_bits, seed=benchmark.seed, **gh_options).fit(
            features[benchmark.training_sets[FEATURES_FIT]])
        rows.append({"features": name, "random-pair cosine": float(cosines.mean()),
                     "cosine spread (std)": float(cosines.std()),
                     "W⁰ precision": similarity_quality(shared_neighbour_similarity(features[train], k1, k2),
                                                        benchmark.images.labels[train])["precision"],
                     f"GH's distinct codes ({n_bits} bits)": len(np.unique(gh.encode(features[benchmark.split.database]),
                                                                           axis=0))})
    return pd.DataFrame(rows)


def precision_at(results: Sequence[RunResult], benchmarks: Mapping[tuple[str, int], Benchmark],
                 n: int = 100) -> pd.DataFrame:
    """Table 3 (``n`` = 100) and Fig. 11 (10): each run's precision of the first ``n`` items of its
    Hamming ranking, mean ± std over seeds (columns method, dataset, bits, precision_mean, precision_std, seeds)."""
    rows = []
    for result in results:
        benchmark = benchmarks[(result.dataset, result.seed)]
        labels = benchmark.images.labels
        at_100 = precision_recall_at_n(result.query_codes, result.database_codes, labels[benchmark.split.query],
                                       labels[benchmark.split.database], [n])
        rows.append({"method": result.method, "dataset": result.dataset, "bits": result.bits, "seed": result.seed,
                     "precision": float(at_100["precision"].iloc[0])})
    return summarise(pd.DataFrame(rows), ["precision"], ["method", "dataset", "bits"])


def ablation_table(summary: pd.DataFrame, variants: Sequence[str], bits: Sequence[int]) -> pd.DataFrame:
    """Figs. 4 and 6: MAP@K of each variant per dataset and code length, and its mean over the
    lengths (the paper reports these means), AND⁰ and AND+PIC named as the runs they are."""
    names = {**{variant: variant for variant in variants}, **{same: run for same, run in SAME_RUN.items()}}
    cells = summary.set_index(["method", "dataset", "bits"])["map_mean"]
    rows = []
    for shown, run in names.items():
        for dataset in dict.fromkeys(summary["dataset"]):
            values = {f"{n} bits": cells.get((run, dataset, n), np.nan) for n in bits}
            rows.append({"variant": shown, "trained as": run, "dataset": dataset, **values,
                         "mean": float(np.nanmean(list(values.values())))})
    return pd.DataFrame(rows)


def round_table(curve: pd.DataFrame, fitted: FittedNetwork, benchmark: Benchmark) -> pd.DataFrame:
    """Fig. 7: per round, the similarity it trained on (positive pairs, precision, recall and F_w
    against "shares a label": labels score only), the AND update after it (threshold m, pairs
    added, F_w after), and the mAP of the codes trained so far."""
    method = fitted.model.method
    labels = benchmark.images.labels[benchmark.split.train]
    rows = []
    for index, update in enumerate(method.rounds_):
        trained_on = similarity_quality(method.similarities_[index], labels)
        rows.append({"round": index + 1, "n₊ trained on": int(trained_on["positive pairs"]),
                     "precision of W": trained_on["precision"], "recall of W": trained_on["recall"],
                     "F_w": trained_on["F_w"], "threshold m": update["threshold"], "added": int(update["added"]),
                     "F_w after": similarity_quality(method.similarities_[index + 1], labels)["F_w"],
                     "mAP": float(curve.loc[curve["round"] == index + 1, "map"].iloc[0])})
    return pd.DataFrame(rows)


def pair_weight_maps(fitted: FittedNetwork, benchmark: Benchmark, batch: int, tau: float,
                     seed: int) -> dict[str, np.ndarray]:
    """Fig. 5: the cosines ``s`` of one batch's trained outputs and their PIC weights ``a``, the
    batch ordered by class so that the blocks show."""
    items = np.random.default_rng(seed).choice(benchmark.split.train, batch, replace=False)
    items = items[np.argsort(benchmark.images.labels[items].argmax(axis=1), kind="stable")]
    cosines = cosine_matrix(fitted.model.outputs(benchmark.images, items).float())
    return {"s": cosines.numpy(), "a": pair_weights(cosines, "pic", tau).numpy()}


def scale_control_table(sgd: pd.DataFrame, adam: pd.DataFrame, dataset: str, n_bits: int) -> pd.DataFrame:
    """The loss-scale control: MAP@K of PIC⁰, PIC⁰ × mean a and PIC on ``dataset`` at ``n_bits``,
    trained with plain SGD (``sgd``) and with the chapter's Adam (``adam``; both
    :func:`~hashkit.experiments.scores.map_summary` tables); a cell not run is NaN."""
    rows = []
    for method in ("PIC⁰", SCALED, "PIC"):
        row = {"method": method}
        for optimiser, summary in (("SGD", sgd), ("Adam", adam)):
            cell = summary[(summary["method"] == method) & (summary["dataset"] == dataset) & (summary["bits"] == n_bits)]
            row[f"MAP@K ({optimiser})"] = float(cell["map_mean"].iloc[0]) if len(cell) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def cost_table(results: Sequence[RunResult], paper: pd.DataFrame) -> pd.DataFrame:
    """Table 4: training seconds of DSAH and the image-trained baselines, as ratios to DSAH's, with
    the paper's hours and ratios beside."""
    seconds = {r.method: r.training_seconds for r in results if r.method in ("SSDH", "BGAN", "MLS3RDUH", "DSAH")}
    published = paper.set_index("method")["training_time_hours"]
    return pd.DataFrame([{"method": method, "training seconds": value, "ratio to DSAH": value / seconds["DSAH"],
                          "paper hours": published.get(method, np.nan),
                          "paper ratio to DSAH": published.get(method, np.nan) / published.get("DSAH", np.nan)}
                         for method, value in seconds.items()])


def dsah_settings(p: Mapping[str, object]) -> DSAHSettings:
    """:class:`DSAHSettings` from the chapter's parameters ``p``."""
    return DSAHSettings(lam=p["lam"], tau=p["tau"], gamma=p["gamma"], mosaic_gamma=p["mosaic_gamma"],
                        rounds=p["rounds"], epochs_per_round=p["epochs_per_round"], k1=p["k1"], k2=p["k2"],
                        pic_gradient=p["pic_gradient"], quantisation=p["quantisation"])


def deep_settings(p: Mapping[str, object]) -> DeepSettings:
    """What every network of the chapter shares, from its parameters ``p``."""
    return DeepSettings(backbone=p["backbone"], backbone_options=p["backbone_options"],
                        pretrained_weights=p["pretrained_weights"], device=p["device"],
                        learning_rate=p["learning_rate"], batch_size=p["batch_size"],
                        epochs={"dsah": p["rounds"] * p["epochs_per_round"], "baselines": p["baseline_epochs"],
                                "bgan": p["bgan_epochs"]}, progress=p["progress"])


def scale_control_settings(settings: DeepSettings, learning_rate: float) -> DeepSettings:
    """The loss-scale control's optimiser: plain SGD at ``learning_rate``, everything else as the chapter's."""
    return replace(settings, optimizer="sgd", momentum=0.0, learning_rate=learning_rate)


DEVIATIONS = [
    Deviation("network", "VGG-19 (ImageNet weights) → fc 1,000 → hash layer, 224 px",
              lambda p: f"{p['backbone']} {p['backbone_options']}"
              + (f", weights {p['pretrained_weights']}" if p["pretrained_weights"] else ", from scratch")
              + ", images at their own size"),
    Deviation("W⁰ features", "VGG-19 relu7 of the training images, k1 = k2 = 500 of 10,000",
              lambda p: f"{p['feature_source']} features (label-free), k1 = {p['k1'] or '5 % of the training set'}, "
                        f"k2 = {p['k2'] or '5 % of the training set'}"),
    Deviation("features' mean", "kept (raw VGG-19 features)",
              lambda p: "subtracted (the training items' mean)" if p["centre_features"] else "kept"),
    Deviation("optimiser", "Adam, learning rate 1e-4 (ε = 1 in the authors' code), batch 50",
              lambda p: f"Adam, learning rate {p['learning_rate']:g}, batch {p['batch_size']}"),
    Deviation("rounds", "R = 3 rounds of T = 10 epochs",
              lambda p: f"R = {p['rounds']} rounds of T = {p['epochs_per_round']} epochs"),
    Deviation("γ", "1 (CIFAR-10), 0 (FLICKR25K) — §5.2 prints {1, 0, 1}",
              lambda p: f"{p['gamma']:g} (single-label), {p['mosaic_gamma']:g} (multi-label)"),
    Deviation("training set", "1,000 per class (CIFAR-10), 10,000 (FLICKR25K)",
              lambda p: f"{p['train_per_class']} per class; mosaic {p['mosaic_train']}"),
    Deviation("GH, TBH", "GH: SGD 1e-4, 60 epochs; TBH: 1,024 and 512 units, Adam 1e-4, 100,000 iterations",
              lambda p: f"GH {p['gh_options']}; TBH {p['tbh_options']}"),
    Deviation("MAP cut-off", "MAP@5,000 of 59,000 CIFAR-10 images",
              lambda p: f"MAP@{p['map_top_k']:,}" if p["map_top_k"] else "MAP@5,000 scaled to the database"),
    Deviation("FLICKR25K", "25,000 images, 24 labels", lambda p: "files given" if p["mir_flickr_root"]
              else f"the jittered mosaic stands in ({p['mosaic_images']:,} images)"),
    Deviation("NUS-WIDE", "269,648 images as Table 2 prints (195,834 in the 21 classes of §5.1)",
              lambda p: "not run; the paper's numbers shown"),
    Deviation("seeds", "one run, none stated", lambda p: ", ".join(map(str, p["seeds"]))),
    Deviation("device", "GPU", lambda p: p["device"]),
]
