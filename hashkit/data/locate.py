"""Where datasets are looked for on disk, in one order for every loader.

1. an explicit ``data_root`` argument,
2. the ``HASHKIT_DATA`` environment variable,
3. the repository's ``data/`` directory (beside the ``hashkit`` package),
4. a system directory, where one exists (Fashion-MNIST's Debian package).

For each root both the root itself and ``root/<dataset dir>`` are tried, so ``data_root`` may
point at the dataset's own directory or at a directory holding several datasets.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV_VAR = "HASHKIT_DATA"
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def candidate_dirs(
    dataset_dir: str, data_root: str | os.PathLike | None, system_dir: Path | None = None
) -> list[Path]:
    """Directories to search for a dataset whose conventional directory name is ``dataset_dir``.

    Ordered by precedence, without duplicates.
    """
    roots: list[Path] = []
    if data_root is not None:
        roots.append(Path(data_root).expanduser())
    if os.environ.get(DATA_ENV_VAR):
        roots.append(Path(os.environ[DATA_ENV_VAR]).expanduser())
    candidates = [place for root in roots for place in (root, root / dataset_dir)]
    candidates.append(REPO_DATA_DIR / dataset_dir)
    if system_dir is not None:
        candidates.append(system_dir)
    return list(dict.fromkeys(candidates))


def find_dir_with(what: str, file_names: tuple[str, ...], candidates: list[Path], ways: list[str]) -> Path:
    """The first candidate holding every one of ``file_names``.

    When none does, one ``FileNotFoundError`` names ``what`` was looked for, every place looked
    and each of ``ways`` to provide it. A candidate holding only some of the files is an error
    too: it is almost surely an incomplete copy, and moving on to the next place would hide that.
    """
    for place in candidates:
        present = [name for name in file_names if (place / name).is_file()]
        if len(present) == len(file_names):
            return place
        if present:
            missing = [name for name in file_names if name not in present]
            raise FileNotFoundError(f"{place}: incomplete copy, missing {', '.join(missing)}")
    looked = "\n".join(f"  - {place}" for place in candidates)
    advice = "\n".join(f"  - {way}" for way in ways)
    raise FileNotFoundError(
        f"{what} not found: none of these directories holds {', '.join(file_names)}:\n{looked}\n"
        f"Provide it in any one of these ways:\n{advice}"
    )
