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
# # MCH: several codes per image, and what they do to hash bucket search
#
# Li, Jiang and Li's multiple code hashing {cite}`li2020mch` is this book's chapter about *search*
# rather than ranking. A hash table answers a query by looking up the bucket of its code, then the
# buckets one bit away, two bits away, and so on (its Algorithm 1); the cost grows with the number of
# bucket addresses probed, which grows exponentially with the radius. An image that holds a dog and
# a cat has one code, and a dog query and a cat query cannot both find it at radius 0 (the paper's
# Fig. 1). MCH gives such an image several codes, one per useful region, chosen by a policy trained
# with reinforcement learning on top of any frozen hashing model.
#
# This chapter builds the framework on five base models (KSH, HashNet, ADSH, DCH, MMHH) and
# regenerates every table and figure of the paper: Table 1 (the five losses), Table 2 (mAP of twelve
# methods), Figs. 3–4 (recall and precision within radius 0), Figs. 5–7 (F1 against buckets probed),
# Fig. 8 (what the extra codes reach), Fig. 9 and Table 3 (σ and ξ). It then measures what the paper
# does not: whether the policy learns to keep the regions whose reward is positive.

# %% tags=["remove-cell"]
from typing import Literal

from hashkit.parameters import (Backbone, CodeLength, CodeLengths, Count, Device, FashionMNISTFolder, Folder,
                                Fraction, Options, PositiveFloat, Seeds, WeightsFile)

# %% tags=["parameters"]
seeds: Seeds = [0]  # one run per seed; the paper averages 5
bits: CodeLengths = [16, 32, 64]  # code lengths of Table 2 and Figs. 3–7 (the paper also has 48)
data_root: FashionMNISTFolder | None = None  # where Fashion-MNIST lives; None looks in $HASHKIT_DATA, data/, /usr/share/datasets
nus_wide_root: Folder | None = None  # a folder holding NUS-WIDE's list files: runs NUS-WIDE instead of the mosaic
ms_coco_root: Folder | None = None  # the same for MS-COCO
mir_flickr_root: Folder | None = None  # the same for MIR FLICKR
list_options: Options = {}  # options of hashkit.data.load_list_trio, e.g. {"image_root": ..., "image_size": [224, 224]}
mosaic_images: Count = 4_000  # size of the mosaic set standing in for NUS-WIDE
mosaic_layout: Literal["jittered", "grid"] = "jittered"  # items at random places and scales, or in the 2×2 cells
query_per_class: Count = 50  # queries per class (NUS-WIDE: 100)
train_per_class: Count = 250  # training images per class, drawn from the database (NUS-WIDE: 500)
feature_options: Options = {"channels": [16, 32], "max_train_items": 2_500, "epochs": 4}  # LSH, ITQ, KSH's label-free features
backbone: Backbone = "small-cnn"  # or "alexnet" with pretrained_weights, as in the paper
backbone_options: Options = {"channels": [16, 32]}  # the small CNN's; the ImageNet networks take none: {}
pretrained_weights: WeightsFile | None = None  # a local state-dict file of the backbone's ImageNet weights
device: Device = "cpu"  # or "cuda"
learning_rate: PositiveFloat = 1e-3  # the base networks' (Adam)
base_models: list[Literal["KSH", "HashNet", "ADSH", "DCH", "MMHH"]] = ["KSH", "HashNet", "ADSH", "DCH", "MMHH"]
base_epochs: Count = 8  # passes of HashNet, DCH, MMHH over the training images (DCH at 32 bits: 5 gave 0.56 mAP, 10 gave 0.61)
adsh_rounds: Count = 2  # ADSH's rounds, each on adsh_sample sampled images
adsh_epochs_per_round: Count = 3
adsh_sample: Count = 1_000  # ADSH's m
sigma: Fraction = 0.5  # side ratio of the regions (§5.2.2)
xi: Fraction = 0.5  # keep a region's code when P(keep) ≥ ξ (§5.2.2)
crops_per_image: Count = 1  # random regions per training image in the agent's pool
train_crop: Literal["fixed", "range"] = "fixed"  # training regions of side σ, or of a side drawn from [σ, 1]
region_mode: Literal["crop", "mask"] = "crop"  # regions cut out and resized (the paper), or masked in place
reward: Literal["sum", "mean"] = "sum"  # eq. 6 summed over the training images (the paper), or averaged
advantage: Literal["raw", "standardised"] = "raw"  # plain REINFORCE (eq. 7), or batch-standardised rewards
agent_iterations: Count = 100  # T (§5.2.2)
agent_batch: Count = 256  # B
agent_lr: PositiveFloat = 1e-4
agent_weight_decay: PositiveFloat = 5e-4
policy_hidden: list[Count] = [256, 128, 64, 32]  # the policy's four hidden widths (five layers; the paper gives none)
map_top_k: Count | None = None  # mAP over the top K; None: the whole database (the paper does not say)
k_values: list[Count] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]  # K of the F1-bucket curves
search_queries: Count = 150  # queries of the F1-bucket curves (drawn from the query set)
sigma_grid: list[Fraction] = [0.3, 0.5, 0.7, 1.0]  # Table 3 and Fig. 9 (the paper: 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
xi_grid: list[Fraction] = [0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
sensitivity_bits: CodeLength = 32  # code length of Table 3, Figs. 8–9
focus_classes: list[str] = ["Sandal", "Bag"]  # Fig. 9(b–c)'s classes (the paper: Airplane, Bird)
compare_grid: bool = True  # on the mosaic: MCH-DCH on the aligned 2×2 grid too, for comparison
progress: bool = True  # progress bars while training
smoke: bool = False  # a minute-long run with small sizes, for the tests
out_dir: str = "book/executed/mch"  # where tables (CSV) and figures (PNG, SVG) are written

# %% tags=["hide-input"]

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from IPython.display import Markdown, display

from hashkit import plots
from hashkit.artifacts import save_figure, save_table
from hashkit.chapter import start_chapter
from hashkit.claims import claims_table, verdict_summary
from hashkit.deep import pair_losses
from hashkit.experiments import beside_paper, deviations_table, paper_results, summarise
from hashkit.experiments.mch import (DEVIATIONS, SMOKE, TABLE2_METHODS, check_focus_classes, deep_settings,
                                     gain_noise, layout_comparison, layout_row, load_data, mch_settings,
                                     prepare_benchmark, run_table2, sensitivity)
from hashkit.experiments.mch_claims import mch_claims
from hashkit.experiments.mch_figures import (bucket_lookups, keep_by_content, region_decisions, retrieval_strip,
                                             two_label_example)

parameters, out_dir, clock = start_chapter(globals(), "mch", SMOKE)
settings = deep_settings(parameters)
settings.check()
agent_settings = mch_settings(parameters)
with clock.section("loading the data"):
    images = load_data(parameters)
focus_columns = check_focus_classes(images, focus_classes)
agent_settings.check(image_side=min(images.images(np.array([0])).shape[1:3]))
for grid_sigma in sigma_grid:
    mch_settings(parameters, grid_sigma).check(image_side=min(images.images(np.array([0])).shape[1:3]))
if sensitivity_bits not in bits:
    raise ValueError(f"sensitivity_bits: {sensitivity_bits} is not one of bits={bits}")

# %% [markdown]
# ## Table 1: five losses on the Hamming distance
#
# MCH writes every base model as $\sum_{ij} L(d_{ij}, s_{ij})$ with $d_{ij}=\frac12(Q-b_i^\top b_j)$
# and $s_{ij}=1$ when two images share a label. The same $L$ later scores the agent's decisions, so
# `hashkit.deep.pair_losses` holds each one once, as a function of the distance:
#
# | base | $L(d, s)$ | relaxation | regulariser |
# |---|---|---|---|
# | KSH | $\big(\frac1Q(Q-2d)-(2s-1)\big)^2$ | sigmoid | — |
# | HashNet | $w\big(\log(1+e^{\alpha(Q-2d)})-s\,\alpha(Q-2d)\big)$ | tanh | — |
# | ADSH | $\big((Q-2d)-Q(2s-1)\big)^2$ | continuous | $\lVert b-u\rVert^2$ |
# | DCH | $w\big(s\log\frac d\gamma+\log(1+\frac\gamma d)\big)$ | continuous | $\log(1+\frac{Q}{2\gamma}(1-\cos(b,u)))$ |
# | MMHH | $w\big(s\log(1+\max(0,d-H))+(1-s)\log(1+\frac1{\max(H,d)})\big)$ | continuous | $\lVert b-u\rVert^2$ |
#
# Drawn at $Q = 32$ (unit weights; $\alpha = 10/Q$, $\gamma = 20$, $H = 2$), each scaled to its
# largest value so the shapes compare:

# %%
distances = torch.linspace(0, 32, 129)
curves = []
for base, loss in {"KSH": lambda d, s: pair_losses.ksh_pair_loss(d, s, 32),
                   "HashNet": lambda d, s: pair_losses.hashnet_pair_loss(d, s, 32, 10 / 32),
                   "ADSH": lambda d, s: pair_losses.adsh_pair_loss(d, s, 32),
                   "DCH": lambda d, s: pair_losses.dch_pair_loss(d, s, 20.0),
                   "MMHH": lambda d, s: pair_losses.mmhh_pair_loss(d, s, 2.0)}.items():
    for similar in (1.0, 0.0):
        values = loss(distances, torch.full_like(distances, similar))
        curves.append(pd.DataFrame({"distance": distances, "loss": values / values.max(), "base": base,
                                    "pair": "similar" if similar else "dissimilar"}))
figure = sns.relplot(pd.concat(curves), x="distance", y="loss", hue="base", col="pair", kind="line",
                     height=3.0, aspect=1.3).set_axis_labels("Hamming distance d", "L(d, s) / max").figure
save_figure(figure, out_dir, "table1_losses")

# %% [markdown]
# KSH and ADSH regress the inner product onto ±1 and ±Q: they penalise a similar pair at distance 0
# as little as one at distance 4. DCH and MMHH are built for Hamming-space retrieval: DCH's loss keeps
# rising steeply past a few bits, and MMHH's similar pairs cost nothing inside its ball of radius 2.
#
# ## The framework
#
# **Base model step.** Train a base model, then freeze it: it maps an image *or a region* to a
# feature $f(x)$ (the backbone's output) and a code $b$.
#
# **Agent step (Alg. 2).** For a training image $x_i$ and a random region $x_i^*$, the state is
# $h_i=[f(x_i); f(x_i^*); b_i; b_i^*]$ (eq. 3), and the policy $\pi_\theta(a\mid h)$ — five fully
# connected layers with batch norm and ReLU, then a softmax — keeps ($a=1$) or discards ($a=0$) the
# region's code. Keeping changes the distance from $x_i$ to every training image $x_j$ to
# $d^*_{ij}=\min(d(b_i,b_j), d(b_i^*,b_j))$ (eq. 5), and the reward is the drop of the base model's
# own loss, $\sum_j L(d_{ij},s_{ij})-L(d^*_{ij},s_{ij})$ (eq. 6); discarding earns 0. REINFORCE (eq. 7)
# trains $\theta$.
#
# Eq. 4 labels the actions the other way round (0 keeps); eq. 6 and the text pay the reward for
# keeping when $a=1$, and `hashkit.mch.KEEP` is 1. Because the keep reward does not depend on the
# policy, the agent is a one-step bandit: the best policy keeps exactly the regions with a positive
# reward. We hold out a fifth of the training images and measure how often the policy does that.
#
# **Extension (§4.3).** Each database image gets the code of the whole image and of each of five
# regions (four corners and the centre, side ratio σ) whose keep-probability reaches ξ; identical
# codes of one image count once. Queries keep one code. A database item's distance to a query is
# the minimum over its codes, in ranking, in radius lookups and in bucket search alike.
#
# ## Data and protocol
#
# NUS-WIDE, MS-COCO and MIR FLICKR cannot be had offline; the mosaic set of chapter 0 stands in
# (multi-label, Fashion-MNIST items on a 56×56 canvas) under MCH's NUS-WIDE protocol, scaled down.
# On the original 2×2 grid, the σ = 0.5 corner regions are exactly the four cells, one item each: the
# best case MCH could meet. The default `mosaic_layout="jittered"` places each item at a random
# position and scale instead; a comparison on the aligned grid follows the main results.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("features and splits"):
    prepared = {seed: prepare_benchmark(images, seed, parameters) for seed in seeds}
first = prepared[seeds[0]].benchmark
sizes = pd.DataFrame([{"seed": seed, "dataset": p.benchmark.name, "stands for": p.benchmark.paper_dataset,
                       "queries": len(p.benchmark.split.query), "database": len(p.benchmark.split.database),
                       "training images": len(p.benchmark.split.train)} for seed, p in prepared.items()])
save_table(sizes, out_dir, "protocol_sizes")
if images.mosaic is not None:
    shown = first.split.database[:8]
    figure = plots.image_grid(images.images(shown), ["\n".join(np.array(images.class_names)[images.labels[i] > 0])
                                                     for i in shown], 8, boxes=images.mosaic.item_boxes()[shown])
    save_figure(figure, out_dir, "mosaic_examples")
sizes

# %% tags=["hide-input"]
deviations = deviations_table(DEVIATIONS, {**parameters, "dataset_used": (
    f"{images.name} ({len(images):,} images, {images.n_classes} classes"
    + (f", layout {mosaic_layout})" if images.mosaic is not None else ")"))})
save_table(deviations, out_dir, "deviations")
deviations

# %% [markdown]
# ## Table 2 and Figs. 3–7: every method at every code length
#
# At each code length: LSH and ITQ on the label-free features; each base model, trained and frozen;
# then MCH on it (the agent trained on the frozen base model, the database coded by the extension).
# Every number below comes from one pass over the runs.

# %% tags=["remove-stderr"]
with clock.section("Table 2 runs"):
    table2_runs = run_table2(prepared, parameters, settings, agent_settings)
runs_frame, f1_frame, per_query, kept_runs = (table2_runs.runs, table2_runs.f1_curves, table2_runs.per_query,
                                              table2_runs.kept)
save_table(runs_frame.drop(columns=["training_seconds"]), out_dir, "table2_runs")
summary = summarise(runs_frame, ["map", "precision_r0", "recall_r0", "f1_bucket_score", "anhc", "training_seconds"],
                    ["method", "dataset", "bits"])
save_table(f1_frame, out_dir, "f1_bucket_curves")

# %% [markdown]
# ### Table 2: mAP
#
# Each cell: our mAP and, in brackets, the paper's (as a percentage). The mosaic fills the NUS-WIDE
# column; MS-COCO and MIR FLICKR show the paper's numbers unless their files were given.

# %% tags=["hide-input"]
paper_table2 = paper_results("mch_table2")
columns = {dataset: (images.name if dataset == first.paper_dataset else None)
           for dataset in ("nus-wide", "ms-coco", "mir-flickr")}
table2 = beside_paper(summary, paper_table2.assign(map_percent=100 * paper_table2["map"]), "map", "map_percent",
                      columns, list(TABLE2_METHODS))
save_table(table2.reset_index(), out_dir, "table2_map")
table2

# %% [markdown]
# The gains MCH makes in the paper are 0.1 to 1.3 points. Beside each base, ours, with the noise of
# the gain: its spread over the seeds, or with one seed, over the queries resampled 1,000 times.

# %% tags=["hide-input"]
noise = {(base, n_bits): gain_noise(per_query, runs_frame, base, n_bits, seeds)
         for base in base_models for n_bits in bits}
cell = summary.set_index(["method", "bits"])
paper_cell = paper_table2[paper_table2["dataset"] == first.paper_dataset].set_index(["method", "bits"])["map"]
gains = pd.DataFrame([{"base": base, "bits": n_bits,
                       "gain (ours)": cell.loc[(f"MCH-{base}", n_bits), "map_mean"] - cell.loc[(base, n_bits), "map_mean"],
                       "noise (±)": noise[(base, n_bits)],
                       "ANHC": cell.loc[(f"MCH-{base}", n_bits), "anhc_mean"],
                       "gain (paper)": paper_cell.get((f"MCH-{base}", n_bits), np.nan) - paper_cell.get((base, n_bits), np.nan)}
                      for base in base_models for n_bits in bits])
save_table(gains, out_dir, "table2_gains")
gains.round(4)

# %% [markdown]
# ### Figs. 3–4: recall and precision within Hamming radius 0
#
# A query looks up its own bucket only. Recall within radius 0 is the share of its relevant items
# found there, the quantity MCH is built to raise.

# %%
figure = plots.metrics_against_bits(summary, [("recall_r0", "recall within radius 0"),
                                              ("precision_r0", "precision within radius 0")],
                                    list(TABLE2_METHODS), title=images.name)
save_figure(figure, out_dir, "fig3_4_radius0")

# %% [markdown]
# ### Figs. 5–7: F1 against bucket addresses probed
#
# Algorithm 1 for each K of `k_values`: F1 of the K items returned, against the bucket addresses
# probed (empty or not; the paper's cost). One point per K, joined in ascending K; a curve further up
# and to the left finds as much for less. Each panel pairs a base model (solid) with MCH on it
# (dashed), LSH and ITQ in grey. The CSV keeps both probed addresses and visited (non-empty) buckets.

# %%
figure = plots.f1_bucket_pairs(f1_frame[f1_frame["seed"] == seeds[0]], base_models)
save_figure(figure, out_dir, "fig5_7_f1_bucket")

# %% [markdown]
# One number per curve: the best F1 reachable within a budget of bucket addresses, averaged over
# budgets evenly spaced in log10 from 1 to all $2^Q$ addresses (0 to 1; larger is more efficient).
# The claims compare these.

# %% tags=["hide-input"]
scores = summary.pivot(index="method", columns="bits", values="f1_bucket_score_mean").loc[list(TABLE2_METHODS)]
save_table(scores.reset_index(), out_dir, "f1_bucket_scores")
scores.round(3)

# %% [markdown]
# ## What the agent learned
#
# The paper reports how many codes MCH keeps (ANHC) but not whether the policy keeps the *right*
# ones. The keep reward of every region is known, so we can. On held-out training regions: how often
# the policy's decision matches the sign of the reward (`agreement`), against a policy that discards
# everything; how many rewards are positive at all; and, on the database, what an agent that kept
# exactly the positive-reward regions (an *oracle*, which uses the items' labels) would reach.

# %% tags=["hide-input"]
agents = table2_runs.agents
save_table(agents.drop(columns=["agent seconds"]), out_dir, "agent_agreement")
agents.drop(columns=["seed"]).round(4)

# %%
figure = sns.displot(table2_runs.keep_probabilities, x="P(keep)", col="method", row="bits", bins=np.linspace(0, 1, 21), height=1.8,
                     aspect=1.3, facet_kws={"sharey": False}).set_titles(row_template="{row_name} bits",
                                                                         col_template="{col_name}").figure
save_figure(figure, out_dir, "keep_probabilities")

# %% [markdown]
# ### Keep rate by what a region holds
#
# The mosaic's layout says where every item is, so each held-out region can be classed as empty,
# holding one item (at least half of its area inside), or several.

# %% tags=["hide-input"]
by_content = (keep_by_content(images, kept_runs[seeds[0]][0], xi) if images.mosaic is not None and kept_runs
              else pd.DataFrame())
save_table(by_content, out_dir, "keep_by_content")
by_content.round(3)

# %% [markdown]
# ### The aligned grid, for comparison
#
# The same MCH-DCH at `sensitivity_bits` on the original 2×2 mosaic, whose σ = 0.5 corner regions
# are exactly its cells, beside the jittered layout of this run: how much of what MCH does is the
# alignment.

# %% tags=["hide-input", "remove-stderr"]
layouts = pd.DataFrame()
if images.mosaic is not None and compare_grid and seeds[0] in kept_runs and "DCH" in base_models:
    with clock.section("aligned grid"):
        _, by_name, _ = kept_runs[seeds[0]]
        layouts = pd.DataFrame(layout_row(mosaic_layout, [by_name["DCH"], by_name["MCH-DCH"]], first, parameters)
                               + layout_comparison(parameters, seeds[0], sensitivity_bits, settings))
save_table(layouts, out_dir, "layout_comparison")
layouts.round(4)

# %% [markdown]
# ## Fig. 2 and Fig. 1, drawn from this run
#
# The paper's Fig. 2 is a diagram. Here are the five regions of one database image with two labels,
# as MCH-DCH coded them at `sensitivity_bits`, with the keep-probability, the decision, and each
# region code's distance to the whole image's code. Fig. 1's argument follows: for a query of
# each of the image's two classes, Algorithm 1 (`hashkit.index.BucketIndex`) run on this one image
# under DCH (one code) and under MCH-DCH (its kept codes): the radius at which the query finds it and
# the bucket addresses probed until then.

# %% tags=["hide-input"]
if seeds[0] in kept_runs:
    _, by_name, _ = kept_runs[seeds[0]]
    example = two_label_example(images, first.split, by_name["MCH-DCH"])
    pictures, captions, boxes = region_decisions(images, first.split, by_name["DCH"], by_name["MCH-DCH"], example,
                                                 sigma, xi)
    save_figure(plots.image_grid(pictures, captions, len(captions), boxes=boxes), out_dir, "fig2_regions")
    display(bucket_lookups(images, first.split, by_name["DCH"], by_name["MCH-DCH"], example))

# %% [markdown]
# ## Fig. 8: what the extra codes reach
#
# For three queries, ten database images that share a label with them (the ten nearest under
# MCH-DCH), with their distance under DCH (H@DCH) and under MCH-DCH (H@MCH). Below, Fig. 8's red
# box counted: the share of database images that two queries with no label in common both reach at
# radius 0.

# %% tags=["hide-input"]
if seeds[0] in kept_runs:
    _, by_name, _ = kept_runs[seeds[0]]
    strip, captions = retrieval_strip(images, first.split, by_name["DCH"], by_name["MCH-DCH"], seeds[0])
    save_figure(plots.image_grid(strip, captions, 11, cell_inches=1.0), out_dir, "fig8_retrievals")
two_class = table2_runs.two_class
save_table(two_class, out_dir, "fig8_two_class_share")
two_class.round(4)

# %% [markdown]
# ## Table 3 and Fig. 9: σ and ξ
#
# MCH-DCH at `sensitivity_bits`. For each σ of `sigma_grid` the agent is retrained on regions of that
# size and the database's regions are coded again; ξ is a threshold on the stored probabilities. The
# F1-bucket score is shown for all search queries and for the queries holding each focus class
# (the paper's Airplane and Bird).

# %% tags=["remove-stderr"]
with clock.section("Table 3 and Fig. 9"):
    table3_rows, fig9_rows = [], []
    for seed in kept_runs:
        runs, _, search = kept_runs[seed]
        anhc_grid, fig9_curves = sensitivity(runs["DCH"], prepared[seed], parameters, search, focus_columns)
        table3_rows.append(anhc_grid.assign(seed=seed))
        fig9_rows.append(fig9_curves.assign(seed=seed))
table3_runs, fig9 = pd.concat(table3_rows), pd.concat(fig9_rows)
table3_mean = table3_runs.groupby(["sigma", "xi"], as_index=False)["anhc"].mean()
save_table(table3_mean, out_dir, "table3_anhc")
save_table(fig9, out_dir, "fig9_curves")
paper_table3 = paper_results("mch_table3").set_index(["sigma", "xi"])["anhc"]
shown = table3_mean.assign(paper=[paper_table3.get((s, x), np.nan) for s, x in zip(table3_mean["sigma"],
                                                                                    table3_mean["xi"])])
shown["cell"] = [f"{a:.2f} ({p:.2f})" if not np.isnan(p) else f"{a:.2f} (—)" for a, p in zip(shown["anhc"], shown["paper"])]
shown.pivot(index="sigma", columns="xi", values="cell")

# %%
areas9 = fig9.groupby(["queries", "sigma", "xi"], as_index=False)["area"].mean()
base_area = summary.set_index(["method", "bits"]).loc[("DCH", sensitivity_bits), "f1_bucket_score_mean"]
figure, axes = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
sns.lineplot(areas9[areas9["xi"] == xi], x="sigma", y="area", hue="queries", marker="o", ax=axes[0])
sns.lineplot(areas9[(areas9["sigma"] == sigma) & (areas9["queries"] == "all queries")], x="xi", y="area",
             marker="o", ax=axes[1])
for axis, title in zip(axes, (f"σ varied (ξ = {xi:g})", f"ξ varied (σ = {sigma:g}), all queries")):
    axis.axhline(base_area, color="grey", linestyle="--", label="DCH (all queries)")
    axis.set(title=title, ylabel="F1-bucket score")
axes[1].legend()
save_figure(figure, out_dir, "fig9_sensitivity")

# %% [markdown]
# ## The paper's claims, checked
#
# Each claim of the paper as a test on this run's tables; where a difference is smaller than its
# measured noise, the verdict says so rather than calling it held or failed.

# %% tags=["hide-input"]
claims = claims_table(mch_claims(summary, table3_mean, fig9.groupby(["queries", "sigma", "xi"],
                                                                          as_index=False)["area"].mean(),
                                 agents.groupby(["method", "bits"], as_index=False)[["agreement", "always discard"]]
                                 .mean().rename(columns={"always discard": "always_discard"}),
                                 two_class.groupby("bits", as_index=False)[["base", "mch"]].mean(),
                                 noise, len(seeds), sigma, xi))
save_table(claims, out_dir, "claims")
display(Markdown(verdict_summary(claims)))
claims

# %% [markdown]
# ## Why results differ from the paper
#
# Each reason below is computed from this run's tables.

# %% tags=["hide-input"]
agent_means = agents.groupby("method")[["agreement", "always discard", "positive rewards (held out)", "ANHC",
                                        "recall r=0", "oracle recall r=0", "oracle ANHC"]].mean()
scarce = agent_means[agent_means["positive rewards (held out)"] < 0.5]
beaten = agent_means[agent_means["agreement"] > agent_means["always discard"] + 0.01]
keeps_all = agent_means[agent_means["ANHC"] >= 2.0]
chance = (images.labels[first.split.query] @ images.labels[first.split.database].T > 0).mean()
lines = [
    f"* **The base models are weak.** From scratch, on {len(first.split.train):,} training images, the bases "
    f"reach mAP {summary[summary['method'].isin(base_models)]['map_mean'].min():.3f}–"
    f"{summary[summary['method'].isin(base_models)]['map_mean'].max():.3f}; a random ranking scores about "
    f"{chance:.3f} here (the share of database items relevant to a query). The paper fine-tunes AlexNet from "
    "ImageNet and reaches 0.68–0.75 on NUS-WIDE.",
    f"* **Few regions are worth a code.** For {', '.join(scarce.index) or 'no base'}, fewer than half of the "
    "held-out regions have a positive keep reward (" + "; ".join(
        f"{name}: {row['positive rewards (held out)']:.1%}" for name, row in scarce.iterrows())
    + "): an enlarged region's code, from a network that never saw one, more often comes closer to dissimilar "
    "images than to similar ones.",
    f"* **The policy learns the majority, rarely more.** It beats discarding everything by more than one point "
    f"of agreement for {', '.join(beaten.index) or 'no base'}; elsewhere its decisions are those of a constant "
    "rule. Where it keeps nearly every region (" + (", ".join(
        f"{name}: ANHC {row['ANHC']:.2f}" for name, row in keeps_all.iterrows()) or "none")
    + "), the extra codes cost mAP (the gains table).",
    f"* **A perfect agent would not change the picture much.** Keeping exactly the positive-reward database "
    f"regions gives {agent_means['oracle ANHC'].min():.2f}–{agent_means['oracle ANHC'].max():.2f} codes per image "
    f"and a recall within radius 0 of {agent_means['oracle recall r=0'].min():.4f}–"
    f"{agent_means['oracle recall r=0'].max():.4f}, against {agent_means['recall r=0'].min():.4f}–"
    f"{agent_means['recall r=0'].max():.4f} for the learned agents (the oracle uses the database items' labels: "
    "the framework's ceiling on these base models, not a method).",
]
if not layouts.empty:
    by_layout = layouts.set_index("layout")
    lines.append(
        f"* **Alignment helps, a little.** On the aligned grid, {by_layout.loc['grid', 'positive rewards (held out)']:.1%} "
        f"of MCH-DCH's held-out regions have a positive reward, against "
        f"{by_layout.loc[mosaic_layout, 'positive rewards (held out)']:.1%} on the {mosaic_layout} layout "
        f"(ANHC {by_layout.loc['grid', 'ANHC']:.2f} and {by_layout.loc[mosaic_layout, 'ANHC']:.2f}).")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Exercises
#
# 1. **The aligned grid.** Rerun with `mosaic_layout="grid"`: the σ = 0.5 corner regions are then the
#    mosaic's cells. How much of the positive-reward share, the agreement and ANHC is the alignment?
# 2. **Regions at their own scale.** Rerun with `region_mode="mask"`, which shows the base network a
#    region in place instead of enlarged. Does the share of useful regions grow?
# 3. **The reward's scale.** `reward="mean"` with `advantage="standardised"` removes the thousandfold
#    differences between the bases' rewards. Does the policy then learn the reward's sign, or only
#    stop discarding everything?
# 4. **Seeds.** With `seeds=[0, 1, 2]` the noise column becomes the spread over seeds. Which verdicts
#    change?
#
# ## Wall time of this run

# %%
timing = clock.table()
save_table(timing, out_dir, "timing_sections")
timing.round(1)
