"""The BGAN chapter's bad settings, refused by name before any kernel starts."""

from __future__ import annotations

import pytest

from tests.conftest import run_chapter

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("arguments", "message"), [
    (["-p", "betas", "[5.0, 1.0]"], "betas: a continuation schedule must increase"),
    (["-p", "k2", "20000"], "k2: 20000 neighbours need more than the 4,000 training images"),
    (["-p", "generator_channels", "[8, 8, 8, 8, 8]"], "generator_channels: 5 widths mean 4 doublings, and 28 px"),
    (["-p", "lambda1", "-1"], "lambda1"),
])
def test_bad_bgan_settings_stop_the_chapter_before_any_kernel(tmp_path, arguments, message):
    completed = run_chapter(tmp_path / "book", "bgan", *arguments)
    assert completed.returncode == 2, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert message in completed.stderr + completed.stdout
    assert "executing" not in completed.stdout + completed.stderr
    assert not (tmp_path / "book" / "book" / "executed" / "bgan").exists()
