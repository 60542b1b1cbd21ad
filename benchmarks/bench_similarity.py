"""DSAH's W⁰ at the default training size and at the paper's 10,500 items: the peak memory of building
it must stay below one dense float32 n × n array (the issue's target), and its seconds are reported."""

from __future__ import annotations

from benchmarks.common import row
from hashkit.experiments.footprint import similarity_footprint

# (training items, k1 = k2): the chapter's default (2,000 items, 5 %) and the paper's CIFAR-10 setting.
SIZES = ((2_000, 100), (10_500, 500))


def run() -> list[dict]:
    rows = []
    for n_items, k in SIZES:
        measured = similarity_footprint(n_items, k, k)
        dense = measured["dense float32 n × n (MB)"]
        peak = measured["peak while building (MB)"]
        name = f"W⁰ of {n_items:,} items, k1 = k2 = {k}"
        rows += [row(name, "peak memory while building (MB)", peak, f"< {dense:.0f} (dense float32 n × n)",
                     peak < dense),
                 row(name, "stored size (MB)", measured["W⁰ stored (MB)"]),
                 row(name, "seconds", measured["seconds"])]
    return rows
