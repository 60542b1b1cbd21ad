"""The chapter runner on tiny throw-away books: caching, parameter checks, failures named by cell."""

import json
from pathlib import Path

import pytest

from hashkit.book import Chapter, ChapterFailed, execute_chapter, main, parse_parameters, toc_chapters

GOOD_CHAPTER = """\
# %% tags=["parameters"]
seed = 0
out_dir = "."

# %%
value = seed * 2
print(value)
"""

FAILING_CHAPTER = """\
# %% tags=["parameters"]
seed = 0
out_dir = "."

# %%
ok = 1

# %%
raise ValueError("the data went missing")
"""


def make_book(root: Path, chapters: dict[str, str]) -> Path:
    (root / "notebooks").mkdir(parents=True)
    for name, source in chapters.items():
        (root / "notebooks" / f"{name}.py").write_text(source)
    toc_entries = "\n".join(f"  - file: book/executed/{name}" for name in chapters)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: book/intro\nchapters:\n{toc_entries}\n")
    return root


def test_toc_lists_executed_chapters_in_order(tmp_path):
    make_book(tmp_path, {"second": GOOD_CHAPTER, "first": GOOD_CHAPTER})
    assert toc_chapters(tmp_path) == ["second", "first"]


def test_parameters_are_read_as_yaml():
    assert parse_parameters([["bits", "[12, 24]"], ["device", "cpu"], ["smoke", "true"], ["seed", "3"]]) == {
        "bits": [12, 24], "device": "cpu", "smoke": True, "seed": 3}


def test_a_chapter_runs_once_then_is_up_to_date_until_its_parameters_change(tmp_path):
    chapter = Chapter("good", make_book(tmp_path, {"good": GOOD_CHAPTER}))
    assert execute_chapter(chapter, {"seed": 1}, kernel="hashkit") is True
    executed = json.loads(chapter.executed_notebook.read_text())
    outputs = [output.get("text", "") for cell in executed["cells"] for output in cell.get("outputs", [])]
    assert any("2" in "".join(text) for text in outputs)
    assert execute_chapter(chapter, {"seed": 1}, kernel="hashkit") is False
    assert execute_chapter(chapter, {"seed": 2}, kernel="hashkit") is True


def test_a_failing_cell_names_the_chapter_and_the_cell_and_keeps_no_page(tmp_path):
    chapter = Chapter("broken", make_book(tmp_path, {"broken": FAILING_CHAPTER}))
    with pytest.raises(ChapterFailed, match=r"chapter 'broken' failed in cell \d+ .*ValueError: the data went missing"):
        execute_chapter(chapter, {}, kernel="hashkit")
    assert not chapter.executed_notebook.exists()
    assert chapter.executed_notebook.with_suffix(".failed.ipynb").is_file()
    assert not chapter.stamp.exists()


def test_an_unknown_parameter_is_refused_before_execution(tmp_path):
    chapter = Chapter("good", make_book(tmp_path, {"good": GOOD_CHAPTER}))
    with pytest.raises(ValueError, match="unknown parameter.*bitz.*declares: out_dir, seed"):
        execute_chapter(chapter, {"bitz": 3}, kernel="hashkit")
    assert not chapter.executed_notebook.exists()


def test_main_exits_nonzero_on_a_failing_chapter(tmp_path, capsys):
    make_book(tmp_path, {"broken": FAILING_CHAPTER})
    assert main(["--root", str(tmp_path), "--no-html"]) == 1
    assert "chapter 'broken' failed" in capsys.readouterr().err


def test_main_rejects_an_unknown_chapter(tmp_path):
    make_book(tmp_path, {"good": GOOD_CHAPTER})
    with pytest.raises(SystemExit):
        main(["--root", str(tmp_path), "--chapters", "nope", "--no-html"])
