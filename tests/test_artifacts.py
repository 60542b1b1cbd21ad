import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from hashkit.artifacts import atomic_path, save_figure, save_table
from hashkit.plots import image_grid


def test_atomic_path_replaces_on_success_and_leaves_the_old_file_on_error(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half written")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_path(target) as temporary:
        temporary.write_text("new")
    assert target.read_text() == "new"
    assert list(tmp_path.iterdir()) == [target]
    assert target.stat().st_mode & 0o777 == 0o644, "artifacts are readable by everyone, as the book is"


def test_tables_and_figures_are_byte_identical_when_written_twice(tmp_path):
    table = pd.DataFrame({"bits": [12, 24], "mAP": [0.123456789, 0.5]})
    images = np.random.default_rng(0).integers(0, 255, size=(4, 28, 28), dtype=np.uint8)
    for run in ("first", "second"):
        save_table(table, tmp_path / run, "table")
        figure = image_grid(images, ["a", "b", "c", "d"], n_columns=2,
                            boxes=np.array([[[0, 0, 14, 14], [-1, -1, -1, -1]]] * 4))
        save_figure(figure, tmp_path / run, "grid")
        plt.close(figure)
    for name in ("table.csv", "grid.png", "grid.svg"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name
    assert (tmp_path / "first" / "table.csv").read_text().splitlines() == ["bits,mAP", "12,0.123457", "24,0.5"]


def test_image_grid_needs_one_caption_per_image():
    with pytest.raises(ValueError, match="titles"):
        image_grid(np.zeros((3, 8, 8), np.uint8), ["only one"], n_columns=3)
