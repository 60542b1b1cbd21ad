"""What every paper chapter does first and last: its parameters checked (the smoke sizes applied
when asked), the plot style set and the clock of its sections started; its claims ledger saved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import seaborn as sns

from hashkit.artifacts import save_table
from hashkit.claims import Claim, claims_table
from hashkit.parameters import check_namespace, parameters_of
from hashkit.runtime import SectionClock


def start_chapter(namespace: dict[str, Any], chapter: str,
                  smoke_values: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], Path, SectionClock]:
    """Check the notebook's parameters in ``namespace`` (its ``globals()``) as ``chapter``
    declares them, also when papermill runs it alone; with ``smoke`` set, replace them by
    ``smoke_values``. Returns the parameters, ``out_dir`` as a path, and a new section clock."""
    check_namespace(namespace, chapter)
    if namespace.get("smoke") and smoke_values:
        namespace.update(smoke_values)
    sns.set_theme(style="whitegrid", context="notebook")
    return parameters_of(namespace), Path(namespace["out_dir"]), SectionClock()


def save_ledger(checked_claims: Iterable[Claim], out_dir: Path) -> pd.DataFrame:
    """A chapter's claims saved as ``claims.csv`` and, the wall-clock ones apart, ``timing_claims.csv``
    (timings move between reruns, the rest must not); returns the whole ledger to show."""
    checked_claims = list(checked_claims)
    save_table(claims_table(claim for claim in checked_claims if not claim.timed), out_dir, "claims")
    save_table(claims_table(claim for claim in checked_claims if claim.timed), out_dir, "timing_claims")
    return claims_table(checked_claims)
