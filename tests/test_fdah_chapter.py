"""The FDAH chapter's paper-scale parameters on format fixtures: CIFAR-10 files fill their columns,
NUS-WIDE list files replace the mosaic stand-in, and a missing file, weight or GPU stops the run
before any kernel starts."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tests.conftest import run_chapter
from tests.formats import write_cifar10, write_multi_label_trio

pytestmark = pytest.mark.slow


def test_cifar10_files_given_fill_the_cifar10_columns_figure_and_table_2(tmp_path):
    cifar_root = write_cifar10(tmp_path / "cifar" / "cifar-10-batches-py", per_batch=400).parent
    completed = run_chapter(tmp_path / "book", "fdah", "-p", "cifar10_root", str(cifar_root))
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    out_dir = tmp_path / "book" / "book" / "executed" / "fdah"
    table1 = pd.read_csv(out_dir / "table1_map.csv", header=[0, 1])
    cifar_cells = table1[[column for column in table1.columns if column[0] == "cifar10"]].iloc[:, 0]
    assert cifar_cells.str.contains(r"^\d+\.\d\d \(", regex=True).all(), cifar_cells.tolist()
    sizes = pd.read_csv(out_dir / "protocol_sizes.csv")
    on_cifar = sizes[sizes["dataset"] == "cifar10"]
    assert set(on_cifar["used for"]) == {"Table 1, Figs. 2–4", "Table 2"} and (on_cifar["queries"] > 0).all()
    assert (out_dir / "radius_metrics_cifar10.png").is_file()
    table2 = pd.read_csv(out_dir / "table2_map.csv", header=[0, 1])
    assert any(column[0] == "cifar10" for column in table2.columns)


def test_nus_wide_list_files_given_replace_the_mosaic_stand_in(tmp_path):
    # 3,300 images: FDAH's 2,100 NUS-WIDE queries, and 1,200 training items for the smoke sizes.
    nus_root = write_multi_label_trio(tmp_path / "data" / "nus-wide", n_images=3_300).parent
    completed = run_chapter(tmp_path / "book", "fdah", "-p", "nus_wide_root", str(nus_root),
                            "-p", "nus_wide_options", "{image_size: [16, 16]}")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    out_dir = tmp_path / "book" / "book" / "executed" / "fdah"
    table1 = pd.read_csv(out_dir / "table1_map.csv", header=[0, 1])
    nus_cells = table1[[column for column in table1.columns if column[0] == "nus-wide"]].iloc[:, 0]
    assert nus_cells.str.contains(r"^\d+\.\d\d \(", regex=True).all(), nus_cells.tolist()
    sizes = pd.read_csv(out_dir / "protocol_sizes.csv").set_index("dataset")
    assert sizes.loc["nus-wide", "queries"] == 150 and sizes.loc["nus-wide", "training set"] == 1_200


def test_several_seeds_give_mean_and_standard_deviation_in_every_table(tmp_path):
    completed = run_chapter(tmp_path / "book", "fdah", "-p", "seeds", "[0, 1]")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    out_dir = tmp_path / "book" / "book" / "executed" / "fdah"
    table1 = pd.read_csv(out_dir / "table1_map.csv", header=[0, 1])
    fashion_cells = table1[[column for column in table1.columns if column[0] == "fashion-mnist"]].iloc[:, 0]
    assert fashion_cells.str.contains("±").all(), fashion_cells.tolist()
    runs = pd.read_csv(out_dir / "table1_runs.csv")
    assert sorted(runs["seed"].unique()) == [0, 1]
    assert sorted(pd.read_csv(out_dir / "fig4_sensitivity.csv")["seed"].unique()) == [0, 1]


@pytest.mark.parametrize("parameter, value, message", [
    ("cifar10_root", "{tmp}/no-cifar-here", "parameter 'cifar10_root': expected an existing folder or none"),
    ("pretrained_weights", "{tmp}/missing-weights.pth", "parameter 'pretrained_weights': expected an existing weights"),
    ("device", "cuda", "parameter 'device'"),
    ("backbone", "cnn-f", "parameter 'backbone_options': backbone 'cnn-f' takes no options"),
])
def test_a_missing_file_weight_or_gpu_stops_the_chapter_before_any_kernel(tmp_path, parameter, value, message):
    if parameter == "device" and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    arguments = ["-p", parameter, value.format(tmp=tmp_path)]
    if parameter == "pretrained_weights":
        arguments += ["-p", "backbone", "alexnet", "-p", "backbone_options", "{}"]
    completed = run_chapter(tmp_path / "book", "fdah", *arguments)
    assert completed.returncode == 2
    assert message in completed.stderr.lower(), completed.stderr[-3000:]
    assert "executing" not in completed.stdout, "a chapter started before the parameters were checked"
    assert not (tmp_path / "book" / "book" / "executed").exists()
