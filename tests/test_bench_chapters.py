"""``make bench``'s chapter rows: each chapter's last wall time against its 20-minute budget and its
section clock, read from what the runner and the chapter saved; smoke and missing runs said as such."""

from __future__ import annotations

import json
import math

import pandas as pd

from benchmarks.bench_chapters import BUDGET_SECONDS, chapter_rows


def _stamp(root, name: str, **stamp) -> None:
    executed = root / "book" / "executed"
    (executed / name).mkdir(parents=True)
    (executed / f"{name}.stamp.json").write_text(json.dumps(stamp))


def test_a_chapter_over_its_budget_misses_it_and_lists_its_sections(tmp_path):
    _stamp(tmp_path, "slow", parameters={"out_dir": "book/executed/slow"}, seconds=BUDGET_SECONDS + 1)
    pd.DataFrame({"section": ["Table 1", "total"], "seconds": [1000.5, 1190.0]}).to_csv(
        tmp_path / "book" / "executed" / "slow" / "timing_sections.csv", index=False)
    rows = chapter_rows(tmp_path, "slow")
    assert rows[0]["value"] == BUDGET_SECONDS + 1 and rows[0]["met"] is False
    assert [(r["measure"], r["value"]) for r in rows[1:]] == [("section: Table 1", 1000.5), ("section: total", 1190.0)]


def test_a_chapter_within_its_budget_meets_it(tmp_path):
    _stamp(tmp_path, "quick", parameters={}, seconds=600.0)
    (rows,) = chapter_rows(tmp_path, "quick")  # no section clock saved: the wall time alone
    assert rows["met"] is True


def test_smoke_and_missing_runs_are_reported_not_timed(tmp_path):
    _stamp(tmp_path, "smoked", parameters={"smoke": True}, seconds=50.0)
    (smoked,) = chapter_rows(tmp_path, "smoked")
    (never,) = chapter_rows(tmp_path, "absent")
    assert "smoke" in smoked["measure"] and math.isnan(smoked["value"]) and smoked["met"] is None
    assert "never executed" in never["measure"] and never["met"] is None
