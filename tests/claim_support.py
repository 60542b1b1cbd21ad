"""What the claims tests of several chapters share: per-query AP with paired, known noise, and the
verdicts of a chapter's claims keyed by the start of their text."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from hashkit.claims import DOES_NOT_HOLD, HOLDS, Claim


def paired_ap(mean: float, key: object, seed: int, queries: int, low: float = 0.0) -> np.ndarray:
    """``queries`` per-query AP values of mean ``mean``: a fixed ±0.05 pattern of its own for each ``key``
    and seed, clipped to [``low``, 1]. Two cells built from the same key and seed differ by the same
    amount on every query (a difference without noise); different keys give a paired noise of about
    ±0.01 at 50 queries."""
    pattern = np.random.default_rng(zlib.crc32(f"{key} {seed}".encode())).choice([-0.05, 0.05], queries)
    return np.clip(mean + pattern - pattern.mean(), low, 1)


def verdicts_by_start(claims: Sequence[Claim], starts: Sequence[str]) -> dict[str, str]:
    """Each claim's verdict keyed by the start of its text; exactly one claim per start, and no other."""
    assert len(claims) == len(starts), [claim.claim for claim in claims]
    table = {}
    for start in starts:
        (verdict,) = [claim.verdict for claim in claims if claim.claim.startswith(start)]
        table[start] = verdict
    return table


def others(table: dict[str, str], *names: str) -> set[str]:
    """The verdicts of every claim but ``names``."""
    return {verdict for claim, verdict in table.items() if claim not in names}


def assert_turns_alone(table: dict[str, str], claim: str) -> None:
    """``claim`` does not hold and every other claim of ``table`` still holds."""
    assert table[claim] == DOES_NOT_HOLD, table[claim]
    assert others(table, claim) == {HOLDS}, {name: verdict for name, verdict in table.items() if verdict != HOLDS}
