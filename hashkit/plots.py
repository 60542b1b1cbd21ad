"""Figures the chapters share: image grids with captions and mosaic boxes, metrics against code length,
hyper-parameter sweeps, embeddings and curves against the Hamming radius."""

from __future__ import annotations

import math

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle


def image_grid(
    images: np.ndarray,
    titles: Sequence[str],
    n_columns: int,
    boxes: np.ndarray | None = None,
    cell_inches: float = 1.25,
) -> Figure:
    """A grid of images, each with its caption; ``boxes`` ``(n, m, 4)`` (top, left, bottom, right) are outlined.

    Rows of ``boxes`` that are all ``-1`` are skipped (an empty mosaic cell has no item box).
    """
    if len(images) != len(titles):
        raise ValueError(f"titles: expected one caption per image ({len(images)}), got {len(titles)}")
    n_rows = max(1, -(-len(images) // n_columns))
    figure, axes = plt.subplots(
        n_rows, n_columns, figsize=(n_columns * cell_inches, n_rows * (cell_inches + 0.35)), squeeze=False
    )
    for position, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if position >= len(images):
            continue
        image = images[position]
        axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        axis.set_title(titles[position], fontsize=7)
        for top, left, bottom, right in ([] if boxes is None else boxes[position]):
            if top < 0:
                continue
            axis.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                     fill=False, edgecolor="tab:orange", linewidth=0.8))
    figure.tight_layout()
    return figure


def metrics_against_bits(results: pd.DataFrame, metrics: Sequence[tuple[str, str]], methods: Sequence[str],
                         title: str = "") -> Figure:
    """One panel per metric, each a line per method against the code length (FDAH's Figs. 2–3).

    ``results`` has the columns ``method``, ``bits`` and, for each ``(column, label)`` of
    ``metrics``, ``<column>_mean`` and ``<column>_std`` (a :func:`hashkit.experiments.summarise`
    table); with several seeds the standard deviation is drawn as error bars.
    """
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), sharex=True,
                                constrained_layout=True)
    axes = np.atleast_1d(axes)
    colours = dict(zip(methods, sns.color_palette("tab20", len(methods))))
    for axis, (column, label) in zip(axes, metrics):
        for method in methods:
            rows = results[results["method"] == method].sort_values("bits")
            if rows.empty:
                continue
            axis.errorbar(rows["bits"], rows[f"{column}_mean"], yerr=rows[f"{column}_std"], marker="o",
                          markersize=4, capsize=2, label=method, color=colours[method])
        axis.set_xlabel("code length (bits)")
        axis.set_ylabel(label)
        axis.set_xticks(sorted(results["bits"].unique()))
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def metrics_against_rounds(curves: pd.DataFrame, metrics: Sequence[tuple[str, str]], title: str = "") -> Figure:
    """One panel per metric, each a line per method against the round (a learning curve).

    ``curves`` has the columns ``method``, ``round`` and each ``column`` of ``metrics``
    (:func:`hashkit.experiments.diagnostics.learning_curve` rows with a ``method`` column).
    """
    figure, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.3), constrained_layout=True)
    axes = np.atleast_1d(axes)
    for axis, (column, label) in zip(axes, metrics):
        sns.lineplot(data=curves, x="round", y=column, hue="method", marker="o", ax=axis, legend=axis is axes[-1])
        axis.set(xlabel="round", ylabel=label)
        axis.set_xticks(sorted(curves["round"].unique()))
    if axes[-1].get_legend() is not None:
        sns.move_legend(axes[-1], "center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def sensitivity_panels(sweeps: pd.DataFrame, panels: Sequence[tuple[str, str, bool]], defaults: dict[str, float],
                       title: str = "") -> Figure:
    """mAP against one hyper-parameter per panel (FDAH's Fig. 4), the default marked by a dashed line.

    ``sweeps`` has the columns ``parameter``, ``value``, ``map`` and ``seed`` (one row per run;
    seeds are averaged, their spread shown as error bars); ``panels`` lists ``(parameter, axis
    label, log scale)``.
    """
    figure, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.4), constrained_layout=True)
    axes = np.atleast_1d(axes)
    for axis, (parameter, label, log_scale) in zip(axes, panels):
        points = (sweeps[sweeps["parameter"] == parameter].groupby("value")["map"]
                  .agg(["mean", "std"]).fillna(0.0).reset_index())
        axis.errorbar(points["value"], points["mean"], yerr=points["std"], marker="o", capsize=3)
        if parameter in defaults:
            axis.axvline(defaults[parameter], linestyle="--", color="grey", linewidth=1)
        if log_scale:
            axis.set_xscale("log")
        axis.set_xlabel(label)
        axis.set_ylabel("mAP")
    if title:
        figure.suptitle(title)
    return figure


def f1_bucket_pairs(curves: pd.DataFrame, bases: Sequence[str], references: Sequence[str] = ("LSH", "ITQ")) -> Figure:
    """MCH's Figs. 5–7 as pairs: a row per code length, a panel per base model, each with the base (solid),
    MCH on it (dashed) and the ``references`` (grey), F1 against bucket addresses probed (log scale),
    points in ascending K. ``curves`` holds :func:`hashkit.metrics.f1_bucket_curve` rows with the
    columns ``method`` and ``bits``."""
    bits = sorted(curves["bits"].unique())
    figure, axes = plt.subplots(len(bits), len(bases), figsize=(2.9 * len(bases), 2.5 * len(bits)),
                                constrained_layout=True, squeeze=False, sharey="row")
    greys = dict(zip(references, ("0.55", "0.75")))
    for row, n_bits in zip(axes, bits):
        at_length = curves[curves["bits"] == n_bits]
        for axis, base in zip(row, bases):
            lines = [(name, {"color": greys[name], "linewidth": 1}) for name in references]
            lines += [(base, {"color": "tab:blue", "marker": "o", "markersize": 3}),
                      (f"MCH-{base}", {"color": "tab:orange", "linestyle": "--", "marker": "s", "markersize": 3})]
            for name, style in lines:
                curve = at_length[at_length["method"] == name].sort_values("k")
                if not curve.empty:
                    axis.plot(curve["buckets_probed"], curve["f1"], label=name, **style)
            axis.set_xscale("log")
            axis.set_title(f"{base}, {n_bits} bits", fontsize=9)
            axis.set_xlabel("bucket addresses probed", fontsize=8)
            axis.set_ylabel("F1", fontsize=8)
            axis.legend(fontsize=6, frameon=False)
    return figure


def embedding_panels(embeddings: pd.DataFrame, class_names: Sequence[str], title: str = "") -> Figure:
    """A 2-D embedding per panel, points coloured by class (DSHC's Fig. 2).

    ``embeddings`` has the columns ``panel``, ``x``, ``y`` and ``label`` (a class index into
    ``class_names``); panels keep their order of appearance.
    """
    panels = list(dict.fromkeys(embeddings["panel"]))
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), constrained_layout=True,
                                squeeze=False)
    colours = sns.color_palette("tab10", len(class_names))
    for axis, panel in zip(axes[0], panels):
        points = embeddings[embeddings["panel"] == panel]
        for label, name in enumerate(class_names):
            chosen = points[points["label"] == label]
            axis.scatter(chosen["x"], chosen["y"], s=4, color=colours[label], label=name, alpha=0.7, linewidths=0)
        axis.set_title(panel, fontsize=10)
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, markerscale=3, fontsize=8)
    if title:
        figure.suptitle(title)
    return figure


def radius_panels(curves: pd.DataFrame, methods: Sequence[str], title: str = "") -> Figure:
    """DSHC's Fig. 3: a row per code length; precision and recall against the Hamming radius, and
    precision against recall over the radii. ``curves`` has the columns method, bits, radius,
    precision and recall (mean over seeds taken here)."""
    bits = sorted(curves["bits"].unique())
    means = curves.groupby(["method", "bits", "radius"], as_index=False)[["precision", "recall"]].mean()
    figure, axes = plt.subplots(len(bits), 3, figsize=(12.5, 3.4 * len(bits)), constrained_layout=True, squeeze=False)
    colours = dict(zip(methods, sns.color_palette("tab10", len(methods))))
    for row, n_bits in zip(axes, bits):
        for method in methods:
            curve = means[(means["method"] == method) & (means["bits"] == n_bits)].sort_values("radius")
            if curve.empty:
                continue
            style = {"color": colours[method], "marker": "o", "markersize": 2.5, "linewidth": 1.2, "label": method}
            row[0].plot(curve["radius"], curve["precision"], **style)
            row[1].plot(curve["radius"], curve["recall"], **style)
            row[2].plot(curve["recall"], curve["precision"], **style)
        for axis, (x_label, y_label) in zip(row, (("Hamming radius", "precision"), ("Hamming radius", "recall"),
                                                  ("recall", "precision"))):
            axis.set(xlabel=x_label, ylabel=y_label, title=f"{n_bits} bits")
        row[2].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def count_histogram(values: pd.Series, reference: float, reference_label: str, x_label: str,
                    title: str = "") -> Figure:
    """A histogram of integer ``values`` with a published ``reference`` value marked."""
    figure, axis = plt.subplots(figsize=(5.5, 3.2), constrained_layout=True)
    axis.hist(values, bins=np.arange(values.min() - 0.5, values.max() + 1.5, 2), color="tab:blue", alpha=0.8)
    axis.axvline(reference, color="tab:red", linestyle="--", label=reference_label)
    axis.set(xlabel=x_label, ylabel="k-means seeds", title=title)
    axis.legend(frameon=False)
    return figure


def continuation_curves(betas: Sequence[float]) -> Figure:
    """BGAN's Fig. 3: app(βz) and tanh(βz) for each slope β, approaching sgn(z)."""
    values = np.linspace(-1.5, 1.5, 601)
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True, sharey=True)
    colours = sns.color_palette("viridis", len(betas))
    for axis, (name, function) in zip(axes, (("app(βz)", lambda z: np.clip(z, -1, 1)), ("tanh(βz)", np.tanh))):
        for colour, beta in zip(colours, betas):
            axis.plot(values, function(beta * values), color=colour, label=f"β = {beta:g}")
        axis.plot(values, np.where(values >= 0, 1, -1), color="black", linestyle=":", label="sgn(z)")
        axis.set(xlabel="z", title=name)
    axes[0].set_ylabel("relaxed code")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return figure


def curves_by_length(curves: pd.DataFrame, x: str, y: str, methods: Sequence[str], x_label: str, y_label: str,
                     title: str = "", panel: str = "bits") -> Figure:
    """A panel per code length, a line per method of ``y`` against ``x`` (mean over seeds); BGAN's Fig. 4.
    Without a ``bits`` column: one panel (curves that do not depend on a code length, BGAN's Fig. 2).
    ``panel`` names another column to split the panels by (a dataset, DSAH's Fig. 3)."""
    if panel not in curves:
        curves = curves.assign(**{panel: 0})
        values = [None]
    else:
        values = sorted(curves[panel].unique())
    means = curves.groupby(["method", panel, x], as_index=False)[y].mean()
    figure, axes = plt.subplots(1, len(values), figsize=(4.3 * len(values), 3.4), constrained_layout=True,
                                squeeze=False, sharey=True)
    colours = dict(zip(methods, sns.color_palette("tab10" if len(methods) <= 10 else "tab20", len(methods))))
    for axis, value in zip(axes[0], values):
        for method in methods:
            curve = means[(means["method"] == method) & (means[panel] == (0 if value is None else value))].sort_values(x)
            if not curve.empty:
                axis.plot(curve[x], curve[y], marker="o", markersize=3, color=colours[method], label=method)
        axis.set(xlabel=x_label, title="" if value is None else f"{value} bits" if panel == "bits" else str(value))
    axes[0][0].set_ylabel(y_label)
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=8)
    if title:
        figure.suptitle(title)
    return figure


def history_panels(history: pd.DataFrame, columns: Sequence[tuple[str, str]], title: str = "",
                   x: str = "epoch") -> Figure:
    """A panel per column of a training history against the epoch (or the column ``x``: DSAH's
    rounds), three to a row (BGAN's Fig. 5)."""
    n_columns = min(3, len(columns))
    n_rows = math.ceil(len(columns) / n_columns)
    figure, axes = plt.subplots(n_rows, n_columns, figsize=(3.6 * n_columns, 2.8 * n_rows), constrained_layout=True,
                                squeeze=False)
    for axis, (column, label) in zip(axes.flat, columns):
        axis.plot(history[x], history[column], marker="o", markersize=3)
        axis.set(xlabel=x, ylabel=label)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    for axis in axes.flat[len(columns):]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    return figure


def image_rows(rows: dict[str, np.ndarray], cell_inches: float = 1.0) -> Figure:
    """A row of images per entry of ``rows``, the entry's name on the left (BGAN's Fig. 6)."""
    n_columns = max(len(images) for images in rows.values())
    figure, axes = plt.subplots(len(rows), n_columns, figsize=(n_columns * cell_inches + 1.5, len(rows) * cell_inches),
                                squeeze=False)
    for axis_row, (name, images) in zip(axes, rows.items()):
        for axis, image in zip(axis_row, [*images, *[None] * (n_columns - len(images))]):
            axis.set_xticks([])
            axis.set_yticks([])
            if image is not None:
                axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        axis_row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    figure.tight_layout()
    return figure


def heat_maps(matrices: dict[str, np.ndarray], title: str = "") -> Figure:
    """A heat map per named square matrix, side by side, each with its own colour bar (DSAH's Fig. 5)."""
    figure, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 3.6), constrained_layout=True,
                                squeeze=False)
    for axis, (name, matrix) in zip(axes[0], matrices.items()):
        image = axis.imshow(matrix, cmap="viridis")
        axis.set(title=name, xticks=[], yticks=[])
        figure.colorbar(image, ax=axis, shrink=0.8)
    if title:
        figure.suptitle(title)
    return figure


def scores_by_method(runs: pd.DataFrame, value: str, groups: dict[str, Sequence[str]], label: str) -> Figure:
    """One panel per group of methods (supervised, unsupervised) and dataset: each seed's ``value`` as
    a dot, and their mean as a bar, methods in each group's order."""
    datasets = list(dict.fromkeys(runs["dataset"]))
    figure, axes = plt.subplots(len(groups), len(datasets), figsize=(4.2 * len(datasets), 2.8 * len(groups)),
                                constrained_layout=True, squeeze=False, sharey=True)
    for row, (group, methods) in zip(axes, groups.items()):
        for axis, dataset in zip(row, datasets):
            shown = runs[(runs["dataset"] == dataset) & runs["method"].isin(methods)]
            order = [method for method in methods if method in set(shown["method"])]
            sns.barplot(shown, x="method", y=value, order=order, errorbar=None, color="lightsteelblue", ax=axis)
            sns.stripplot(shown, x="method", y=value, order=order, color="black", size=4, ax=axis)
            axis.set(xlabel="", ylabel=label if axis is row[0] else "", title=f"{group}, {dataset}")
            axis.tick_params(axis="x", labelrotation=30)
    return figure
