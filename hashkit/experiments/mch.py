"""MCH's experiments {cite}`li2020mch`, declared: its methods, benchmark, runs, scores and deviations.

The chapter ``notebooks/mch.py`` runs them:

* :func:`load_data` and :func:`prepare_benchmark` — the stand-in (the jittered Fashion-MNIST mosaic)
  or a real dataset under MCH's protocol (§5.1), and the label-free features LSH, ITQ and KSH fit on;
* :func:`run_code_length` — at one code length: LSH, ITQ, the five base models, and MCH on each base
  (the base is trained once and frozen, then the agent is trained on it);
* :func:`score_code_set` — mAP, precision and recall within radius 0, and the F1-bucket curve, for
  one code per item or several;
* :func:`sensitivity` — Table 3 and Fig. 9: the agent retrained for each σ, ξ applied as a threshold.

Its claims are in :mod:`hashkit.experiments.mch_claims`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from hashkit import metrics
from hashkit.data import ImageDataset, Split, load_dataset, protocol_split
from hashkit.deep.methods import ADSH, DCH, MMHH, HashNet
from hashkit.experiments.grid import Deviation
from hashkit.experiments.methods import Benchmark, DeepSettings, deep, fit, shallow
from hashkit.experiments.noise import difference_noise
from hashkit.features.cache import FeatureCache, default_cache_dir
from hashkit.features.encoding import encode_images
from hashkit.features.learned import DEFAULT_LEARNED_METHOD, learned_encoder, learned_settings
from hashkit.index import multi_code_index
from hashkit.mch import MCH, AgentSettings, FeatureCoder, MCHSettings, NetworkCoder, encode_regions, multi_codes, whole_image_box
from hashkit.mch.agent import keep_rewards
from hashkit.mch.framework import AgentReport
from hashkit.runtime import resolve_device
from hashkit.shallow import KSH

UNSUPERVISED = ("LSH", "ITQ")
BASES = ("KSH", "HashNet", "ADSH", "DCH", "MMHH")
DEEP_BASES = {"HashNet": HashNet, "ADSH": ADSH, "DCH": DCH, "MMHH": MMHH}
TABLE2_METHODS = (*UNSUPERVISED, *(name for base in BASES for name in (base, f"MCH-{base}")))
PAPER_DATASETS = ("nus-wide", "ms-coco", "mir-flickr")
SMOKE = {"bits": [16], "mosaic_images": 900, "query_per_class": 10, "train_per_class": 40,
         "feature_options": {"channels": [4, 8], "feature_dim": 32, "max_train_items": 500, "epochs": 1},
         "backbone_options": {"channels": [4, 8], "feature_dim": 32}, "base_epochs": 1, "adsh_rounds": 1,
         "adsh_sample": 150, "agent_iterations": 5, "agent_batch": 64, "policy_hidden": [16, 16, 8, 8],
         "k_values": [1, 10, 100], "search_queries": 60, "sigma_grid": [0.5, 1.0], "xi_grid": [0.5, 1.0],
         "sensitivity_bits": 16}


def mch_settings(p: Mapping[str, object], sigma: float | None = None) -> MCHSettings:
    """MCH's settings from the chapter's parameters (``sigma`` overrides σ for a sweep)."""
    agent = AgentSettings(iterations=p["agent_iterations"], batch_size=p["agent_batch"], learning_rate=p["agent_lr"],
                          weight_decay=p["agent_weight_decay"], reduction=p["reward"], advantage=p["advantage"],
                          hidden=tuple(p["policy_hidden"]))
    return MCHSettings(sigma=p["sigma"] if sigma is None else sigma, xi=p["xi"], crops_per_image=p["crops_per_image"],
                       train_crop=p["train_crop"], region_mode=p["region_mode"], agent=agent)


def deep_settings(p: Mapping[str, object]) -> DeepSettings:
    """What every base network shares; epoch roles ``"base"`` (HashNet, DCH, MMHH) and ``"rounds"`` (ADSH)."""
    return DeepSettings(backbone=p["backbone"], backbone_options=p["backbone_options"],
                        pretrained_weights=p["pretrained_weights"], device=p["device"],
                        learning_rate=p["learning_rate"], epochs_per_round=p["adsh_epochs_per_round"],
                        epochs={"base": p["base_epochs"], "rounds": p["adsh_rounds"] * p["adsh_epochs_per_round"]})


def load_data(p: Mapping[str, object]) -> ImageDataset:
    """The chapter's dataset: NUS-WIDE, MS-COCO or MIR FLICKR when its root is given, else the mosaic set."""
    for name in PAPER_DATASETS:
        root = p[f"{name.replace('-', '_')}_root"]
        if root:
            return load_dataset(name, root, **p["list_options"])
    return load_dataset("fashion-mosaic", p["data_root"], n_images=p["mosaic_images"], seed=p["seeds"][0],
                        layout=p["mosaic_layout"])


def stands_for(images: ImageDataset) -> str:
    """The column of the paper's tables a dataset fills (the mosaic stands in for NUS-WIDE)."""
    return images.name if images.name in PAPER_DATASETS else "nus-wide"


def check_focus_classes(images: ImageDataset, classes: Sequence[str]) -> list[int]:
    """The label columns of Fig. 9(b–c)'s two focus classes; a name the dataset lacks is an error."""
    missing = [name for name in classes if name not in images.class_names]
    if missing:
        raise ValueError(f"focus_classes: {images.name} has no class {', '.join(map(repr, missing))}; "
                         f"its classes are {', '.join(images.class_names)}")
    return [images.class_names.index(name) for name in classes]


@dataclass
class MCHBenchmark:
    """A :class:`Benchmark` with the label-free encoder its shallow methods' features come from."""

    benchmark: Benchmark
    encoder: object


def _split(images: ImageDataset, seed: int, p: Mapping[str, object]) -> Split:
    on_mosaic = images.name not in PAPER_DATASETS
    overrides = ({"query_per_class": p["query_per_class"], "train_per_class": p["train_per_class"]}
                 if on_mosaic or images.name == "nus-wide" else {})
    return protocol_split("mch", images, seed, **overrides)


def prepare_benchmark(images: ImageDataset, seed: int, p: Mapping[str, object], features: bool = True) -> MCHBenchmark:
    """MCH's split of ``images`` (§5.1, NUS-WIDE's per-class draws scaled by the parameters on the mosaic)
    and label-free learned features for LSH, ITQ and KSH (computed by an encoder that also codes
    regions); ``features=False`` leaves them out, for deep base models only."""
    split = _split(images, seed, p)
    encoder = feature_array = None
    if features:
        device = resolve_device(p["device"])
        settings = learned_settings(DEFAULT_LEARNED_METHOD, dict(p["feature_options"]))
        encoder = learned_encoder(images, split.train, DEFAULT_LEARNED_METHOD, settings, seed,
                                  FeatureCache(default_cache_dir()), device, p["progress"])
        feature_array = encode_images(encoder, images, np.arange(len(images)), device=device, batch_size=1000,
                                      progress=p["progress"], description="features")
    benchmark = Benchmark(name=images.name, paper_dataset=stands_for(images), images=images, split=split,
                          training_sets={}, features=feature_array, sample_size=p["adsh_sample"], seed=seed)
    return MCHBenchmark(benchmark, encoder)


@dataclass
class CodeSet:
    """The codes one method gives at one code length: one per query, one or several per database item.

    MCH's code sets carry what the agent did: ANHC, the agent's report, the database regions'
    keep-probabilities and rewards (the rewards use the items' labels: a diagnostic, not the method).
    """

    method: str
    bits: int
    seed: int
    query_codes: np.ndarray
    database_codes: np.ndarray
    training_seconds: float
    anhc: float = 1.0
    agent: AgentReport | None = None
    keep_probabilities: np.ndarray | None = None
    region_rewards: np.ndarray | None = None
    region_codes: np.ndarray | None = None


@dataclass
class BaseRun:
    """A frozen base model with its MCH, kept for the sensitivity study and the figures."""

    name: str
    mch: MCH
    query_codes: np.ndarray
    database_whole: object
    train_whole: object


def _deep_spec(name: str) -> object:
    if name == "ADSH":
        return deep(name, lambda benchmark, settings: ADSH(sample_size=benchmark.sample_size,
                                                           epochs_per_round=settings.epochs_per_round),
                    epochs="rounds")
    return deep(name, lambda benchmark, settings, cls=DEEP_BASES[name]: cls(), epochs="base")


def _coder(name: str, prepared: MCHBenchmark, n_bits: int, settings: DeepSettings) -> tuple[object, float]:
    """The frozen base model ``name`` trained on the benchmark, as a region coder, and its training time."""
    benchmark = prepared.benchmark
    if name == "KSH":
        started = time.perf_counter()
        # KSH's 300 anchors and 2,000 labelled items (its paper's setting), fewer on a smaller training set
        n_train = len(benchmark.split.train)
        hasher = KSH(n_bits, n_anchors=min(300, n_train), n_labelled=min(2000, n_train), seed=benchmark.seed)
        hasher.fit(benchmark.features[benchmark.split.train], benchmark.images.labels[benchmark.split.train])
        return FeatureCoder(prepared.encoder, hasher), time.perf_counter() - started
    fitted = fit(_deep_spec(name), benchmark, n_bits, settings)
    return NetworkCoder(fitted.model), fitted.training_seconds


def run_code_length(prepared: MCHBenchmark, n_bits: int, settings: DeepSettings, mch: MCHSettings,
                    bases: Sequence[str] = BASES, progress: bool = False) -> tuple[list[CodeSet], dict[str, BaseRun]]:
    """Table 2's methods at ``n_bits``: LSH and ITQ (where the benchmark has features), then each base
    model and MCH on it."""
    benchmark = prepared.benchmark
    split, images, seed = benchmark.split, benchmark.images, benchmark.seed
    code_sets = []
    for name in UNSUPERVISED if benchmark.features is not None else ():
        started = time.perf_counter()
        estimator = shallow(name).build(benchmark, settings, n_bits)
        estimator.fit(benchmark.features[split.train])
        code_sets.append(CodeSet(name, n_bits, seed, estimator.encode(benchmark.features[split.query]),
                                 estimator.encode(benchmark.features[split.database]), time.perf_counter() - started))
    runs = {}
    whole = whole_image_box(images)
    for name in tqdm(bases, desc=f"{n_bits} bits", disable=not progress, leave=False):
        coder, seconds = _coder(name, prepared, n_bits, settings)
        framework = MCH(coder, name, mch, device=settings.device)
        train_whole = framework.code(images, split.train, whole, "coding training images")
        database_whole = framework.code(images, split.database, whole, "coding database")
        query_codes = framework.code(images, split.query, whole, "coding queries").codes[:, 0]
        code_sets.append(CodeSet(name, n_bits, seed, query_codes, database_whole.codes[:, 0], seconds))
        started = time.perf_counter()
        framework.fit(images, split.train, seed, train_whole)
        regions, probabilities = framework.region_probabilities(images, split.database, database_whole)
        coded = multi_codes(database_whole.codes[:, 0], regions.codes, probabilities, mch.xi)
        labels = images.labels
        owner = np.repeat(np.arange(len(split.database)), regions.codes.shape[1])
        rewards = keep_rewards(database_whole.codes[owner, 0], regions.codes.reshape(len(owner), -1),
                               labels[split.database][owner], train_whole.codes[:, 0], labels[split.train],
                               framework.loss, mch.agent.reduction).reshape(probabilities.shape)
        code_sets.append(CodeSet(f"MCH-{name}", n_bits, seed, query_codes, coded.codes,
                                 seconds + time.perf_counter() - started, anhc=coded.anhc(), agent=framework.report_,
                                 keep_probabilities=probabilities, region_rewards=rewards, region_codes=regions.codes))
        runs[name] = BaseRun(name, framework, query_codes, database_whole, train_whole)
    return code_sets, runs


def agent_summary(code_set: CodeSet, whole_codes: np.ndarray, benchmark: Benchmark, xi: float) -> dict:
    """What MCH's agent did at one code length: its agreement with the reward's sign on held-out
    regions beside always discarding, the share of positive rewards, ANHC and recall within radius 0,
    and the same two for an oracle that keeps exactly the database regions with a positive reward
    (it uses the items' labels: the framework's ceiling here, not a method)."""
    labels = benchmark.images.labels
    oracle = multi_codes(whole_codes, code_set.region_codes, (code_set.region_rewards > 0).astype(float), 1.0)
    recall = [float(metrics.hamming_radius_metrics(code_set.query_codes, codes, labels[benchmark.split.query],
                                                   labels[benchmark.split.database], radii=[0])["recall"].iloc[0])
              for codes in (code_set.database_codes, oracle.codes)]
    report = code_set.agent
    return {"method": code_set.method, "bits": code_set.bits, "seed": code_set.seed,
            "agreement": report.agreement(xi), "always discard": float(np.mean(report.held_out_rewards <= 0)),
            "positive rewards (held out)": float(np.mean(report.held_out_rewards > 0)), "ANHC": code_set.anhc,
            "oracle ANHC": oracle.anhc(), "recall r=0": recall[0], "oracle recall r=0": recall[1],
            "agent seconds": report.seconds}


def f1_bucket_score(curve: pd.DataFrame, n_bits: int, points: int = 256) -> float:
    """One number for an F1-bucket curve: the best F1 reachable within a budget of bucket addresses,
    averaged over budgets evenly spaced in log10 from 1 to all ``2**n_bits`` addresses (0 to 1,
    larger is more efficient). A curve that reaches the same F1 with fewer probes scores higher; a
    budget below the curve's first point scores 0."""
    budgets = np.linspace(0.0, n_bits * np.log10(2.0), points)
    probed = np.log10(np.maximum(curve["buckets_probed"].to_numpy(dtype=float), 1.0))
    f1 = curve["f1"].to_numpy(dtype=float)
    order = np.argsort(probed, kind="stable")
    best_so_far = np.maximum.accumulate(f1[order])
    reached = np.searchsorted(probed[order], budgets, side="right")
    return float(np.where(reached > 0, best_so_far[np.maximum(reached - 1, 0)], 0.0).mean())


def score_code_set(code_set: CodeSet, benchmark: Benchmark, k_values: Sequence[int], map_top_k: int | None,
                   search_queries: np.ndarray, dataset_name: str) -> tuple[dict, pd.DataFrame, np.ndarray]:
    """mAP, P/R within radius 0 and the F1-bucket curve (on ``search_queries``, positions among the
    queries); returns the table row, the curve and the per-query AP (for the noise estimate)."""
    labels = benchmark.images.labels
    query_labels, database_labels = labels[benchmark.split.query], labels[benchmark.split.database]
    per_query = metrics.average_precision(code_set.query_codes, code_set.database_codes, query_labels,
                                          database_labels, map_top_k)
    ball = metrics.hamming_radius_metrics(code_set.query_codes, code_set.database_codes, query_labels,
                                          database_labels, radii=[0])
    k_values = [k for k in k_values if k <= len(database_labels)]
    curve = metrics.f1_bucket_curve(multi_code_index(code_set.database_codes), code_set.query_codes[search_queries],
                                    query_labels[search_queries], database_labels, k_values)
    keys = {"method": code_set.method, "dataset": dataset_name, "bits": code_set.bits, "seed": code_set.seed}
    row = {**keys, "map": float(per_query.mean()), "precision_r0": float(ball["precision"].iloc[0]),
           "recall_r0": float(ball["recall"].iloc[0]), "f1_bucket_score": f1_bucket_score(curve, code_set.bits), "anhc": code_set.anhc,
           "training_seconds": code_set.training_seconds}
    return row, curve.assign(**keys), per_query


def sensitivity(run: BaseRun, prepared: MCHBenchmark, p: Mapping[str, object], search_queries: np.ndarray,
                focus_columns: Sequence[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 3 (ANHC over σ × ξ) and Fig. 9's F1-bucket scores: all queries and each focus class's queries."""
    benchmark = prepared.benchmark
    images, split, seed = benchmark.images, benchmark.split, benchmark.seed
    query_labels = images.labels[split.query]
    groups = {"all queries": search_queries,
              **{images.class_names[column]: np.flatnonzero(query_labels[:, column]) for column in focus_columns}}
    anhc_rows, curve_rows = [], []
    for sigma in p["sigma_grid"]:
        framework = MCH(run.mch.coder, run.name, mch_settings(p, sigma), device=p["device"])
        framework.fit(images, split.train, seed, run.train_whole)
        regions, probabilities = framework.region_probabilities(images, split.database, run.database_whole, sigma)
        for xi in p["xi_grid"]:
            coded = multi_codes(run.database_whole.codes[:, 0], regions.codes, probabilities, xi)
            anhc_rows.append({"sigma": sigma, "xi": xi, "anhc": coded.anhc()})
            if xi != p["xi"] and sigma != p["sigma"]:
                continue  # Fig. 9 moves one of the two at a time
            index = multi_code_index(coded.codes)
            for group, queries in groups.items():
                k_values = [k for k in p["k_values"] if k <= len(split.database)]
                curve = metrics.f1_bucket_curve(index, run.query_codes[queries], query_labels[queries],
                                                images.labels[split.database], k_values)
                curve_rows.append(curve.assign(sigma=sigma, xi=xi, queries=group,
                                               area=f1_bucket_score(curve, run.mch.coder.n_bits)))
    return pd.DataFrame(anhc_rows), pd.concat(curve_rows, ignore_index=True)


def gain_noise(per_query: Mapping[tuple[str, int, int], np.ndarray], summary: pd.DataFrame, base: str, n_bits: int,
               seeds: Sequence[int], resamples: int = 1000) -> float:
    """The noise of MCH-``base``'s mAP gain over ``base``: the standard deviation of the gain over the
    seeds when there are several, else that of its mean over queries resampled with replacement."""
    if len(seeds) > 1:
        gains = [summary.query("method == @name and bits == @n_bits and seed == @seed")["map"].iloc[0] * sign
                 for seed in seeds for name, sign in ((f"MCH-{base}", 1), (base, -1))]
        per_seed = np.asarray(gains).reshape(len(seeds), 2).sum(axis=1)
        return float(per_seed.std(ddof=1))
    return difference_noise([per_query[(f"MCH-{base}", n_bits, seeds[0])]], [per_query[(base, n_bits, seeds[0])]],
                            resamples)


def layout_comparison(p: Mapping[str, object], seed: int, n_bits: int, settings: DeepSettings,
                      base: str = "DCH") -> list[dict]:
    """MCH on ``base`` at ``n_bits`` on the aligned 2×2 grid: the rows :func:`layout_row` gives, for
    the comparison with the jittered mosaic."""
    images = load_dataset("fashion-mosaic", p["data_root"], n_images=p["mosaic_images"], seed=p["seeds"][0],
                          layout="grid")
    prepared = prepare_benchmark(images, seed, p, features=False)
    code_sets, _ = run_code_length(prepared, n_bits, settings, mch_settings(p), [base])
    return layout_row("grid", code_sets, prepared.benchmark, p)


def layout_row(layout: str, code_sets: Sequence[CodeSet], benchmark: Benchmark, p: Mapping[str, object]) -> list[dict]:
    """One row per base model of ``code_sets``: what MCH changed on this layout."""
    by_name = {code_set.method: code_set for code_set in code_sets}
    search = np.sort(np.random.default_rng(benchmark.seed).permutation(len(benchmark.split.query))[:p["search_queries"]])
    rows = []
    for name, code_set in by_name.items():
        if code_set.agent is None:
            continue
        base = by_name[name.removeprefix("MCH-")]
        scores = [score_code_set(one, benchmark, p["k_values"], p["map_top_k"], search, benchmark.name)[0]
                  for one in (base, code_set)]
        rows.append({"layout": layout, "method": name, "bits": code_set.bits,
                     "positive rewards (held out)": float(np.mean(code_set.agent.held_out_rewards > 0)),
                     "agreement": code_set.agent.agreement(p["xi"]), "ANHC": code_set.anhc,
                     "recall r=0 (base)": scores[0]["recall_r0"], "recall r=0 (MCH)": scores[1]["recall_r0"],
                     "F1-bucket score (base)": scores[0]["f1_bucket_score"],
                     "F1-bucket score (MCH)": scores[1]["f1_bucket_score"]})
    return rows


@dataclass
class Table2Runs:
    """Everything the runs of Table 2 produced, over seeds and code lengths.

    ``runs``: one row per (method, code length, seed) (:func:`score_code_set`'s rows);
    ``f1_curves``: the F1-bucket curves; ``per_query``: AP per query by (method, bits, seed);
    ``agents``: :func:`agent_summary` rows; ``keep_probabilities``: P(keep) of every database region
    (method, bits); ``two_class``: Fig. 8's shares at the sensitivity code length; ``kept``: per seed,
    the base runs, code sets and search queries at that code length, for the later figures.
    """

    runs: pd.DataFrame
    f1_curves: pd.DataFrame
    per_query: dict[tuple[str, int, int], np.ndarray]
    agents: pd.DataFrame
    keep_probabilities: pd.DataFrame
    two_class: pd.DataFrame
    kept: dict[int, tuple[dict[str, BaseRun], dict[str, CodeSet], np.ndarray]]


def run_table2(prepared: Mapping[int, MCHBenchmark], p: Mapping[str, object], settings: DeepSettings,
               mch: MCHSettings) -> Table2Runs:
    """Table 2's methods at every code length of ``p["bits"]`` and seed, scored (see :class:`Table2Runs`)."""
    rows, curves, per_query, agents, keeps, two_class, kept = [], [], {}, [], [], [], {}
    for seed, prepared_seed in prepared.items():
        benchmark = prepared_seed.benchmark
        query_labels = benchmark.images.labels[benchmark.split.query]
        search = np.sort(np.random.default_rng(seed).permutation(len(benchmark.split.query))[:p["search_queries"]])
        for n_bits in p["bits"]:
            code_sets, runs = run_code_length(prepared_seed, n_bits, settings, mch, p["base_models"], p["progress"])
            by_name = {code_set.method: code_set for code_set in code_sets}
            for code_set in code_sets:
                row, curve, ap = score_code_set(code_set, benchmark, p["k_values"], p["map_top_k"], search,
                                                benchmark.name)
                rows.append(row)
                curves.append(curve)
                per_query[(code_set.method, n_bits, seed)] = ap
                if code_set.agent is not None:
                    whole = by_name[code_set.method.removeprefix("MCH-")].database_codes
                    agents.append(agent_summary(code_set, whole, benchmark, mch.xi))
                    keeps.append(pd.DataFrame({"method": code_set.method, "bits": n_bits,
                                               "P(keep)": code_set.keep_probabilities.ravel()}))
            if n_bits == p["sensitivity_bits"] and "DCH" in runs:
                two_class.append({"bits": n_bits, "seed": seed, **{
                    column: two_class_share(by_name[name].query_codes, by_name[name].database_codes, query_labels)
                    for column, name in (("base", "DCH"), ("mch", "MCH-DCH"))}})
                kept[seed] = (runs, by_name, search)
    return Table2Runs(pd.DataFrame(rows), pd.concat(curves, ignore_index=True), per_query, pd.DataFrame(agents),
                      pd.concat(keeps, ignore_index=True), pd.DataFrame(two_class, columns=["bits", "seed", "base", "mch"]),
                      kept)


def two_class_share(query_codes: np.ndarray, database_codes: np.ndarray, query_labels: np.ndarray) -> float:
    """Fig. 8's red box, counted: the share of database items that queries with no label in common
    both reach at Hamming distance 0 (one bucket lookup serves both)."""
    codes = database_codes if database_codes.ndim == 3 else database_codes[:, None, :]
    at_zero = np.zeros((len(query_codes), len(codes)), dtype=bool)
    for slot in range(codes.shape[1]):
        at_zero |= (query_codes.astype(np.int32) @ codes[:, slot].T.astype(np.int32)) == query_codes.shape[1]
    shared = 0
    for item in np.flatnonzero(at_zero.sum(axis=0) >= 2):
        reaching = query_labels[at_zero[:, item]].astype(np.int32)
        overlap = reaching @ reaching.T
        shared += bool((overlap == 0).any())
    return shared / len(codes)


DEVIATIONS = [
    Deviation("data", "NUS-WIDE (21 classes), MS-COCO (80), MIR FLICKR (24)",
              lambda p: p["dataset_used"]),
    Deviation("backbone", "AlexNet, ImageNet weights, conv1–fc7 fine-tuned",
              lambda p: f"{p['backbone']} {p['backbone_options']}"
              + (f", weights {p['pretrained_weights']}" if p["pretrained_weights"] else ", from scratch")),
    Deviation("shallow features", "AlexNet fc7 (4,096-d, ImageNet)",
              lambda p: f"label-free learned features {p['feature_options']}"),
    Deviation("base training", "each base's authors' settings, full length",
              lambda p: f"{p['base_epochs']} epochs (ADSH {p['adsh_rounds']} rounds × {p['adsh_epochs_per_round']} "
                        f"epochs, m = {p['adsh_sample']:,}), Adam, learning rate {p['learning_rate']:g}"),
    Deviation("ADSH's database codes", "(not said)",
              lambda p: "the network's codes, as for every image and region (MCH needs one hash function)"),
    Deviation("agent's training crops", "random regions, size not given",
              lambda p: f"{p['crops_per_image']} regions per training image, coded once; side ratio "
                        + ("σ" if p["train_crop"] == "fixed" else "drawn from [σ, 1]")),
    Deviation("regions as input", "cropped and resized",
              lambda p: "cropped and resized" if p["region_mode"] == "crop"
              else "masked in place (region_mode='mask')"),
    Deviation("reward and update", "eq. 6 summed over the N training images, plain REINFORCE (eq. 7)",
              lambda p: f"reward {p['reward']!r}, advantage {p['advantage']!r}"),
    Deviation("policy widths", "five fully connected layers (widths not given)",
              lambda p: " → ".join(["state", *map(str, p["policy_hidden"]), "2"])),
    Deviation("agent optimiser", "SGD, momentum 0.9, lr 1e-4, weight decay 5e-4, T = 100, B = 256",
              lambda p: f"SGD, momentum 0.9, lr {p['agent_lr']:g}, weight decay {p['agent_weight_decay']:g}, "
                        f"T = {p['agent_iterations']}, B = {p['agent_batch']}"),
    Deviation("agent's evaluation", "(not measured)", lambda p: "a fifth of the training images held out"),
    Deviation("ANHC", "eq. 8: kept codes per image", lambda p: "distinct kept codes per image (Table 3's σ = 1 row)"),
    Deviation("mAP depth", "not stated", lambda p: "all items" if p["map_top_k"] is None else f"top {p['map_top_k']:,}"),
    Deviation("F1-bucket", "K grid and query count not stated",
              lambda p: f"K in {p['k_values']}, {p['search_queries']:,} queries; cost = bucket addresses probed"),
    Deviation("seeds", "5, averaged", lambda p: ", ".join(map(str, p["seeds"]))),
    Deviation("device", "8 × RTX 2080 Ti", lambda p: p["device"]),
]
