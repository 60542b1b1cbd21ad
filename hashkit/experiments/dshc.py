"""DSHC's experiments {cite}`luo2021dshc`, declared: its methods, benchmarks, tables and deviations.

The chapter ``notebooks/dshc.py`` runs them with the generic layer (:mod:`hashkit.experiments.grid`):

* :func:`method_specs` — DSHC (CPBC and KBC codebooks, and on the baselines' training subset as a
  fairness control), the multi-label DSHC, the deep baselines DPSH, DSDH, DTSH and VDSH (back-
  propagation variant) on a training subset, ITQ and SH on label-free features.
* :func:`prepare_benchmark` — one dataset under DSHC's protocol (§4.1).
* :func:`table1`, :func:`runs_table` (Tables 2–3), :func:`table4` — the paper's tables beside ours;
  :func:`geometry_table`, :func:`survey_kbc_seeds`, :func:`top_k_ablation` — what the paper leaves open.
* :data:`DEVIATIONS` — the paper's setting beside this run's.

Its claims are in :mod:`hashkit.experiments.dshc_claims`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import torch

from hashkit.checks import check_positive_int
from hashkit.data import ImageDataset, protocol_split
from hashkit.deep.codebooks import Codebook, codebook_geometry, cpbc_codebook, kbc_centres, kbc_codebook, kbc_filter
from hashkit.deep.methods import DPSH, DSDH, DTSH, VDSH
from hashkit.deep.methods.dshc import DSHC, DSHCMultiLabel, check_top_k, subclass_codes
from hashkit.experiments.datasets import ChapterData, load_chapter_data
from hashkit.experiments.grid import Deviation
from hashkit.experiments.methods import Benchmark, DeepSettings, MethodSpec, deep, shallow
from hashkit.experiments.noise import difference_noise
from hashkit.experiments.runs import RunResult
from hashkit.experiments.scores import ranked_scores
from hashkit.features import extract_features
from hashkit.metrics import average_precision, hamming_radius_metrics

SUBSET, FEATURES_FIT = "baselines' training subset", "shallow fit items"
DEEP_BASELINES = ("DPSH", "DSDH", "DTSH", "VDSH")
SHALLOW = ("ITQ", "SH")
KBC, FAIR = "DSHC-KBC", "DSHC (subset)"
# Table 1's rows in the paper's order; DSLH and RMLH are shown with their published numbers only.
TABLE1_METHODS = ("DSHC", "DSLH", "RMLH", "DSDH", "DPSH", "DTSH", "VDSH", "ITQ", "SH")
NOT_RUN = {
    "DSLH": "no paper text found; the only code found (github.com/zhanjw/dslh, unconfirmed as the "
            "authors') picks its epoch by test mAP",
    "RMLH": "no paper text and no code found",
}
RUN_LABELS = {"VDSH": "VDSH (backprop)"}
# The paper's row each of our DSHC variants is compared with.
PAPER_NAMES = {FAIR: "DSHC", KBC: "DSHC"}
FIG3_METHODS = ("DSHC", FAIR, "DPSH", "DSDH")
PAPER_DATASETS = {"single": "cifar10", "multi": "nus-wide"}
# Classes of the single-label datasets DSHC runs on (Fashion-MNIST, CIFAR-10): what CPBC divides.
SINGLE_LABEL_CLASSES = 10
# The chapter's parameters in smoke mode: a minute-long run for the tests.
SMOKE = {"bits": [10, 20], "table1_bits": 20, "table2_bits": 20, "fashion_items": 2_200, "query_per_class": 20,
         "mosaic_images": 1_200, "baseline_train": 400, "mosaic_baseline_train": 300, "shallow_train": 600,
         "feature_options": {"channels": [4, 8], "feature_dim": 32, "max_train_items": 600, "epochs": 1},
         "backbone_options": {"channels": [4, 8], "feature_dim": 32}, "epochs": 1, "baseline_epochs": 1,
         "multilabel_baseline_bits": 12, "top_k_grid": [1, 3], "table4_top_k": 500, "tsne_points": 200,
         "kbc_seed_survey": 10}
# The protocol table's columns, in the order the chapter shows them.
SIZES_COLUMNS = ("dataset", "stands for", "seed", "queries", "database", "training set", SUBSET, FEATURES_FIT,
                 "feature dim")


@dataclass(frozen=True)
class DSHCSettings:
    """DSHC's choices (§3.2–3.3): codes from the ``top_k`` most probable sub-classes, weighted
    ``top_k_weighting``; eq. 2's targets as the paper writes them (``"paper"``) or summing to 1;
    KBC's filter ``kbc_threshold`` and k-means ``kbc_seed`` (the first seed from it that leaves
    every class a sub-class)."""

    top_k: int = 1
    top_k_weighting: str = "uniform"
    target: str = "paper"
    kbc_threshold: int = 3
    kbc_seed: int = 0

    def codebook(self, construction: str, n_classes: int, n_bits: int) -> Codebook:
        """The codebook of ``construction`` (``"cpbc"`` or ``"kbc"``) for these classes and bits."""
        return _codebook(construction, n_classes, n_bits, self.kbc_threshold, self.kbc_seed)

    def check(self, n_classes: int, bits: Sequence[int], kbc_bits: int) -> None:
        """Every codebook the chapter will train with, and ``top_k`` against each: errors before training."""
        for construction, lengths in (("cpbc", bits), ("kbc", [kbc_bits])):
            for n_bits in lengths:
                DSHC(self.codebook(construction, n_classes, n_bits), self.top_k, self.top_k_weighting, self.target)


@lru_cache(maxsize=32)
def _codebook(construction: str, n_classes: int, n_bits: int, threshold: int, seed: int) -> Codebook:
    if construction == "cpbc":
        return cpbc_codebook(n_classes, n_bits)
    return kbc_codebook(n_classes, n_bits, threshold=threshold, seed=seed)


def _dshc_spec(name: str, construction: str, dshc: DSHCSettings, trains_on: str, epochs: str) -> MethodSpec:
    def build(benchmark: Benchmark, settings: DeepSettings, n_bits: int) -> DSHC:
        codebook = dshc.codebook(construction, benchmark.images.n_classes, n_bits)
        return DSHC(codebook, dshc.top_k, dshc.top_k_weighting, dshc.target)

    return MethodSpec(name=name, kind="deep", build=build, trains_on=trains_on, epochs=epochs)


def method_specs(dshc: DSHCSettings = DSHCSettings()) -> dict[str, MethodSpec]:
    """Every method the chapter runs, by the name its tables give it.

    Epoch roles: ``"dshc"`` (DSHC on the whole training set) and ``"baselines"`` (the deep
    baselines, and DSHC as the fairness control, on the training subset). ``"DSHC multi-label"``
    is named ``"DSHC"`` in the tables: it fills DSHC's row on the multi-label dataset.
    """
    baselines = {"DPSH": DPSH, "DSDH": DSDH, "DTSH": DTSH, "VDSH": VDSH}
    specs = {"DSHC": _dshc_spec("DSHC", "cpbc", dshc, "train", "dshc"),
             KBC: _dshc_spec(KBC, "kbc", dshc, "train", "dshc"),
             FAIR: _dshc_spec(FAIR, "cpbc", dshc, SUBSET, "baselines"),
             "DSHC multi-label": deep("DSHC", lambda benchmark, settings: DSHCMultiLabel(), epochs="dshc")}
    specs |= {name: deep(name, lambda benchmark, settings, cls=cls: cls(), trains_on=SUBSET, epochs="baselines")
              for name, cls in baselines.items()}
    specs |= {name: shallow(name, trains_on=FEATURES_FIT) for name in SHALLOW}
    return specs


def prepare_benchmark(images: ImageDataset, paper_dataset: str, seed: int, *, query_per_class: int | None,
                      baseline_train: int, shallow_train: int, feature_source: str | None,
                      feature_options: Mapping[str, object] | None = None, device: str = "cpu",
                      progress: bool = False) -> Benchmark:
    """DSHC's split of ``images`` (§4.1: the training set is the database) and what its methods need.

    ``query_per_class`` overrides the paper's 1,000 queries per class on a single-label dataset
    (``None``: the paper's); a multi-label dataset takes the paper's 2,100 NUS-WIDE queries, scaled
    to its labels. ``baseline_train`` and ``shallow_train`` are capped at the training set's size.
    """
    baseline_train = check_positive_int(baseline_train, "baseline_train")
    shallow_train = check_positive_int(shallow_train, "shallow_train")
    overrides = {} if images.is_multi_label or query_per_class is None else {"query_per_class": query_per_class}
    split = protocol_split("dshc", images, seed, **overrides)
    rng = np.random.default_rng(seed)
    subset = np.sort(rng.choice(split.train, min(baseline_train, len(split.train)), replace=False))
    fit_items = np.sort(rng.choice(split.train, min(shallow_train, len(split.train)), replace=False))
    features = None if feature_source is None else extract_features(
        images, np.arange(len(images)), feature_source, train_indices=split.train, seed=seed, device=device,
        progress=progress, **(feature_options or {}))
    training_sets = {SUBSET: subset, **({} if features is None else {FEATURES_FIT: fit_items})}
    return Benchmark(name=images.name, paper_dataset=paper_dataset, images=images, split=split,
                     training_sets=training_sets, features=features, sample_size=None, seed=seed)


def load_data(p: Mapping[str, object]) -> ChapterData:
    """The chapter's datasets from its parameters ``p`` (:func:`~hashkit.experiments.datasets.load_chapter_data`)."""
    return load_chapter_data(p)


def deep_settings(p: Mapping[str, object]) -> DeepSettings:
    """What every network of the chapter shares, from its parameters ``p``."""
    return DeepSettings(backbone=p["backbone"], backbone_options=p["backbone_options"],
                        pretrained_weights=p["pretrained_weights"], device=p["device"], optimizer=p["optimizer"],
                        learning_rate=p["learning_rate"], momentum=p["momentum"], weight_decay=p["weight_decay"],
                        lr_step_epochs=p["lr_step_epochs"], augmentation=p["augmentation"],
                        batch_size=p["batch_size"], epochs={"dshc": p["epochs"], "baselines": p["baseline_epochs"]},
                        progress=p["progress"])


def prepare_benchmarks(data: ChapterData, p: Mapping[str, object], seed: int) -> tuple[Benchmark, Benchmark]:
    """The single-label and the multi-label benchmark for ``seed``."""
    features = {"feature_source": p["feature_source"], "feature_options": p["feature_options"],
                "device": p["device"], "progress": p["progress"], "shallow_train": p["shallow_train"]}
    single = prepare_benchmark(data.single_label, PAPER_DATASETS["single"], seed,
                               query_per_class=p["query_per_class"], baseline_train=p["baseline_train"], **features)
    multi = prepare_benchmark(data.multi_label, PAPER_DATASETS["multi"], seed, query_per_class=None,
                              baseline_train=p["mosaic_baseline_train"], **features)
    return single, multi


def last_epochs_seconds(result: RunResult, epochs: int = 10) -> float:
    """Training seconds of the run's last ``epochs`` epochs (Tables 2–3's "runtime (last ten epochs)")."""
    return float(result.history["seconds"].tail(epochs).sum())




def radius_curves(results: Sequence[RunResult], benchmark: Benchmark) -> pd.DataFrame:
    """Precision and recall within every Hamming radius (Fig. 3), one row per (method, bits, radius)."""
    labels = benchmark.images.labels
    frames = []
    for result in results:
        curve = hamming_radius_metrics(result.query_codes, result.database_codes, labels[benchmark.split.query],
                                       labels[benchmark.split.database])
        frames.append(curve.assign(method=result.method, bits=result.bits, seed=result.seed))
    return pd.concat(frames, ignore_index=True)[["method", "bits", "seed", "radius", "precision", "recall", "f1"]]


def top_k_ablation(result: RunResult, benchmark: Benchmark, top_k_values: Sequence[int],
                   weighting: str = "uniform") -> pd.DataFrame:
    """DSHC's codes from the ``K`` most probable sub-classes, for each ``K``, from one trained model.

    Columns: bits, K, mAP, recall and precision within radius 0, distinct database codes. The
    network is not trained again: its sub-class scores are re-encoded.
    """
    model = result.fitted.model
    codebook = model.method.codebook
    table = torch.from_numpy(codebook.codes)
    split, labels = benchmark.split, benchmark.images.labels
    query_scores = model.outputs(benchmark.images, split.query)
    database_scores = model.outputs(benchmark.images, split.database)
    rows = []
    for top_k in top_k_values:
        top_k = check_top_k(top_k, codebook)
        query_codes = subclass_codes(query_scores, table, top_k, weighting).numpy().astype(np.int8)
        database_codes = subclass_codes(database_scores, table, top_k, weighting).numpy().astype(np.int8)
        at_zero = hamming_radius_metrics(query_codes, database_codes, labels[split.query], labels[split.database],
                                         radii=[0]).iloc[0]
        rows.append({"bits": result.bits, "K": top_k,
                     "mAP": average_precision(query_codes, database_codes, labels[split.query],
                                              labels[split.database]).mean(),
                     "recall r=0": at_zero["recall"], "precision r=0": at_zero["precision"],
                     "distinct database codes": len(np.unique(database_codes, axis=0))})
    return pd.DataFrame(rows)


def geometry_table(dshc: DSHCSettings, n_classes: int, bits: Sequence[int], kbc_bits: int) -> pd.DataFrame:
    """:func:`~hashkit.deep.codebooks.codebook_geometry` of CPBC at each length and of KBC."""
    rows = [codebook_geometry(dshc.codebook("cpbc", n_classes, n_bits)) for n_bits in bits]
    kbc = dshc.codebook("kbc", n_classes, kbc_bits)
    rows.append({**codebook_geometry(kbc), "construction": f"KBC (seed {kbc.seed})"})
    return pd.DataFrame(rows)


def survey_kbc_seeds(n_classes: int, n_bits: int, threshold: int, seeds: int) -> pd.DataFrame:
    """KBC's sub-class count for each of ``seeds`` k-means seeds (0 …), and its smallest class."""
    rows = []
    for seed in range(seeds):
        _, classes = kbc_filter(kbc_centres(n_classes, n_bits, seed), threshold)
        per_class = np.bincount(classes, minlength=n_classes)
        rows.append({"seed": seed, "sub-classes": len(classes), "codes filtered": 2 ** n_bits - len(classes),
                     "smallest class": int(per_class.min())})
    return pd.DataFrame(rows)


def _paper_cell(rows: pd.DataFrame) -> str:
    """The paper's numbers of one method and dataset: "0.939 (cited, 32 bits); 0.802 (rerun, 30 bits)"."""
    return "; ".join(f"{row.map:.4g} ({'DSHC' if row.source == 'paper' else row.source}, {row.bits} bits)"
                     for row in rows.itertuples())


def table1(summary: pd.DataFrame, paper: pd.DataFrame, datasets: Mapping[str, str]) -> pd.DataFrame:
    """Table 1: per method (rows, the paper's order) and paper dataset, the paper's numbers — its
    own, its reruns and the numbers it cites — beside ours at our code length.

    ``summary``: :func:`~hashkit.experiments.runs.summarise` over method, dataset, bits of ``map``;
    ``datasets`` maps each paper dataset to our dataset standing for it.
    """
    columns = {}
    for paper_dataset, ours in datasets.items():
        published = paper[paper["dataset"] == paper_dataset]
        mine = summary[summary["dataset"] == ours]
        paper_cells, our_cells = [], []
        for method in TABLE1_METHODS:
            paper_cells.append(_paper_cell(published[published["method"] == method]) or "—")
            rows = mine[mine["method"] == method]
            if method in NOT_RUN:
                our_cells.append("not run (paper number)")
            elif rows.empty:
                our_cells.append("—")
            else:
                our_cells.append("; ".join(_mean_text(row) for row in rows.itertuples()))
        columns[(f"{paper_dataset} ← {ours}", "paper")] = paper_cells
        columns[(f"{paper_dataset} ← {ours}", "this run")] = our_cells
    table = pd.DataFrame(columns, index=pd.Index([RUN_LABELS.get(m, m) for m in TABLE1_METHODS], name="method"))
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def _mean_text(row: object) -> str:
    text = f"{row.map_mean:.4f}" if row.seeds < 2 else f"{row.map_mean:.4f} ± {row.map_std:.4f}"
    return f"{text} ({row.bits} bits)"


def runs_table(results: Sequence[RunResult], paper: pd.DataFrame) -> pd.DataFrame:
    """Tables 2 and 3: per method and bits, the mean over seeds of mAP and of the last ten epochs'
    training seconds, the paper's mAP and runtime beside them, and each runtime relative to the
    first row's (the paper's unit is unstated, so ratios compare)."""
    frame = pd.DataFrame([{"method": r.method, "bits": r.bits, "mAP": r.map,
                           "last-ten-epochs seconds": last_epochs_seconds(r)} for r in results])
    ours = frame.groupby(["method", "bits"], sort=False).mean().reset_index()
    published = paper.set_index(["method", "bits"])
    keys = list(zip(ours["method"].map(lambda m: PAPER_NAMES.get(m, m)), ours["bits"]))
    ours["paper mAP"] = [published["map"].get(key, np.nan) for key in keys]
    ours["paper runtime"] = [published["runtime_last_ten_epochs"].get(key, np.nan) for key in keys]
    ours["runtime / first row"] = ours["last-ten-epochs seconds"] / ours["last-ten-epochs seconds"].iloc[0]
    ours["paper runtime / first row"] = ours["paper runtime"] / ours["paper runtime"].iloc[0]
    return ours


def table4(results: Sequence[RunResult], benchmark: Benchmark, paper: pd.DataFrame, top_k: int,
           dshc: DSHCSettings) -> pd.DataFrame:
    """Table 4: CPBC against KBC at one length, MAP@``top_k`` and sub-classes, the paper beside."""
    published = paper.set_index("construction")
    rows = []
    for result in results:
        construction = "KBC" if result.method == KBC else "CPBC"
        codebook = dshc.codebook(construction.lower(), benchmark.images.n_classes, result.bits)
        rows.append({"construction": construction, "bits": result.bits, "seed": result.seed,
                     f"MAP@{top_k:,}": ranked_scores(result, benchmark, top_k).mean(),
                     "sub-classes": codebook.n_subclasses,
                     "distinct codes": len(np.unique(codebook.codes, axis=0)),
                     "paper MAP@5,000": published.loc[construction, "map_at_5000"],
                     "paper sub-classes": published.loc[construction, "n_subclasses"]})
    return pd.DataFrame(rows)


DEVIATIONS = [
    Deviation("backbone", "CIFAR-10: ResNet-50; NUS-WIDE: ResNet-101 (pretraining unstated)",
              lambda p: f"{p['backbone']} {p['backbone_options']}"
              + (f", weights {p['pretrained_weights']}" if p["pretrained_weights"] else ", from scratch")),
    Deviation("optimiser", "SGD, learning rate 0.1 (NUS-WIDE: decreased every 6 epochs); momentum, weight decay, "
              "batch unstated",
              lambda p: f"{p['optimizer']}, learning rate {p['learning_rate']:g}"
              + (f", ×0.1 every {p['lr_step_epochs']} epochs" if p["lr_step_epochs"] else "")
              + f", weight decay {p['weight_decay']:g}, batch {p['batch_size']}"),
    Deviation("epochs", "160 (CIFAR-10), for every method",
              lambda p: f"DSHC {p['epochs']}; the baselines and DSHC (subset) {p['baseline_epochs']}"),
    Deviation("augmentation", "unstated", lambda p: p["augmentation"]),
    Deviation("training set of DPSH, DSDH", "the whole training set (50,000); DTSH, VDSH: their papers' numbers",
              lambda p: f"a seeded subset of {p['baseline_train']:,} (mosaic: {p['mosaic_baseline_train']:,}); "
                        "DSHC (subset) trains on the same"),
    Deviation("VDSH", "layer-wise ADMM training on fixed features", lambda p: "back-propagation (labelled so)"),
    Deviation("DSLH, RMLH", "cited numbers", lambda p: "not run: " + "; ".join(f"{m}: {why}"
                                                                             for m, why in NOT_RUN.items())),
    Deviation("shallow features", "unstated (cited numbers)",
              lambda p: f"{p['feature_source']} features {p['feature_options']}, {p['shallow_train']:,} fit items"),
    Deviation("CIFAR-10", "50,000 training / database images, 10,000 queries",
              lambda p: "CIFAR-10 files given" if p["cifar10_root"] else
              f"Fashion-MNIST stands in: {p['fashion_items']:,} images, {p['query_per_class']} queries per class"),
    Deviation("NUS-WIDE", "193,734 training / database images, 2,100 queries, MAP@50,000, 21-bit DSHC codes",
              lambda p: "NUS-WIDE files given" if p["nus_wide_root"]
              else f"the mosaic set stands in ({p['mosaic_images']:,} images, {p['multi_label_classes']} labels, so "
                   f"{p['multi_label_classes']}-bit DSHC codes), mAP over the whole database"),
    Deviation("Table 4 cut-off", "MAP@5,000 of 50,000 database images", lambda p: f"MAP@{p['table4_top_k']:,}"),
    Deviation("seeds", "one run, none stated", lambda p: ", ".join(map(str, p["seeds"]))),
    Deviation("device", "GPU", lambda p: p["device"]),
]


def check_codes_parameters(p: Mapping[str, object]) -> None:
    """The chapter's code lengths and top-K against the codebooks they need; a ``ValueError`` that
    names the parameter, before any training (the runner calls this before the kernel starts)."""
    def named(parameter: str, check: object) -> Codebook:
        try:
            return check()
        except ValueError as error:  # the codebooks name their own argument (n_bits, top_k): ours replaces it
            reason = str(error).removeprefix("n_bits: ").removeprefix("top_k: ")
            raise ValueError(f"parameter {parameter!r}: {reason}") from None

    settings = DSHCSettings(kbc_threshold=p["kbc_threshold"], kbc_seed=p["kbc_seed"])
    codebooks = [named("bits", lambda n_bits=n_bits: settings.codebook("cpbc", SINGLE_LABEL_CLASSES, n_bits))
                 for n_bits in p["bits"]]
    codebooks.append(named("kbc_bits", lambda: settings.codebook("kbc", SINGLE_LABEL_CLASSES, p["kbc_bits"])))
    for parameter in ("table1_bits", "table2_bits"):
        if p[parameter] not in p["bits"]:
            raise ValueError(f"parameter {parameter!r}: {p[parameter]} is not one of bits {p['bits']}; DSHC's runs at "
                             "the lengths of bits serve Tables 1–3")
    for codebook in codebooks:
        named("top_k_subclasses", lambda codebook=codebook: check_top_k(p["top_k_subclasses"], codebook))
    for codebook in codebooks[:-1]:
        if codebook.n_bits in (p["table1_bits"], p["table2_bits"]):
            for top_k in p["top_k_grid"]:
                named("top_k_grid", lambda codebook=codebook, top_k=top_k: check_top_k(top_k, codebook))






def class_accuracy(result: RunResult, benchmark: Benchmark) -> float:
    """The share of queries whose most probable sub-class belongs to their own class: how well the
    trained DSHC classifies, which bounds its mAP once classes are far apart in Hamming space."""
    model = result.fitted.model
    predicted = model.method.codebook.classes[model.outputs(benchmark.images, benchmark.split.query).argmax(dim=1).numpy()]
    return float((predicted == benchmark.images.labels[benchmark.split.query].argmax(axis=1)).mean())


def label_agreement(result: RunResult, benchmark: Benchmark) -> dict:
    """How well the multi-label DSHC's codes predict the queries' labels: the share of (query, label)
    bits right, of queries with every label right, and of queries whose code has no positive bit."""
    predicted = result.query_codes > 0
    truth = benchmark.images.labels[benchmark.split.query].astype(bool)
    return {"bits right": float((predicted == truth).mean()),
            "all labels right": float((predicted == truth).all(axis=1).mean()),
            "codes with no label": float((~predicted).all(axis=1).mean())}


def fairness_table(scores: Mapping[tuple[str, str, int], Sequence[np.ndarray]], dataset: str, n_bits: int,
                   methods: Sequence[str]) -> pd.DataFrame:
    """The fairness control: per method, its mAP and how far DSHC and DSHC (subset) are ahead of it,
    each lead with its noise (:func:`~hashkit.experiments.noise.difference_noise`)."""
    rows = []
    for method in methods:
        key = (method, dataset, n_bits)
        if key not in scores:
            continue
        row = {"method": method, "mAP": float(np.mean([ap.mean() for ap in scores[key]]))}
        for lead in ("DSHC", FAIR):
            rival = (lead, dataset, n_bits)
            if method != lead and rival in scores:
                row[f"{lead} ahead by"] = float(np.mean([a.mean() - b.mean() for a, b in zip(scores[rival], scores[key])]))
                row[f"noise ({lead})"] = difference_noise(scores[rival], scores[key])
        rows.append(row)
    leads = [column for lead in ("DSHC", FAIR) for column in (f"{lead} ahead by", f"noise ({lead})")]
    return pd.DataFrame(rows).reindex(columns=["method", "mAP", *leads])
