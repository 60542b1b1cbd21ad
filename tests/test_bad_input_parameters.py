"""Bad chapter parameters, table-driven: each is one error naming the parameter and what was expected,
given by the runner before any kernel starts (exit status 2), with nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn

from benchmarks.bench_book import copy_book_sources
from hashkit.book import main

# (case, chapter or None for the whole book, arguments, regex the error must match); "{tmp}" is a scratch folder.
CASES = [
    ("unknown name", "fdah", ["-p", "bitz", "3"], r"chapter 'fdah': unknown parameter\(s\) bitz; it declares: .*bits"),
    ("an int for a list", "fdah", ["-p", "bits", "32"],
     r"parameter 'bits': expected a non-empty list of code lengths .*got 32 \(int\)"),
    ("a code length of 0", "fdah", ["-p", "bits", "[0, 12]"], r"parameter 'bits'.*\[0\] Input should be greater than or equal to 1"),
    ("a code length as text", "fdah", ["-p", "bits", "[12, twelve]"], r"parameter 'bits'.*\[1\] Input should be a valid integer"),
    ("a word for a number", "fdah", ["-p", "learning_rate", "fast"], r"parameter 'learning_rate': expected a number > 0, got 'fast'"),
    ("a negative rate", "fdah", ["-p", "learning_rate", "-0.001"], r"parameter 'learning_rate'.*greater than 0"),
    ("zero rounds", "fdah", ["-p", "rounds", "0"], r"parameter 'rounds': expected a count \(an int >= 1\), got 0"),
    ("a fractional count", "fdah", ["-p", "n_queries", "1.5"], r"parameter 'n_queries': expected a count .* or None"),
    ("no seeds", "fdah", ["-p", "seeds", "[]"], r"parameter 'seeds'.*at least 1 item"),
    ("a negative seed", "fdah", ["-p", "seeds", "[-1]"], r"parameter 'seeds'.*greater than or equal to 0"),
    ("a yes/no that is neither", "fdah", ["-p", "progress", "maybe"], r"parameter 'progress': expected true or false"),
    ("an unknown device", "fdah", ["-p", "device", "tpu"], r"parameter 'device'.*got 'tpu'"),
    ("an unknown backbone", "fdah", ["-p", "backbone", "cnn-x"], r"parameter 'backbone'.*unknown backbone 'cnn-x'"),
    ("the small CNN's options for CNN-F", "fdah", ["-p", "backbone", "cnn-f"],
     r"parameter 'backbone_options': backbone 'cnn-f' takes no options, got channels"),
    ("an option the small CNN does not take", "fdah", ["-p", "backbone_options", "{depth: 3}"],
     r"backbone 'small-cnn' takes only channels, feature_dim, got depth"),
    ("a weights file that is not there", "fdah", ["-p", "pretrained_weights", "{tmp}/none.pth"],
     r"parameter 'pretrained_weights': expected an existing weights file or None, got '.*none.pth'"),
    ("a weights file that is text", "fdah", ["-p", "pretrained_weights", "{tmp}/notes.pth"],
     r"parameter 'pretrained_weights': .*notes.pth' is not a readable torch file"),
    ("the weights of another network", "fdah", ["-p", "pretrained_weights", "{tmp}/linear.pth"],
     r"parameter 'pretrained_weights': .*linear.pth' does not fit the network"),
    ("a CIFAR-10 folder that is not there", "fdah", ["-p", "cifar10_root", "{tmp}/no-cifar"],
     r"parameter 'cifar10_root': expected an existing folder or None, got '.*no-cifar'"),
    ("a data root without Fashion-MNIST", "fdah", ["-p", "data_root", "{tmp}"],
     r"parameter 'data_root'.*does not hold fashion-mnist"),
    ("a data root without the chosen dataset", "foundations", ["-p", "dataset", "cifar10", "-p", "data_root", "{tmp}"],
     r"parameters 'dataset' and 'data_root': CIFAR-10 \(python version\) not found"),
    ("a dataset the chapter does not offer", "foundations", ["-p", "dataset", "imagenet"],
     r"parameter 'dataset': expected 'fashion-mnist' or 'cifar10', got 'imagenet'"),
    ("a probability above 1", "foundations", ["-p", "cluster_flip_probability", "1.5"],
     r"parameter 'cluster_flip_probability': expected a number in \[0, 1\]"),
    ("a chapter parameter given to the whole book", None, ["-p", "bits", "[16]"],
     r"-p bits: not a book-wide parameter .*bits is declared by fdah"),
    ("a misspelt book-wide parameter", None, ["-p", "seed", "1"], r"-p seed: not a book-wide parameter .*declared by no chapter"),
    ("σ above 1", "mch", ["-p", "sigma", "1.5"], r"parameter 'sigma': expected a number in \[0, 1\], got 1.5"),
    ("ξ below 0", "mch", ["-p", "xi_grid", "[0.5, -0.1]"], r"parameter 'xi_grid'.*\[1\] Input should be greater than or equal to 0"),
    ("an unknown base model", "mch", ["-p", "base_models", "[KSH, SDH]"], r"parameter 'base_models'.*\[1\] Input should be 'KSH'"),
    ("an unknown region mode", "mch", ["-p", "region_mode", "blur"], r"parameter 'region_mode'.*got 'blur'"),
    ("a length DSHC's codebook cannot split", "compare", ["-p", "bits", "32"],
     r"bits: DSHC's codebook gives each of the 10 classes a block of bits, so the code length must be a multiple of 10"),
    ("an odd training budget", "compare", ["-p", "epochs", "5"], r"epochs: DSAH spends the budget as 2 rounds"),
    ("an F1 above 1", "compare", ["-p", "target_f1", "1.5"], r"parameter 'target_f1'"),
]
if not torch.cuda.is_available():
    CASES.append(("cuda without a GPU", "fdah", ["-p", "device", "cuda"],
                  r"parameter 'device'.*CUDA was requested but no GPU is available here"))


@pytest.fixture(scope="module")
def book_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("book")
    copy_book_sources(root)
    return root


@pytest.fixture
def scratch(tmp_path) -> Path:
    (tmp_path / "notes.pth").write_text("these are not weights\n")
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "linear.pth")
    return tmp_path


@pytest.mark.parametrize(("case", "chapter", "arguments", "message"), CASES, ids=[case[0] for case in CASES])
def test_a_bad_parameter_is_one_named_error_before_any_kernel(case, chapter, arguments, message, book_root, scratch,
                                                              capsys, monkeypatch):
    cache = scratch / "cache"
    monkeypatch.setenv("HASHKIT_CACHE", str(cache))
    chapters = ["--chapters", chapter] if chapter else []
    status = main(["--root", str(book_root), "--no-html", *chapters,
                   *[word.replace("{tmp}", str(scratch)) for word in arguments]])
    output = capsys.readouterr()
    assert status == 2, output.err
    assert len(output.err.strip().splitlines()) <= 8, "one error, not a traceback"
    assert re.search(message, output.err), output.err
    assert "executing" not in output.out
    assert not (book_root / "book" / "executed").exists() and not (book_root / "_build").exists()
    assert not cache.exists()
