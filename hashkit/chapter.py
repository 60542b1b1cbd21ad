"""What every paper chapter does first: its parameters checked (the smoke sizes applied when asked),
the plot style set, and the clock of its sections started."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import seaborn as sns

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
