"""The DSAH chapter's bad settings (the issue's k1 or k2 ≥ the training items, τ ≤ 0, R < 1), refused by
name before any kernel starts, and nothing written. The runner checks the parameters as given, before
smoke mode shrinks the sizes in the kernel: the default single-label training set is 10 × 200 images."""

from __future__ import annotations

import pytest

from tests.conftest import run_chapter

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("arguments", "message"), [
    (["-p", "k1", "2000"], "k1: 2000 neighbours need more than the 2,000 images of the single-label training set"),
    (["-p", "k2", "1500", "-p", "train_per_class", "100"],
     "k2: 1500 neighbours need more than the 1,000 images of the single-label training set"),
    (["-p", "k1", "1000"], "k1: 1000 neighbours need more than the 1,000 images of the multi-label training set"),
    (["-p", "tau", "0"], "tau"),
    (["-p", "tau_grid", "[1.0, -0.1]"], "tau_grid"),
    (["-p", "rounds", "0"], "rounds"),
])
def test_bad_dsah_settings_stop_the_chapter_before_any_kernel(tmp_path, arguments, message):
    completed = run_chapter(tmp_path / "book", "dsah", *arguments)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 2, output[-4000:]
    assert message in output
    assert "executing" not in output
    assert not (tmp_path / "book" / "book" / "executed" / "dsah").exists()
