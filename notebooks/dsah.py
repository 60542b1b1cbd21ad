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
ablation_bits: CodeLengths = [64]  # lengths of the PIC and AND ablations (the paper: all four)
sensitivity_bits: CodeLength = 64  # the length of Figs. 7–9 and of the scale control (§5.5)
fashion_items: Count | None = 15_000  # a seeded subset of Fashion-MNIST standing in for CIFAR-10; None: all 70,000
query_per_class: Count | None = 100  # queries per class (§5.1: 100)
train_per_class: Count | None = 200  # training images per class (§5.1: 1,000)
mosaic_images: Count = 4_000  # size of the jittered mosaic set standing in for FLICKR25K
mosaic_queries: Count | None = 1_000  # FLICKR25K: 1,000
mosaic_train: Count | None = 1_000  # FLICKR25K: 10,000
cifar10_root: Folder | None = None  # a folder holding CIFAR-10's python pickles: runs CIFAR-10 instead
mir_flickr_root: Folder | None = None  # a folder holding FLICKR25K's list files: runs it instead of the mosaic
mir_flickr_options: Options = {}  # options of hashkit.data.load_list_trio
data_root: FashionMNISTFolder | None = None  # where Fashion-MNIST lives; None looks in $HASHKIT_DATA, data/, /usr/share/datasets
k1: Count | None = None  # W⁰'s nearest neighbours (§5.2: 500 of 10,000); None: 5 % of the training set
k2: Count | None = None  # W⁰'s most overlapping lists (§5.2: 500); None: 5 % of the training set
memory_check_items: Count | None = 10_500  # W⁰'s memory is also measured at this size (the paper's NUS-WIDE training set) with k1, k2 of 500; None skips it
lam: NonNegativeFloat = 10.0  # λ, the quantisation weight (§5.2: 10)
tau: PositiveFloat = 1.0  # τ, PIC's temperature (§5.2: 1)
gamma: float = 1.0  # γ in AND's threshold μ + γσ on the single-label set (§5.2: 1 on CIFAR-10)
mosaic_gamma: float = 0.0  # γ on the multi-label set (§5.2: 0 on FLICKR25K)
rounds: Count = 3  # R, rounds of AND (§5.2: 3)
epochs_per_round: Count = 2  # T, epochs per round (§5.2: 10)
max_rounds: Count = 4  # rounds of the runs that Figs. 7 and 9 follow (the paper: 10)
lambda_grid: list[NonNegativeFloat] = [0.0, 1.0, 10.0, 100.0]  # Fig. 8a's λ values (the paper's grid is unstated)
tau_grid: list[PositiveFloat] = [0.01, 0.1, 1.0, 10.0]  # Fig. 8b's τ values
gamma_grid: list[float] = [-1.0, 0.0, 1.0]  # Fig. 9's γ values (the paper: from −1 to 1 in steps of 0.25)
tsne_points: Count = 1_000  # database items in Fig. 10's t-SNE and silhouettes
retrieval_queries: Count = 3  # queries shown in Fig. 11
pic_gradient: Literal["through", "detached"] = "through"  # whether PIC's weights pass gradient (the paper's and the code's: through)
quantisation: Literal["paper", "normalised"] = "paper"  # eq. 17's ‖z − b‖², or the code's on z/‖z‖
map_top_k: Count | None = None  # MAP@K's cut-off; None: the paper's 5,000 of 59,000 scaled to the database
control_learning_rate: PositiveFloat = 0.05  # plain SGD's step in the loss-scale control
baseline_epochs: Count = 6  # SSDH's and MLS³RDUH's epochs
bgan_epochs: Count = 5  # BGAN's epochs (the BGAN chapter's default)
feature_source: str = "learned"  # the "+VGG" features and W⁰'s: label-free (see chapter 0)
feature_options: Options = {"channels": [16, 32], "max_train_items": 10_000, "epochs": 4}
centre_features: bool = True  # subtract the training items' mean from those features (the paper: raw VGG-19 features, false)
shallow_train: Count = 2_000  # training items the shallow methods fit on
gh_options: Options = {"optimizer": "adam", "learning_rate": 1e-3, "epochs": 10}  # GH's training (the paper: SGD 1e-4, 60 epochs)
tbh_options: Options = {"hidden_units": 128, "continuous_units": 64, "batch_size": 128, "iterations": 1000, "learning_rate": 1e-3}  # TBH's (the paper: 1,024 and 512 units, Adam 1e-4, 100,000 iterations)
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
import pandas as pd
from IPython.display import Markdown, display

from hashkit import plots
from hashkit.artifacts import save_figure, save_table
from hashkit.chapter import save_ledger, start_chapter
from hashkit.claims import verdict_summary
from hashkit.display import readable
from hashkit.experiments import beside_paper, deviations_table, paper_results, results_frame, run_grid, sizes_table
from hashkit.experiments.bgan import BGANSettings
from hashkit.experiments.diagnostics import fitted_learning_curve, similar_share
from hashkit.experiments.dsah import (DEEP_BASELINES, DEVIATIONS, MEMORY_CHECK_K, ON_FEATURES, PAPER_NAMES,
                                      SCALE_CONTROL, SCALED, SIZES_COLUMNS, SMOKE, TABLE1_METHODS, VARIANTS,
                                      ablation_table, centring_table, cost_table, deep_settings, dsah_settings,
                                      dsah_spec, gamma_round_table, load_data, method_specs, pair_weight_maps,
                                      precision_at, prepare_benchmarks, round_table, scale_control_settings,
                                      scale_control_table, scaled_top_k, sensitivity_frame, sensitivity_points,
                                      sensitivity_spec, similarity_table)
from hashkit.experiments.dsah_claims import adam_scale_claim, dsah_claims, sensitivity_claims, view_claims
from hashkit.experiments.footprint import similarity_footprint
from hashkit.experiments.scores import map_summary, per_query_ap
from hashkit.experiments.views import (pr_curves, precision_curves, silhouette_samples_by_run, top_retrievals,
                                       tsne_embedding)

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
# The features here are an autoencoder's, not VGG-19's, and they share a large common part: two
# random training images have nearly parallel feature vectors. Cosines then say little, and a
# method that copies them (GH) gives almost every image the same code. The chapter subtracts
# the training items' mean (`centre_features`; the paper's raw features are one flag away):

# %% tags=["hide-input"]
with clock.section("centring the features"):
    centring = centring_table(singles[0], dsah, gh_options, min(bits))
save_table(centring, out_dir, "feature_centring")
readable(centring, digits=3)

# %% [markdown]
# W is n × n, but only its positive pairs are stored, as a sparse boolean matrix, and the counts
# of shared neighbours go a block of rows at a time. What building it costs, measured in a fresh
# process on random features of the same sizes (the first row is this run's training set, the
# second the paper's 10,500 images with k1 = k2 = 500), beside a dense float32 n × n for scale. The
# peak is counted above what the process held before building (its imports, the features):

# %% tags=["hide-input"]
with clock.section("W⁰'s memory"):
    n_train = len(singles[0].split.train)
    footprint = pd.DataFrame([similarity_footprint(n_train, *dsah.neighbours(n_train))]
                             + ([similarity_footprint(memory_check_items, MEMORY_CHECK_K, MEMORY_CHECK_K)] if memory_check_items else []))
save_table(footprint, out_dir, "timing_w0_memory")
readable(footprint, digits=1)

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
                            [sensitivity_bits], control_settings, description="scale control (SGD)")
    adam_control_runs = run_grid([specs[name] for name in SCALE_CONTROL], singles, [sensitivity_bits], settings,
                                 description="scale control (Adam)")
all_runs = table1_runs + ablation_runs + adam_control_runs
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
precision = precision_at(table1_runs, by_key, 100)
shown_table3 = beside_paper(precision, paper_results("dsah_table3"), "precision", "precision_at_100", columns,
                            list(TABLE1_METHODS), scale=1.0, digits=3, paper_names=PAPER_NAMES)
save_table(shown_table3.reset_index(), out_dir, "table3_precision_at_100")
shown_table3

# %% [markdown]
# ## Fig. 3: precision against recall, and precision at N
#
# At `sensitivity_bits`, every method of Table 1 on both datasets: precision against recall with a
# point per Hamming radius (an empty ball counts as precision 0, so the low-recall end dips), and
# precision of the first N of the ranking.

# %% tags=["hide-input"]
fig3_runs = [r for r in table1_runs if r.bits == sensitivity_bits and r.seed == seeds[0]]
fig3_pr = pd.concat([pr_curves([r for r in fig3_runs if r.dataset == name], benchmark).assign(dataset=name)
                     for name, benchmark in ((single_name, singles[0]), (multi_name, multis[0]))], ignore_index=True)
fig3_pn = pd.concat([precision_curves([r for r in fig3_runs if r.dataset == name], benchmark,
                                      [10, 50, 100, 200, 500, 1000, 2000, 4000]).assign(dataset=name)
                     for name, benchmark in ((single_name, singles[0]), (multi_name, multis[0]))], ignore_index=True)
save_table(fig3_pr, out_dir, "fig3_pr_curves")
save_table(fig3_pn, out_dir, "fig3_precision_at_n")
for curves, x, x_label, y_label, name in ((fig3_pr, "recall", "recall", "precision", "fig3_pr_curves"),
                                          (fig3_pn, "n", "N", "precision@N", "fig3_precision_at_n")):
    save_figure(plots.curves_by_length(curves, x, "precision", list(TABLE1_METHODS), x_label, y_label,
                                       title=f"{sensitivity_bits} bits", panel="dataset"), out_dir, name)

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
# PIC⁰ with every weight set to PIC's batch mean ("PIC⁰ × mean a") has PIC's scale without its
# re-weighting: if it matches PIC, PIC's gain is the scale. Under plain SGD the scale is the
# step; under Adam a constant factor on the whole loss would hardly change the steps, but here it
# multiplies the pair term alone, so it also lowers λ's relative weight by the same factor. Both,
# on the single-label set at `sensitivity_bits`:

# %% tags=["hide-input"]
control = map_summary(per_query_ap(control_runs, by_key, top_k))
scale_control = scale_control_table(control, summary, single_name, sensitivity_bits)
save_table(scale_control, out_dir, "scale_control")
readable(scale_control, digits=3)

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
figure = plots.history_panels(fig7, [
    ("n₊ trained on", "positive pairs of W"), ("threshold m", "AND's threshold m"), ("F_w", "F_w of W"),
    ("mAP", "mAP")],
    title=f"DSAH on {single_name}, {sensitivity_bits} bits, by round", x="round")
save_figure(figure, out_dir, "fig7_rounds")
readable(fig7, digits=3)

# %% [markdown]
# ## Fig. 8: λ and τ
#
# DSAH at `sensitivity_bits` on the single-label set with one hyper-parameter moved at a time,
# MAP@K; the dashed line is this run's value, whose point is Table 1's run.

# %% tags=["hide-input", "remove-stderr"]
points = sensitivity_points(dsah, {"λ": lambda_grid, "τ": tau_grid})
with clock.section("Fig. 8 (λ, τ)"):
    sensitivity_runs = run_grid([sensitivity_spec(name, dsah, symbol, value) for name, symbol, value in points
                                 if name != "DSAH"], singles, [sensitivity_bits], settings, description="Fig. 8")
sensitivity_per_query = per_query_ap(sensitivity_runs + [r for r in table1_runs if r.method == "DSAH"], by_key, top_k)
fig8 = sensitivity_frame(sensitivity_per_query, points, single_name, sensitivity_bits)
save_table(fig8, out_dir, "fig8_sensitivity")
figure = plots.sensitivity_panels(fig8, [("λ", "λ (quantisation weight)", False), ("τ", "τ (PIC temperature)", True)],
                                  {"λ": lam, "τ": tau}, title=f"DSAH on {single_name}, {sensitivity_bits} bits")
figure.axes[0].set_xscale("symlog", linthresh=1.0)  # λ's grid starts at 0
save_figure(figure, out_dir, "fig8_sensitivity")

# %% [markdown]
# ## Fig. 9: γ and the number of rounds
#
# One run of `max_rounds` rounds per γ, mAP over the whole database after each round; γ = `gamma`
# is Fig. 7's run. A low γ lowers AND's threshold m = μ + γσ, so more pairs become positive.

# %% tags=["hide-input", "remove-stderr"]
with clock.section("Fig. 9 (γ × R)"):
    gamma_curves = {gamma: fitted_learning_curve(sensitivity_spec(f"DSAH (γ = {gamma:g})", dsah, "γ", gamma),
                                                 singles[0], sensitivity_bits, long_settings,
                                                 epochs_per_point=epochs_per_round)
                    for gamma in gamma_grid if gamma != dsah.gamma}
fig9 = gamma_round_table({dsah.gamma: (curve, rounds_model), **gamma_curves})
save_table(fig9, out_dir, "fig9_gamma_rounds")
figure = plots.curves_by_length(fig9.assign(method=[f"γ = {g:g}" for g in fig9["γ"]]), "round", "mAP",
                                [f"γ = {g:g}" for g in sorted(fig9["γ"].unique())], "round R", "mAP",
                                title=f"DSAH on {single_name}, {sensitivity_bits} bits")
save_figure(figure, out_dir, "fig9_gamma_rounds")
display(Markdown("The positive pairs each round trained on, by γ:"))
readable(fig9.pivot(index="round", columns="γ", values="n₊ trained on").rename(columns=lambda gamma: f"γ = {gamma:g}")
         .reset_index())

# %% [markdown]
# ## Fig. 5: the weights in one batch

# %% tags=["hide-input"]
dsah_run = next(r for r in table1_runs if r.method == "DSAH" and r.dataset == single_name
                and r.bits == sensitivity_bits and r.seed == seeds[0])
maps = pair_weight_maps(dsah_run.fitted, singles[0], batch_size, tau, seeds[0])
figure = plots.heat_maps(maps, title=f"One batch of {batch_size} {single_name} training images, ordered by class")
save_figure(figure, out_dir, "fig5_heat_maps")
display(Markdown(f"In this batch *a* runs from {maps['a'].min():.2f} to {maps['a'].max():.2f} "
                 f"(ratio {maps['a'].max() / maps['a'].min():.3f}); log B² = {np.log(batch_size ** 2):.2f}."))

# %% [markdown]
# ## Fig. 10: the codes' classes, seen and measured
#
# t-SNE {cite}`vandermaaten2008tsne` of the `sensitivity_bits`-bit database codes of the same
# `tsne_points` items under BGAN, MLS³RDUH and DSAH, coloured by class (which none of them saw). A
# picture of clusters is easy to over-read, so the table gives each Table 1 method's silhouette: per
# item, how much nearer (in Hamming distance) its code is to its own class's codes than to the
# nearest other class's, averaged; 1 is perfect separation, 0 none.

# %% tags=["hide-input"]
with clock.section("Fig. 10 (t-SNE)"):
    fig10 = tsne_embedding([r for r in fig3_runs if r.dataset == single_name and r.method in ("BGAN", "MLS3RDUH", "DSAH")],
                           singles[0], tsne_points, seeds[0])
save_table(fig10, out_dir, "fig10_tsne")
save_figure(plots.embedding_panels(fig10, datasets.single_label.class_names), out_dir, "fig10_tsne")
silhouettes = silhouette_samples_by_run([r for r in fig3_runs if r.dataset == single_name], singles[0], tsne_points,
                                        seeds[0])
silhouette_table = map_summary(silhouettes, name="silhouette").sort_values("silhouette_mean", ascending=False)
save_table(silhouette_table, out_dir, "fig10_silhouettes")
readable(silhouette_table[["method", "bits", "silhouette_mean"]].rename(columns={"silhouette_mean": "silhouette"}),
         digits=3)

# %% [markdown]
# ## Fig. 11: the first ten
#
# For `retrieval_queries` random queries, the ten nearest database images under DSAH and under
# MLS³RDUH (the paper's best baseline) at `sensitivity_bits`: ✓ shares the query's class, ✗ names
# the class it has instead; $d$ is the Hamming distance. P@10 over all queries is below.

# %% tags=["hide-input"]
retrieval_runs = [next(r for r in fig3_runs if r.dataset == single_name and r.method == method)
                  for method in ("DSAH", "MLS3RDUH")]
pictures, captions = top_retrievals(retrieval_runs, singles[0], retrieval_queries, 10, seeds[0])
save_figure(plots.image_grid(pictures, captions, 11, cell_inches=1.0), out_dir, "fig11_retrievals")
precision_at_10 = precision_at(table1_runs, by_key, 10)
at_10 = precision_at_10[(precision_at_10["dataset"] == single_name) & (precision_at_10["bits"] == sensitivity_bits)]
readable(at_10[["method", "bits", "precision_mean"]].rename(columns={"precision_mean": "P@10"})
         .sort_values("P@10", ascending=False), digits=3)

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
checked_claims.append(adam_scale_claim(per_query, dataset=single_name, n_bits=sensitivity_bits, n_seeds=len(seeds)))
checked_claims += sensitivity_claims(sensitivity_per_query, points, fig9, dataset=single_name,
                                     n_bits=sensitivity_bits, default_gamma=dsah.gamma, n_seeds=len(seeds))
checked_claims += view_claims(silhouettes, precision_at_10, dataset=single_name, n_bits=sensitivity_bits,
                              n_seeds=len(seeds))
claims = save_ledger(checked_claims, out_dir)
readable(claims)

# %%
display(Markdown(verdict_summary(claims)))

# %% [markdown]
# ## Why results differ from the paper
#
# Each point below is computed from this run's tables.

# %% tags=["hide-input"]
cell = summary.set_index(["method", "dataset", "bits"])["map_mean"]
published = paper_results("dsah_table1").set_index(["method", "dataset", "bits"])["map_at_5000"]
w0_single = w0_quality[(w0_quality["dataset"] == single_name) & w0_quality["similarity"].str.startswith("W⁰")].iloc[0]
best_shallow = max(ON_FEATURES, key=lambda name: cell.get((name, single_name, max(bits)), -1.0))
scales = scale_control.set_index("method")
idle_rounds = int((fig7["added"] == 0).sum())
multi_maps = summary[summary["dataset"] == multi_name].set_index("method")["map_mean"]
base_rate = similar_share(multis[0].images.labels[multis[0].split.database])
distinct = {r.method: len(np.unique(r.database_codes, axis=0)) for r in table1_runs
            if r.dataset == single_name and r.bits == max(bits) and r.seed == seeds[0] and r.method in DEEP_BASELINES}
display(Markdown("\n".join([
    f"* **W⁰ is the ceiling.** DSAH's only supervision is W. On {single_name} a positive pair of W⁰ shares a "
    f"class {w0_single['precision']:.0%} of the time and W⁰ finds {w0_single['recall']:.1%} of the pairs that do "
    f"(F_w {w0_single['F_w']:.3f}), from label-free features learned on {single_name}, not VGG-19's ImageNet "
    "features on CIFAR-10.",
    f"* **A network from scratch against the features it came from.** At {max(bits)} bits DSAH scores "
    f"{cell.get(('DSAH', single_name, max(bits)), np.nan):.3f} and the best shallow method on the same features, "
    f"{best_shallow}, {cell.get((best_shallow, single_name, max(bits)), np.nan):.3f} (the paper: DSAH "
    f"{published.get(('DSAH', 'cifar10', max(bits)), np.nan):.3f}, "
    f"{ON_FEATURES[best_shallow]} {published.get((ON_FEATURES[best_shallow], 'cifar10', max(bits)), np.nan):.3f}). "
    f"The paper fine-tunes the VGG-19 that built W⁰; ours is a small CNN trained from random weights for "
    f"{rounds * epochs_per_round} epochs on {len(singles[0].split.train):,} images (the paper: "
    "30 epochs on 10,000).",
    f"* **PIC is nearly a constant.** In Fig. 5's batch the weights lie between {maps['a'].min():.2f} and "
    f"{maps['a'].max():.2f}, around log B² = {np.log(batch_size ** 2):.2f}: PIC multiplies the pair term by about "
    "that much and re-weights it little. PIC⁰ with PIC's mean weight and no re-weighting scores "
    + " and ".join(f"{scales.loc[SCALED, f'MAP@K ({optimiser})']:.3f} under {optimiser} (PIC "
                   f"{scales.loc['PIC', f'MAP@K ({optimiser})']:.3f}, PIC⁰ {scales.loc['PIC⁰', f'MAP@K ({optimiser})']:.3f})"
                   for optimiser in ("SGD", "Adam")) + f" at {sensitivity_bits} bits.",
    f"* **AND's threshold.** m = μ + γσ is a cosine, so once it exceeds 1 no pair can join W. In Fig. 7 m runs "
    f"from {fig7['threshold m'].min():.3f} to {fig7['threshold m'].max():.3f} (W⁰'s diagonal counts among the "
    f"positives, with cosine 1): {idle_rounds} of {len(fig7)} rounds added nothing, and all of them together "
    f"{int(fig7['added'].sum()):,} pairs to W⁰'s {int(fig7['n₊ trained on'].iloc[0]):,}.",
    f"* **Baselines that collapse.** Distinct database codes at {max(bits)} bits on {single_name} (of "
    f"{len(singles[0].split.database):,} images): "
    + ", ".join(f"{method} {count:,}" for method, count in sorted(distinct.items(), key=lambda item: item[1]))
    + ". A method left with a handful of codes ranks its database by ties, which is its MAP here; the paper's "
    f"SSDH is weak too ({published.get(('SSDH', 'cifar10', max(bits)), np.nan):.3f} on CIFAR-10).",
    f"* **The mosaic says little.** Two database images of {multi_name} share a label {base_rate:.0%} of the time, "
    f"and every method's MAP@K there lies between {multi_maps.min():.3f} ({multi_maps.idxmin()}) and "
    f"{multi_maps.max():.3f} ({multi_maps.idxmax()}); W⁰'s positives share a label "
    f"{w0_quality[(w0_quality['dataset'] == multi_name) & w0_quality['similarity'].str.startswith('W⁰')]['precision'].iloc[0]:.0%} "
    "of the time. The label-free features of these small composite images barely tell their contents apart, "
    "so the multi-label column ranks methods by little more than chance; FLICKR25K's column stays the paper's.",
])))

# %% [markdown]
# ## Exercises
#
# 1. **The authors' quantisation.** Rerun with `quantisation="normalised"`, the code's
#    ‖b − z/‖z‖‖² in place of eq. 17's ‖b − z‖². Which of Table 1's DSAH cells move, and by more
#    than the noise the ledger prints?
# 2. **Weights without gradient.** Rerun with `pic_gradient="detached"`. PIC's weights then only
#    scale each pair's error. Does PIC still beat PIC⁰ in Fig. 4?
# 3. **A looser AND.** Rerun with `gamma=-1`. Follow n₊ and F_w in Fig. 7: do the added pairs help
#    the codes, or flood W with wrong positives?
# 4. **The loss scale under SGD.** Rerun with `control_learning_rate=0.2` and then `0.01`. Does
#    the scale control's verdict follow the step size?
# 5. **Paper scale on a GPU.** With CIFAR-10's files and VGG-19 weights at hand:
#    `-p cifar10_root … -p backbone vgg19 -p pretrained_weights … -p train_per_class 1000
#    -p k1 500 -p k2 500 -p epochs_per_round 10 -p learning_rate 1e-4 -p map_top_k 5000
#    -p fashion_items null -p device cuda` (see the "Rerunning" page for the whole command).

# %% [markdown]
# ## Wall time of this run

# %%
timing = clock.table()
save_table(timing, out_dir, "timing_sections")
readable(timing, digits=1)
