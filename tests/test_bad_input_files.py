"""Bad files in, clear errors out: one table of damaged or foreign files for every reader of hashkit.

Each case writes a bad file in the real format's place (with the writers of ``tests/formats.py``),
calls the public function that reads it, and checks three things: the error is the named type
and its message matches (naming the file, or the parameter, and what was expected); it comes
before any slow step (the slow steps are made to fail the test if they start); and the folder
holds exactly what it held before the call, byte for byte. The feature cache is the one reader
that warns instead of raising: its entries can always be recomputed (see
:mod:`hashkit.features.cache`), so a distrusted entry is a :class:`CorruptCacheWarning` and a miss.

A second table makes each writer fail, in serialisation or in the final rename, and checks that
no temporary or half-written file is left and a previous file survives unchanged.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import pickle
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from hashkit.artifacts import save_figure, save_table
from hashkit.data import ArrayImages, ImageDataset, ImageFiles, load_cifar10, load_dataset, load_fashion_mnist
from hashkit.data.listfile import load_list_trio
from hashkit.deep.backbones import SmallCNN, build_backbone
from hashkit.features import CorruptCacheWarning, FeatureCache, extract, extract_features, learned
from hashkit.features.pretrained import penultimate_network
from hashkit.index import BucketIndex, HammingIndex
from tests.formats import write_cifar10, write_fashion_mnist, write_idx_gz, write_list_trio, write_png

N_BITS = 16
SMALL_NET = {"channels": (2, 4), "feature_dim": 8}
CACHE_KEY = {"source": "torchvision:alexnet", "image_size": 224}
OTHER_KEY = {"source": "torchvision:alexnet", "image_size": 112}


@dataclass(frozen=True)
class Case:
    """One bad file: how to make it, the call that reads it, and the error the user must see."""

    id: str
    make: Callable[[Path], Path]
    """Writes the bad file(s) under the test's folder; returns the path the message must name."""
    call: Callable[[Path], object]
    """The public call that reads them, given the same folder."""
    error: type[Exception] | type[Warning]
    match: str
    """Regex the message must match; ``{path}`` stands for the (escaped) path ``make`` returned."""


def folder_state(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``, hidden ones included: relative path -> sha256 (or "folder")."""
    return {
        str(path.relative_to(root)): "folder" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
    }


def flip_byte(path: Path, offset: int) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0xFF
    path.write_bytes(bytes(content))


def cut(path: Path, keep: float = 0.5) -> None:
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])


def random_codes(n: int, seed: int = 0) -> np.ndarray:
    return np.where(np.random.default_rng(seed).random((n, N_BITS)) < 0.5, -1, 1).astype(np.int8)


# ---------------------------------------------------------------- IDX (Fashion-MNIST)


def fashion_file(name: str) -> Callable[[Path], Path]:
    return lambda root: write_fashion_mnist(root / "fm") / name


def idx_truncated_data(root: Path) -> Path:
    path = fashion_file("train-images-idx3-ubyte.gz")(root)
    with gzip.open(path, "rb") as stream:
        content = stream.read()
    with gzip.open(path, "wb") as stream:
        stream.write(content[:-100])
    return path


def idx_cut_gzip_stream(root: Path) -> Path:
    path = fashion_file("train-images-idx3-ubyte.gz")(root)
    cut(path, 0.8)
    return path


def idx_wrong_magic(root: Path) -> Path:
    path = fashion_file("train-labels-idx1-ubyte.gz")(root)
    write_idx_gz(path, np.zeros(20, dtype=np.uint8), magic=0x00000803)
    return path


def idx_not_gzip(root: Path) -> Path:
    path = fashion_file("t10k-images-idx3-ubyte.gz")(root)
    with gzip.open(path, "rb") as stream:
        path.write_bytes(stream.read())  # the IDX bytes, uncompressed
    return path


def idx_empty(root: Path) -> Path:
    path = fashion_file("t10k-labels-idx1-ubyte.gz")(root)
    path.write_bytes(b"")
    return path


def idx_too_few_labels(root: Path) -> Path:
    path = fashion_file("t10k-labels-idx1-ubyte.gz")(root)
    write_idx_gz(path, np.arange(5, dtype=np.uint8))
    return path


def load_fm(root: Path) -> ImageDataset:
    return load_fashion_mnist(root / "fm")


IDX_CASES = [
    Case("idx-truncated-data", idx_truncated_data, load_fm, ValueError,
         r"{path}: header announces shape \(20, 28, 28\) = 15,680 bytes of data, file holds 15,580 "
         r"\(truncated or corrupted\)"),
    Case("idx-cut-gzip-stream", idx_cut_gzip_stream, load_fm, ValueError,
         r"{path}: not a complete gzip file \(Compressed file ended"),
    Case("idx-wrong-magic-number", idx_wrong_magic, load_fm, ValueError,
         r"{path}: IDX magic number 0x00000803, expected 0x00000801 \(unsigned bytes, 1 dimension\)"),
    Case("idx-gzip-that-is-not-gzip", idx_not_gzip, load_fm, ValueError,
         r"{path}: not a complete gzip file \(Not a gzipped file"),
    Case("idx-empty-file", idx_empty, load_fm, ValueError, r"{path}: 0 bytes, too short for an IDX header"),
    Case("idx-labels-count-differs-from-images", idx_too_few_labels, load_fm, ValueError,
         r"{path}: 5 labels, but .*t10k-images-idx3-ubyte\.gz holds 10 images; expected one label per image"),
]


# ---------------------------------------------------------------- list files (NUS-WIDE, MS-COCO, MIR FLICKR)


def trio_with(file_name: str, text: str) -> Callable[[Path], Path]:
    """A list trio (``tests/formats.py``) whose ``file_name`` holds ``text`` instead."""
    def make(root: Path) -> Path:
        path = write_list_trio(root / "trio") / file_name
        path.write_text(text)
        return path

    return make


def trio_without_train_list(root: Path) -> Path:
    directory = write_list_trio(root / "trio")
    (directory / "train.txt").unlink()
    return directory


def load_trio(root: Path) -> ImageDataset:
    return load_list_trio(root / "trio", name="trio")


def load_trio_by_name(root: Path) -> ImageDataset:
    return load_dataset("nus-wide", data_root=root / "trio")


LIST_CASES = [
    Case("list-path-but-no-labels", trio_with("train.txt", "img/b.png 0 1 1\nimg/d.png\n"), load_trio, ValueError,
         r"{path}, line 2: 0 labels, expected 3 \(the count on line 1\) and at least one"),
    Case("list-label-not-0-or-1", trio_with("database.txt", "img/a.png 1 0 0\nimg/b.png 0 2 1\n"), load_trio,
         ValueError, r"{path}, line 2: label 2 is '2', expected 0 or 1"),
    Case("list-labels-before-path", trio_with("test.txt", "1 0 1\n"), load_trio, ValueError,
         r"{path}, line 1: starts with label '1'; expected an image path before the labels"),
    Case("list-rows-of-different-widths", trio_with("database.txt", "img/a.png 1 0 0\n\nimg/b.png 0 1\n"),
         load_trio, ValueError, r"{path}, line 3: 2 labels, expected 3 \(the count on line 1\)"),
    Case("list-width-differs-from-the-trio", trio_with("test.txt", "img/q1.png 1 0 1 0\nimg/q2.png 0 1 0 0\n"),
         load_trio, ValueError, r"{path}: 4 labels per line, but .*database\.txt has 3"),
    Case("list-empty-file", trio_with("train.txt", "\n  \n"), load_trio, ValueError,
         r"{path}: no entries \(expected lines '<image path> <0/1 labels\.\.\.>'\)"),
    Case("list-names-a-missing-image", trio_with("test.txt", "img/q1.png 1 0 1\nimg/gone.png 0 1 0\n"),
         load_trio, FileNotFoundError,
         r"{path}, line 2: image .*img/gone\.png does not exist \(1 of 2 listed images are missing"),
    Case("list-trio-missing-a-list", trio_without_train_list, load_trio_by_name, FileNotFoundError,
         r"{path}: incomplete copy, missing train\.txt"),
]


# ---------------------------------------------------------------- CIFAR-10 pickles


def cifar_file(name: str, content: bytes | Callable[[dict], object]) -> Callable[[Path], Path]:
    """A CIFAR-10 folder whose ``name`` holds ``content``: raw bytes, or a change of the pickled dict."""
    def make(root: Path) -> Path:
        path = write_cifar10(root / "cifar-10-batches-py") / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            with open(path, "rb") as stream:
                batch = pickle.load(stream)
            path.write_bytes(pickle.dumps(content(batch)))
        return path

    return make


def cifar_truncated(root: Path) -> Path:
    path = write_cifar10(root / "cifar-10-batches-py") / "data_batch_2"
    cut(path)
    return path


def cifar_missing_batch(root: Path) -> Path:
    directory = write_cifar10(root / "cifar-10-batches-py")
    (directory / "data_batch_4").unlink()
    return directory


def load_cifar(root: Path) -> ImageDataset:
    return load_cifar10(root / "cifar-10-batches-py")


def without(key: bytes) -> Callable[[dict], dict]:
    return lambda batch: {name: value for name, value in batch.items() if name != key}


CIFAR_CASES = [
    Case("cifar-batch-without-data", cifar_file("data_batch_1", without(b"data")), load_cifar, ValueError,
         r"{path}: expected keys b'data' and b'labels', found \[b'batch_label', b'filenames', b'labels'\]"),
    Case("cifar-batch-without-labels", cifar_file("test_batch", without(b"labels")), load_cifar, ValueError,
         r"{path}: expected keys b'data' and b'labels', found \[b'batch_label', b'data', b'filenames'\]"),
    Case("cifar-meta-without-label-names", cifar_file("batches.meta", without(b"label_names")), load_cifar,
         ValueError, r"{path}: no b'label_names' key; expected the ten class names"),
    Case("cifar-batch-not-a-dict", cifar_file("data_batch_3", lambda batch: list(batch)), load_cifar, ValueError,
         r"{path}: expected a pickled dict, got list"),
    # Text starting with "c" reads as pickle's GLOBAL opcode: an import of module "ifar batch".
    Case("cifar-batch-text-not-a-pickle", cifar_file("data_batch_5", b"cifar batch\nas text\n"), load_cifar,
         ValueError, r"{path}: not a readable CIFAR-10 pickle \(ModuleNotFoundError: .*\); "
                     r"expected a batch file of cifar-10-python\.tar\.gz"),
    Case("cifar-batch-png-not-a-pickle", cifar_file("data_batch_5", b"\x89PNG\r\n\x1a\n" + bytes(40)), load_cifar,
         ValueError, r"{path}: not a readable CIFAR-10 pickle \(UnpicklingError: "),
    Case("cifar-batch-truncated", cifar_truncated, load_cifar, ValueError,
         r"{path}: not a readable CIFAR-10 pickle \((UnpicklingError|EOFError): "),
    Case("cifar-folder-missing-a-batch", cifar_missing_batch, load_cifar, FileNotFoundError,
         r"{path}: incomplete copy, missing data_batch_4"),
]


# ---------------------------------------------------------------- index files


def saved_index(index_type: type[HammingIndex] | type[BucketIndex], root: Path) -> Path:
    index = index_type(N_BITS)
    index.add(random_codes(50))
    path = root / "index.npz"
    index.save(path)
    return path


def index_file(index_type: type[HammingIndex] | type[BucketIndex],
               damage: Callable[[Path], None]) -> Callable[[Path], Path]:
    def make(root: Path) -> Path:
        path = saved_index(index_type, root)
        damage(path)
        return path

    return make


def flip_payload_byte(path: Path) -> None:
    """Flips a byte inside the stored codes themselves (the archive is uncompressed)."""
    with np.load(path) as archive:
        codes = archive["packed_codes"].tobytes()
    flip_byte(path, path.read_bytes().index(codes) + len(codes) // 2)


def rewrite_archive(path: Path, change: Callable[[dict, dict], None]) -> None:
    """Rewrites the ``.npz`` at ``path`` after ``change(header, arrays)``, as a careless tool would."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("header").tobytes().decode())
    change(header, arrays)
    np.savez(path, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)


def change_a_code(header: dict, arrays: dict) -> None:
    arrays["packed_codes"][0, 0] ^= 1


def foreign_file(name: str, write: Callable[[Path], None]) -> Callable[[Path], Path]:
    def make(root: Path) -> Path:
        write(root / name)
        return root / name

    return make


def load_with(reader: Callable[[Path], object], name: str = "index.npz") -> Callable[[Path], object]:
    return lambda root: reader(root / name)


INDEX_EXPECTED = r"expected a hashkit-index file version 1 holding a"
INDEX_CASES = [
    Case("index-truncated", index_file(HammingIndex, cut), load_with(HammingIndex.load), ValueError,
         r"{path}: unreadable or corrupted \(BadZipFile: .*\); expected a hashkit-index \.npz file"),
    Case("index-empty-file", foreign_file("index.npz", lambda path: path.write_bytes(b"")),
         load_with(BucketIndex.load), ValueError,
         r"{path}: unreadable or corrupted \(not a zip archive, it starts with b''\); expected a hashkit-index"),
    Case("index-foreign-png", foreign_file("picture.png", lambda path: write_png(path, 90)),
         load_with(HammingIndex.load, "picture.png"), ValueError,
         r"{path}: unreadable or corrupted \(not a zip archive, it starts with b'\\x89PNG'\); "
         r"expected a hashkit-index \.npz file"),
    Case("index-foreign-text", foreign_file("notes.txt", lambda path: path.write_text("codes: 0101\n")),
         load_with(BucketIndex.load, "notes.txt"), ValueError,
         r"{path}: unreadable or corrupted \(not a zip archive, it starts with b'code'\)"),
    Case("index-foreign-zip-a-torch-file",
         foreign_file("model.pth", lambda path: torch.save(nn.Linear(2, 2).state_dict(), path)),
         load_with(HammingIndex.load, "model.pth"), ValueError,
         rf"{{path}}: no hashkit header; {INDEX_EXPECTED} HammingIndex"),
    Case("index-foreign-npz", foreign_file("index.npz", lambda path: np.savez(path, codes=random_codes(3))),
         load_with(BucketIndex.load), ValueError, rf"{{path}}: no hashkit header; {INDEX_EXPECTED} BucketIndex"),
    Case("index-flipped-payload-byte", index_file(HammingIndex, flip_payload_byte), load_with(HammingIndex.load),
         ValueError, r"{path}: unreadable or corrupted \(BadZipFile: Bad CRC-32 for file 'packed_codes\.npy'\)"),
    Case("index-checksum-mismatch", index_file(HammingIndex, lambda path: rewrite_archive(path, change_a_code)),
         load_with(HammingIndex.load), ValueError,
         rf"{{path}}: checksum mismatch, the file is corrupted; {INDEX_EXPECTED} HammingIndex"),
    Case("index-wrong-format-version",
         index_file(BucketIndex, lambda path: rewrite_archive(path, lambda header, _: header.update(version=2))),
         load_with(BucketIndex.load), ValueError,
         rf"{{path}}: hashkit-index format version 2; {INDEX_EXPECTED} BucketIndex"),
    Case("index-of-the-other-class", index_file(HammingIndex, lambda path: None), load_with(BucketIndex.load),
         ValueError, rf"{{path}}: holds a 'HammingIndex'; {INDEX_EXPECTED} BucketIndex"),
]


# ---------------------------------------------------------------- feature cache entries


def cache_entry(damage: Callable[[Path], None], arrays: bool = False) -> Callable[[Path], Path]:
    """A valid cache entry (one array, or named arrays) after ``damage(data file)``."""
    def make(root: Path) -> Path:
        cache = FeatureCache(root / "cache")
        values = np.arange(12, dtype=np.float32).reshape(3, 4)
        path = cache.save_arrays(CACHE_KEY, {"weight": values}) if arrays else cache.save_array(CACHE_KEY, values)
        damage(path)
        return path

    return make


def overwrite_with_other_entry(path: Path) -> None:
    """Puts another key's entry (data and JSON) in place of this one's, as a careless copy would."""
    other = FeatureCache(path.parent).save_array(OTHER_KEY, np.zeros(2, dtype=np.float32))
    other.replace(path)
    other.with_suffix(".json").replace(path.with_suffix(".json"))


def load_cached(root: Path) -> np.ndarray | None:
    return FeatureCache(root / "cache").load_array(CACHE_KEY)


def load_cached_arrays(root: Path) -> dict[str, np.ndarray] | None:
    return FeatureCache(root / "cache").load_arrays(CACHE_KEY)


CACHE_CASES = [
    Case("cache-truncated-entry", cache_entry(cut), load_cached, CorruptCacheWarning,
         r"ignoring {path} \(its checksum does not match the JSON\); recomputing it"),
    Case("cache-flipped-byte", cache_entry(lambda path: flip_byte(path, -1)), load_cached, CorruptCacheWarning,
         r"ignoring {path} \(its checksum does not match the JSON\); recomputing it"),
    Case("cache-truncated-npz-entry", cache_entry(cut, arrays=True), load_cached_arrays, CorruptCacheWarning,
         r"ignoring {path} \(its checksum does not match the JSON\); recomputing it"),
    Case("cache-entry-of-another-key", cache_entry(overwrite_with_other_entry), load_cached, CorruptCacheWarning,
         r"ignoring {path} \(its JSON holds a different key\); recomputing it"),
    Case("cache-record-not-json", cache_entry(lambda path: path.with_suffix(".json").write_text("{ half")),
         load_cached, CorruptCacheWarning, r"ignoring {path} \(Expecting property name .*\); recomputing it"),
    Case("cache-record-missing", cache_entry(lambda path: path.with_suffix(".json").unlink()), load_cached,
         CorruptCacheWarning, r"ignoring {path} \(\[Errno 2\] No such file or directory: .*\.json'\)"),
    Case("cache-data-file-missing", cache_entry(Path.unlink), load_cached, CorruptCacheWarning,
         r"ignoring {path} \(\[Errno 2\] No such file or directory: .*\.npy'\)"),
]


# ---------------------------------------------------------------- weights files


def weights_file(write: Callable[[Path], None], name: str = "weights.pth") -> Callable[[Path], Path]:
    return foreign_file(name, write)


def png_file(path: Path) -> None:
    """A PNG image under ``path``'s name (PIL picks the format from the suffix, so it is renamed)."""
    write_png(path.with_suffix(".png"), 7)
    path.with_suffix(".png").rename(path)


def torch_save(make_object: Callable[[], object]) -> Callable[[Path], None]:
    return lambda path: torch.save(make_object(), path)


def truncated_torch_file(path: Path) -> None:
    torch.save(SmallCNN(1, (8, 8), **SMALL_NET).state_dict(), path)
    cut(path)


def build_small_cnn(root: Path) -> nn.Module:
    return build_backbone("small-cnn", 1, (8, 8), pretrained_weights=root / "weights.pth", **SMALL_NET)


def resnet18_features(root: Path) -> np.ndarray:
    pixels = np.random.default_rng(0).integers(0, 256, (6, 16, 16), dtype=np.uint8)
    dataset = ImageDataset("tiny", np.eye(2, dtype=np.uint8)[np.arange(6) % 2], ("a", "b"), ArrayImages(pixels))
    return extract_features(dataset, np.arange(6), "torchvision:resnet18", weights_path=root / "weights.pth",
                            cache_dir=root / "cache", progress=False)


def resnet18_network(root: Path) -> nn.Module:
    return penultimate_network("resnet18", root / "weights.pth")


SMALL_CNN = r"pretrained_weights for backbone 'small-cnn': '{path}'"
RESNET18 = r"the state dict of torchvision\.models\.resnet18: '{path}'"
NOT_READABLE = r" is not a readable torch file \({error}\); expected a state dict saved with torch\.save"
DOES_NOT_FIT = r" does not fit the network \(expected the state dict of its whole classification network; {why}"
WEIGHTS_CASES = [
    Case("weights-text-file", weights_file(lambda path: path.write_text("not a state dict\n")), build_small_cnn,
         ValueError, SMALL_CNN + NOT_READABLE.format(error="UnpicklingError")),
    Case("weights-png-file", weights_file(png_file), build_small_cnn, ValueError,
         SMALL_CNN + NOT_READABLE.format(error="UnpicklingError")),
    Case("weights-empty-file", weights_file(lambda path: path.write_bytes(b"")), build_small_cnn, ValueError,
         SMALL_CNN + NOT_READABLE.format(error="EOFError")),
    Case("weights-truncated-zip", weights_file(truncated_torch_file), build_small_cnn, ValueError,
         SMALL_CNN + NOT_READABLE.format(error="RuntimeError")),
    Case("weights-of-an-unrelated-linear-layer", weights_file(torch_save(lambda: nn.Linear(3, 2).state_dict())),
         build_small_cnn, ValueError,
         SMALL_CNN + DOES_NOT_FIT.format(why=r"Missing key\(s\) in state_dict: \"convolutions\.0\.weight\"")),
    Case("weights-of-other-layer-sizes", weights_file(torch_save(lambda: SmallCNN(1, (8, 8)).state_dict())),
         build_small_cnn, ValueError,
         SMALL_CNN + DOES_NOT_FIT.format(why=r"size mismatch for convolutions\.0\.weight")),
    Case("weights-not-a-state-dict", weights_file(torch_save(lambda: [torch.zeros(2)])), build_small_cnn,
         ValueError, SMALL_CNN + DOES_NOT_FIT.format(why=r"Expected state_dict to be dict-like")),
    Case("features-weights-not-a-torch-file", weights_file(lambda path: path.write_text("{}")), resnet18_features,
         ValueError, RESNET18 + NOT_READABLE.format(error="UnpicklingError")),
    Case("features-weights-of-an-unrelated-linear-layer",
         weights_file(torch_save(lambda: nn.Linear(3, 2).state_dict())), resnet18_features, ValueError,
         RESNET18 + DOES_NOT_FIT.format(why=r"Missing key\(s\) in state_dict: \"conv1\.weight\"")),
    Case("features-weights-empty-file", weights_file(lambda path: path.write_bytes(b"")), resnet18_network,
         ValueError, RESNET18 + NOT_READABLE.format(error="EOFError")),
]

CASES = IDX_CASES + LIST_CASES + CIFAR_CASES + INDEX_CASES + CACHE_CASES + WEIGHTS_CASES


@pytest.fixture(autouse=True)
def no_slow_work(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Makes every slow step fail the test: a bad file must be reported before any of them starts."""
    def slow_step(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("slow work started before the bad file was reported")

    monkeypatch.setattr(ImageFiles, "read", slow_step)  # decoding listed images
    monkeypatch.setattr(extract, "encode_images", slow_step)  # running a network over a dataset
    monkeypatch.setattr(learned, "train_encoder", slow_step)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the networks here are tiny; a second thread only costs
    yield
    torch.set_num_threads(threads)


def test_the_table_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 22 and len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_file_gives_a_named_error_and_leaves_its_folder_as_it_was(case: Case, tmp_path: Path) -> None:
    named = case.make(tmp_path)
    before = folder_state(tmp_path)
    pattern = case.match.replace("{path}", re.escape(str(named)))
    if issubclass(case.error, Warning):
        with pytest.warns(case.error, match=pattern):
            assert case.call(tmp_path) is None  # a miss: the caller recomputes and rewrites the entry
    else:
        with pytest.raises(case.error, match=pattern):
            case.call(tmp_path)
    assert folder_state(tmp_path) == before


def test_a_distrusted_cache_entry_is_replaced_by_the_next_write(tmp_path: Path) -> None:
    path = cache_entry(cut)(tmp_path)
    with pytest.warns(CorruptCacheWarning):
        assert load_cached(tmp_path) is None
    FeatureCache(tmp_path / "cache").save_array(CACHE_KEY, np.ones(3, dtype=np.float32))
    np.testing.assert_array_equal(load_cached(tmp_path), np.ones(3))  # no warning: the entry is whole again
    assert sorted(tmp_path.joinpath("cache").iterdir()) == [path.with_suffix(".json"), path]


# ---------------------------------------------------------------- writers: a failed write leaves nothing


@dataclass(frozen=True)
class FailedWrite:
    """A write that fails; the folder must keep exactly what ``make`` left in it."""

    id: str
    make: Callable[[Path], None]
    """Prepares the folder: a previous file to keep, a folder blocking the final rename."""
    write: Callable[[Path, pytest.MonkeyPatch], object]
    error: type[Exception]
    match: str


def blocking_folder(name: str) -> Callable[[Path], None]:
    """A non-empty folder where the file ``name`` should go, so the final rename fails."""
    def make(root: Path) -> None:
        (root / name).mkdir(parents=True)
        (root / name / "keep.txt").write_text("not to be touched\n")

    return make


def cache_with_blocked(suffix: str) -> Callable[[Path], None]:
    """A cache folder holding another entry, and a folder where ``CACHE_KEY``'s ``suffix`` file should go."""
    def make(root: Path) -> None:
        cache = FeatureCache(root / "cache")
        data_path = cache.save_array(CACHE_KEY, np.zeros(1))  # only to learn the entry's file names
        data_path.unlink()
        data_path.with_suffix(".json").unlink()
        cache.save_array(OTHER_KEY, np.zeros(2))
        blocking_folder(str(data_path.with_suffix(suffix).relative_to(root)))(root)

    return make


def fail_after_writing(file: str | os.PathLike | object) -> NoReturn:
    """Writes a few bytes to ``file`` (a path or a handle), then fails as a full disk would."""
    if isinstance(file, (str, os.PathLike)):
        Path(file).write_bytes(b"half")
    else:
        file.write(b"half")
    raise OSError(errno.ENOSPC, "No space left on device (simulated)")


def write_cache_entry(root: Path) -> None:
    FeatureCache(root / "cache").save_array(CACHE_KEY, np.ones(4))


def write_index(root: Path) -> None:
    index = BucketIndex(N_BITS)
    index.add(random_codes(10, seed=1))
    index.save(root / "index.npz")


def write_table(root: Path) -> None:
    save_table(pd.DataFrame({"bits": [16, 32], "mAP": [0.5, 0.6]}), root, "results")


def write_figure(root: Path) -> None:
    figure = Figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    save_figure(figure, root, "curve")


def write_index_on_a_full_disk(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(np, "savez", lambda file, *args, **kwargs: fail_after_writing(file))
    write_index(root)


def write_table_on_a_full_disk(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda table, path, *args, **kwargs: fail_after_writing(path))
    write_table(root)


def simply(write: Callable[[Path], None]) -> Callable[[Path, pytest.MonkeyPatch], None]:
    """``write`` as a writer of the table, which patches nothing."""
    return lambda root, _: write(root)


IS_A_DIRECTORY = r"Is a directory: '.*\.tmp' -> '.*{name}'"
FAILED_WRITES = [
    FailedWrite("index-save-rename-fails", blocking_folder("index.npz"), simply(write_index), IsADirectoryError,
                IS_A_DIRECTORY.format(name=r"index\.npz")),
    FailedWrite("index-save-serialisation-fails-over-a-previous-index", write_index, write_index_on_a_full_disk,
                OSError, r"No space left on device \(simulated\)"),
    FailedWrite("cache-save-object-array", lambda root: None,
                lambda root, _: FeatureCache(root).save_array(CACHE_KEY, np.array([object()])), ValueError,
                r"Object arrays cannot be saved when allow_pickle=False"),
    FailedWrite("cache-save-object-arrays-npz", lambda root: None,
                lambda root, _: FeatureCache(root).save_arrays(CACHE_KEY, {"names": np.array([object()])}),
                ValueError, r"Object arrays cannot be saved when allow_pickle=False"),
    FailedWrite("cache-save-data-rename-fails", cache_with_blocked(".npy"), simply(write_cache_entry),
                IsADirectoryError, IS_A_DIRECTORY.format(name=r"\.npy")),
    FailedWrite("cache-save-record-rename-fails", cache_with_blocked(".json"), simply(write_cache_entry),
                IsADirectoryError, IS_A_DIRECTORY.format(name=r"\.json")),
    FailedWrite("table-save-rename-fails", blocking_folder("results.csv"), simply(write_table), IsADirectoryError,
                IS_A_DIRECTORY.format(name=r"results\.csv")),
    FailedWrite("table-save-serialisation-fails-over-a-previous-table", write_table, write_table_on_a_full_disk,
                OSError, r"No space left on device \(simulated\)"),
    FailedWrite("figure-save-rename-fails", blocking_folder("curve.png"), simply(write_figure), IsADirectoryError,
                IS_A_DIRECTORY.format(name=r"curve\.png")),
]


@pytest.mark.parametrize("case", FAILED_WRITES, ids=[case.id for case in FAILED_WRITES])
def test_a_failed_write_leaves_no_temporary_or_partial_file(case: FailedWrite, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    case.make(tmp_path)
    before = folder_state(tmp_path)
    with pytest.raises(case.error, match=case.match):
        case.write(tmp_path, monkeypatch)
    assert folder_state(tmp_path) == before
