"""Which files a chapter's run read: the dataset and weights files behind its numbers.

The runner (:mod:`hashkit.book`) points ``$HASHKIT_INPUTS_LOG`` at a file before a chapter's
kernel starts; every loader that opens a dataset or weights file calls :func:`record_input`,
which appends the file's path, size and modification time there. The chapter's up-to-date stamp
keeps that list, so replacing a dataset file makes the chapter run again (:func:`unchanged`).
Outside a runner the variable is unset and :func:`record_input` does nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

INPUTS_LOG_ENV_VAR = "HASHKIT_INPUTS_LOG"


def file_identity(path: str | os.PathLike) -> dict[str, object]:
    """Absolute path, size in bytes and modification time (ns) of ``path``."""
    resolved = Path(path).resolve()
    status = resolved.stat()
    return {"path": str(resolved), "size": status.st_size, "mtime_ns": status.st_mtime_ns}


def record_input(path: str | os.PathLike) -> None:
    """Note that the running chapter read ``path`` (nothing when no runner asked for the log)."""
    log = os.environ.get(INPUTS_LOG_ENV_VAR)
    if log:
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(file_identity(path), sort_keys=True) + "\n")


def read_log(log: Path) -> list[dict[str, object]]:
    """The distinct files a log holds, sorted by path."""
    if not log.is_file():
        return []
    records = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        records[record["path"]] = record
    return [records[path] for path in sorted(records)]


def unchanged(records: Iterable[dict[str, object]]) -> bool:
    """Whether every recorded file is still there with the same size and modification time."""
    for record in records:
        path = Path(str(record["path"]))
        if not path.is_file() or file_identity(path) != record:
            return False
    return True
