"""A paper's claims checked against this run's numbers: each claim, its evidence and a computed verdict.

Every chapter closes with a claims table. A :class:`Claim` holds the claim in the book's words,
where the paper makes it, the evidence (numbers computed in this run, as text) and the verdict.
The verdict comes from a small combinator over this run's numbers — :func:`above`,
:func:`not_below`, :func:`at_least`, :func:`at_most`, :func:`ratio_at_least`, :func:`within`, joined by
:func:`all_of` — each of which prints its margin in the evidence. A verdict is never typed in.

A cell that this run did not produce (a method not run, a dataset not given) is NaN; any claim
that needs it is "not testable here", with the missing cells named as the reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
NOT_TESTABLE = "not testable here"
VERDICTS = (HOLDS, DOES_NOT_HOLD, NOT_TESTABLE)
# A difference smaller than its measured noise: neither held nor failed ("within noise at 3 seeds").
WITHIN_NOISE = "within noise"

Labelled = tuple[str, float]  # a cell's label ("fashion-mnist, 32 bits") and its value
Pair = tuple[str, float, float]  # a label and the two values compared there


def verdict(condition: bool | None) -> str:
    """``"holds"`` for a true condition, ``"does not hold"`` for a false one, ``"not testable here"`` for ``None``."""
    if condition is None:
        return NOT_TESTABLE
    return HOLDS if bool(condition) else DOES_NOT_HOLD


@dataclass(frozen=True)
class Evidence:
    """What a combinator found: the condition (``None``: not testable) and the numbers behind it, as text."""

    condition: bool | None
    text: str


@dataclass(frozen=True)
class Claim:
    """One claim of a paper and what this run says about it.

    ``timed`` marks a claim whose evidence is wall-clock time: it differs from run to run, so a
    chapter stores such claims apart from those that a rerun with the same seed reproduces exactly.
    """

    claim: str
    source: str
    evidence: str
    verdict: str
    timed: bool = False

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS and not self.verdict.startswith(WITHIN_NOISE):
            raise ValueError(f"verdict: expected one of {', '.join(VERDICTS)} or {WITHIN_NOISE!r}, got {self.verdict!r}")


def checked(claim: str, source: str, evidence: Evidence, timed: bool = False) -> Claim:
    """A :class:`Claim` whose verdict is :func:`verdict` of the evidence's condition."""
    return Claim(claim=claim, source=source, evidence=evidence.text, verdict=verdict(evidence.condition), timed=timed)


def _missing(labels_and_values: Iterable[tuple[str, Sequence[float]]]) -> Evidence | None:
    """Not testable when a value is absent or not finite, naming the cells; ``None`` when all are there."""
    absent = [label for label, values in labels_and_values if not all(math.isfinite(value) for value in values)]
    if absent:
        return Evidence(None, f"not measured in this run: {'; '.join(absent)}")
    return None


# A claim over more cells than this lists only the cells that go against it: a long table stays readable.
LISTED_CELLS = 8


def _listing(cells: Sequence[str], against: Sequence[bool]) -> str:
    """Every cell when there are few; otherwise the first :data:`LISTED_CELLS` against the claim."""
    if len(cells) <= LISTED_CELLS:
        return "; ".join(cells)
    contrary = [cell for cell, bad in zip(cells, against) if bad]
    if not contrary:
        return f"every cell agrees, e.g. {cells[0]}"
    more = len(contrary) - LISTED_CELLS
    return "against it: " + "; ".join(contrary[:LISTED_CELLS]) + (f"; and {more} more" if more > 0 else "")


def _needed(count: int, share: float) -> int:
    if not 0 < share <= 1:
        raise ValueError(f"share: expected a fraction in (0, 1], got {share!r}")
    return math.ceil(share * count - 1e-9)


def above(pairs: Sequence[Pair], *, margin: float, share: float = 1.0, left: str = "left",
          right: str = "right", digits: int = 3) -> Evidence:
    """``left`` exceeds ``right`` by more than ``margin`` in at least ``share`` of the cells (0.51: most)."""
    missing = _missing((label, (a, b)) for label, a, b in pairs)
    if missing or not pairs:
        return missing or Evidence(None, "no cells to compare")
    wins = [label for label, a, b in pairs if a > b + margin]
    needed = _needed(len(pairs), share)
    text = (f"{left} above {right} by more than {margin:g} in {len(wins)} of {len(pairs)} cells (needed: {needed}): "
            + _listing([f"{label}: {a:.{digits}f} vs {b:.{digits}f}" for label, a, b in pairs],
                       [not a > b + margin for _, a, b in pairs]))
    return Evidence(len(wins) >= needed, text)


def not_below(pairs: Sequence[Pair], *, tolerance: float, left: str = "left", right: str = "right",
              digits: int = 3) -> Evidence:
    """``left`` is at least ``right`` minus ``tolerance`` in every cell (a tie within the tolerance counts)."""
    missing = _missing((label, (a, b)) for label, a, b in pairs)
    if missing or not pairs:
        return missing or Evidence(None, "no cells to compare")
    short = [label for label, a, b in pairs if a < b - tolerance]
    text = (f"{left} at least {right} − {tolerance:g} in {len(pairs) - len(short)} of {len(pairs)} cells: "
            + _listing([f"{label}: {a:.{digits}f} vs {b:.{digits}f}" for label, a, b in pairs],
                       [a < b - tolerance for _, a, b in pairs]))
    return Evidence(not short, text)


def _bounded(values: Sequence[Labelled], threshold: float, what: str, digits: int, below: bool) -> Evidence:
    missing = _missing((label, (value,)) for label, value in values)
    if missing or not values:
        return missing or Evidence(None, "no values")
    agrees = [(value <= threshold) if below else (value >= threshold) for _, value in values]
    inside = sum(agrees)
    text = (f"{what} at {'most' if below else 'least'} {threshold:g} in {inside} of {len(values)} cells: "
            + _listing([f"{label}: {value:.{digits}f}" for label, value in values], [not ok for ok in agrees]))
    return Evidence(inside == len(values), text)


def at_least(values: Sequence[Labelled], *, threshold: float, what: str = "value", digits: int = 3) -> Evidence:
    """Every value is at least ``threshold``."""
    return _bounded(values, threshold, what, digits, below=False)


def at_most(values: Sequence[Labelled], *, threshold: float, what: str = "value", digits: int = 3) -> Evidence:
    """Every value is at most ``threshold``."""
    return _bounded(values, threshold, what, digits, below=True)


def ratio_at_least(pairs: Sequence[Pair], *, ratio: float, left: str = "left", right: str = "right",
                   digits: int = 2) -> Evidence:
    """``left / right`` is at least ``ratio`` in every cell."""
    missing = _missing((label, (a, b)) for label, a, b in pairs)
    if missing or not pairs:
        return missing or Evidence(None, "no cells to compare")
    ratios = [(label, a / b if b else math.inf) for label, a, b in pairs]
    text = (f"{left} / {right} at least {ratio:g} in {sum(r >= ratio for _, r in ratios)} of {len(ratios)} cells: "
            + _listing([f"{label}: {r:.{digits}f}" for label, r in ratios], [r < ratio for _, r in ratios]))
    return Evidence(all(r >= ratio for _, r in ratios), text)


def within(values: Sequence[Labelled], *, spread: float, what: str = "value", digits: int = 3) -> Evidence:
    """The values lie within ``spread`` of each other (max − min ≤ spread); two values at least."""
    missing = _missing((label, (value,)) for label, value in values)
    if missing or len(values) < 2:
        return missing or Evidence(None, f"fewer than two values of {what} to compare")
    measured = max(value for _, value in values) - min(value for _, value in values)
    text = (f"{what} spread {measured:.{digits}f} (stable: at most {spread:g}): "
            + "; ".join(f"{label}: {value:.{digits}f}" for label, value in values))
    return Evidence(measured <= spread, text)


def all_of(*parts: Evidence) -> Evidence:
    """Holds when every part holds; not testable when any part is; the parts' texts joined."""
    conditions = [part.condition for part in parts]
    condition = None if any(c is None for c in conditions) else all(conditions)
    return Evidence(condition, " | ".join(part.text for part in parts))


def not_testable(reason: str) -> Evidence:
    """Evidence this run cannot produce, with the reason."""
    return Evidence(None, reason)


class Cells:
    """Values of a :func:`~hashkit.experiments.runs.summarise` table by method, dataset and code length.

    A cell the run did not produce is NaN, which makes a claim that needs it "not testable here".
    """

    def __init__(self, summary: pd.DataFrame) -> None:
        self.summary = summary.set_index(["method", "dataset", "bits"]).sort_index()

    def __call__(self, method: str, dataset: str, n_bits: int, value: str = "map_mean") -> float:
        key = (method, dataset, n_bits)
        return float(self.summary.loc[key, value]) if key in self.summary.index else math.nan

    def bits(self) -> list[int]:
        return sorted(set(self.summary.index.get_level_values("bits")))


def lowest(values: Iterable[float]) -> float:
    """The smallest value, NaN when any is NaN (Python's ``min`` would depend on the order)."""
    return float(np.min(list(values)))


def highest(values: Iterable[float]) -> float:
    """The largest value, NaN when any is NaN."""
    return float(np.max(list(values)))


def claims_table(claims: Iterable[Claim]) -> pd.DataFrame:
    """The claims as a table with the columns claim, source, evidence, verdict."""
    columns = ["claim", "source", "evidence", "verdict"]
    return pd.DataFrame([{key: asdict(claim)[key] for key in columns} for claim in claims], columns=columns)


Comparison = tuple[str, float, float, float]  # a label, the two values compared there, and the noise of their difference


def beyond_noise(claim: str, source: str, comparisons: Sequence[Comparison], n_seeds: int, *, left: str = "left",
                 right: str = "right", digits: int = 4) -> Claim:
    """``left`` above ``right`` in every cell by more than that cell's noise.

    Holds when every difference exceeds its noise; does not hold when ``right`` is ahead by more
    than the noise in some cell; otherwise the run cannot tell: "within noise at n seed(s)".
    """
    missing = _missing((label, (a, b, noise)) for label, a, b, noise in comparisons)
    if missing or not comparisons:
        return checked(claim, source, missing or Evidence(None, "no cells to compare"))
    ahead = [a - b > noise for _, a, b, noise in comparisons]
    text = f"{left} vs {right}, ahead beyond the noise in {sum(ahead)} of {len(comparisons)} cells: " + _listing(
        [f"{label}: {a:.{digits}f} vs {b:.{digits}f} (difference {a - b:+.{digits}f}, noise ±{noise:.{digits}f})"
         for label, a, b, noise in comparisons], [not ok for ok in ahead])
    if all(a - b > noise for _, a, b, noise in comparisons):
        result = HOLDS
    elif any(b - a > noise for _, a, b, noise in comparisons):
        result = DOES_NOT_HOLD
    else:
        result = f"{WITHIN_NOISE} at {n_seeds} seed(s)"
    return Claim(claim=claim, source=source, evidence=text, verdict=result)


def verdict_summary(claims: pd.DataFrame) -> str:
    """One Markdown sentence counting a :func:`claims_table`'s verdicts: the line under every chapter's ledger."""
    verdicts = claims["verdict"]
    return (f"**{(verdicts == HOLDS).sum()}** of {len(claims)} claims hold in this run, "
            f"**{(verdicts == DOES_NOT_HOLD).sum()}** do not, "
            f"**{verdicts.str.startswith(WITHIN_NOISE).sum()}** are within noise, and "
            f"**{(verdicts == NOT_TESTABLE).sum()}** cannot be tested here.")
