# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (hashkit)
#     language: python
#     name: hashkit
# ---

# %% [markdown]
# # Five methods under one protocol
#
# Each of the five papers measured its method on its own terms: its split, its backbone, its
# training length, often numbers copied from other papers for the baselines. Their tables cannot
# be read side by side. This chapter runs the five proposed methods — FDAH {cite}`lin2021fdah`,
# DSHC {cite}`luo2021dshc`, MCH {cite}`li2020mch` over its best base model, BGAN
# {cite}`song2017bgan` and DSAH {cite}`lin2021dsah` — and the strongest baselines of each paper on
# one single-label and one multi-label protocol, with one backbone, one training budget for every
# network and several seeds. Supervised and unsupervised methods are compared apart: a label-free
# method is not expected to match one that reads the labels.
#
# The question it answers: **which paper's headline survives the common protocol?**

# %% tags=["remove-cell"]
from hashkit.parameters import (Backbone, CodeLength, Count, Device, FashionMNISTFolder, Folder, Fraction, Options,
                                PositiveFloat, Seeds, WeightsFile)

# %% tags=["parameters"]
seeds: Seeds = [0, 1, 2]  # one run per seed; the tables show mean ± std over them
bits: CodeLength = 30  # the one code length (DSHC's codebook needs a multiple of the 10 classes; its Table 1: 30)
fashion_items: Count | None = 10_000  # a seeded subset of Fashion-MNIST standing in for CIFAR-10; None: all 70,000
query_per_class: Count | None = 50  # queries per class (DSAH's and BGAN's protocol: 100)
train_per_class: Count | None = 200  # training images per class (the protocol: 1,000)
mosaic_images: Count = 2_000  # size of the jittered mosaic set standing in for FLICKR25K
mosaic_queries: Count | None = 300  # FLICKR25K: 1,000
mosaic_train: Count | None = 800  # FLICKR25K: 10,000
cifar10_root: Folder | None = None  # a folder holding CIFAR-10's python batches: runs it instead of Fashion-MNIST
mir_flickr_root: Folder | None = None  # a folder holding FLICKR25K's list files: runs it instead of the mosaic
mir_flickr_options: Options = {}  # options of hashkit.data.load_list_trio
data_root: FashionMNISTFolder | None = None  # where Fashion-MNIST lives; None looks in $HASHKIT_DATA, data/, /usr/share/datasets
epochs: Count = 4  # the one training budget: passes over the training set for every network (even: DSAH's 2 rounds)
feature_options: Options = {"channels": [16, 32], "max_train_items": 5_000, "epochs": 4}  # the label-free features
backbone: Backbone = "small-cnn"  # or an ImageNet network with pretrained_weights
backbone_options: Options = {"channels": [16, 32]}
pretrained_weights: WeightsFile | None = None
device: Device = "cpu"
learning_rate: PositiveFloat = 1e-3  # Adam, for every network
batch_size: Count = 128
agent_iterations: Count = 100  # iterations of MCH's agent (§5.2.2: 100)
tbh_units: list[Count] = [128, 64]  # TBH's hidden and continuous units (the DSAH chapter's)
map_top_k: Count = 1_000  # the K of mAP@K
radius: int = 2  # precision within this Hamming radius
k_values: list[Count] = [1, 10, 50, 100, 200, 500, 1_000]  # K of the F1-bucket curves
search_queries: Count = 200  # queries of the F1-bucket curves
target_f1: Fraction = 0.3  # the F1 whose lookup cost the tables give
progress: bool = True  # a progress bar over the runs
smoke: bool = False  # a minute-long run with small sizes, for the tests
out_dir: str = "book/executed/compare"

# %% tags=["hide-input"]
import pandas as pd
from IPython.display import Markdown, display
from tqdm.auto import tqdm

from hashkit import plots
from hashkit.artifacts import save_figure, save_table
from hashkit.chapter import save_ledger, start_chapter
from hashkit.claims import verdict_summary
from hashkit.display import readable
from hashkit.experiments import deviations_table, results_frame, sizes_table, summarise
from hashkit.experiments.compare import (DEVIATIONS, MULTI_LABEL_ONLY, PROPOSED, SIZES_COLUMNS, SMOKE, SUPERVISED,
                                         UNSUPERVISED, code_length, comparison_table, cost_to_reach, deep_settings,
                                         discussion, headline_claims, load_data, mch_run, mch_settings, measured_run,
                                         method_specs, prepare_benchmarks, ranking, shown, specs_for, survivors)
from hashkit.experiments.scores import map_summary, per_query_ap

parameters, out_dir, clock = start_chapter(globals(), "compare", SMOKE)
settings = deep_settings(parameters)
settings.check()
with clock.section("loading the data"):
    datasets = load_data(parameters)

# %% [markdown]
# ## One protocol
#
# DSAH's split (§5.1 of its paper; BGAN's is the same on CIFAR-10): queries drawn per class, the rest
# the retrieval set, the training images drawn from it. Fashion-MNIST {cite}`xiao2017fashion` stands
# in for CIFAR-10 and the jittered mosaic of chapter 0 for FLICKR25K. Every method trains on the whole
# training set; every network has the same backbone, optimiser and number of passes over it. The
# unsupervised methods that need features (ITQ, TBH, and BGAN's, DSAH's and MLS³RDUH's
# neighbourhoods) share one set of label-free learned features, centred as the DSAH chapter
# measured they must be.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("features and splits"):
    prepared = {seed: prepare_benchmarks(datasets, parameters, seed) for seed in seeds}
benchmarks = [benchmark for seed in seeds for benchmark in prepared[seed]]
by_key = {(benchmark.name, benchmark.seed): benchmark for benchmark in benchmarks}
single_name, multi_name = prepared[seeds[0]][0].name, prepared[seeds[0]][1].name
sizes = sizes_table({"single-label": [prepared[seed][0] for seed in seeds],
                     "multi-label": [prepared[seed][1] for seed in seeds]}, SIZES_COLUMNS)
save_table(sizes, out_dir, "protocol_sizes")
readable(sizes)

# %% tags=["hide-input"]
deviations = deviations_table(DEVIATIONS, parameters)
save_table(deviations, out_dir, "deviations")
readable(deviations)

# %% [markdown]
# ## The methods
#
# Each method is built by its own chapter's code with its paper's hyper-parameters; only the
# budget, the backbone and the data are common. Supervised: FDAH and ADSH {cite}`jiang2018adsh`
# (FDAH's strongest baseline, and the base model under which MCH gains most in its Table 2), DSHC
# and DTSH {cite}`wang2016dtsh` (the strongest method DSHC compares with), and MCH over ADSH, on the
# multi-label set only: MCH codes the regions of multi-object images. DSHC's multi-label code is one
# bit per label (its §3.4), so there it is as long as the labels are many. Unsupervised: BGAN, DSAH, and
# MLS³RDUH {cite}`tu2020mls3rduh` and TBH {cite}`shen2020tbh` (DSAH's strongest baselines), and ITQ
# {cite}`gong2011itq` on the learned features (BGAN's strongest). Each run also measures what it
# costs: training seconds per training image, query images encoded per second (ITQ and TBH encode
# the features, not the images), and the peak memory its training added to the process.

# %% tags=["hide-input", "remove-stderr"]
specs = method_specs(parameters, len(prepared[seeds[0]][0].split.train))
plan = [(benchmark, name) for benchmark in benchmarks for name in [*SUPERVISED, *UNSUPERVISED]
        if name not in MULTI_LABEL_ONLY or benchmark.images.is_multi_label]
measured, mch_bases = [], {}
with clock.section("training and scoring"):
    for benchmark, name in tqdm(plan, desc="runs", disable=not progress):
        if name == "MCH-ADSH":
            run, base_queries = mch_run(benchmark, bits, settings, mch_settings(parameters), radius)
            mch_bases[(benchmark.name, benchmark.seed)] = base_queries
        else:
            (spec,) = specs_for(specs, [name], benchmark)
            run = measured_run(spec, benchmark, code_length(name, benchmark, bits), settings, radius)
        measured.append(run)
results = [run.result for run in measured]
runs = results_frame(results)
save_table(runs.drop(columns=["training_seconds", "images_per_second"]), out_dir, "runs")
costs = pd.DataFrame([run.row() for run in measured])
save_table(costs, out_dir, "timing_costs")

# %% tags=["hide-input"]
with clock.section("mAP and lookup cost"):
    per_query = per_query_ap(results, by_key, {})
    per_query_at_k = per_query_ap(results, by_key, {name: map_top_k for name in (single_name, multi_name)})
    summary = (map_summary(per_query)
               .merge(map_summary(per_query_at_k, name="map@K").drop(columns="seeds"), on=["method", "dataset", "bits"])
               .merge(summarise(runs, ["precision"], ["method", "dataset", "bits"]).drop(columns="seeds"),
                      on=["method", "dataset", "bits"]))
    lookups = pd.DataFrame([cost_to_reach(result, by_key[(result.dataset, result.seed)], target_f1, k_values,
                                          search_queries) for result in results])
save_table(lookups, out_dir, "lookup_cost")

# %% [markdown]
# ## Supervised methods
#
# mAP over the whole database and over the first K, and precision within Hamming radius r (mean and
# standard deviation over the seeds). A hash lookup (MCH's Algorithm 1, chapter 0) probes bucket
# addresses in order of Hamming distance until it holds K items; "buckets to reach" is the
# addresses probed at the smallest K whose $\mathrm{F1} = 2PR/(P + R)$ over the retrieved items
# reaches the target (a dash: no K did). The costs follow, means over the seeds on this machine
# (wall-clock numbers, saved apart from the scores, which a rerun repeats exactly):

# %% tags=["hide-input"]
display(Markdown(f"K = {map_top_k:,}, r = {radius}, target F1 = {target_f1:g}, {bits} bits, "
                 f"{len(seeds)} seed(s)."))
reach = lookups[["method", "dataset", "bits", "seed", "buckets to reach"]]
tables = {}
for group, methods in {"supervised": SUPERVISED, "unsupervised": UNSUPERVISED}.items():
    scores = comparison_table(summary, reach, list(methods))
    costs_shown = comparison_table(summary[["method", "dataset", "bits"]], costs, list(methods))
    save_table(scores, out_dir, group)
    save_table(costs_shown, out_dir, f"timing_{group}")
    tables[group] = scores.merge(costs_shown, on=["method", "dataset", "bits"])
readable(shown(tables["supervised"]))

# %% [markdown]
# ## Unsupervised methods

# %% tags=["hide-input"]
readable(shown(tables["unsupervised"]))

# %% [markdown]
# Each seed's mAP, so that the spread is seen beside the means:

# %% tags=["hide-input"]
figure = plots.scores_by_method(runs, "map", {"supervised": list(SUPERVISED), "unsupervised": list(UNSUPERVISED)},
                                "mAP@all")
save_figure(figure, out_dir, "map_by_method")

# %% [markdown]
# ## The headlines, checked
#
# Each paper's headline becomes "the proposed method retrieves better than its strongest rival",
# on every dataset where it ran. It holds only when every difference of mAP exceeds its noise (the
# spread of the difference over the seeds); a difference inside the noise is "within noise":

# %% tags=["hide-input"]
checked_claims = headline_claims(per_query, [single_name, multi_name], len(seeds))
claims = save_ledger(checked_claims, out_dir)
display(readable(claims))
display(Markdown(verdict_summary(claims)))
display(Markdown(survivors(claims)))

# %% [markdown]
# The five proposed methods ranked by mAP@all on each dataset (1 is best; supervised and unsupervised
# together, for the reader who wants one order):

# %% tags=["hide-input"]
ranks = ranking(summary, PROPOSED)
save_table(ranks.reset_index(), out_dir, "ranking")
readable(ranks.reset_index(), digits=0)

# %% [markdown]
# MCH trains its own ADSH before its agent. With the same seed and settings it must be the ADSH of
# the table above, code for code:

# %% tags=["hide-input"]
adsh_queries = {(r.dataset, r.seed): r.query_codes for r in results if r.method == "ADSH"}
same = [bool((codes == adsh_queries[key]).all()) for key, codes in mch_bases.items()]
display(Markdown(f"MCH's base equals the separate ADSH run on {sum(same)} of {len(same)} seed(s)."))

# %% [markdown]
# ## What the comparison says

# %% tags=["hide-input"]
display(Markdown("\n".join(discussion(tables, single_name, multi_name, target_f1))))

# %% [markdown]
# ## Exercises
#
# 1. **A longer budget.** Rerun with `epochs=10`. Which headline verdicts move, and do the
#    supervised methods' gaps on the single-label set grow or shrink?
# 2. **More seeds.** Rerun with `seeds=[0, 1, 2, 3, 4]`. Which "within noise" verdicts settle?
# 3. **Another length.** Rerun with `bits=20` and then `bits=60`. Does the ranking of the five
#    proposed methods hold?
# 4. **Real data.** With CIFAR-10 and FLICKR25K on disk: `-p cifar10_root … -p mir_flickr_root …`.
#    Does the multi-label column start to separate the methods?

# %% [markdown]
# ## Wall time of this run

# %%
timing = clock.table()
save_table(timing, out_dir, "timing_sections")
readable(timing, digits=1)
