"""Wall time of building the book: every chapter executed from scratch, then the HTML."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import row

REPO = Path(__file__).resolve().parent.parent
BOOK_SOURCES = ["_config.yml", "_toc.yml", "book", "notebooks", "requirements.lock"]


def copy_book_sources(destination: Path) -> None:
    """Copy what the runner needs into ``destination``, leaving out anything generated."""
    for name in BOOK_SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("executed", ".*"))
        else:
            shutil.copy2(source, destination / name)


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        copy_book_sources(root)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hashkit.book", "--root", str(root)], check=True)
        seconds = time.perf_counter() - started
    return [row("make book (every chapter from scratch + HTML)", "wall time (s)", seconds)]
