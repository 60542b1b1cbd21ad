"""The five proposed methods and their papers' strongest baselines under one protocol.

Each paper measured its method on its own split, backbone and training length. The cross-paper
chapter ``notebooks/compare.py`` puts them on one: DSAH's split (§5.1 of {cite}`lin2021dsah`,
which BGAN's matches on CIFAR-10), one backbone, one label-free feature set and one training budget
for every network, several seeds. Supervised and unsupervised methods are compared apart.

* :data:`SUPERVISED`, :data:`UNSUPERVISED` — the methods, each with the paper it comes from;
  :data:`HEADLINES` — each paper's headline claim as "this method beats those";
* :func:`prepare_benchmarks` — both datasets under the one protocol;
* :func:`method_specs` — every method, built by its own chapter's module, trained for the budget;
* :func:`measured_run` — one method fitted and scored, with its training seconds per image, its
  encoding speed and the peak memory of its training; :func:`mch_run` — MCH over ADSH;
* :func:`cost_to_reach` — the bucket addresses a hash lookup probes before it reaches an F1;
* :func:`headline_claims` — each headline weighed against the noise of its differences;
  :func:`survivors` says which survive, :func:`ranking` orders the proposed methods, :func:`discussion`
  writes the closing points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from hashkit import metrics
from hashkit.claims import (DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, WITHIN_NOISE, Claim, beyond_noise, checked,
                            not_testable)
from hashkit.deep.methods import ADSH, DTSH
from hashkit.experiments.bgan import BGANSettings, bgan_spec
from hashkit.experiments.datasets import FEATURES_FIT, ChapterData, load_chapter_data, prepare_benchmark
from hashkit.experiments.dsah import DSAHSettings, dsah_spec
from hashkit.experiments.footprint import peak_memory
from hashkit.experiments.dsah import method_specs as dsah_method_specs
from hashkit.experiments.dshc import DSHCSettings
from hashkit.experiments.dshc import method_specs as dshc_method_specs
from hashkit.experiments.fdah import FDAHSettings
from hashkit.experiments.fdah import method_specs as fdah_method_specs
from hashkit.experiments.grid import Deviation
from hashkit.experiments.mch import MCHBenchmark, run_code_length
from hashkit.experiments.methods import Benchmark, DeepSettings, FittedNetwork, MethodSpec, deep, fit, shallow
from hashkit.experiments.noise import PerQuery, difference_noise
from hashkit.experiments.runs import RunResult, mean_std_text
from hashkit.index import multi_code_index
from hashkit.mch import MCHSettings

# Each method and the chapter (paper) it comes from; the proposed ones first.
SUPERVISED = {"FDAH": "fdah", "DSHC": "dshc", "MCH-ADSH": "mch", "ADSH": "fdah, mch", "DTSH": "dshc"}
UNSUPERVISED = {"BGAN": "bgan", "DSAH": "dsah", "MLS3RDUH": "dsah", "TBH": "dsah", "ITQ+feat": "bgan, dsah"}
PROPOSED = ("FDAH", "DSHC", "MCH-ADSH", "BGAN", "DSAH")
# MCH codes regions of multi-object images (§3 of its paper); it has no single-label protocol.
MULTI_LABEL_ONLY = ("MCH-ADSH",)


@dataclass(frozen=True)
class Headline:
    """A paper's headline as "``method`` retrieves better than each of ``rivals``" (by mAP@all)."""

    paper: str
    method: str
    rivals: tuple[str, ...]
    claim: str


HEADLINES = (
    Headline("FDAH", "FDAH", ("ADSH",), "FDAH retrieves better than ADSH, its strongest baseline"),
    Headline("DSHC", "DSHC", ("DTSH",), "DSHC retrieves better than DTSH, the strongest method it compares with"),
    Headline("MCH", "MCH-ADSH", ("ADSH",), "MCH over ADSH retrieves better than ADSH alone (its best base model)"),
    Headline("BGAN", "BGAN", ("ITQ+feat",), "BGAN retrieves better than ITQ on deep features, its strongest "
                                            "unsupervised baseline"),
    Headline("DSAH", "DSAH", ("MLS3RDUH", "TBH", "BGAN"), "DSAH retrieves better than MLS³RDUH, TBH and BGAN"),
)
# The chapter's parameters in smoke mode: a minute-long run for the tests.
SMOKE = {"seeds": [0, 1], "bits": 20, "fashion_items": 1_500, "mosaic_images": 600, "query_per_class": 10,
         "train_per_class": 30, "mosaic_queries": 60, "mosaic_train": 200, "epochs": 2, "k_values": [10, 100],
         "search_queries": 30, "feature_options": {"channels": [4, 8], "feature_dim": 32, "max_train_items": 500,
                                                   "epochs": 1},
         "backbone_options": {"channels": [4, 8], "feature_dim": 32}, "agent_iterations": 3, "tbh_units": [32, 16]}
SIZES_COLUMNS = ("dataset", "stands for", "seed", "queries", "database", "training set", "feature dim")


# DSHC's codebook (CPBC) gives each class a block of bits; the single-label sets have 10 classes.
SINGLE_LABEL_CLASSES = 10


def check_chapter_parameters(p: Mapping[str, object]) -> None:
    """What the types cannot say, before anything loads: a code length DSHC's codebook can split among
    the classes, an even budget (DSAH's rounds × epochs) and an F1 to reach inside (0, 1]."""
    if p["bits"] % SINGLE_LABEL_CLASSES:
        raise ValueError(f"bits: DSHC's codebook gives each of the {SINGLE_LABEL_CLASSES} classes a block of bits, so "
                         f"the code length must be a multiple of {SINGLE_LABEL_CLASSES}; got {p['bits']} (try 20 or 30)")
    if p["epochs"] % 2:
        raise ValueError(f"epochs: DSAH spends the budget as 2 rounds of epochs / 2, so it must be even; got {p['epochs']}")
    if not 0 < p["target_f1"] <= 1:
        raise ValueError(f"target_f1: expected an F1 in (0, 1], got {p['target_f1']!r}")


def load_data(p: Mapping[str, object]) -> ChapterData:
    """Fashion-MNIST (or CIFAR-10) and the jittered mosaic (or FLICKR25K), as the DSAH chapter loads them."""
    return load_chapter_data(p, multi_label="mir-flickr", mosaic_layout="jittered")


def prepare_benchmarks(data: ChapterData, p: Mapping[str, object], seed: int) -> tuple[Benchmark, Benchmark]:
    """Both datasets under DSAH's split for ``seed``, with centred label-free features of every item.

    Every method trains on the whole training set: the shallow ones fit on it, and ADSH and FDAH
    draw their m items per round from it with m equal to its size, so that each epoch of theirs is
    the same pass over the same images as every other network's.
    """
    common = {"shallow_train": 10**9, "feature_source": "learned", "feature_options": p["feature_options"],
              "centre": True, "device": p["device"], "progress": p["progress"]}
    single = prepare_benchmark(data.single_label, "dsah", "cifar10", seed,
                               {"query_per_class": p["query_per_class"], "train_per_class": p["train_per_class"]},
                               **common)
    multi = prepare_benchmark(data.multi_label, "dsah", "mir-flickr", seed,
                              {"query_total": p["mosaic_queries"], "train_total": p["mosaic_train"]}, **common)
    for benchmark in (single, multi):
        benchmark.sample_size = len(benchmark.split.train)
    return single, multi


def deep_settings(p: Mapping[str, object]) -> DeepSettings:
    """One budget for every network: ``epochs`` passes over the training set, whatever the method
    calls them (rounds × epochs per round for ADSH, FDAH and DSAH)."""
    budget = p["epochs"]
    roles = ("budget", "rounds", "dshc", "bgan", "dsah", "baselines")
    return DeepSettings(backbone=p["backbone"], backbone_options=p["backbone_options"],
                        pretrained_weights=p["pretrained_weights"], device=p["device"],
                        learning_rate=p["learning_rate"], batch_size=p["batch_size"],
                        epochs={role: budget for role in roles}, epochs_per_round=budget // 2, progress=False)


def tbh_options(p: Mapping[str, object], n_train: int) -> dict[str, object]:
    """TBH trains by iterations: as many as ``epochs`` passes over the training set take in batches."""
    hidden, continuous = p["tbh_units"]
    return {"hidden_units": hidden, "continuous_units": continuous, "batch_size": p["batch_size"],
            "learning_rate": p["learning_rate"], "iterations": math.ceil(p["epochs"] * n_train / p["batch_size"])}


def method_specs(p: Mapping[str, object], n_train: int) -> dict[str, MethodSpec]:
    """Every method of the comparison, built by its own chapter's module with its paper's settings,
    trained for the one budget (:func:`deep_settings`). ``n_train`` sizes TBH's iterations."""
    fdah = fdah_method_specs(FDAHSettings())
    dshc = dshc_method_specs(DSHCSettings())
    dsah_settings = DSAHSettings(rounds=2, epochs_per_round=p["epochs"] // 2)
    unsupervised = dsah_method_specs(dsah_settings, BGANSettings(), tbh_options=tbh_options(p, n_train))
    return {"FDAH": fdah["FDAH"], "ADSH": fdah["ADSH"], "DSHC": dshc["DSHC"], "DSHC multi-label": dshc["DSHC multi-label"],
            "DTSH": deep("DTSH", lambda benchmark, settings: DTSH(), epochs="budget"),
            "BGAN": bgan_spec("BGAN", BGANSettings()), "DSAH": dsah_spec("DSAH", dsah_settings),
            "MLS3RDUH": unsupervised["MLS3RDUH"], "TBH": unsupervised["TBH"],
            "ITQ+feat": shallow("ITQ", trains_on=FEATURES_FIT, label="ITQ+feat")}


def specs_for(specs: Mapping[str, MethodSpec], methods: Sequence[str], benchmark: Benchmark) -> list[MethodSpec]:
    """The specs of ``methods`` on ``benchmark``: DSHC's multi-label form on a multi-label set, MCH left out
    (:func:`mch_run` runs it)."""
    multi = benchmark.images.is_multi_label
    return [specs["DSHC multi-label" if name == "DSHC" and multi else name] for name in methods
            if name not in MULTI_LABEL_ONLY]


@dataclass
class Measured:
    """One run's result and what it cost: training seconds per training image, query images
    encoded per second (a shallow method encodes features, not images), peak memory while training."""

    result: RunResult
    seconds_per_image: float
    encoding_per_second: float
    encodes: str
    peak_mb: float

    def row(self) -> dict:
        return {"method": self.result.method, "dataset": self.result.dataset, "bits": self.result.bits,
                "seed": self.result.seed, "training ms / image": 1000 * self.seconds_per_image,
                "encoding / s": self.encoding_per_second, "encodes": self.encodes, "peak MB": self.peak_mb}


def _result(name: str, benchmark: Benchmark, n_bits: int, query_codes: np.ndarray, database_codes: np.ndarray,
            training_seconds: float, radius: int) -> RunResult:
    labels = benchmark.images.labels
    scores = metrics.map_and_ball_scores(query_codes, database_codes, labels[benchmark.split.query],
                         labels[benchmark.split.database], radius)
    return RunResult(method=name, dataset=benchmark.name, bits=n_bits, seed=benchmark.seed, radius=radius,
                     training_seconds=training_seconds, query_codes=query_codes, database_codes=database_codes,
                     **scores)


def measured_run(spec: MethodSpec, benchmark: Benchmark, n_bits: int, settings: DeepSettings,
                 radius: int = 2) -> Measured:
    """``spec`` fitted on ``benchmark`` and scored, with its costs (:class:`Measured`)."""
    with peak_memory() as memory:
        fitted = fit(spec, benchmark, n_bits, settings)
    query_codes, database_codes = fitted.codes(benchmark)
    queries = benchmark.split.query
    started = time.perf_counter()
    if isinstance(fitted, FittedNetwork):
        fitted.model.encode(benchmark.images, queries)
        encodes = "images"
    else:
        fitted.estimator.encode(benchmark.features_named(fitted.features)[queries])
        encodes = "features"
    encoding = len(queries) / (time.perf_counter() - started)
    n_train = len(benchmark.split_for(spec.trains_on).train)
    result = _result(spec.name, benchmark, n_bits, query_codes, database_codes, fitted.training_seconds, radius)
    return Measured(result, fitted.training_seconds / n_train, encoding, encodes, memory["peak MB"])


def mch_settings(p: Mapping[str, object]) -> MCHSettings:
    """MCH's paper settings (σ = ξ = 0.5), one region per training image in the agent's pool (the MCH
    chapter's default), the agent's iterations from ``p``."""
    default = MCHSettings()
    return MCHSettings(crops_per_image=1, agent=replace(default.agent, iterations=p["agent_iterations"]))


def mch_run(benchmark: Benchmark, n_bits: int, settings: DeepSettings, mch: MCHSettings,
            radius: int = 2) -> tuple[Measured, np.ndarray]:
    """MCH over ADSH (the MCH chapter's :func:`~hashkit.experiments.mch.run_code_length`): ADSH trained
    and frozen, then the agent. Returns MCH's measured run and the codes of its own ADSH's queries
    (the same seed and settings as the separate ADSH run: they must agree). Training seconds are
    ADSH's and the agent's; the encoding speed is not separated from the database's region coding."""
    without_features = replace(benchmark, features=None)
    with peak_memory() as memory:
        code_sets, _ = run_code_length(MCHBenchmark(without_features, None), n_bits, settings, mch, bases=("ADSH",))
    base, extended = code_sets
    n_train = len(benchmark.split.train)
    result = _result(extended.method, benchmark, n_bits, extended.query_codes, extended.database_codes,
                     extended.training_seconds, radius)
    return Measured(result, extended.training_seconds / n_train, math.nan, "images and regions",
                    memory["peak MB"]), base.query_codes


def cost_to_reach(result: RunResult, benchmark: Benchmark, target_f1: float, k_values: Sequence[int],
                  search_queries: int) -> dict:
    """The F1-bucket curve (:func:`~hashkit.metrics.f1_bucket_curve`) of the run's first
    ``search_queries`` queries, and the bucket addresses probed at the smallest K whose F1 reaches
    ``target_f1`` (NaN when no K does): the cost of a hash lookup as good as that."""
    labels = benchmark.images.labels
    queries = np.arange(min(search_queries, len(result.query_codes)))
    k_values = [k for k in k_values if k <= len(benchmark.split.database)]
    curve = metrics.f1_bucket_curve(multi_code_index(result.database_codes), result.query_codes[queries],
                                    labels[benchmark.split.query][queries], labels[benchmark.split.database], k_values)
    reached = curve[curve["f1"] >= target_f1]
    return {"method": result.method, "dataset": result.dataset, "bits": result.bits, "seed": result.seed,
            "best F1": float(curve["f1"].max()),
            "buckets to reach": float(reached["buckets_probed"].iloc[0]) if len(reached) else math.nan,
            "K at reach": int(reached["k"].iloc[0]) if len(reached) else None}


READABLE = {"map_mean": "mAP@all", "map_std": "mAP@all std", "map@K_mean": "mAP@K", "map@K_std": "mAP@K std",
            "precision_mean": "P within r", "precision_std": "P within r std"}
KEYS = ["method", "dataset", "bits"]


def comparison_table(summary: pd.DataFrame, per_run: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """One row per method and dataset: ``summary``'s scores (mAP@all, mAP@K, precision within the
    radius: mean and std over seeds) and the means over seeds of ``per_run``'s numeric columns (one
    row per run: lookup costs, timings); methods in ``methods``' order, datasets as they ran."""
    means = per_run.drop(columns="seed").groupby(KEYS, sort=False).mean(numeric_only=True)
    table = summary.set_index(KEYS).join(means).reset_index()
    table = table[table["method"].isin(methods)]
    datasets = list(dict.fromkeys(summary["dataset"]))
    table = table.assign(order=table["method"].map(list(methods).index), at=table["dataset"].map(datasets.index))
    return table.sort_values(["at", "order"]).drop(columns=["order", "at"]).rename(columns=READABLE).reset_index(drop=True)


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`comparison_table` (costs joined) as the page shows it: each score as "mean ± std" over
    the seeds, bucket counts as whole numbers, the costs rounded."""
    seeds = table["seeds"]
    scores = {name: [mean_std_text(mean, std, n, digits=3) for mean, std, n in zip(table[name], table[f"{name} std"], seeds)]
              for name in ("mAP@all", "mAP@K", "P within r")}
    return pd.DataFrame({"method": table["method"], "dataset": table["dataset"], "bits": table["bits"], **scores,
                         "buckets to reach": table["buckets to reach"].map(lambda n: "—" if pd.isna(n) else f"{n:,.0f}"),
                         "training ms / image": table["training ms / image"].round(2),
                         "encoding / s": table["encoding / s"].map(lambda n: "—" if pd.isna(n) else f"{n:,.0f}"),
                         "peak MB": table["peak MB"].round(0)})


def code_length(name: str, benchmark: Benchmark, n_bits: int) -> int:
    """``n_bits``, except for DSHC on a multi-label set: its code is one bit per label (its §3.4), so
    its length is the number of labels there."""
    return benchmark.images.n_classes if name == "DSHC" and benchmark.images.is_multi_label else n_bits


def headline_claims(per_query: PerQuery, datasets: Sequence[str], n_seeds: int) -> list[Claim]:
    """Each paper's headline (:data:`HEADLINES`) on every dataset where its method ran: beyond the
    noise of each difference of mAP@all (over seeds), or within it. Each method is taken at the
    length it ran (DSHC's multi-label code is shorter: :func:`code_length`)."""
    cells = {(method, dataset): (n_bits, per_seed) for (method, dataset, n_bits), per_seed in per_query.items()}
    claims = []
    for headline in HEADLINES:
        pairs = [(dataset, rival) for dataset in datasets for rival in headline.rivals
                 if (headline.method, dataset) in cells and (rival, dataset) in cells]
        if not pairs:
            claims.append(checked(headline.claim, f"{headline.paper}'s headline",
                                  not_testable(f"{headline.method} and its rivals did not run on {', '.join(datasets)}")))
            continue
        rows = []
        for dataset, rival in pairs:
            (own_bits, own), (rival_bits, theirs) = cells[(headline.method, dataset)], cells[(rival, dataset)]
            lengths = f"{own_bits} bits" if own_bits == rival_bits else f"{own_bits} vs {rival_bits} bits"
            rows.append((f"{rival} on {dataset} ({lengths})", float(np.mean([ap.mean() for ap in own])),
                         float(np.mean([ap.mean() for ap in theirs])), difference_noise(own, theirs)))
        claims.append(beyond_noise(headline.claim, f"{headline.paper}'s headline", rows, n_seeds,
                                   left=headline.method, right="rival"))
    return claims


def survivors(claims: pd.DataFrame) -> str:
    """One Markdown sentence: which papers' headlines survive (hold), which are within noise, which fail."""
    papers = claims["source"].str.split("'").str[0]
    verdicts = claims["verdict"]
    groups = {"survive": papers[verdicts == HOLDS], "are within noise": papers[verdicts.str.startswith(WITHIN_NOISE)],
              "do not survive": papers[verdicts == DOES_NOT_HOLD], "cannot be tested here": papers[verdicts == NOT_TESTABLE]}
    parts = [f"{', '.join(names)} {verb}" for verb, names in groups.items() if len(names)]
    return "**Headlines under the common protocol:** " + "; ".join(parts) + "."


def discussion(tables: Mapping[str, pd.DataFrame], single: str, multi: str, target_f1: float) -> list[str]:
    """The chapter's closing points as Markdown bullets, every number from ``tables`` (the supervised
    and unsupervised :func:`comparison_table`, costs joined)."""
    both = pd.concat(tables.values(), ignore_index=True)

    def best(group: str, dataset: str) -> pd.Series:
        table = tables[group]
        return table.loc[table[table["dataset"] == dataset]["mAP@all"].idxmax()]

    top_supervised, top_unsupervised = best("supervised", single), best("unsupervised", single)
    on_multi = both[both["dataset"] == multi]
    cheapest = both[both["dataset"] == single].dropna(subset=["buckets to reach"]).nsmallest(1, "buckets to reach")
    memory = both.loc[both["peak MB"].idxmax()]
    points = [
        f"* **Labels still pay.** On {single} the best supervised method, {top_supervised['method']}, reaches "
        f"mAP@all {top_supervised['mAP@all']:.3f}; the best unsupervised one, {top_unsupervised['method']}, "
        f"{top_unsupervised['mAP@all']:.3f}.",
        f"* **The multi-label stand-in separates little.** On {multi} every method's mAP@all lies between "
        f"{on_multi['mAP@all'].min():.3f} and {on_multi['mAP@all'].max():.3f}, while the spread of one method over "
        f"the seeds reaches {on_multi['mAP@all std'].max():.3f}: most differences there are within noise, and the "
        "verdicts on that set say more about the mosaic than about the methods (the DSAH chapter measures why).",
    ]
    if len(cheapest):
        row = cheapest.iloc[0]
        points.append(f"* **Lookup cost.** On {single}, {row['method']}'s codes reach F1 {target_f1:g} after "
                      f"{row['buckets to reach']:,.0f} bucket addresses on average, the fewest of any method; a method "
                      "whose codes spread a class over many buckets pays in probes what its mAP does not show.")
    points.append(f"* **Memory.** The largest peak is {memory['method']}'s on {memory['dataset']}, "
                  f"{memory['peak MB']:,.0f} MB above what the process held before its training.")
    return points


def ranking(summary: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """The proposed ``methods`` ranked by mAP@all on each dataset (1: best)."""
    shown = summary[summary["method"].isin(methods)]
    ranks = shown.assign(rank=shown.groupby("dataset")["map_mean"].rank(ascending=False, method="min"))
    return ranks.pivot(index="method", columns="dataset", values="rank").reindex(list(methods))


DEVIATIONS = [
    Deviation("split", "each paper its own", lambda p: "DSAH's (§5.1): queries per class, training images drawn "
              f"from the retrieval set ({p['query_per_class']} and {p['train_per_class']} per class; mosaic "
              f"{p['mosaic_queries']} and {p['mosaic_train']})"),
    Deviation("backbone", "CNN-F, ResNet-50/101, AlexNet, VGG-16/19 with ImageNet weights",
              lambda p: f"{p['backbone']} {p['backbone_options']}"
              + (f", weights {p['pretrained_weights']}" if p["pretrained_weights"] else ", from scratch")),
    Deviation("training length", "each method its own (tens to hundreds of epochs)",
              lambda p: f"{p['epochs']} passes over the training set for every network (ADSH, FDAH: m = the "
                        f"training set, rounds × epochs = {p['epochs']}; DSAH: 2 rounds × {p['epochs'] // 2})"),
    Deviation("optimiser", "each method its own", lambda p: f"Adam, learning rate {p['learning_rate']:g}, "
              f"batch {p['batch_size']}"),
    Deviation("features", "ImageNet features (the unsupervised papers)",
              lambda p: "label-free learned features, centred (see the DSAH chapter)"),
    Deviation("seeds", "one run (FDAH: 5)", lambda p: ", ".join(map(str, p["seeds"]))),
]
