"""Execute the book's chapters with papermill, then build the HTML with Jupyter Book.

    python -m hashkit.book                          # every chapter of _toc.yml, then the HTML
    python -m hashkit.book --chapters fdah -p bits "[16, 32]" -p device cuda
    python -m hashkit.book --smoke --no-html        # every chapter with its small smoke settings

Papermill is the only executor (``_config.yml`` sets ``execute_notebooks: off``). Chapters are
jupytext py:percent files in ``notebooks/``; the executed notebook, its tables (CSV) and its figures
(PNG, SVG) land in ``book/executed/``. A chapter whose notebook, parameters, hashkit sources and
dependency lock are unchanged since its last successful run is not executed again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

EXECUTED_DIR = Path("book") / "executed"
NOTEBOOK_DIR = Path("notebooks")


class ChapterFailed(RuntimeError):
    """A chapter's notebook raised; the message names the chapter and the cell."""


@dataclass(frozen=True)
class Chapter:
    """One chapter: its jupytext source and where its executed outputs go, under a book root."""

    name: str
    root: Path

    @property
    def source(self) -> Path:
        return self.root / NOTEBOOK_DIR / f"{self.name}.py"

    @property
    def executed_notebook(self) -> Path:
        return self.root / EXECUTED_DIR / f"{self.name}.ipynb"

    @property
    def out_dir(self) -> Path:
        return self.root / EXECUTED_DIR / self.name

    @property
    def stamp(self) -> Path:
        return self.root / EXECUTED_DIR / f"{self.name}.stamp.json"


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
    """``-p name value`` pairs to a dict; values are read as YAML, so ``32``, ``[12, 24]``, ``true`` are typed."""
    return {name: yaml.safe_load(value) for name, value in pairs}


def _source_fingerprint(root: Path) -> str:
    """Hash of everything outside the notebook that can change a chapter's numbers."""
    digest = hashlib.sha256()
    package_dir = Path(__file__).resolve().parent
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    lock = root / "requirements.lock"
    if lock.is_file():
        digest.update(lock.read_bytes())
    return digest.hexdigest()


def _chapter_key(chapter: Chapter, parameters: dict[str, object], sources: str) -> str:
    digest = hashlib.sha256()
    digest.update(chapter.source.read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(sources.encode())
    return digest.hexdigest()


def _check_parameters(notebook_path: Path, chapter: Chapter, parameters: dict[str, object]) -> None:
    """Fail before execution when a parameter is not one the chapter declares."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook_path))
    if not declared:
        raise ValueError(f"{chapter.source}: no cell tagged 'parameters'; papermill cannot set its parameters")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ValueError(
            f"chapter {chapter.name!r}: unknown parameter(s) {', '.join(unknown)}; "
            f"it declares: {', '.join(sorted(declared))}"
        )


def execute_chapter(chapter: Chapter, parameters: dict[str, object], kernel: str, force: bool = False) -> bool:
    """Execute one chapter unless its stamp says it is up to date; return whether it ran.

    The executed notebook replaces the previous one only when every cell succeeded; a failure
    leaves ``<name>.failed.ipynb`` with the traceback beside it and raises :class:`ChapterFailed`.
    """
    import jupytext
    import papermill

    if not chapter.source.is_file():
        raise FileNotFoundError(f"chapter {chapter.name!r}: notebook source {chapter.source} does not exist")
    # Relative to the root, the notebook's working directory: the executed page names no machine path.
    parameters = {**parameters, "out_dir": chapter.out_dir.relative_to(chapter.root).as_posix()}
    key = _chapter_key(chapter, parameters, _source_fingerprint(chapter.root))
    if not force and chapter.executed_notebook.is_file() and chapter.stamp.is_file():
        if json.loads(chapter.stamp.read_text()).get("key") == key:
            return False

    chapter.executed_notebook.parent.mkdir(parents=True, exist_ok=True)
    failed_path = chapter.executed_notebook.with_suffix(".failed.ipynb")
    with tempfile.TemporaryDirectory(dir=chapter.executed_notebook.parent) as scratch:
        input_path = Path(scratch) / f"{chapter.name}.ipynb"
        output_path = Path(scratch) / f"{chapter.name}.executed.ipynb"
        notebook = jupytext.read(chapter.source)
        notebook.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
        jupytext.write(notebook, input_path)
        _check_parameters(input_path, chapter, parameters)
        try:
            papermill.execute_notebook(
                str(input_path),
                str(output_path),
                parameters=parameters,
                kernel_name=kernel,
                cwd=str(chapter.root),
                progress_bar=False,
            )
        except papermill.PapermillExecutionError as error:
            shutil.copyfile(output_path, failed_path)
            first_line = error.source.strip().splitlines()[0] if error.source.strip() else ""
            raise ChapterFailed(
                f"chapter {chapter.name!r} failed in cell {error.cell_index} "
                f"(execution count {error.exec_count}, starting {first_line!r}): {error.ename}: {error.evalue}\n"
                f"the notebook with the traceback: {failed_path}"
            ) from None
        os.replace(output_path, chapter.executed_notebook)
    failed_path.unlink(missing_ok=True)
    stamp_tmp = chapter.stamp.with_suffix(".tmp")
    stamp_tmp.write_text(json.dumps({"key": key, "parameters": parameters}, indent=1, default=str))
    os.replace(stamp_tmp, chapter.stamp)
    return True


def build_html(root: Path) -> Path:
    """Build the HTML with Jupyter Book, warnings as errors; return the directory of the site."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(root), "--builder", "html", "--warningiserror", "--keep-going"]
    completed = subprocess.run(command, cwd=root)
    if completed.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {completed.returncode}); see the warnings above")
    return root / "_build" / "html"


def _reproducible_environment(root: Path) -> None:
    """Settings the kernels inherit: hashkit importable, and no run-dependent hashes or dates."""
    python_path = [str(root)] + [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(python_path))
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hashkit.book", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="book root holding _config.yml, _toc.yml, book/ and notebooks/ (default: the repository)")
    parser.add_argument("--chapters", nargs="+", metavar="NAME",
                        help="execute only these chapters (the parameters below apply to them); default: all")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="papermill parameter for the chapters run, value read as YAML")
    parser.add_argument("--smoke", action="store_true", help="run chapters with their small smoke settings")
    parser.add_argument("--force", action="store_true", help="execute even when a chapter is up to date")
    parser.add_argument("--no-html", action="store_true", help="execute chapters but do not build the HTML")
    parser.add_argument("--kernel", default="hashkit", help="Jupyter kernel to run the notebooks (default: hashkit)")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    _reproducible_environment(root)
    all_chapters = toc_chapters(root)
    selected = args.chapters or all_chapters
    unknown = sorted(set(selected) - set(all_chapters))
    if unknown:
        parser.error(f"--chapters: unknown chapter(s) {', '.join(unknown)}; the book has: {', '.join(all_chapters)}")
    parameters = parse_parameters(args.parameter)
    if args.smoke:
        parameters["smoke"] = True

    wall_times = {}
    for name in all_chapters:
        chapter = Chapter(name, root)
        # Chapters not asked for still run if they were never executed and the HTML is built: the book
        # needs every page. They take the defaults, or the smoke settings under --smoke.
        chapter_parameters = parameters if name in selected else ({"smoke": True} if args.smoke else {})
        if name not in selected and (args.no_html or chapter.executed_notebook.is_file()):
            continue
        started = time.perf_counter()
        print(f"[hashkit.book] {name}: executing {chapter.source.relative_to(root)}", flush=True)
        try:
            ran = execute_chapter(chapter, chapter_parameters, args.kernel, force=args.force)
        except (ChapterFailed, FileNotFoundError, ValueError) as error:
            print(f"[hashkit.book] {error}", file=sys.stderr)
            return 1
        wall_times[name] = time.perf_counter() - started
        state = f"done in {wall_times[name]:.1f} s" if ran else "up to date, not executed"
        print(f"[hashkit.book] {name}: {state}", flush=True)

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
