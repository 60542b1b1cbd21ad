"""A paper's claims checked against this run's numbers: each claim, its evidence and a computed verdict.

Every chapter closes with a claims table. A :class:`Claim` holds the claim in the book's words,
where the paper makes it, the evidence (numbers computed in this run, as text) and the verdict,
which :func:`verdict` derives from a condition evaluated on those numbers: a verdict is never
typed in. A claim whose evidence this run cannot produce (a dataset that is not here, a sweep
switched off) is "not testable here", with the reason as its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
NOT_TESTABLE = "not testable here"
VERDICTS = (HOLDS, DOES_NOT_HOLD, NOT_TESTABLE)


def verdict(condition: bool | None) -> str:
    """``"holds"`` for a true condition, ``"does not hold"`` for a false one, ``"not testable here"`` for ``None``."""
    if condition is None:
        return NOT_TESTABLE
    return HOLDS if bool(condition) else DOES_NOT_HOLD


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
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {', '.join(VERDICTS)}, got {self.verdict!r}")


def checked(claim: str, source: str, evidence: str, condition: bool | None, timed: bool = False) -> Claim:
    """A :class:`Claim` whose verdict is :func:`verdict` of ``condition``."""
    return Claim(claim=claim, source=source, evidence=evidence, verdict=verdict(condition), timed=timed)


def claims_table(claims: Iterable[Claim]) -> pd.DataFrame:
    """The claims as a table with the columns claim, source, evidence, verdict."""
    columns = ["claim", "source", "evidence", "verdict"]
    return pd.DataFrame([{key: asdict(claim)[key] for key in columns} for claim in claims], columns=columns)
