"""Each chapter's last run beside its 20-minute budget: its wall time and its section clock.

Nothing is executed here: the runner stamps each chapter's wall time (``book/executed/<name>.stamp.json``)
and the chapter saves its section clock (``timing_sections.csv``). A chapter whose last run was a smoke
run, or that never ran, is reported as such: its budget is checked on ``make book``'s defaults only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from benchmarks.common import row
from hashkit.book import Chapter, toc_chapters

REPO = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 20 * 60


def chapter_rows(root: Path, name: str) -> list[dict]:
    """The rows of one chapter: its wall time against the budget, then each section's seconds."""
    chapter = Chapter(name, root)
    if not chapter.stamp.is_file():
        return [row(f"chapter {name}", "never executed: run make book", float("nan"))]
    stamp = json.loads(chapter.stamp.read_text())
    if stamp.get("parameters", {}).get("smoke") or "seconds" not in stamp:
        why = "last run was a smoke run" if stamp.get("parameters", {}).get("smoke") else "run before wall times were stamped"
        return [row(f"chapter {name}", f"{why}: run make book", float("nan"))]
    rows = [row(f"chapter {name}", "wall time (s), defaults", stamp["seconds"], f"≤ {BUDGET_SECONDS:,} s",
                stamp["seconds"] <= BUDGET_SECONDS)]
    sections = chapter.out_dir / "timing_sections.csv"
    if sections.is_file():
        rows += [row(f"chapter {name}", f"section: {section}", seconds)
                 for section, seconds in pd.read_csv(sections).itertuples(index=False)]
    return rows


def run() -> list[dict]:
    return [entry for name in toc_chapters(REPO) for entry in chapter_rows(REPO, name)]
