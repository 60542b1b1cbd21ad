"""The chapter runner on tiny throw-away books: typed parameters, caching, failing clean, interrupts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hashkit.book import Chapter, ChapterFailed, execute_chapter, main, parse_parameters, plan_parameters, toc_chapters
from hashkit.parameters import ParameterError

GOOD_CHAPTER = """\
# %% tags=["parameters"]
seeds: list[int] = [0]
smoke: bool = False
out_dir: str = "."

# %%
from pathlib import Path
from hashkit.parameters import check_namespace

check_namespace(globals())
Path(out_dir).mkdir(parents=True, exist_ok=True)
(Path(out_dir) / f"table_seed{seeds[0]}.csv").write_text(str(seeds[0] * 2))
print(seeds[0] * 2)
"""

FAILING_CHAPTER = GOOD_CHAPTER + """
# %%
raise ValueError("the data went missing")
"""

# Writes a table, touches a marker beside the book, then sleeps: the test interrupts it there.
SLEEPING_CHAPTER = GOOD_CHAPTER + """
# %%
import time
Path(out_dir, "partial.csv").write_text("half")
Path(os.environ["MARKER"]).touch() if (os := __import__("os")) else None
time.sleep(120)
"""

DYING_CHAPTER = GOOD_CHAPTER + """
# %%
import os, signal
os.kill(os.getpid(), signal.SIGKILL)
"""

READS_A_FILE = GOOD_CHAPTER + """
# %%
import os
from hashkit.inputs import record_input
record_input(os.environ["INPUT_FILE"])
"""

# Reads what the chapter "writer" saved, as the ledger reads the paper chapters' claims, and copies it.
READS_ANOTHER_CHAPTER = GOOD_CHAPTER + """
# %%
import os
from hashkit.inputs import record_input
written = sorted(Path(os.environ["HASHKIT_BOOK_ROOT"], "book", "executed", "writer").glob("*.csv"))
for path in written:
    record_input(path)
Path(out_dir, "seen.txt").write_text(" ".join(path.read_text() for path in written))
"""

WHERE_AM_I = GOOD_CHAPTER + """
# %%
import os
Path(out_dir, "where.txt").write_text(os.environ["HASHKIT_BOOK_ROOT"] + "\\n" + os.getcwd())
"""

TYPED_CHAPTER = """\
# %% tags=["remove-cell"]
from hashkit.parameters import CodeLengths, Count, Device, PositiveFloat, Seeds

# %% tags=["parameters"]
seeds: Seeds = [0]
bits: CodeLengths = [12, 24]  # code lengths
learning_rate: PositiveFloat = 1e-3
n_queries: Count | None = 100
device: Device = "cpu"
smoke: bool = False
out_dir: str = "."
"""


def make_book(root: Path, chapters: dict[str, str]) -> Path:
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    for name, source in chapters.items():
        (root / "notebooks" / f"{name}.py").write_text(source)
    toc_entries = "\n".join(f"  - file: book/executed/{name}" for name in chapters)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: book/intro\nchapters:\n{toc_entries}\n")
    return root


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes (and modification time folded into the key)."""
    return {f"{path.relative_to(directory)}@{path.stat().st_mtime_ns}": path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def test_toc_lists_executed_chapters_in_order(tmp_path):
    make_book(tmp_path, {"second": GOOD_CHAPTER, "first": GOOD_CHAPTER})
    assert toc_chapters(tmp_path) == ["second", "first"]


@pytest.mark.parametrize(("text", "value"), [
    ("1e-4", 1e-4), ("None", None), ("null", None), ("[1e-5, 1e-4]", [1e-5, 1e-4]), ("[12, 24]", [12, 24]),
    ("true", True), ("True", True), ("cuda", "cuda"), ("3", 3), ('{"a": 1}', {"a": 1}), ("{a: 1}", {"a": 1}),
    ("/data/cifar", "/data/cifar"),
])
def test_values_are_read_as_python_literals_else_yaml(text, value):
    assert parse_parameters([["name", text]]) == {"name": value}


def test_given_values_are_converted_to_the_declared_types_before_any_run(tmp_path):
    chapter = Chapter("typed", make_book(tmp_path, {"typed": TYPED_CHAPTER}))
    planned = plan_parameters([chapter], ["typed"], parse_parameters(
        [["learning_rate", "1e-4"], ["n_queries", "None"], ["bits", "[16, 32]"]]), smoke=False)
    assert planned == {"typed": {"learning_rate": 1e-4, "n_queries": None, "bits": [16, 32]}}
    assert type(planned["typed"]["learning_rate"]) is float


@pytest.mark.parametrize(("given", "message"), [
    ({"bits": 32}, r"parameter 'bits': expected a non-empty list of code lengths .* got 32 \(int\)"),
    ({"bits": [0, 12]}, r"parameter 'bits'.*greater than or equal to 1"),
    ({"learning_rate": "fast"}, r"parameter 'learning_rate': expected a number > 0, got 'fast'"),
    ({"learning_rate": -1.0}, r"parameter 'learning_rate'.*greater than 0"),
    ({"n_queries": 0}, r"parameter 'n_queries': expected a count .* or None, got 0"),
    ({"seeds": []}, r"parameter 'seeds'.*at least 1 item"),
    ({"device": "tpu"}, r"parameter 'device': expected 'cpu', or 'cuda'.*, got 'tpu'"),
    ({"bitz": 3}, r"unknown parameter\(s\) bitz; it declares: bits, device, learning_rate"),
])
def test_a_bad_parameter_is_refused_with_its_name_before_any_run(tmp_path, given, message):
    chapter = Chapter("typed", make_book(tmp_path, {"typed": TYPED_CHAPTER}))
    with pytest.raises(ParameterError, match=message):
        plan_parameters([chapter], ["typed"], given, smoke=False)
    assert not (tmp_path / "book").exists()


def test_the_whole_book_takes_only_book_wide_parameters_and_says_which_chapters_declare_others(tmp_path):
    root = make_book(tmp_path, {"typed": TYPED_CHAPTER, "good": GOOD_CHAPTER})
    chapters = [Chapter("typed", root), Chapter("good", root)]
    with pytest.raises(ParameterError, match=r"-p bits: not a book-wide parameter .* bits is declared by typed"):
        plan_parameters(chapters, None, {"bits": [16]}, smoke=False)
    planned = plan_parameters(chapters, None, {"seeds": [3], "device": "cpu"}, smoke=True)
    assert planned == {"typed": {"seeds": [3], "device": "cpu", "smoke": True}, "good": {"seeds": [3], "smoke": True}}


def test_a_chapter_runs_once_then_is_up_to_date_until_its_parameters_change(tmp_path):
    chapter = Chapter("good", make_book(tmp_path, {"good": GOOD_CHAPTER}))
    assert execute_chapter(chapter, {"seeds": [1]}, kernel="hashkit") is True
    executed = json.loads(chapter.executed_notebook.read_text())
    outputs = [output.get("text", "") for cell in executed["cells"] for output in cell.get("outputs", [])]
    assert any("2" in "".join(text) for text in outputs)
    assert execute_chapter(chapter, {"seeds": [1]}, kernel="hashkit") is False
    assert execute_chapter(chapter, {"seeds": [2]}, kernel="hashkit") is True
    # The earlier parameter set's table is gone: the chapter's folder holds only what this run wrote.
    assert sorted(path.name for path in chapter.out_dir.iterdir()) == ["table_seed2.csv"]
    assert not chapter.staging.exists()


def test_the_stamp_covers_paper_numbers_the_data_variable_and_the_files_read(tmp_path, monkeypatch):
    root = make_book(tmp_path, {"reads": READS_A_FILE})
    chapter = Chapter("reads", root)
    data_file = tmp_path / "images.bin"
    data_file.write_bytes(b"0123")
    monkeypatch.setenv("INPUT_FILE", str(data_file))
    assert execute_chapter(chapter, {}, kernel="hashkit") is True
    stamp = json.loads(chapter.stamp.read_text())
    assert stamp["inputs"][0]["path"] == str(data_file.resolve())
    assert stamp["seconds"] > 0  # the chapter's wall time, which make bench sets beside its budget
    assert execute_chapter(chapter, {}, kernel="hashkit") is False

    data_file.write_bytes(b"01234")  # another dataset file of the same name
    assert execute_chapter(chapter, {}, kernel="hashkit") is True
    (tmp_path / "paper_results").mkdir()
    monkeypatch.setattr("hashkit.book.PAPER_RESULTS_DIR", tmp_path / "paper_results")
    execute_chapter(chapter, {}, kernel="hashkit")
    (tmp_path / "paper_results" / "paper.csv").write_text("method,map\nA,0.5\n")
    assert execute_chapter(chapter, {}, kernel="hashkit") is True
    assert execute_chapter(chapter, {}, kernel="hashkit") is False
    monkeypatch.setenv("HASHKIT_DATA", str(tmp_path))
    assert execute_chapter(chapter, {}, kernel="hashkit") is True


def test_a_failing_cell_names_the_cell_and_leaves_the_last_good_chapter_as_it_was(tmp_path):
    root = make_book(tmp_path, {"chapter": GOOD_CHAPTER})
    chapter = Chapter("chapter", root)
    execute_chapter(chapter, {"seeds": [1]}, kernel="hashkit")
    before = snapshot(root / "book" / "executed")
    (root / "notebooks" / "chapter.py").write_text(FAILING_CHAPTER)
    with pytest.raises(ChapterFailed, match=r"chapter 'chapter' failed in cell \d+ .*ValueError: the data went missing"):
        execute_chapter(chapter, {"seeds": [2]}, kernel="hashkit")
    assert snapshot(root / "book" / "executed") == before
    assert chapter.failed_notebook.is_file() and not chapter.staging.exists()


def test_a_dead_kernel_is_a_clear_error_naming_the_cell(tmp_path):
    root = make_book(tmp_path, {"chapter": DYING_CHAPTER})
    chapter = Chapter("chapter", root)
    with pytest.raises(ChapterFailed, match=r"kernel died in cell 3 \(starting 'import os, signal'\)"):
        execute_chapter(chapter, {}, kernel="hashkit")
    assert not (root / "book" / "executed").exists() and not chapter.staging.exists()


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_chapter_leaves_book_executed_unchanged(tmp_path, signal_number):
    root = make_book(tmp_path, {"chapter": GOOD_CHAPTER})
    assert main(["--root", str(root), "--no-html", "--chapters", "chapter", "-p", "seeds", "[1]"]) == 0
    before = snapshot(root / "book" / "executed")
    (root / "notebooks" / "chapter.py").write_text(SLEEPING_CHAPTER)
    marker = tmp_path / "reached-the-sleep"
    runner = subprocess.Popen([sys.executable, "-m", "hashkit.book", "--root", str(root), "--no-html",
                               "--chapters", "chapter", "-p", "seeds", "[2]"],
                              env={**os.environ, "MARKER": str(marker)}, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while not marker.exists() and runner.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marker.exists(), "the chapter never reached its sleeping cell"
    runner.send_signal(signal_number)
    _, stderr = runner.communicate(timeout=60)
    assert runner.returncode == 130
    assert "chapter 'chapter': interrupted in cell 3" in stderr
    assert snapshot(root / "book" / "executed") == before
    assert not Chapter("chapter", root).staging.exists()


def test_main_exits_nonzero_on_a_failing_chapter(tmp_path, capsys):
    make_book(tmp_path, {"broken": FAILING_CHAPTER})
    assert main(["--root", str(tmp_path), "--no-html"]) == 1
    assert "chapter 'broken' failed" in capsys.readouterr().err


def test_main_refuses_a_bad_parameter_with_status_2_and_runs_nothing(tmp_path, capsys):
    make_book(tmp_path, {"typed": TYPED_CHAPTER})
    assert main(["--root", str(tmp_path), "--no-html", "--chapters", "typed", "-p", "bits", "32"]) == 2
    assert "parameter 'bits'" in capsys.readouterr().err
    assert not (tmp_path / "book").exists() and not (tmp_path / "_build").exists()


def test_main_rejects_an_unknown_chapter(tmp_path):
    make_book(tmp_path, {"good": GOOD_CHAPTER})
    with pytest.raises(SystemExit):
        main(["--root", str(tmp_path), "--chapters", "nope", "--no-html"])


def test_the_page_folds_the_parameters_cell_and_lists_the_values_given_beside_their_defaults(tmp_path):
    chapter = Chapter("typed", make_book(tmp_path, {"typed": TYPED_CHAPTER}))
    execute_chapter(chapter, {"bits": [16, 32], "learning_rate": 1e-4}, kernel="hashkit")
    cells = json.loads(chapter.executed_notebook.read_text())["cells"]
    tags = {index: cell["metadata"].get("tags", []) for index, cell in enumerate(cells)}
    parameters = next(index for index, cell_tags in tags.items() if "parameters" in cell_tags)
    injected = next(index for index, cell_tags in tags.items() if "injected-parameters" in cell_tags)
    assert "hide-input" in tags[parameters] and "remove-cell" in tags[injected]
    table = "".join(cells[injected + 1]["source"])
    assert table.startswith("**Parameters of this run.**")
    assert "| `bits` | `[16, 32]` | `[12, 24]` | code lengths |" in table
    assert "| `learning_rate` | `0.0001` | `0.001` |" in table and "out_dir" not in table


def test_the_kernel_is_told_the_book_root_its_working_directory_being_the_staging_folder(tmp_path):
    chapter = Chapter("where", make_book(tmp_path, {"where": WHERE_AM_I}))
    execute_chapter(chapter, {}, kernel="hashkit")
    book_root, working_directory = (chapter.out_dir / "where.txt").read_text().splitlines()
    assert book_root == str(tmp_path)
    assert Path(working_directory) == chapter.staging


def test_a_chapter_reading_another_chapters_tables_reruns_when_they_are_rewritten_and_only_then(tmp_path):
    root = make_book(tmp_path, {"writer": GOOD_CHAPTER, "reader": READS_ANOTHER_CHAPTER, "other": GOOD_CHAPTER})
    writer, reader, other = (Chapter(name, root) for name in ("writer", "reader", "other"))
    assert main(["--root", str(root), "--no-html"]) == 0
    assert (reader.out_dir / "seen.txt").read_text() == "0"

    def runs() -> dict[str, int]:
        return {chapter.name: chapter.stamp.stat().st_mtime_ns for chapter in (writer, reader, other)}

    before = runs()
    assert main(["--root", str(root), "--no-html", "--chapters", "writer"]) == 0  # the writer is up to date
    assert runs() == before

    # The writer reruns and rewrites its table: the reader follows in the same run, the other chapter does not.
    assert main(["--root", str(root), "--no-html", "--chapters", "writer", "-p", "seeds", "[4]"]) == 0
    after = runs()
    assert after["writer"] != before["writer"] and after["reader"] != before["reader"]
    assert after["other"] == before["other"]
    assert (reader.out_dir / "seen.txt").read_text() == "8"

    # Rewritten outside this command (an earlier run that stopped, say): the next run of any chapter catches up.
    execute_chapter(writer, {"seeds": [5]}, kernel="hashkit")
    assert main(["--root", str(root), "--no-html", "--chapters", "other"]) == 0
    assert (reader.out_dir / "seen.txt").read_text() == "10"
    assert json.loads(reader.stamp.read_text())["parameters"] == {"out_dir": "book/executed/reader"}  # its defaults
