"""The papers' published numbers (``data/paper_results/``) and tables that put ours beside them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hashkit.data.locate import REPO_DATA_DIR
from hashkit.experiments.runs import mean_std_text

PAPER_RESULTS_DIR = REPO_DATA_DIR / "paper_results"
NOT_RUN = "not run"


def paper_results(name: str, directory: str | Path | None = None) -> pd.DataFrame:
    """The transcribed table ``name`` (e.g. ``"fdah_table1"``) as a long table, one row per cell."""
    path = Path(directory or PAPER_RESULTS_DIR) / f"{name}.csv"
    if not path.is_file():
        available = sorted(file.stem for file in path.parent.glob("*.csv"))
        raise FileNotFoundError(f"name: no transcribed table {path}; available: {', '.join(available) or 'none'}")
    return pd.read_csv(path)


def beside_paper(ours: pd.DataFrame, paper: pd.DataFrame, value: str, paper_value: str,
                 columns: dict[str, str | None], methods: list[str], scale: float = 100.0, *, digits: int = 2,
                 paper_names: dict[str, str] | None = None) -> pd.DataFrame:
    """A table with a row per method and a column per (paper dataset, bits): "ours (paper)".

    ``ours`` is a :func:`~hashkit.experiments.runs.summarise` table (columns ``method``,
    ``dataset``, ``bits``, ``<value>_mean``, ``<value>_std``, ``seeds``); ``paper`` a
    :func:`paper_results` table with the column ``paper_value``. ``columns`` maps each paper dataset
    to the dataset of ours that stands for it, or ``None`` when it was not run: those cells read
    "not run (paper)". Our numbers are multiplied by ``scale`` (mAP as a percentage, as the
    papers print it); both are written with ``digits`` decimals. ``paper_names`` maps a method of
    ours to the paper's row it stands for (BGAN's "ITQ+VGG" for ITQ on our learned features).
    """
    ours_by_cell = ours.set_index(["method", "dataset", "bits"])
    paper_by_cell = paper.set_index(["method", "dataset", "bits"])[paper_value]
    bits = sorted(paper["bits"].unique())
    table = {}
    for paper_dataset, our_dataset in columns.items():
        heading = paper_dataset if our_dataset in (None, paper_dataset) else f"{paper_dataset} ← {our_dataset}"
        for n_bits in bits:
            cells = []
            for method in methods:
                published = paper_by_cell.get(((paper_names or {}).get(method, method), paper_dataset, n_bits))
                published_text = "—" if published is None or pd.isna(published) else f"{published:.{digits}f}"
                key = (method, our_dataset, n_bits)
                if our_dataset is None or key not in ours_by_cell.index:
                    cells.append(f"{NOT_RUN} ({published_text})")
                    continue
                row = ours_by_cell.loc[key]
                mine = mean_std_text(row[f"{value}_mean"], row[f"{value}_std"], int(row["seeds"]), scale, digits)
                cells.append(f"{mine} ({published_text})")
            table[(heading, f"{n_bits} bits")] = cells
    result = pd.DataFrame(table, index=pd.Index(methods, name="method"))
    result.columns = pd.MultiIndex.from_tuples(result.columns)
    return result
