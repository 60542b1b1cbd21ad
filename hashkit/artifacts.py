"""Atomic, reproducible writing of the files a chapter or an index leaves behind.

Every artifact is written to a temporary file in its final directory and moved into place with
``os.replace``, so a crash leaves either the old file or the new one, never half of one. Figures
carry no timestamps or software strings, so the same seed gives byte-identical PNG, SVG and CSV.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        # mkstemp makes the file private (0600); a book's tables and figures are for every reader.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_table(table: pd.DataFrame, out_dir: str | os.PathLike, name: str) -> None:
    """Write ``table`` as ``out_dir/name.csv`` (atomically)."""
    path = Path(out_dir) / f"{name}.csv"
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False, float_format="%.6g", lineterminator="\n")


def save_figure(figure: Figure, out_dir: str | os.PathLike, name: str) -> None:
    """Write ``figure`` as ``out_dir/name.png`` and ``.svg`` (atomically, byte-reproducibly)."""
    png_path = Path(out_dir) / f"{name}.png"
    svg_path = Path(out_dir) / f"{name}.svg"
    # A fixed salt makes SVG element ids repeatable; empty metadata drops dates and versions.
    with matplotlib.rc_context({"svg.hashsalt": "hashkit"}):
        with atomic_path(png_path) as temporary:
            figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        with atomic_path(svg_path) as temporary:
            figure.savefig(temporary, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
