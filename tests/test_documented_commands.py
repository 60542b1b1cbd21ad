"""Every `make book` and `python -m hashkit.book` command in README.md and book/rerun.md works as written.

Each command is expanded as make expands it (``make -n``), then run through the runner's parameter
check with nothing executed; the paths the documents use as examples (``/data/cifar``, ...) stand
for small files in the real formats, and ``device cuda`` is checked as on a machine with a GPU. The
commands with ``--smoke`` are executed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from benchmarks.bench_book import copy_book_sources
from hashkit.book import main
from tests.formats import write_cifar10, write_multi_label_trio

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "book/rerun.md")
COMMAND_START = re.compile(r"^(make book\b|python -m hashkit\.book\b)")


def documented_commands() -> list[tuple[str, str]]:
    """``(document, command)`` for each book command in the documents' bash blocks, joined across lines."""
    found = []
    for document in DOCUMENTS:
        text = (REPO / document).read_text()
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
            pending = ""
            for line in block.splitlines():
                pending = f"{pending}\n{line}" if pending else line
                try:
                    shlex.split(pending, comments=True)
                except ValueError:  # an open quote: the command goes on on the next line
                    continue
                if COMMAND_START.match(pending.strip()):
                    found.append((document, pending.strip()))
                pending = ""
    return found


COMMANDS = documented_commands()


def runner_arguments(command: str) -> list[str]:
    """The arguments ``python -m hashkit.book`` receives from ``command``, expanded by make where it is one."""
    if command.startswith("python -m hashkit.book"):
        return shlex.split(command, comments=True)[3:]
    make_words = shlex.split(command, comments=True)
    expanded = subprocess.run(["make", "-n", *make_words[1:]], cwd=REPO, capture_output=True, text=True, check=True)
    recipe = [line for line in expanded.stdout.splitlines() if " -m hashkit.book" in line]
    assert len(recipe) == 1, expanded.stdout
    return shlex.split(recipe[0].split(" -m hashkit.book", 1)[1])


@pytest.fixture(scope="module")
def example_files(tmp_path_factory) -> dict[str, str]:
    """Small files in the real formats for each example path the documents use."""
    root = tmp_path_factory.mktemp("documented")
    cifar = write_cifar10(root / "cifar" / "cifar-10-batches-py").parent
    nus_wide = write_multi_label_trio(root / "nus-wide", n_images=40)
    mir_flickr = write_multi_label_trio(root / "mir-flickr", n_images=40)
    from hashkit.deep.backbones import CNNF

    weights = root / "vgg-f.pth"
    torch.save(CNNF().state_dict(), weights)
    alexnet = root / "alexnet.pth"  # half precision: the right keys and shapes at half the size
    torch.save({name: values.half() for name, values in torchvision.models.alexnet().state_dict().items()}, alexnet)
    return {"/data/cifar": str(cifar), "/data/nus-wide": str(nus_wide), "/data/mir-flickr": str(mir_flickr),
            "/weights/vgg-f.pth": str(weights),
            "/weights/alexnet.pth": str(alexnet)}


def with_examples(arguments: list[str], example_files: dict[str, str]) -> list[str]:
    unknown = [word for word in arguments if word.startswith("/") and word not in example_files]
    assert not unknown, f"a documented path the test has no stand-in for: {unknown}"
    return [example_files.get(word, word) for word in arguments]


def test_the_documents_hold_the_commands_this_test_checks():
    commands = [command for _, command in COMMANDS]
    assert len(commands) >= 10
    assert any("BOOK_ARGS='-p device cuda'" in command for command in commands)
    assert any("cnn-f" in command for command in commands)


@pytest.mark.parametrize(("document", "command"), COMMANDS, ids=[f"{doc}: {cmd[:60]}" for doc, cmd in COMMANDS])
def test_each_documented_command_passes_the_parameter_check(document, command, example_files, monkeypatch, capsys):
    arguments = with_examples(runner_arguments(command), example_files)
    # As on a machine with a GPU: the check must accept `device cuda` there.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    status = main([*arguments, "--check-only"]) if "--list-parameters" not in arguments else main(arguments)
    assert status == 0, f"{document}: {command}\n{capsys.readouterr().err}"


def test_the_error_the_rerun_page_shows_is_the_one_the_runner_gives(capsys):
    assert main(["--chapters", "fdah", "-p", "bits", "32", "--check-only"]) == 2
    error = capsys.readouterr().err.strip().removeprefix("[hashkit.book] ")
    assert error in (REPO / "book" / "rerun.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize(("document", "command"), [(doc, cmd) for doc, cmd in COMMANDS if "--smoke" in cmd],
                         ids=[cmd for _, cmd in COMMANDS if "--smoke" in cmd])
def test_the_documented_smoke_commands_run(document, command, tmp_path, request):
    arguments = runner_arguments(command)
    if arguments == ["--smoke"]:  # the whole smoke book with its HTML: the very build tests/test_book.py checks
        root = request.getfixturevalue("built_book")
    else:
        root = tmp_path
        copy_book_sources(root)
        completed = subprocess.run([sys.executable, "-m", "hashkit.book", "--root", str(root), *arguments, "--no-html"],
                                   capture_output=True, text=True, env={**os.environ, "HASHKIT_CACHE": str(root / ".cache")})
        assert completed.returncode == 0, f"{document}: {command}\n{completed.stderr[-3000:]}"
    assert (root / "book" / "executed" / "foundations.ipynb").is_file()
