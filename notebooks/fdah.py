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
# # FDAH: fast deep asymmetric hashing
#
# Lin, Lai, Lu and Zhou's FDAH {cite}`lin2021fdah` starts from a method that works very well and
# asks why it is slow. ADSH {cite}`jiang2018adsh` learns a network for the queries and, separately,
# a free binary code for every database item, and it trains on pairs between a few thousand sampled
# queries and the *whole* database. That asymmetry is what lets it use every training label, and it
# beat the symmetric deep methods of its time by ten points of mAP. But the database codes enter
# its objective quadratically, so ADSH solves for them one bit at a time, and its training time
# grows with the code length. FDAH replaces the database codes in the pairwise term by a linear
# regression from the labels. The codes then appear only linearly, and one sign function solves
# for all of them at once.
#
# This chapter explains the objective and its three updates, shows where they live in `hashkit`,
# and then regenerates every experiment of the paper: Table 1 (mAP of eleven methods at four code
# lengths), Figs. 2–3 (precision, recall and F-measure within Hamming radius 2), Table 2 (training
# time against the methods that train on the whole training set) and Fig. 4 (sensitivity to γ1 and
# to the query-set size m). It closes with the paper's claims and whether they hold in this run.

# %% tags=["remove-cell"]
from hashkit.parameters import (Backbone, CodeLength, CodeLengths, Count, Device, FashionMNISTFolder, Folder,
                                NonNegativeInt, Options, PositiveFloat, Seeds, WeightsFile)

# %% tags=["parameters"]
seeds: Seeds = [0]  # one run per seed; tables show mean ± std when there are several
bits: CodeLengths = [12, 24, 32, 48]  # code lengths of Tables 1–2 and Figs. 2–3
fashion_items: Count | None = None  # None: all 70,000 Fashion-MNIST images; a number: a seeded subset (quick runs)
cifar10_root: Folder | None = None  # a folder holding CIFAR-10's python pickles: runs the CIFAR-10 columns
nus_wide_root: Folder | None = None  # a folder holding NUS-WIDE's list files: runs NUS-WIDE instead of the mosaic
nus_wide_options: Options = {}  # options of hashkit.data.load_list_trio, e.g. {"image_root": ..., "image_size": [224, 224]}
nus_wide_symmetric_train: Count = 10_500  # DPSH, DSDH, DDSH's training images on NUS-WIDE (§3.1)
nus_wide_query_sample: Count = 5_000  # m on NUS-WIDE (§3.1)
data_root: FashionMNISTFolder | None = None  # where Fashion-MNIST lives; None looks in $HASHKIT_DATA, data/, /usr/share/datasets
mosaic_images: Count = 3_500  # size of the multi-label mosaic set standing in for NUS-WIDE
n_queries: Count | None = 1_000  # queries drawn from each protocol's query set; None: all of them
symmetric_train: Count = 5_000  # DPSH, DSDH, DDSH's training images on Fashion-MNIST and CIFAR-10 (§3.1)
query_sample: Count | None = None  # m, ADSH's and FDAH's query-set size; None: the paper's (2,000)
mosaic_symmetric_train: Count = 1_000  # the same on the mosaic set (NUS-WIDE: 10,500 of 190,000)
mosaic_query_sample: Count = 700  # m on the mosaic set (NUS-WIDE: 5,000)
shallow_train: Count = 6_000  # training items the shallow methods fit on (the paper: all of them)
table2_items: Count | None = 4_000  # Table 2 runs on a seeded subset of this many images; None: the whole dataset
feature_source: str = "learned"  # the shallow methods' features: label-free (see chapter 0)
feature_options: Options = {"channels": [16, 32], "max_train_items": 10_000, "epochs": 4}
backbone: Backbone = "small-cnn"  # or "cnn-f", "alexnet", "vgg19", "resnet50", "resnet101" with pretrained_weights
backbone_options: Options = {"channels": [16, 32]}  # the small CNN's; the ImageNet networks take none: {}
pretrained_weights: WeightsFile | None = None  # a local state-dict file of the backbone's ImageNet weights
device: Device = "cpu"  # or "cuda"
learning_rate: PositiveFloat = 1e-3
symmetric_epochs: Count = 5  # passes of DPSH, DSDH, DDSH over their training subset
whole_training_epochs: Count = 5  # passes of DPSH-A, DSDH-A, DDSH-A over the whole training set
rounds: Count = 2  # rounds of ADSH and FDAH, each a new query set of m items (the paper: 50)
epochs_per_round: Count = 3  # passes over each round's query set (ADSH's and the paper's 3)
gamma1: PositiveFloat = 1e-3  # FDAH's weights (§3.1)
gamma2: PositiveFloat = 10.0
gamma3: PositiveFloat = 1.0
gamma1_grid: list[PositiveFloat] = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]  # Fig. 4a
m_grid: list[Count] = [1_000, 2_000, 3_000]  # Fig. 4b
gamma2_grid: list[PositiveFloat] = []  # γ2 values to sweep (the paper: insensitive from 1e-4 to 1e2); [] skips it
gamma3_grid: list[PositiveFloat] = []  # the same for γ3
sensitivity_bits: CodeLength = 32  # code length of Fig. 4
radius: NonNegativeInt = 2  # Hamming radius of Figs. 2–3
trend_rounds: Count = 6  # rounds of the round-by-round diagnosis of ADSH and FDAH
trend_bits: CodeLength = 32  # its code length
progress: bool = True  # progress bars while training
smoke: bool = False  # a minute-long run with small sizes, for the tests
out_dir: str = "book/executed/fdah"  # where tables (CSV) and figures (PNG, SVG) are written

# %% tags=["hide-input"]
import inspect
from dataclasses import replace

import pandas as pd
from IPython.display import Markdown, display

from hashkit import plots
from hashkit.artifacts import save_figure, save_table
from hashkit.chapter import save_ledger, start_chapter
from hashkit.claims import verdict_summary
from hashkit.deep.methods import fdah as fdah_module
from hashkit.experiments import (beside_paper, code_geometry, deviations_table, paper_results, results_frame, run_grid,
                                 seconds_table, sizes_table, summarise, sweep_runs)
from hashkit.experiments.diagnostics import learning_curve, offset_summary
from hashkit.experiments.fdah import (ASYMMETRIC, DEVIATIONS, SHALLOW, SIZES_COLUMNS, SMOKE, SYMMETRIC, TABLE1_METHODS,
                                      TABLE2_METHODS, FDAHSettings, deep_settings, load_data, method_specs,
                                      prepare_benchmarks, sweeps)
from hashkit.experiments.fdah_claims import fdah_claims

parameters, out_dir, clock = start_chapter(globals(), "fdah", SMOKE)
settings = deep_settings(parameters)
fdah_settings = FDAHSettings(gamma1=gamma1, gamma2=gamma2, gamma3=gamma3)
specs = method_specs(fdah_settings)
with clock.section("loading the data"):
    datasets = load_data(parameters)
fashion = datasets.single_label[0]

# %% [markdown]
# ## The idea
#
# **Asymmetric hashing.** A deep hashing method maps an image $x$ to $\operatorname{sgn}(F(x;\Theta))$,
# a code of $l$ bits. The symmetric methods (DPSH {cite}`li2016dpsh`, DSDH {cite}`li2017dsdh`, DDSH
# {cite}`jiang2018ddsh`) train $F$ on pairs of training images, both sides through the network, so a
# batch covers a vanishing fraction of the $n^2$ pairs, and in practice they train on a subset (5,000
# images in FDAH's experiments). ADSH {cite}`jiang2018adsh` splits the two sides. The network
# produces codes $\tilde u_j = \tanh F(q_j)$ only for a *query set* of $m$ images sampled from the
# training set; every one of the $n$ training images gets a free binary code $b_i$; the loss asks
# $b_i^\top \tilde u_j \approx l\,S_{ij}$, with $S_{ij}=+1$ when the two share a label and $-1$
# otherwise. One epoch over $m$ queries thus touches all $nm$ pairs, and a fresh query set each
# round lets the network see the whole training set over time. The database is then the training set
# itself, ranked by the learned codes $B$.
#
# **Where the time goes.** In ADSH's objective $\sum_{ij}(b_i^\top \tilde u_j - l S_{ij})^2$ the codes
# appear in a product with each other once it is expanded: $\lVert B^\top \tilde U\rVert^2$ couples the
# bits. ADSH therefore updates $B$ by discrete cyclic coordinate descent, one bit (one row of $B$) at a
# time with the others fixed, costing $O(n l^2)$ per update.
#
# **FDAH's move.** Put the labels in between. If the code of a training image is close to a linear
# function of its label vector, $b_i \approx W^\top y_i$, then the pairwise term can be written with
# $W^\top y_i$ in place of $b_i$, and $B$ only has to agree with $W^\top Y$ and with the network's
# outputs. Both are linear in $B$, and the update of $B$ becomes a sign, all bits at once.

# %% [markdown]
# ## The objective and its updates
#
# We write, as the paper does, $Y\in\{0,1\}^{c\times n}$ for the labels of the $n$ training images,
# $B\in\{-1,+1\}^{l\times n}$ for their codes, $\tilde U\in[-1,1]^{l\times m}$ for the network's
# outputs on the current query set, $S\in\{-1,+1\}^{n\times m}$ for the similarities and
# $A\in\{0,1\}^{n\times m}$ for the same relation as 0/1. FDAH's objective (its eqs. 1–4) is
#
# $$
# J = \underbrace{\gamma_1 \sum_{i,j} \big((W^\top y_i)^\top \tilde u_j - l\,S_{ij}\big)^2
#     + \gamma_3 \lVert B - W^\top Y\rVert_F^2}_{J_1:\ \text{asymmetric pairs through the labels}}
#   + \underbrace{\gamma_2 \sum_{i,j} \frac{A_{ij}}{\tau_j}\,\lVert b_i - \tilde u_j\rVert^2}_{
#     J_2:\ \text{quantisation}},
# \qquad \tau_j = \sum_i A_{ij}.
# $$
#
# The quantisation term pulls each query's output towards the codes of *all* training images of its
# class, not only towards its own code, and the weight $1/\tau_j$ keeps a large class from
# outweighing a small one. Three closed or gradient updates alternate:
#
# * **Θ (the network)**: gradient steps on $J$ over the query set; the paper's eq. 6 is the gradient
#   with respect to the pre-activations. `hashkit` lets autograd compute it, and a test checks that
#   autograd equals eq. 6 written out.
# * **W**, setting $\partial J/\partial W = 0$ (eq. 7):
#   $W = (YY^\top)^{-1}\big(\gamma_1\,l\,Y S \tilde U^\top + \gamma_3 Y B^\top\big)
#   \big(\gamma_1 \tilde U \tilde U^\top + \gamma_3 I\big)^{-1}$.
# * **B**, which appears only linearly once the constants are dropped (eqs. 8–9):
#   $B = \operatorname{sgn}\big(\gamma_2\,\tilde U \tilde A^\top + \gamma_3 W^\top Y\big)$,
#   $\tilde A_{ij} = A_{ij}/\tau_j$.
#
# Two details of the printed equations do not follow from the objective, and `hashkit` follows the
# derivation: eq. 7 drops the factor $l$ of $l\,S$ (it reappears when one differentiates), and
# eq. 6 carries a spurious factor 2 on the $W^\top Y \tilde S$ term. The paper leaves the starting
# point open. Ours makes the first round start with the discrete step: $B$ by eq. 9 with $W=0$ from
# the untrained network's outputs, then $W$; a random start merges classes that begin on similar
# codes, which hurts most at 12 bits (the measurement is in the docstring of
# `hashkit.deep.methods.rounds.SampledRounds`).
#
# ## The implementation
#
# FDAH is `hashkit.deep.methods.FDAH`, trained by the engine every deep method shares
# (`hashkit.deep.engine.train`). The method adds only its batch loss and its update after each pass
# over the query set. Every sum over the $n$ training items runs over their distinct label vectors
# (`LabelGroups`): an item enters $J$ only through its labels and its code, so a batch costs one
# row per label vector (10 on Fashion-MNIST) where ADSH's costs one per training image. The two
# closed forms are short enough to read in full:

# %%
print(inspect.getsource(fdah_module.regression_update))
print(inspect.getsource(fdah_module.code_update))

# %% [markdown]
# ## Data and protocol
#
# FDAH's protocol (§3.1): on Fashion-MNIST {cite}`xiao2017fashion`, the 1,000 test images of each
# class are the queries and the other 60,000 images are both the training set and the database;
# DPSH, DSDH and DDSH train on 5,000 of them, ADSH and FDAH on all of them with m = 2,000 per round;
# the shallow methods fit on features. NUS-WIDE cannot be had offline, so the mosaic set of
# chapter 0 stands in for it (multi-label, 2×2 mosaics of Fashion-MNIST items) under FDAH's NUS-WIDE
# setting, scaled to its size. CIFAR-10 {cite}`krizhevsky2009cifar` runs when `cifar10_root` names its
# files. Table 2 trains DPSH, DSDH and DDSH on a whole training set, and their losses pair every
# image of a batch with every training image, so an epoch costs time quadratic in the training set
# (Table 2's seconds show it). By default Table 2 therefore runs on a seeded subset of the
# images (`table2_items`), with as many epochs as the subset runs of Table 1, as the paper gives
# every method the same number of iterations. The table gives the sizes this run used, per dataset
# and seed.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("features and splits"):
    prepared = {seed: prepare_benchmarks(datasets, parameters, seed) for seed in seeds}
benchmarks = {seed: table1 for seed, (table1, _) in prepared.items()}
table2_benchmarks = {seed: table2 for seed, (_, table2) in prepared.items()}
sizes = sizes_table({"Table 1, Figs. 2–4": [b for seed in seeds for b in benchmarks[seed]],
                     "Table 2": [table2_benchmarks[seed] for seed in seeds]}, SIZES_COLUMNS)
save_table(sizes, out_dir, "protocol_sizes")
sizes

# %% [markdown]
# ```{admonition} How this run differs from the paper
# :class: warning
# The paper fine-tunes CNN-F {cite}`chatfield2014cnnf` pretrained on ImageNet, for 150 iterations,
# on a GPU, and fits the shallow methods on CNN-F features. None of that fits the budget of this
# book's default run (the whole chapter in under 20 minutes on two CPU cores), so the defaults train
# a small CNN from scratch, for a few epochs, on the images at their own size, and fit the shallow
# methods on label-free features learned from the training images. Every difference is a parameter;
# the table lists them with this run's values. Expect lower mAP than the paper throughout, most for
# the methods that need many rounds (ADSH, FDAH), and compare methods *within* this run.
# ```

# %% tags=["hide-input"]
deviations = deviations_table(DEVIATIONS, {**parameters, "multi_label_images": len(datasets.multi_label),
                                           "table2_dataset": datasets.table2.name,
                                           "table2_size": len(datasets.table2)})
save_table(deviations, out_dir, "deviations")
deviations

# %% [markdown]
# ## Table 1: mAP at four code lengths
#
# Every method at each code length of `bits` (the paper's 12, 24, 32 and 48 by default), mAP over
# the whole database with ties in index order
# (chapter 0). Each cell shows our number and, in brackets, the paper's. The CIFAR-10 column shows
# the paper's numbers only unless its files were given; the NUS-WIDE column is filled by the mosaic
# set, a different dataset, so compare its *ordering* of methods rather than its values.

# %% tags=["remove-stderr"]
with clock.section("Table 1"):
    table1_results = run_grid([specs[name] for name in TABLE1_METHODS],
                              [benchmark for seed in seeds for benchmark in benchmarks[seed]], bits, settings,
                              radius=radius, description="Table 1")
table1_runs_frame = results_frame(table1_results)
save_table(table1_runs_frame.drop(columns=["training_seconds", "images_per_second"]), out_dir, "table1_runs")
table1 = summarise(table1_runs_frame, ["map", "precision", "recall", "f1", "training_seconds"],
                   ["method", "dataset", "bits"])
multi_name = benchmarks[seeds[0]][-1].name
paper_columns = {"fashion-mnist": fashion.name,
                 "cifar10": datasets.single_label[1].name if len(datasets.single_label) > 1 else None,
                 "nus-wide": multi_name}
table1_shown = beside_paper(table1, paper_results("fdah_table1"), "map", "map_percent", paper_columns,
                            list(TABLE1_METHODS))
save_table(table1_shown.reset_index(), out_dir, "table1_map")
table1_shown

# %% [markdown]
# The rows fall into three groups — shallow (LSH to FSDH), symmetric deep (DPSH, DSDH, DDSH),
# asymmetric deep (ADSH, FDAH) — and the paper's story is the order of the groups. How far each of
# our groups sits from its neighbours, per code length, on the single-label set:

# %%
groups = {"shallow": SHALLOW, "symmetric deep": SYMMETRIC, "asymmetric deep": ASYMMETRIC}
on_single = table1[table1["dataset"] == fashion.name]
group_means = pd.DataFrame({
    group: on_single[on_single["method"].isin(members)].groupby("bits")["map_mean"].mean()
    for group, members in groups.items()
}).rename_axis("bits").reset_index()
save_table(group_means, out_dir, "table1_group_means")
group_means.round(3)

# %% [markdown]
# ## Figs. 2–3: precision, recall and F-measure within Hamming radius 2
#
# Hash lookup rather than ranking: a query retrieves every database item within Hamming distance 2
# of its code, and precision, recall and F-measure are averaged over queries (an empty ball counts
# as precision 0, chapter 0). Short codes put many items in a ball of radius 2, long codes few, so
# recall falls with the code length for every method; a method whose codes are tight per class keeps
# both precision and recall high.

# %%
for benchmark in benchmarks[seeds[0]][:len(datasets.single_label)]:
    figure = plots.metrics_against_bits(
        table1[table1["dataset"] == benchmark.name],
        [("precision", f"precision (r ≤ {radius})"), ("recall", f"recall (r ≤ {radius})"),
         ("f1", f"F-measure (r ≤ {radius})")],
        list(TABLE1_METHODS), title=benchmark.name)
    save_figure(figure, out_dir, f"radius_metrics_{benchmark.name}")

# %% [markdown]
# A method can rank well and still retrieve nothing within radius 2. ADSH and FDAH learn the database
# codes directly, and both tend to give every image of a class the same code; their queries are coded
# by the network, and after a few rounds a query's code can sit several bits away from its class's
# code. Ranking (mAP) only needs the right class code to be the *nearest*; hash lookup needs it within
# 2 bits. Where the query codes land, per deep method, on the single-label set:

# %%
geometry = pd.DataFrame([code_geometry(result, radius) for result in table1_results
                         if result.method in SYMMETRIC + ASYMMETRIC and result.dataset == fashion.name])
geometry = geometry.groupby(["method", "bits"], sort=False).mean(numeric_only=True).drop(columns="seed")
save_table(geometry.reset_index(), out_dir, "code_geometry")
geometry.round(3)

# %% [markdown]
# ### Round by round: where the lookup goes wrong
#
# Is the empty ball a matter of too few rounds? We train ADSH and FDAH once more for
# `trend_rounds` rounds and score them after every round: mAP, precision within radius
# 2, how many bits are the same for every database item (a constant bit tells no two items apart),
# and how often the queries set those bits the same way as the database does.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("rounds"):
    trend_benchmark = benchmarks[seeds[0]][0]
    trend_settings = replace(settings, epochs={**settings.epochs, "rounds": trend_rounds * epochs_per_round})
    curves = pd.concat([learning_curve(specs[name], trend_benchmark, trend_bits, trend_settings,
                                       epochs_per_point=epochs_per_round, radius=radius) for name in ASYMMETRIC],
                       ignore_index=True)
save_table(curves.drop(columns=["training seconds", "update share"]), out_dir, "rounds_trend")
figure = plots.metrics_against_rounds(
    curves, [("map", "mAP"), ("precision", f"precision (r ≤ {radius})"), ("constant database bits",
             "constant database bits"), ("query agreement on constant bits", "query agreement on them")],
    title=f"ADSH and FDAH on {trend_benchmark.name}, {trend_bits} bits")
save_figure(figure, out_dir, "rounds_trend")
curves.set_index(["method", "round"])[["map", "precision", "constant database bits",
                                       "query agreement on constant bits", "distinct database codes"]].round(3)

# %% tags=["hide-input"]
first_round, last_round = (curves[curves["round"] == which].set_index("method")
                           for which in (curves["round"].min(), curves["round"].max()))
display(Markdown(
    f"From round {curves['round'].min()} to round {curves['round'].max()}, mAP goes "
    + " and ".join(f"from {first_round.loc[m, 'map']:.3f} to {last_round.loc[m, 'map']:.3f} for {m}"
                   for m in last_round.index)
    + f"; precision within radius {radius} is at most {curves['precision'].max():.3f} in any round. "
    + "At the last round " + " and ".join(
        f"{m} keeps {int(last_round.loc[m, 'constant database bits'])} of {trend_bits} bits constant over the "
        f"database, and its queries agree with the database on "
        f"{last_round.loc[m, 'query agreement on constant bits']:.0%} of them" for m in last_round.index) + "."))

# %% [markdown]
# A bit that every database item shares, set the *other* way by the queries, costs nothing in
# ranking (it is the same for every database item) and everything in lookup: each such bit adds one
# to the distance from every query to every database code. Is that an artefact of our training? The
# pairwise objective $\sum (u^\top b - l\,s)^2$ with $s\in\{-1,+1\}$ prefers it. If the queries
# flip $k$ bits that every database code shares, a similar pair costs $(2k)^2$ and a dissimilar one
# about $(l-k)^2$; with a share $p$ of similar pairs the expected loss is smallest at
# $k = (1-p)\,l/(1+3p)$. The table puts that optimum beside what training reached, and the share of
# the training time that the methods' discrete updates took.

# %% tags=["hide-input"]
offset_table = offset_summary(curves, trend_benchmark.images.labels[trend_benchmark.split.train], trend_bits)
save_table(offset_table[~offset_table["quantity"].str.contains("time")], out_dir, "offset_optimum")
offset_table.set_index("quantity").style.format(precision=3)

# %% [markdown]
# Precision within radius 2 near the paper's needs a query's code to land within two bits of its
# class's database code: almost no offset. Under this objective that is not the optimum when the
# classes are many and the similar pairs few, so the paper's lookup numbers need something our runs
# do not have — a start from ImageNet features that already separate the classes, or a detail of
# training that the paper does not state.

# %% [markdown]
# ## Table 2: training on the whole training set, and what it costs
#
# ADSH and FDAH see every training image over their rounds; DPSH, DSDH and DDSH above saw a subset.
# Table 2 of the paper trains the symmetric three on the whole training set as well (DPSH-A, DSDH-A,
# DDSH-A) and compares accuracy *and* training time. The paper ran it on CIFAR-10; this run uses
# Fashion-MNIST, or CIFAR-10 when its files are given, on the subset of `table2_items` images (sizes
# above), where ADSH and FDAH are trained again. The paper's times are minutes on a GPU at 150
# iterations; ours are seconds at this run's epochs, so compare the ratios, not the values.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("Table 2"):
    table2_results = run_grid([specs[name] for name in TABLE2_METHODS], [table2_benchmarks[seed] for seed in seeds],
                              bits, settings, radius=radius, description="Table 2")
table2_dataset = datasets.table2.name
table2 = summarise(results_frame(table2_results), ["map", "training_seconds"], ["method", "dataset", "bits"])
paper_table2 = paper_results("fdah_table2")
table2_map = beside_paper(table2, paper_table2, "map", "map_percent", {"cifar10": table2_dataset},
                          list(TABLE2_METHODS))
table2_seconds = seconds_table(table2, TABLE2_METHODS, paper_table2)
save_table(table2_map.reset_index(), out_dir, "table2_map")
save_table(table2_seconds.reset_index(), out_dir, "timing_table2_seconds")
display(table2_map)
table2_seconds.round(2)

# %%
figure = plots.metrics_against_bits(table2, [("training_seconds", "training time (s)"), ("map", "mAP")],
                                    list(TABLE2_METHODS), title=f"Table 2 on {table2_dataset}")
save_figure(figure, out_dir, "timing_table2_training_time")

# %% [markdown]
# ## Fig. 4: sensitivity to γ1 and to the query-set size m
#
# One hyper-parameter moves at a time, the others stay at the paper's values (γ1 = 1e-3,
# m = 2,000), at one code length. γ1 weighs the asymmetric pairwise term against the quantisation
# and regression terms; m is how many training images the network trains on per round, and so how
# much of the training set it sees over a run.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("Fig. 4"):
    grids = {"gamma1": gamma1_grid, "m": m_grid, "gamma2": gamma2_grid, "gamma3": gamma3_grid}
    sweep_frame = pd.concat([
        sweep_runs(sweeps(benchmarks[seed][0], fdah_settings, grids), benchmarks[seed][0], sensitivity_bits, settings,
                   reuse=next((result for result in table1_results if (result.method, result.dataset, result.bits,
                               result.seed) == ("FDAH", fashion.name, sensitivity_bits, seed)), None),
                   description="Fig. 4") for seed in seeds], ignore_index=True)
save_table(sweep_frame.drop(columns=["training_seconds"]), out_dir, "fig4_sensitivity")
default_m = benchmarks[seeds[0]][0].sample_size
panels = [("gamma1", "γ1", True), ("m", "query-set size m", False)] + [
    (parameter, label, True) for parameter, label in (("gamma2", "γ2"), ("gamma3", "γ3"))
    if (sweep_frame["parameter"] == parameter).any()]
figure = plots.sensitivity_panels(sweep_frame, panels, {"gamma1": gamma1, "m": default_m, "gamma2": gamma2, "gamma3": gamma3},
                                  title=f"FDAH on {fashion.name}, {sensitivity_bits} bits")
save_figure(figure, out_dir, "fig4_sensitivity")

# %% [markdown]
# ## The paper's claims, checked
#
# Each claim of §3.2 in our words, the evidence from this run, and a verdict computed from the
# numbers above over every dataset this run has. Each verdict is decided with a margin that its
# evidence prints — when a difference of mAP is a tie, how much is "greatly", how much longer is
# "much more time" — and `hashkit.experiments.fdah_claims.Margins` gives the reason for each. A
# claim that this run cannot test says why.

# %% tags=["hide-input"]
sweep_means = sweep_frame.groupby(["parameter", "value"], as_index=False)["map"].mean()
checked_claims = fdah_claims(table1, table2, sweep_means,
                             single_label=[images.name for images in datasets.single_label],
                             multi_label=multi_name, table2_dataset=table2_dataset, default_gamma1=gamma1,
                             default_m=default_m)
# Claims about training time rest on wall-clock seconds, which no rerun repeats exactly: stored apart.
claims = save_ledger(checked_claims, out_dir)
claims.style.hide(axis="index").set_properties(**{"text-align": "left", "white-space": "normal"})

# %%
display(Markdown(verdict_summary(claims)))

# %% [markdown]
# ## Why results differ from the paper
#
# Each reason below cites a table of this run.

# %% tags=["hide-input"]
at_rounds = curves[curves["round"] == min(rounds, curves["round"].max())].set_index("method")
at_last = curves[curves["round"] == curves["round"].max()].set_index("method")
best_gamma1 = sweep_means[sweep_means["parameter"] == "gamma1"].sort_values("map").iloc[-1]
offsets = offset_table.set_index("quantity")["value"]
optimum = "offset bits at the objective's optimum"
display(Markdown("\n".join([
    f"* **Training length.** The paper trains ADSH and FDAH for 50 rounds from ImageNet features; this run "
    f"trains {rounds} from scratch. In the round-by-round table ({trend_bits} bits), FDAH's mAP is "
    f"{at_rounds.loc['FDAH', 'map']:.3f} after {int(at_rounds.loc['FDAH', 'round'])} rounds and "
    f"{at_last.loc['FDAH', 'map']:.3f} after {int(at_last.loc['FDAH', 'round'])}; ADSH's "
    f"{at_rounds.loc['ADSH', 'map']:.3f} and {at_last.loc['ADSH', 'map']:.3f}.",
    f"* **Lookup within radius {radius}.** Over the rounds, FDAH's precision within radius {radius} goes from "
    f"{curves[curves['method'] == 'FDAH']['precision'].iloc[0]:.3f} to {at_last.loc['FDAH', 'precision']:.3f} "
    f"and ADSH's from {curves[curves['method'] == 'ADSH']['precision'].iloc[0]:.3f} to "
    f"{at_last.loc['ADSH', 'precision']:.3f} (the paper: about 0.9). At the last round FDAH keeps "
    f"{int(at_last.loc['FDAH', 'constant database bits'])} and ADSH "
    f"{int(at_last.loc['ADSH', 'constant database bits'])} of {trend_bits} bits constant over the database; "
    f"the pairwise objective alone would favour {int(offsets[optimum])} "
    "such bits set the other way by the queries (the offset table).",
    f"* **Training time.** The discrete updates take "
    + " and ".join(f"{offsets[f'{m} share of training time in its discrete update']:.0%} of {m}'s training time"
                   for m in ASYMMETRIC)
    + "; the network's passes take the rest, so a bit-by-bit update that grows with the code length barely "
    "shows in the totals of Table 2.",
    f"* **γ1.** The best γ1 of this run's sweep is {best_gamma1['value']:g} (mAP {best_gamma1['map']:.3f}); "
    f"the paper's is 1e-3, found with its pretrained features.",
])))

# %% [markdown]
# ## Exercises
#
# 1. **More rounds.** Rerun with `rounds=10` (about five times the asymmetric training time). Which
#    rows of Table 1 move, and does the gap between FDAH and ADSH shrink or grow? What does that say
#    about the paper's 50 rounds?
# 2. **Where ADSH's time goes.** Set `bits=[12, 48, 128]` and `rounds=4` and look at the ratio
#    column of Table 2. At what code length does ADSH's bit-by-bit update start to show in its total
#    time, and does FDAH's stay flat?
# 3. **Seeds.** Rerun with `seeds=[0, 1, 2]`. Which verdicts of the claims table survive the
#    spread between seeds, and which were decided by less than one standard deviation?
# 4. **γ2 and γ3.** The paper says FDAH is insensitive to γ2 and γ3 from 1e-4 to 1e2 but shows no
#    figure. Rerun with `gamma2_grid=[1e-4, 1e2]` and `gamma3_grid=[1e-4, 1e2]` (four more FDAH runs):
#    the claims table then tests that claim too.
#
# ## Wall time of this run

# %%
timing = clock.table()
save_table(timing, out_dir, "timing_sections")
timing.round(1)
