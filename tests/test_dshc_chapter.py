"""The DSHC chapter on real datasets' files, and the bad codebook settings it refuses before any kernel starts."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import run_chapter
from tests.formats import write_cifar10, write_multi_label_trio

pytestmark = pytest.mark.slow


def test_cifar10_and_nus_wide_files_fill_table_1(tmp_path):
    cifar_root = write_cifar10(tmp_path / "cifar" / "cifar-10-batches-py", per_batch=300).parent
    # DSHC's NUS-WIDE protocol draws 2,100 queries; 600 more images train; 6 labels give 6-bit codes.
    nus_root = write_multi_label_trio(tmp_path / "data" / "nus-wide", n_images=2_700, n_classes=6)
    completed = run_chapter(tmp_path / "book", "dshc", "-p", "cifar10_root", str(cifar_root),
                            "-p", "nus_wide_root", str(nus_root))
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    out_dir = tmp_path / "book" / "book" / "executed" / "dshc"
    table1 = pd.read_csv(out_dir / "table1_map.csv", header=[0, 1], index_col=0)
    assert [column[0] for column in table1.columns] == ["cifar10 ← cifar10"] * 2 + ["nus-wide ← nus-wide"] * 2
    ours = table1[("nus-wide ← nus-wide", "this run")]
    assert ours["DSHC"].endswith("(6 bits)") and ours["DSLH"] == "not run (paper number)"
    assert ours["DPSH"].endswith("(12 bits)")
    sizes = pd.read_csv(out_dir / "protocol_sizes.csv")
    assert set(sizes["dataset"]) == {"cifar10", "nus-wide"}
    assert sizes.set_index("dataset").loc["nus-wide", "queries"] == 2_100


@pytest.mark.parametrize(("arguments", "message"), [
    (["-p", "bits", "[10, 25]"], "parameter 'bits': CPBC gives each of the 10 classes a block of H bits, so the code "
                                 "length must be a multiple of 10; got 25 (try 20 or 30)"),
    (["-p", "kbc_bits", "24"], "parameter 'kbc_bits': KBC clusters all 2^L codes, 16,777,216 at L = 24"),
    (["-p", "top_k_subclasses", "200"], "parameter 'top_k_subclasses': 200 is more than the codebook's 110 sub-classes"),
    (["-p", "table2_bits", "40"], "parameter 'table2_bits': 40 is not one of bits"),
])
def test_bad_codebook_settings_stop_the_chapter_before_any_kernel(tmp_path, arguments, message):
    completed = run_chapter(tmp_path / "book", "dshc", *arguments)
    assert completed.returncode == 2, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert message in completed.stderr + completed.stdout
    assert "executing" not in completed.stdout + completed.stderr
    assert not (tmp_path / "book" / "book" / "executed" / "dshc").exists()
