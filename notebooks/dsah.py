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
# # DSAH: similarities that adapt, and pairs weighted by surprise
#
# Lin, Chen, Zhang, Tian and Chen's DSAH {cite}`lin2021dsah` learns hash codes without labels from a
# ±1 similarity W over the training images. W starts from pretrained features: two images are
# similar when one is among the other's nearest neighbours *and* their neighbour lists overlap
# (W⁰). Between rounds of training, Adaptive Neighbour Discovery (AND) adds the pairs whose
# learned codes have become as similar as the known positives are. Within a batch, Pairwise
# Information Content (PIC) weights each pair by how surprising it would be to retrieve one image
# for the other, so that dissimilar pairs weigh more.
#
# This chapter builds W⁰ and measures how often its pairs share a label, trains DSAH against the
# unsupervised methods of Table 1 (BGAN from the BGAN chapter), and takes PIC and AND apart. It adds
# a control the paper lacks: at τ = 1 PIC's weights are nearly constant, so part of its effect may
# be the loss's scale rather than its re-weighting.

# %% tags=["remove-cell"]
from hashkit.parameters import (Backbone, CodeLength, CodeLengths, Count, Device, FashionMNISTFolder, Folder,
                                Literal, NonNegativeFloat, Options, PositiveFloat, Seeds, WeightsFile)

# %% tags=["parameters"]
seeds: Seeds = [0]  # one run per seed; tables show mean ± std when there are several
bits: CodeLengths = [16, 32, 64, 128]  # Table 1's code lengths
ablation_bits: CodeLengths = [16, 64]  # lengths of the PIC and AND ablations (the paper: all four)
sensitivity_bits: CodeLength = 64  # the length of Figs. 7–9 and of the scale control (§5.5)
fashion_items: Count | None = 20_000  # a seeded subset of Fashion-MNIST standing in for CIFAR-10; None: all 70,000
query_per_class: Count | None = 100  # queries per class (§5.1: 100)
train_per_class: Count | None = 200  # training images per class (§5.1: 1,000)
mosaic_images: Count = 6_000  # size of the jittered mosaic set standing in for FLICKR25K
mosaic_queries: Count | None = 1_000  # FLICKR25K: 1,000
mosaic_train: Count | None = 1_000  # FLICKR25K: 10,000
cifar10_root: Folder | None = None  # a folder holding CIFAR-10's python pickles: runs CIFAR-10 instead
mir_flickr_root: Folder | None = None  # a folder holding FLICKR25K's list files: runs it instead of the mosaic
mir_flickr_options: Options = {}  # options of hashkit.data.load_list_trio
data_root: FashionMNISTFolder | None = None  # where Fashion-MNIST lives; None looks in $HASHKIT_DATA, data/, /usr/share/datasets
k1: Count | None = None  # W⁰'s nearest neighbours (§5.2: 500 of 10,000); None: 5 % of the training set
k2: Count | None = None  # W⁰'s most overlapping lists (§5.2: 500); None: 5 % of the training set
lam: NonNegativeFloat = 10.0  # λ, the quantisation weight (§5.2: 10)
tau: PositiveFloat = 1.0  # τ, PIC's temperature (§5.2: 1)
gamma: float = 1.0  # γ in AND's threshold μ + γσ on the single-label set (§5.2: 1 on CIFAR-10)
mosaic_gamma: float = 0.0  # γ on the multi-label set (§5.2: 0 on FLICKR25K)
rounds: Count = 3  # R, rounds of AND (§5.2: 3)
epochs_per_round: Count = 2  # T, epochs per round (§5.2: 10)
max_rounds: Count = 6  # rounds of the run that Fig. 7 follows
pic_gradient: Literal["through", "detached"] = "through"  # whether PIC's weights pass gradient (the paper's and the code's: through)
quantisation: Literal["paper", "normalised"] = "paper"  # eq. 17's ‖z − b‖², or the code's on z/‖z‖
map_top_k: Count | None = None  # MAP@K's cut-off; None: the paper's 5,000 of 59,000 scaled to the database
control_learning_rate: PositiveFloat = 0.05  # plain SGD's step in the loss-scale control
baseline_epochs: Count = 6  # SSDH's and MLS³RDUH's epochs
bgan_epochs: Count = 5  # BGAN's epochs (the BGAN chapter's default)
feature_source: str = "learned"  # the "+VGG" features and W⁰'s: label-free (see chapter 0)
feature_options: Options = {"channels": [16, 32], "max_train_items": 10_000, "epochs": 4}
shallow_train: Count = 2_000  # training items the shallow methods fit on
gh_options: Options = {"optimizer": "adam", "learning_rate": 1e-3, "epochs": 10}  # GH's training (the paper: SGD 1e-4, 60 epochs)
tbh_options: Options = {"hidden_units": 128, "continuous_units": 64, "batch_size": 128, "iterations": 1500, "learning_rate": 1e-3}  # TBH's (the paper: 1,024 and 512 units, Adam 1e-4, 100,000 iterations)
backbone: Backbone = "small-cnn"  # the paper: VGG-19 with ImageNet weights ("vgg19" with pretrained_weights)
backbone_options: Options = {"channels": [16, 32]}
pretrained_weights: WeightsFile | None = None
device: Device = "cpu"
learning_rate: PositiveFloat = 1e-3  # Adam (the paper: 1e-4 from ImageNet weights)
batch_size: Count = 50  # the paper: 50
progress: bool = True
smoke: bool = False  # a minute-long run with small sizes, for the tests
out_dir: str = "book/executed/dsah"

# %% tags=["hide-input"]
from dataclasses import replace

import numpy as np
from IPython.display import Markdown, display

from hashkit import plots
from hashkit.artifacts import save_figure, save_table
from hashkit.chapter import save_ledger, start_chapter
from hashkit.claims import verdict_summary
from hashkit.display import readable
from hashkit.experiments import beside_paper, deviations_table, paper_results, results_frame, run_grid, sizes_table
from hashkit.experiments.bgan import BGANSettings
from hashkit.experiments.diagnostics import fitted_learning_curve
from hashkit.experiments.dsah import (DEVIATIONS, SCALE_CONTROL, SIZES_COLUMNS, SMOKE, TABLE1_METHODS, VARIANTS,
                                      PAPER_NAMES, ablation_table, cost_table, deep_settings, dsah_settings, dsah_spec,
                                      initial_similarity, load_data, method_specs, pair_weight_maps,
                                      precision_at_100, prepare_benchmarks, round_table, scale_control_settings,
                                      scaled_top_k, similarity_table)
from hashkit.experiments.dsah_claims import dsah_claims
from hashkit.experiments.scores import map_summary, per_query_ap

parameters, out_dir, clock = start_chapter(globals(), "dsah", SMOKE)
settings = deep_settings(parameters)
settings.check()
dsah = dsah_settings(parameters)
specs = method_specs(dsah, BGANSettings(), gh_options, tbh_options)
with clock.section("loading the data"):
    datasets = load_data(parameters)

# %% [markdown]
# ## W⁰: neighbours that share neighbours
#
# DSAH's only supervision is W. Each training image's $k_1$ most similar images by the cosine of
# label-free features form its list $W_L$ (eq. 7; the image is its own nearest). The images whose
# lists overlap most with its own form $W_H$ (eq. 8: the paper's $1/(1 + \|(W_L)_i - (W_L)_j\|)$
# ranks images exactly by the number of shared entries). A pair is similar in W⁰ when both mark
# it (eq. 9); as the authors' code does, we make it symmetric. Everything else is −1, and only the
# positives are stored. How good are these "labels"? Their precision is the share of positive
# pairs that share a class, their recall the share of same-class pairs they find:

# %% tags=["hide-input", "remove-stderr"]
with clock.section("features, splits and W⁰"):
    prepared = {seed: prepare_benchmarks(datasets, parameters, seed) for seed in seeds}
    singles = [prepared[seed][0] for seed in seeds]
    multis = [prepared[seed][1] for seed in seeds]
    by_key = {(benchmark.name, benchmark.seed): benchmark for seed in seeds for benchmark in prepared[seed]}
    single_name, multi_name = singles[0].name, multis[0].name
    w0_quality = similarity_table([singles[0], multis[0]], dsah)
save_table(w0_quality, out_dir, "w0_quality")
readable(w0_quality, digits=3)

# %% [markdown]
# ## PIC: weights from surprise
#
# Within a batch of $B$ images, $p_{ij}$ is the softmax of the codes' cosines $s_{ij}/\tau$ over
# all $B^2$ pairs (eq. 16) and the pair's weight is $a_{ij} = -\log p_{ij}$ (eq. 15): the less
# similar the pair, the larger its weight. The loss (eq. 17) is
# $\frac{1}{B^2}\sum_{ij} a_{ij}(s_{ij} - w_{ij})^2 + \lambda\,\frac{1}{BL}\|Z - B\|^2$, with means
# where the paper writes sums (its λ = 10 fits the authors' code, which averages). Variants: PIC⁰
# ($a = 1$, eq. 3), PIC⁻ ($a = -\log(1 - p)$). With $B = 50$ and τ = 1 every $a_{ij}$ lies within
# about one unit of $\log B^2 \approx 7.8$ (Fig. 5 below shows it on trained codes), so PIC mostly
# multiplies the loss by eight.

# %% [markdown]
# ## Data, protocol and baselines
#
# DSAH's protocol (§5.1): on CIFAR-10 100 queries per class and 1,000 training images per class,
# the rest the retrieval set; on FLICKR25K 1,000 queries and 10,000 training images. Fashion-MNIST
# {cite}`xiao2017fashion` stands in for CIFAR-10 and the jittered mosaic for FLICKR25K; NUS-WIDE is
# shown with the paper's numbers. Table 1's shallow methods run on label-free learned features
# (the paper's "+VGG"), as do GH {cite}`su2018greedyhash` and TBH {cite}`shen2020tbh`; SSDH
# {cite}`yang2018ssdh` and MLS³RDUH {cite}`tu2020mls3rduh` train the same network as DSAH from their
# own similarities; BGAN {cite}`song2017bgan` is the BGAN chapter's.

# %% tags=["hide-input"]
sizes = sizes_table({"single-label": singles, "multi-label": multis}, SIZES_COLUMNS)
save_table(sizes, out_dir, "table2_sizes")
readable(sizes)

# %% tags=["hide-input"]
deviations = deviations_table(DEVIATIONS, parameters)
save_table(deviations, out_dir, "deviations")
readable(deviations)

# %% [markdown]
# ## The runs

# %% tags=["hide-input", "remove-stderr"]
with clock.section("Table 1"):
    table1_runs = run_grid([specs[name] for name in TABLE1_METHODS], singles + multis, bits, settings,
                           description="Table 1", keep_fitted=True)
with clock.section("ablations (Figs. 4 and 6)"):
    ablation_runs = run_grid([specs[name] for name in VARIANTS], singles + multis, ablation_bits, settings,
                             description="ablations")
with clock.section("scale control"):
    control_settings = scale_control_settings(settings, control_learning_rate)
    control_runs = run_grid([specs[name] for name in ("PIC⁰", *SCALE_CONTROL, "PIC")], singles,
                            [sensitivity_bits], control_settings, description="scale control")
all_runs = table1_runs + ablation_runs
runs_frame = results_frame(all_runs + control_runs)
save_table(runs_frame.drop(columns=["training_seconds", "images_per_second"]), out_dir, "runs")
save_table(runs_frame[["method", "dataset", "bits", "seed", "training_seconds"]], out_dir, "timing_runs")
top_k = {benchmark.name: scaled_top_k(benchmark, map_top_k) for benchmark in (singles[0], multis[0])}
per_query = per_query_ap(all_runs, by_key, top_k)
summary = map_summary(per_query)

# %% [markdown]
# ## Table 1: MAP@K
#
# Ours and, in brackets, the paper's MAP@5000. Our cut-off keeps the paper's share of the database:

# %% tags=["hide-input"]
display(Markdown(", ".join(f"MAP@{k:,} on {name}" for name, k in top_k.items()) + "."))
columns = {"cifar10": single_name, "mir-flickr": multi_name, "nus-wide": None}
shown_table1 = beside_paper(summary, paper_results("dsah_table1"), "map", "map_at_5000", columns,
                            list(TABLE1_METHODS), scale=1.0, digits=3, paper_names=PAPER_NAMES)
save_table(shown_table1.reset_index(), out_dir, "table1_map")
shown_table1

# %% [markdown]
# ## Table 3: precision of the first 100

# %% tags=["hide-input"]
precision = precision_at_100(table1_runs, by_key)
shown_table3 = beside_paper(precision, paper_results("dsah_table3"), "precision", "precision_at_100", columns,
                            list(TABLE1_METHODS), scale=1.0, digits=3, paper_names=PAPER_NAMES)
save_table(shown_table3.reset_index(), out_dir, "table3_precision_at_100")
shown_table3

# %% [markdown]
# ## Figs. 4 and 6: PIC and AND taken apart
#
# Each variant is DSAH with a switch turned: PIC⁰, PIC and PIC⁻ train on W⁰ without AND (as the
# authors' scripts for Fig. 4 do); AND adds the rounds' updates to PIC⁰; AND+PIC is DSAH itself
# and AND⁰ is PIC⁰, so neither is trained twice.

# %% tags=["hide-input"]
ablation = ablation_table(summary, [*VARIANTS, "DSAH"], ablation_bits)
save_table(ablation, out_dir, "fig4_fig6_ablation")
readable(ablation, digits=3)

# %% [markdown]
# ### The loss-scale control
#
# Under Adam a constant factor on the loss hardly changes the steps; under plain SGD it is the
# step. Trained with SGD, PIC⁰ with every weight set to PIC's batch mean ("PIC⁰ × mean a") has
# PIC's scale without its re-weighting: if it matches PIC, PIC's gain is the scale.

# %% tags=["hide-input"]
control = map_summary(per_query_ap(control_runs, by_key, top_k))
save_table(control, out_dir, "scale_control")
readable(control[["method", "dataset", "bits", "map_mean"]].rename(columns={"map_mean": "MAP@K (SGD)"}), digits=3)

# %% [markdown]
# ## Fig. 7: what the rounds do
#
# One DSAH run at `sensitivity_bits` for `max_rounds` rounds: per round, the similarity it trained
# on (its positive pairs, and their precision, recall and F_w against the labels, which score but
# never train), AND's threshold m and the pairs it added afterwards, and the codes' mAP.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("Fig. 7 (rounds)"):
    long_settings = replace(settings, epochs={**settings.epochs, "dsah": max_rounds * epochs_per_round})
    curve, rounds_model = fitted_learning_curve(dsah_spec("DSAH", dsah, keep_similarities=True), singles[0],
                                                sensitivity_bits, long_settings, epochs_per_point=epochs_per_round)
fig7 = round_table(curve, rounds_model, singles[0])
save_table(fig7, out_dir, "fig7_rounds")
figure = plots.history_panels(fig7.rename(columns={"round": "epoch"}), [
    ("n₊ trained on", "positive pairs of W"), ("threshold m", "AND's threshold m"), ("F_w", "F_w of W"),
    ("mAP", "mAP")],
    title=f"DSAH on {single_name}, {sensitivity_bits} bits, by round")
save_figure(figure, out_dir, "fig7_rounds")
readable(fig7, digits=3)

# %% [markdown]
# ## Fig. 5: the weights in one batch

# %% tags=["hide-input"]
dsah_run = next(r for r in table1_runs if r.method == "DSAH" and r.dataset == single_name
                and r.bits == sensitivity_bits and r.seed == seeds[0])
maps = pair_weight_maps(dsah_run.fitted, singles[0], batch_size, tau, seeds[0])
figure = plots.heat_maps(maps, title=f"One batch of {batch_size} {single_name} training images, ordered by class")
save_figure(figure, out_dir, "fig5_heat_maps")
display(Markdown(f"In this batch $a$ runs from {maps['a'].min():.2f} to {maps['a'].max():.2f} "
                 f"(ratio {maps['a'].max() / maps['a'].min():.3f}); $\\log B^2$ = {np.log(batch_size ** 2):.2f}."))

# %% [markdown]
# ## Table 4: what training costs
#
# Training seconds of the image-trained methods at `sensitivity_bits` on the single-label set, as
# ratios to DSAH's; the paper's hours and ratios beside.

# %% tags=["hide-input"]
table4 = cost_table([r for r in table1_runs if r.dataset == single_name and r.bits == sensitivity_bits
                     and r.seed == seeds[0]], paper_results("dsah_table4"))
save_table(table4, out_dir, "timing_table4")
readable(table4, digits=3)

# %% [markdown]
# ## The paper's claims, checked

# %% tags=["hide-input"]
checked_claims = dsah_claims(
    per_query, precision, w0_quality, fig7, dict(zip(table4["method"], table4["training seconds"])),
    single=single_name, multi=multi_name, bits=bits, ablation_bits=ablation_bits,
    control=per_query_ap(control_runs, by_key, top_k), control_bits=sensitivity_bits, n_seeds=len(seeds))
claims = save_ledger(checked_claims, out_dir)
readable(claims)

# %%
display(Markdown(verdict_summary(claims)))

# %% [markdown]
# ## Wall time of this run

# %%
timing = clock.table()
save_table(timing, out_dir, "timing_sections")
readable(timing, digits=1)
