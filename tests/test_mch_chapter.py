"""The MCH chapter on a real dataset's files: NUS-WIDE list files replace the mosaic stand-in and fill
Table 2's NUS-WIDE column, and a focus class the dataset lacks stops the chapter before any training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_chapter
from tests.formats import write_multi_label_trio

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nus_wide(tmp_path_factory) -> Path:
    return write_multi_label_trio(tmp_path_factory.mktemp("nus") / "nus-wide", n_images=400, n_classes=5, side=16)


def test_nus_wide_files_replace_the_mosaic_and_fill_their_column(tmp_path, nus_wide):
    completed = run_chapter(tmp_path / "book", "mch", "-p", "nus_wide_root", str(nus_wide), "-p", "focus_classes",
                            "[class_0, class_3]")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    out_dir = tmp_path / "book" / "book" / "executed" / "mch"
    table2 = pd.read_csv(out_dir / "table2_map.csv", header=[0, 1])
    nus_cells = table2[[column for column in table2.columns if column[0] == "nus-wide"]].iloc[:, 0]
    assert nus_cells.str.contains(r"^\d+\.\d\d \(", regex=True).all(), nus_cells.tolist()
    coco_cells = table2[[column for column in table2.columns if column[0] == "ms-coco"]].iloc[:, 0]
    assert coco_cells.str.startswith("not run").all()
    assert pd.read_csv(out_dir / "protocol_sizes.csv")["dataset"].eq("nus-wide").all()
    assert not (out_dir / "mosaic_examples.png").exists()


def test_a_focus_class_the_dataset_lacks_stops_the_chapter_before_training(tmp_path, nus_wide):
    completed = run_chapter(tmp_path / "book", "mch", "-p", "nus_wide_root", str(nus_wide))
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "focus_classes: nus-wide has no class 'Sandal', 'Bag'; its classes are class_0" in output
    assert "starting 'import matplotlib.pyplot as plt'" in output  # the setup cell, before any training
    assert "Passed unknown parameter" not in output  # the runner checked the names; papermill's parser cannot
