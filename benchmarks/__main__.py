"""Run every ``benchmarks/bench_*.py`` (or those named) and print one table of their rows.

Each module defines ``run() -> list[dict]`` with the keys ``benchmark``, ``measure``, ``value``,
``target`` and ``met`` (True, False, or None where there is no target). The exit status is 1 when a
target is missed, so ``make bench`` fails loudly. ``--device cuda`` goes to the modules whose
``run`` takes a ``device`` (the deep methods); the others run on the CPU as always.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
from pathlib import Path

import pandas as pd

COLUMNS = ["benchmark", "measure", "value", "target", "met"]


def main() -> int:
    available = sorted(path.stem.removeprefix("bench_") for path in Path(__file__).parent.glob("bench_*.py"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", choices=available + [[]], help="benchmarks to run (default: all)")
    parser.add_argument("--device", default="cpu", help="torch device for the benchmarks that train networks")
    arguments = parser.parse_args()
    names = arguments.names or available

    rows = []
    for name in names:
        started = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        run = importlib.import_module(f"benchmarks.bench_{name}").run
        takes_device = "device" in inspect.signature(run).parameters
        rows.extend(run(device=arguments.device) if takes_device else run())
        print(f"[bench] {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    table = pd.DataFrame(rows, columns=COLUMNS)
    table["value"] = table["value"].map(lambda value: f"{value:,.4g}")
    table["met"] = table["met"].map({True: "yes", False: "NO", None: "—"})
    print(table.to_markdown(index=False))
    return 1 if (table["met"] == "NO").any() else 0


if __name__ == "__main__":
    sys.exit(main())
