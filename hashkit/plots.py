"""Figures the chapters share: image grids with captions, and boxes drawn on mosaic cells."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
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
