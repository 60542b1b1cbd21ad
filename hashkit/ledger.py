"""The reproduction ledger: every paper chapter's checked claims in one table, as the chapters saved them.

Each paper chapter ends with its section :data:`CLAIMS_HEADING` and saves the claims checked
there (:func:`hashkit.chapter.save_ledger`: ``claims.csv``, and ``timing_claims.csv`` for those
resting on wall-clock time) beside its departures from the paper (``deviations.csv``). This module
reads those files back and recomputes nothing, so the ledger says what each chapter said in its
last good run. Every file it reads is recorded (:func:`hashkit.inputs.record_input`): when a
chapter rewrites its tables, the runner runs the ledger again.

The chapters are those of ``_toc.yml`` whose notebook has the claims section; each row links to
that section on the chapter's page, where the numbers behind the evidence are.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from pandas.io.formats.style import Styler

from hashkit.book import BOOK_ROOT_ENV_VAR, Chapter, toc_chapters
from hashkit.claims import DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, WITHIN_NOISE, Claim
from hashkit.display import readable
from hashkit.inputs import record_input

CLAIMS_HEADING = "The paper's claims, checked"
# The id Jupyter Book (MyST, docutils) gives that heading: the link target of every ledger row.
CLAIMS_ANCHOR = "the-paper-s-claims-checked"
# The counts' columns, in the order the figure stacks them: "within noise at 3 seed(s)" is within noise.
KINDS = (HOLDS, DOES_NOT_HOLD, WITHIN_NOISE, NOT_TESTABLE)
KIND_COLOURS = {HOLDS: "tab:green", DOES_NOT_HOLD: "tab:red", WITHIN_NOISE: "tab:orange", NOT_TESTABLE: "silver"}
ALL_PAPERS = "all papers"
LEDGER_COLUMNS = ["chapter", "paper", "source", "claim", "evidence", "verdict", "timed", "link"]


def book_root() -> Path:
    """The book whose chapters are read: ``$HASHKIT_BOOK_ROOT``, which the runner sets because the
    kernel works in a staging folder; unset (a reader running the notebook by hand), this repository."""
    return Path(os.environ.get(BOOK_ROOT_ENV_VAR) or Path(__file__).resolve().parent.parent)


def has_claims_section(chapter: Chapter) -> bool:
    """Whether the chapter's notebook has the section :data:`CLAIMS_HEADING`: then its run saved claims."""
    if not chapter.source.is_file():
        return False
    record_input(chapter.source)
    return f"# ## {CLAIMS_HEADING}" in chapter.source.read_text(encoding="utf-8").splitlines()


def claim_chapters(root: Path) -> list[Chapter]:
    """The chapters of ``_toc.yml`` with a claims section, in book order."""
    return [chapter for chapter in (Chapter(name, root) for name in toc_chapters(root)) if has_claims_section(chapter)]


def _read_table(chapter: Chapter, name: str) -> pd.DataFrame:
    """A table the chapter saved, as text; a clear error when its run has not saved it."""
    path = chapter.out_dir / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: chapter {chapter.name!r} has not saved its {name} table; "
                                f"run `make book CHAPTERS={chapter.name}` first")
    record_input(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _chapter_claims(chapter: Chapter) -> pd.DataFrame:
    """One chapter's claims, the wall-clock ones marked ``timed``; each verdict checked as :class:`Claim` checks it."""
    tables = [(_read_table(chapter, "claims"), False)]
    if (chapter.out_dir / "timing_claims.csv").is_file():  # a chapter without wall-clock claims may not write it
        tables.append((_read_table(chapter, "timing_claims"), True))
    rows = []
    for table, timed in tables:
        for row in table.to_dict("records"):
            try:
                Claim(claim=row["claim"], source=row["source"], evidence=row["evidence"], verdict=row["verdict"])
            except ValueError as error:
                raise ValueError(f"{chapter.out_dir}: chapter {chapter.name!r}, claim {row['claim']!r}: "
                                 f"{error}") from None
            rows.append({**row, "timed": timed})
    claims = pd.DataFrame(rows, columns=["claim", "source", "evidence", "verdict", "timed"]).astype({"timed": bool})
    return claims.assign(chapter=chapter.name, paper=chapter.name.upper(),
                         link=f"{chapter.name}.html#{CLAIMS_ANCHOR}")[LEDGER_COLUMNS]


def read_ledger(root: Path | None = None) -> pd.DataFrame:
    """Every claim of every paper chapter (:data:`LEDGER_COLUMNS`); ``link`` is the chapter's claims
    section, relative to the ledger's page (all chapter pages lie side by side)."""
    chapters = claim_chapters(root or book_root())
    tables = [_chapter_claims(chapter) for chapter in chapters]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=LEDGER_COLUMNS)


def verdict_kind(verdict: str) -> str:
    """The column of :data:`KINDS` a verdict is counted in."""
    return WITHIN_NOISE if verdict.startswith(WITHIN_NOISE) else verdict


def count_verdicts(claims: pd.DataFrame) -> pd.DataFrame:
    """The verdicts of ``claims`` (rows of the ledger) counted per paper, in the ledger's order, then
    over all papers: paper, each of :data:`KINDS`, total."""
    kinds = claims["verdict"].map(verdict_kind)
    per_paper = pd.crosstab(claims["paper"], kinds).reindex(index=claims["paper"].unique(), columns=KINDS,
                                                            fill_value=0)
    per_paper.loc[ALL_PAPERS] = per_paper.sum()
    per_paper["total"] = per_paper[list(KINDS)].sum(axis=1)
    return per_paper.rename_axis(index="paper", columns=None).reset_index().astype({kind: int for kind in KINDS})


def read_deviations(root: Path | None = None) -> pd.DataFrame:
    """Every paper chapter's departures from its paper in one table: chapter, aspect, paper, this run."""
    tables = [_read_table(chapter, "deviations").assign(chapter=chapter.name)
              for chapter in claim_chapters(root or book_root())]
    columns = ["chapter", "aspect", "paper", "this run"]
    return pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)


def ledger_view(ledger: pd.DataFrame) -> Styler:
    """The ledger as the page shows it: every text escaped, the link a link to the chapter's claims."""
    def anchor(link: str) -> str:
        return f'<a href="{link}">{link.split(".html")[0]}: claims</a>'

    shown = ledger.drop(columns=["chapter"])
    return (readable(shown).format(escape="html")
            .format({"link": anchor, "timed": lambda timed: "wall-clock" if timed else ""}, escape="html"))


def verdict_figure(counts: pd.DataFrame, title: str = "") -> Figure:
    """One bar per paper of :func:`count_verdicts`, stacked by verdict (:data:`KINDS`): where each
    paper stands, at a glance."""
    per_paper = counts[counts["paper"] != ALL_PAPERS]
    figure, axis = plt.subplots(figsize=(7.5, 0.55 * len(per_paper) + 1.6), constrained_layout=True)
    left = np.zeros(len(per_paper))
    for kind in KINDS:
        axis.barh(per_paper["paper"], per_paper[kind], left=left, color=KIND_COLOURS[kind], label=kind)
        left += per_paper[kind].to_numpy()
    axis.invert_yaxis()
    axis.set(xlabel="claims", title=title)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.legend(ncol=len(KINDS), loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    return figure
