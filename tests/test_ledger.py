"""The reproduction ledger read from a tiny fake book: two paper chapters' saved claims and deviations,
a chapter without claims, the counts worked out by hand, the links, the inputs it records."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from docutils.nodes import make_id

from hashkit.inputs import INPUTS_LOG_ENV_VAR, read_log
from hashkit.ledger import (BOOK_ROOT_ENV_VAR, CLAIMS_ANCHOR, CLAIMS_HEADING, book_root, claim_chapters, count_verdicts,
                            ledger_view, read_deviations, read_ledger)

REPO = Path(__file__).resolve().parent.parent
WITH_CLAIMS = f"# %% [markdown]\n# # A paper\n\n# %% [markdown]\n# ## {CLAIMS_HEADING}\n"
WITHOUT_CLAIMS = "# %% [markdown]\n# # Foundations\n\n# %% [markdown]\n# ## The claims of nobody\n"
COLUMNS = ["claim", "source", "evidence", "verdict"]
ALPHA_CLAIMS = [["A beats B", "Table 1", "0.5 vs 0.4", "holds"],
                ["A beats C", "Table 1", "0.5 vs 0.6", "does not hold"],
                ["A beats D", "Fig. 2", "0.50 vs 0.49 (noise ±0.02)", "within noise at 3 seed(s)"]]
ALPHA_TIMING = [["A trains faster than B", "Table 2", "B / A 3.1", "holds"]]
BETA_CLAIMS = [["E works on CIFAR-10", "§4", "not measured in this run: cifar10", "not testable here"],
               ["E <beats> F & G", "Table 3", "0.7 vs 0.6", "holds"],
               ["E is stable", "Fig. 5", "spread 0.01", "holds"]]


def write_csv(path: Path, rows: list[list[str]], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A book of a foundations chapter (no claims), two paper chapters and the ledger itself; the paper
    chapter beta has no wall-clock claims and, like MCH, writes no timing table."""
    chapters = {"foundations": WITHOUT_CLAIMS, "alpha": WITH_CLAIMS, "beta": WITH_CLAIMS, "ledger": "# # Ledger\n"}
    (tmp_path / "notebooks").mkdir()
    for name, source in chapters.items():
        (tmp_path / "notebooks" / f"{name}.py").write_text(source)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n"
                                       + "".join(f"  - chapters:\n      - file: book/executed/{name}\n"
                                                 for name in chapters))
    executed = tmp_path / "book" / "executed"
    (executed / "foundations").mkdir(parents=True)
    write_csv(executed / "alpha" / "claims.csv", ALPHA_CLAIMS, COLUMNS)
    write_csv(executed / "alpha" / "timing_claims.csv", ALPHA_TIMING, COLUMNS)
    write_csv(executed / "beta" / "claims.csv", BETA_CLAIMS, COLUMNS)
    deviations = ["aspect", "paper", "this run"]
    write_csv(executed / "alpha" / "deviations.csv", [["backbone", "VGG-19", "small-cnn"], ["epochs", "150", "5"]],
              deviations)
    write_csv(executed / "beta" / "deviations.csv", [["data", "NUS-WIDE", "None"]], deviations)
    return tmp_path


def test_the_ledger_holds_every_claim_of_every_paper_chapter_with_its_timing_and_link(book):
    ledger = read_ledger(book)
    alpha_link, beta_link = "alpha.html#the-paper-s-claims-checked", "beta.html#the-paper-s-claims-checked"
    expected = ([["alpha", "ALPHA", source, claim, evidence, verdict, False, alpha_link]
                 for claim, source, evidence, verdict in ALPHA_CLAIMS]
                + [["alpha", "ALPHA", source, claim, evidence, verdict, True, alpha_link]
                   for claim, source, evidence, verdict in ALPHA_TIMING]
                + [["beta", "BETA", source, claim, evidence, verdict, False, beta_link]
                   for claim, source, evidence, verdict in BETA_CLAIMS])
    assert ledger.columns.tolist() == ["chapter", "paper", "source", "claim", "evidence", "verdict", "timed", "link"]
    assert ledger.values.tolist() == expected


def test_the_counts_match_a_hand_count_and_a_within_noise_verdict_counts_as_within_noise(book):
    ledger = read_ledger(book)
    columns = ["paper", "holds", "does not hold", "within noise", "not testable here", "total"]
    every = count_verdicts(ledger)
    assert every.columns.tolist() == columns
    assert every.values.tolist() == [["ALPHA", 2, 1, 1, 0, 4], ["BETA", 2, 0, 0, 1, 3], ["all papers", 4, 1, 1, 1, 7]]
    repeated = count_verdicts(ledger[~ledger["timed"]])
    assert repeated.values.tolist() == [["ALPHA", 1, 1, 1, 0, 3], ["BETA", 2, 0, 0, 1, 3],
                                        ["all papers", 3, 1, 1, 1, 6]]
    timed = count_verdicts(ledger[ledger["timed"]])
    assert timed.values.tolist() == [["ALPHA", 1, 0, 0, 0, 1], ["all papers", 1, 0, 0, 0, 1]]


def test_the_deviations_of_every_paper_chapter_in_one_table(book):
    assert read_deviations(book).values.tolist() == [["alpha", "backbone", "VGG-19", "small-cnn"],
                                                     ["alpha", "epochs", "150", "5"],
                                                     ["beta", "data", "NUS-WIDE", "None"]]


def test_only_chapters_with_a_claims_section_are_read(book):
    assert [chapter.name for chapter in claim_chapters(book)] == ["alpha", "beta"]


@pytest.mark.parametrize("missing", ["claims", "deviations"])
def test_a_paper_chapter_that_has_not_saved_its_tables_is_a_clear_error(book, missing):
    (book / "book" / "executed" / "beta" / f"{missing}.csv").unlink()
    reader = read_ledger if missing == "claims" else read_deviations
    with pytest.raises(FileNotFoundError, match=rf"beta/{missing}\.csv: chapter 'beta' has not saved its {missing} "
                                                r"table; run `make book CHAPTERS=beta` first"):
        reader(book)


def test_a_verdict_no_chapter_could_have_computed_is_refused_naming_the_file(book):
    write_csv(book / "book" / "executed" / "beta" / "claims.csv", [["E works", "§4", "typed in", "mostly"]], COLUMNS)
    with pytest.raises(ValueError, match=r"executed/beta: chapter 'beta', claim 'E works': verdict: .* got 'mostly'"):
        read_ledger(book)


def test_every_file_read_is_recorded_for_the_runners_stamp(book, tmp_path_factory, monkeypatch):
    log = tmp_path_factory.mktemp("log") / "inputs.jsonl"
    monkeypatch.setenv(INPUTS_LOG_ENV_VAR, str(log))
    read_ledger(book)
    read_deviations(book)
    executed, notebooks = book / "book" / "executed", book / "notebooks"
    assert [record["path"] for record in read_log(log)] == sorted(str(path.resolve()) for path in [
        *(executed / "alpha" / f"{name}.csv" for name in ("claims", "timing_claims", "deviations")),
        *(executed / "beta" / f"{name}.csv" for name in ("claims", "deviations")),
        *(notebooks / f"{name}.py" for name in ("foundations", "alpha", "beta", "ledger"))])


def test_the_book_root_comes_from_the_runner_else_is_this_repository(book, monkeypatch):
    monkeypatch.setenv(BOOK_ROOT_ENV_VAR, str(book))
    assert book_root() == book
    assert read_ledger()["chapter"].unique().tolist() == ["alpha", "beta"]
    monkeypatch.delenv(BOOK_ROOT_ENV_VAR)
    assert book_root() == REPO


def test_the_page_shows_the_link_as_a_link_and_every_text_escaped(book):
    html = ledger_view(read_ledger(book)).to_html()
    assert re.search(r'<td[^>]*><a href="beta\.html#the-paper-s-claims-checked">beta: claims</a></td>', html)
    assert "E &lt;beats&gt; F &amp; G" in html and "<beats>" not in html
    assert re.search(r"<td[^>]*>wall-clock</td>", html)


def test_the_anchor_is_the_id_jupyter_book_gives_the_claims_heading_of_every_paper_chapter():
    assert CLAIMS_ANCHOR == make_id(CLAIMS_HEADING)
    assert {"fdah", "mch", "dshc", "bgan", "dsah"} <= {chapter.name for chapter in claim_chapters(REPO)}
