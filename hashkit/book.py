"""Execute the book's chapters with papermill, then build the HTML with Jupyter Book.

    python -m hashkit.book                          # every chapter of _toc.yml, then the HTML
    python -m hashkit.book --chapters fdah -p bits "[16, 32]" -p device cuda
    python -m hashkit.book --smoke --no-html        # every chapter with its small smoke settings
    python -m hashkit.book --chapters fdah --list-parameters

Papermill is the only executor (``_config.yml`` sets ``execute_notebooks: off``). Chapters are
jupytext py:percent files in ``notebooks/``; the executed notebook, its tables (CSV) and its figures
(PNG, SVG) land in ``book/executed/``.

Parameters (:mod:`hashkit.parameters`): every chapter declares the type of each of its parameters
in its parameters cell; ``-p`` values are converted to those types and checked, for every chapter
that will run, before the first kernel starts. Without ``--chapters``, only the book-wide
parameters (:data:`~hashkit.parameters.BOOK_WIDE`) may be given.

Failing clean: a chapter runs in a staging folder (``_build/staging/<name>``, also the kernel's
working directory) and its notebook, tables and figures replace the last good ones only when
every cell succeeded. A failing cell, a dead kernel, Ctrl-C or SIGTERM leave ``book/executed/``
as it was; the notebook with the traceback goes to ``_build/failed/<name>.ipynb``.

A chapter is up to date, and not executed again, while its notebook, parameters, ``hashkit``
sources, dependency lock, ``data/paper_results/*.csv``, ``$HASHKIT_DATA`` and the files it read
(:mod:`hashkit.inputs`: datasets, weights, other chapters' tables) are unchanged since its last
successful run.

Which chapters run: those named by ``--chapters`` (all, without it); those never executed, when the
HTML is built, since the book needs every page; and those whose last good run read a file that has
changed since or that a chapter running before them rewrites (:func:`reads_rewritten_files`). The
last are how the reproduction ledger, which reads every paper chapter's claims, follows a chapter
that reruns. Chapters not named run with their default parameters (their smoke ones under
``--smoke``). A kernel finds its book's root in ``$HASHKIT_BOOK_ROOT``, since its working directory
is the staging folder.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hashkit import inputs
from hashkit.data.locate import DATA_ENV_VAR, REPO_DATA_DIR
from hashkit.parameters import (
    BOOK_WIDE,
    Declared,
    ParameterError,
    chapter_declarations,
    check_parameters,
    describe,
    read_value,
)

EXECUTED_DIR = Path("book") / "executed"
NOTEBOOK_DIR = Path("notebooks")
STAGING_DIR = Path("_build") / "staging"
FAILED_DIR = Path("_build") / "failed"
PAPER_RESULTS_DIR = REPO_DATA_DIR / "paper_results"  # where the chapters read the papers' numbers
BOOK_ROOT_ENV_VAR = "HASHKIT_BOOK_ROOT"  # the root of the book a chapter's kernel runs for


class ChapterFailed(RuntimeError):
    """A chapter did not finish (a cell raised, its kernel died, or it was interrupted); the message says where."""

    def __init__(self, message: str, interrupted: bool = False) -> None:
        super().__init__(message)
        self.interrupted = interrupted


@dataclass(frozen=True)
class Chapter:
    """One chapter: its jupytext source and where its executed outputs go, under a book root."""

    name: str
    root: Path

    @property
    def source(self) -> Path:
        return self.root / NOTEBOOK_DIR / f"{self.name}.py"

    @property
    def out_dir_relative(self) -> Path:
        """Where the notebook writes, relative to its working directory (the page names no machine path)."""
        return EXECUTED_DIR / self.name

    @property
    def executed_notebook(self) -> Path:
        return self.root / EXECUTED_DIR / f"{self.name}.ipynb"

    @property
    def out_dir(self) -> Path:
        return self.root / self.out_dir_relative

    @property
    def stamp(self) -> Path:
        return self.root / EXECUTED_DIR / f"{self.name}.stamp.json"

    @property
    def staging(self) -> Path:
        return self.root / STAGING_DIR / self.name

    @property
    def failed_notebook(self) -> Path:
        return self.root / FAILED_DIR / f"{self.name}.ipynb"

    def notebook(self) -> Any:
        """The jupytext source as an ``nbformat`` notebook."""
        import jupytext

        if not self.source.is_file():
            raise FileNotFoundError(f"chapter {self.name!r}: notebook source {self.source} does not exist")
        return jupytext.read(self.source)

    def declarations(self) -> dict[str, Declared]:
        return chapter_declarations(self.notebook(), str(self.source.relative_to(self.root)))


def toc_chapters(root: Path) -> list[str]:
    """Names of the executed chapters that ``_toc.yml`` lists, in book order."""
    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise FileNotFoundError(f"{toc_path}: the book's table of contents is missing")
    prefix = EXECUTED_DIR.as_posix() + "/"

    def walk(node: object) -> list[str]:
        if isinstance(node, dict):
            found = []
            file = node.get("file")
            if isinstance(file, str) and file.startswith(prefix):
                found.append(file[len(prefix):])
            for value in node.values():
                found.extend(walk(value))
            return found
        if isinstance(node, list):
            return [name for item in node for name in walk(item)]
        return []

    return walk(yaml.safe_load(toc_path.read_text()))


def parse_parameters(pairs: Sequence[Sequence[str]]) -> dict[str, object]:
    """``-p name value`` pairs to a dict, each value read by :func:`hashkit.parameters.read_value`."""
    return {name: read_value(value) for name, value in pairs}


def plan_parameters(chapters: Sequence[Chapter], selected: Sequence[str] | None, given: Mapping[str, object],
                    smoke: bool) -> dict[str, dict[str, object]]:
    """The checked parameters of every chapter that will run; all errors before any kernel starts.

    With ``--chapters`` (``selected``) each selected chapter takes every given parameter and must
    declare it. Without it (``selected=None``: the whole book), only :data:`BOOK_WIDE` parameters may be given; each goes to the
    chapters that declare it. Chapters not selected run with their defaults (smoke ones under
    ``--smoke``).
    """
    declarations = {chapter.name: chapter.declarations() for chapter in chapters}
    whole_book = selected is None
    if whole_book:
        narrow = sorted(set(given) - set(BOOK_WIDE))
        if narrow:
            holders = {name: [chapter for chapter, declared in declarations.items() if name in declared]
                       for name in narrow}
            detail = "; ".join(f"{name} is declared by {', '.join(holders[name]) or 'no chapter'}" for name in narrow)
            raise ParameterError(
                f"-p {', '.join(narrow)}: not a book-wide parameter (those are {', '.join(BOOK_WIDE)}); {detail}. "
                "Name the chapter(s) with --chapters (make book CHAPTERS=...)"
            )
    planned = {}
    for chapter in chapters:
        declared = declarations[chapter.name]
        if whole_book or chapter.name in selected:
            wanted = {name: value for name, value in given.items() if not whole_book or name in declared}
        else:
            wanted = {}
        if smoke:
            wanted["smoke"] = True
        planned[chapter.name] = check_parameters(chapter.name, declared, wanted)
    return planned


def _digest_files(digest: Any, paths: Sequence[Path], relative_to: Path) -> None:
    for path in paths:
        digest.update(path.relative_to(relative_to).as_posix().encode())
        digest.update(path.read_bytes())


def _source_fingerprint(root: Path) -> str:
    """Hash of everything in the repository outside the notebook that can change a chapter's numbers."""
    digest = hashlib.sha256()
    package_dir = Path(__file__).resolve().parent
    _digest_files(digest, sorted(package_dir.rglob("*.py")), package_dir)
    _digest_files(digest, sorted(PAPER_RESULTS_DIR.glob("*.csv")), PAPER_RESULTS_DIR)
    lock = root / "requirements.lock"
    if lock.is_file():
        digest.update(lock.read_bytes())
    digest.update(f"{DATA_ENV_VAR}={os.environ.get(DATA_ENV_VAR, '')}".encode())
    return digest.hexdigest()


def _chapter_key(chapter: Chapter, parameters: Mapping[str, object], sources: str) -> str:
    digest = hashlib.sha256()
    digest.update(chapter.source.read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(sources.encode())
    return digest.hexdigest()


def is_up_to_date(chapter: Chapter, key: str) -> bool:
    """Whether the chapter's last good run had this key and the files it read are unchanged."""
    if not (chapter.executed_notebook.is_file() and chapter.stamp.is_file()):
        return False
    stamp = json.loads(chapter.stamp.read_text())
    return stamp.get("key") == key and inputs.unchanged(stamp.get("inputs", []))


def reads_rewritten_files(chapter: Chapter, running: Sequence[Chapter]) -> bool:
    """Whether the chapter's last good run read a file that has changed since, or one under the
    folder of a chapter in ``running`` (those that run before it and may rewrite their tables)."""
    if not chapter.stamp.is_file():
        return False
    recorded = json.loads(chapter.stamp.read_text()).get("inputs", [])
    if not inputs.unchanged(recorded):
        return True
    rewritten = [earlier.out_dir.resolve() for earlier in running]
    return any(Path(str(record["path"])).is_relative_to(folder) for record in recorded for folder in rewritten)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM behaves as Ctrl-C while a chapter runs, so that both clean up the same way."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _KnownParameters(logging.Filter):
    """Drops papermill's "unknown parameter" warning: its parser skips annotations such as
    ``Count | None``, and :func:`plan_parameters` has already refused every name not declared."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Passed unknown parameter")


logging.getLogger("papermill").addFilter(_KnownParameters())


@contextlib.contextmanager
def _environment(**variables: str) -> Iterator[None]:
    """Environment variables set for a chapter's kernel, restored afterwards."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _kernel_python_path() -> str:
    """``PYTHONPATH`` with this ``hashkit`` first: the kernel runs in the staging folder, not the repository."""
    package_parent = str(Path(__file__).resolve().parent.parent)
    entries = [package_parent] + [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    return os.pathsep.join(dict.fromkeys(entries))


def _running_cell(notebook_path: Path) -> str:
    """The last cell papermill started, from its partly written notebook (for a dead kernel or an interrupt)."""
    try:
        cells = json.loads(notebook_path.read_text()).get("cells", [])
    except (OSError, ValueError):
        return "an unknown cell"
    started = [index for index, cell in enumerate(cells)
               if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:
        return "an unknown cell"
    source = "".join(cells[started[-1]].get("source", "")).strip()
    return f"cell {started[-1]}" + (f" (starting {source.splitlines()[0]!r})" if source else "")


def _keep_failed(chapter: Chapter, executed: Path) -> Path | None:
    if not executed.is_file():
        return None
    chapter.failed_notebook.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(executed, chapter.failed_notebook)
    return chapter.failed_notebook


def _present_parameters(notebook_path: Path, declared: Mapping[str, Declared], given: Mapping[str, object]) -> None:
    """Fold the long parameters cell away behind a short table of the values this run was given.

    The parameters cell keeps its declarations (folded, one click away); papermill's injected cell,
    which repeats the given values as code, is removed from the page; a table after them lists each
    given value beside its default and meaning.
    """
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    given_rows = [f"| `{name}` | `{value!r}` | `{declared[name].default!r}` | {declared[name].help} |"
                  for name, value in given.items() if name in declared and name != "out_dir"]
    table = ("**Parameters of this run.** " + ("Every parameter has its default; the folded cell above lists them."
                                              if not given_rows else "Given for this run (the folded cell above "
                                              "lists every parameter and its default):\n\n"
                                              "| parameter | value | default | meaning |\n|---|---|---|---|\n"
                                              + "\n".join(given_rows)))
    for index, cell in enumerate(notebook.cells):
        tags = cell.metadata.setdefault("tags", [])
        if "parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
        if "injected-parameters" in tags:
            tags.append("remove-cell")
            notebook.cells.insert(index + 1, nbformat.v4.new_markdown_cell(table))
            break
    nbformat.write(notebook, notebook_path)


def _swap_in(chapter: Chapter, staged_notebook: Path, staged_out: Path, stamp: dict[str, object]) -> None:
    """Replace the chapter's notebook, outputs and stamp by the staged ones; files of older runs go."""
    chapter.out_dir.parent.mkdir(parents=True, exist_ok=True)
    staged_out.mkdir(parents=True, exist_ok=True)
    retired = chapter.staging / "retired"
    if chapter.out_dir.exists():
        os.replace(chapter.out_dir, retired)
    os.replace(staged_out, chapter.out_dir)
    os.replace(staged_notebook, chapter.executed_notebook)
    stamp_tmp = chapter.staging / "stamp.json"
    stamp_tmp.write_text(json.dumps(stamp, indent=1, default=str))
    os.replace(stamp_tmp, chapter.stamp)


def execute_chapter(chapter: Chapter, parameters: Mapping[str, object], kernel: str, force: bool = False) -> bool:
    """Execute one chapter unless it is up to date (:func:`is_up_to_date`); return whether it ran.

    ``parameters`` are already checked (:func:`plan_parameters`). The chapter runs in its staging
    folder and is swapped in only when every cell succeeded; otherwise :class:`ChapterFailed` is
    raised, naming the chapter and the cell, and ``book/executed/`` is left as it was.
    """
    import jupytext
    import nbclient.exceptions
    import papermill

    notebook = chapter.notebook()
    parameters = {**parameters, "out_dir": chapter.out_dir_relative.as_posix()}
    key = _chapter_key(chapter, parameters, _source_fingerprint(chapter.root))
    if not force and is_up_to_date(chapter, key):
        return False

    shutil.rmtree(chapter.staging, ignore_errors=True)
    chapter.staging.mkdir(parents=True)
    input_path = chapter.staging / "input.ipynb"
    output_path = chapter.staging / f"{chapter.name}.ipynb"
    inputs_log = chapter.staging / "inputs.jsonl"
    notebook.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    jupytext.write(notebook, input_path)
    started = time.perf_counter()
    try:
        with _interruptible(), _environment(**{inputs.INPUTS_LOG_ENV_VAR: str(inputs_log),
                                                  BOOK_ROOT_ENV_VAR: str(chapter.root),
                                                  "PYTHONPATH": _kernel_python_path()}):
            papermill.execute_notebook(str(input_path), str(output_path), parameters=parameters,
                                       kernel_name=kernel, cwd=str(chapter.staging), progress_bar=False)
        _present_parameters(output_path, chapter_declarations(notebook, str(chapter.source.relative_to(chapter.root))),
                            parameters)
        _swap_in(chapter, output_path, chapter.staging / chapter.out_dir_relative,
                 {"key": key, "parameters": parameters, "inputs": inputs.read_log(inputs_log),
                  "seconds": time.perf_counter() - started})
    except papermill.PapermillExecutionError as error:
        kept = _keep_failed(chapter, output_path)
        first_line = error.source.strip().splitlines()[0] if error.source.strip() else ""
        raise ChapterFailed(
            f"chapter {chapter.name!r} failed in cell {error.cell_index} "
            f"(execution count {error.exec_count}, starting {first_line!r}): {error.ename}: {error.evalue}\n"
            f"the notebook with the traceback: {kept}; the last good chapter is unchanged"
        ) from None
    except nbclient.exceptions.DeadKernelError:
        _keep_failed(chapter, output_path)
        raise ChapterFailed(
            f"chapter {chapter.name!r}: its kernel died in {_running_cell(output_path)} (killed, or out of "
            "memory: try smaller sizes); the last good chapter is unchanged"
        ) from None
    except KeyboardInterrupt:
        raise ChapterFailed(
            f"chapter {chapter.name!r}: interrupted in {_running_cell(output_path)}; the last good chapter is unchanged",
            interrupted=True,
        ) from None
    finally:
        shutil.rmtree(chapter.staging, ignore_errors=True)
        with contextlib.suppress(OSError):  # the staging parent goes too, when no other chapter is in it
            chapter.staging.parent.rmdir()
    chapter.failed_notebook.unlink(missing_ok=True)
    return True


def build_html(root: Path) -> Path:
    """Build the HTML with Jupyter Book, warnings as errors; return the directory of the site."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(root), "--builder", "html", "--warningiserror", "--keep-going"]
    completed = subprocess.run(command, cwd=root)
    if completed.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {completed.returncode}); see the warnings above")
    return root / "_build" / "html"


def _reproducible_environment() -> None:
    """Settings the kernels inherit: no run-dependent hashes or dates."""
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")


def _print_parameters(chapters: Sequence[Chapter]) -> None:
    for chapter in chapters:
        print(f"chapter {chapter.name!r} ({chapter.source.relative_to(chapter.root)}):")
        for row in describe(chapter.declarations()):
            print(f"  {row['parameter']}: {row['type']} = {row['default']}" + (f"  # {row['meaning']}" if row["meaning"] else ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hashkit.book", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="book root holding _config.yml, _toc.yml, book/ and notebooks/ (default: the repository)")
    parser.add_argument("--chapters", nargs="+", metavar="NAME",
                        help="execute only these chapters (the parameters below apply to them); default: all")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a chapter parameter; the value is read as a Python literal, else as YAML")
    parser.add_argument("--smoke", action="store_true", help="run chapters with their small smoke settings")
    parser.add_argument("--force", action="store_true", help="execute even when a chapter is up to date")
    parser.add_argument("--no-html", action="store_true", help="execute chapters but do not build the HTML")
    parser.add_argument("--check-only", action="store_true",
                        help="check the parameters of the chapters that would run, and stop")
    parser.add_argument("--list-parameters", action="store_true", help="print each chapter's parameters and stop")
    parser.add_argument("--kernel", default="hashkit", help="Jupyter kernel to run the notebooks (default: hashkit)")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    _reproducible_environment()
    all_chapters = toc_chapters(root)
    selected = args.chapters or all_chapters
    unknown = sorted(set(selected) - set(all_chapters))
    if unknown:
        parser.error(f"--chapters: unknown chapter(s) {', '.join(unknown)}; the book has: {', '.join(all_chapters)}")
    chapters = [Chapter(name, root) for name in all_chapters]
    if args.list_parameters:
        _print_parameters([chapter for chapter in chapters if chapter.name in selected])
        return 0
    # Chapters not asked for still run if they were never executed and the HTML is built (the book
    # needs every page), or if they read files that changed or that an earlier chapter may rewrite.
    to_run: list[Chapter] = []
    for chapter in chapters:
        if (chapter.name in selected or not (args.no_html or chapter.executed_notebook.is_file())
                or reads_rewritten_files(chapter, to_run)):
            to_run.append(chapter)
    try:
        planned = plan_parameters(to_run, args.chapters, parse_parameters(args.parameter), args.smoke)
    except (ParameterError, FileNotFoundError) as error:
        print(f"[hashkit.book] {error}", file=sys.stderr)
        return 2
    if args.check_only:
        print(f"[hashkit.book] parameters of {', '.join(planned)}: ok")
        return 0

    for chapter in to_run:
        started = time.perf_counter()
        print(f"[hashkit.book] {chapter.name}: executing {chapter.source.relative_to(root)}", flush=True)
        try:
            ran = execute_chapter(chapter, planned[chapter.name], args.kernel, force=args.force)
        except ChapterFailed as error:
            print(f"[hashkit.book] {error}", file=sys.stderr)
            return 130 if error.interrupted else 1
        state = f"done in {time.perf_counter() - started:.1f} s" if ran else "up to date, not executed"
        print(f"[hashkit.book] {chapter.name}: {state}", flush=True)

    if not args.no_html:
        try:
            site = build_html(root)
        except RuntimeError as error:
            print(f"[hashkit.book] {error}", file=sys.stderr)
            return 1
        print(f"[hashkit.book] HTML: {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
