"""The list-file format the hashing community ships NUS-WIDE-21, MS-COCO and MIR FLICKR-25K in.

One line per image: a path relative to an image root, then the image's 0/1 label vector, all
separated by whitespace::

    images/0001.jpg 0 1 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1

Every line of a list (and of the three lists of a trio) carries the same number of labels.
Splits are shipped as three such lists: ``test.txt`` (the queries), ``database.txt`` and
``train.txt``; :func:`load_list_trio` keeps them exactly as given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hashkit.data.dataset import ImageDataset, ImageFiles
from hashkit.data.split import Split
from hashkit.inputs import record_input

DEFAULT_IMAGE_SIZE = 224  # the input size of the AlexNet / VGG / CNN-F backbones the papers use


@dataclass(frozen=True)
class ListEntries:
    """The parsed lines of one list file."""

    file: Path
    paths: tuple[str, ...]
    labels: np.ndarray  # (n, n_classes) uint8
    line_numbers: np.ndarray  # 1-based line of each entry, for error messages


def read_list_file(list_file: str | os.PathLike) -> ListEntries:
    """Parse ``list_file``; raise ``ValueError`` naming the file and line of the first bad line."""
    list_file = Path(list_file)
    if not list_file.is_file():
        raise FileNotFoundError(f"list file {list_file} does not exist")
    # The images a list names are not recorded one by one (hundreds of thousands): the list stands for them.
    record_input(list_file)
    lines = list_file.read_text().splitlines()
    numbered = [(number, line.split()) for number, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise ValueError(f"{list_file}: no entries (expected lines '<image path> <0/1 labels...>')")

    n_labels = len(numbered[0][1]) - 1
    for number, tokens in numbered:
        if tokens[0] in ("0", "1"):
            raise ValueError(
                f"{list_file}, line {number}: starts with label {tokens[0]!r}; "
                "expected an image path before the labels"
            )
        if len(tokens) - 1 != n_labels or n_labels == 0:
            raise ValueError(
                f"{list_file}, line {number}: {len(tokens) - 1} labels, expected {n_labels} "
                f"(the count on line {numbered[0][0]}) and at least one"
            )

    label_tokens = np.array([tokens[1:] for _, tokens in numbered])
    not_binary = ~np.isin(label_tokens, ("0", "1"))
    if not_binary.any():
        row, column = np.argwhere(not_binary)[0]
        raise ValueError(
            f"{list_file}, line {numbered[row][0]}: label {column + 1} is "
            f"{str(label_tokens[row, column])!r}, expected 0 or 1"
        )
    return ListEntries(
        file=list_file,
        paths=tuple(tokens[0] for _, tokens in numbered),
        labels=(label_tokens == "1").astype(np.uint8),
        line_numbers=np.array([number for number, _ in numbered]),
    )


def _image_size(image_size: int | tuple[int, int]) -> tuple[int, int]:
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(side, int) and side > 0 for side in size):
        raise ValueError(f"image_size: expected a positive int or (height, width), got {image_size!r}")
    return size


def _check_images_exist(entries: ListEntries, image_root: Path) -> None:
    missing = [
        index for index, path in enumerate(entries.paths) if not os.path.isfile(image_root / path)
    ]
    if missing:
        first = missing[0]
        raise FileNotFoundError(
            f"{entries.file}, line {entries.line_numbers[first]}: image "
            f"{image_root / entries.paths[first]} does not exist ({len(missing):,} of "
            f"{len(entries.paths):,} listed images are missing under image root {image_root})"
        )


def _class_names(
    class_names: list[str] | tuple[str, ...] | None, n_labels: int, source: Path
) -> tuple[str, ...]:
    if class_names is None:
        return tuple(f"class_{index}" for index in range(n_labels))
    if len(class_names) != n_labels:
        raise ValueError(
            f"class_names: {len(class_names)} names given, but {source} has {n_labels} label columns"
        )
    return tuple(class_names)


def load_list_file(
    list_file: str | os.PathLike,
    image_root: str | os.PathLike,
    *,
    name: str | None = None,
    class_names: list[str] | tuple[str, ...] | None = None,
    image_size: int | tuple[int, int] = DEFAULT_IMAGE_SIZE,
) -> ImageDataset:
    """A dataset of the images listed in ``list_file``, read lazily from under ``image_root``.

    Every listed image is checked to exist up front (a missing one is an error naming it); pixels
    are read, converted to RGB and resized to ``image_size`` only when ``images()`` asks for them.
    ``name`` defaults to the list file's stem.
    """
    size = _image_size(image_size)
    image_root = Path(image_root)
    entries = read_list_file(list_file)
    names = _class_names(class_names, entries.labels.shape[1], entries.file)
    _check_images_exist(entries, image_root)
    return ImageDataset(
        name=name or entries.file.stem,
        labels=entries.labels,
        class_names=names,
        source=ImageFiles(image_root, entries.paths, size),
    )


def load_list_trio(
    list_dir: str | os.PathLike,
    image_root: str | os.PathLike | None = None,
    *,
    name: str,
    class_names: list[str] | tuple[str, ...] | None = None,
    image_size: int | tuple[int, int] = DEFAULT_IMAGE_SIZE,
    query_file: str = "test.txt",
    database_file: str = "database.txt",
    train_file: str = "train.txt",
) -> ImageDataset:
    """One dataset from a pre-split trio of list files, with the trio's split as ``given_split``.

    An image listed in several files (the training list is usually part of the database list)
    becomes one item, so the split can say so; it must carry the same labels everywhere. Items
    are ordered database first, then queries, then training images not in the database.
    ``image_root`` defaults to ``list_dir``. ``protocol_split("given", dataset)`` returns the split.
    """
    size = _image_size(image_size)
    list_dir = Path(list_dir)
    image_root = list_dir if image_root is None else Path(image_root)
    by_role = {
        "database": read_list_file(list_dir / database_file),
        "query": read_list_file(list_dir / query_file),
        "train": read_list_file(list_dir / train_file),
    }
    n_labels = by_role["database"].labels.shape[1]
    for entries in by_role.values():
        if entries.labels.shape[1] != n_labels:
            raise ValueError(
                f"{entries.file}: {entries.labels.shape[1]} labels per line, but "
                f"{by_role['database'].file} has {n_labels}"
            )
    names = _class_names(class_names, n_labels, by_role["database"].file)

    for entries in by_role.values():
        _check_images_exist(entries, image_root)

    # Map each distinct path to one item, in order of first appearance.
    item_of_path: dict[str, int] = {}
    role_items: dict[str, np.ndarray] = {}
    for role, entries in by_role.items():
        role_items[role] = np.array(
            [item_of_path.setdefault(path, len(item_of_path)) for path in entries.paths], dtype=np.int64
        )
        repeated = np.flatnonzero(np.bincount(role_items[role]) > 1)
        if repeated.size:
            row = int(np.flatnonzero(role_items[role] == repeated[0])[1])
            raise ValueError(
                f"{entries.file}, line {entries.line_numbers[row]}: {entries.paths[row]} is listed "
                "a second time; a split role lists each image once"
            )

    labels = np.zeros((len(item_of_path), n_labels), dtype=np.uint8)
    labelled = np.zeros(len(item_of_path), dtype=bool)
    for role, entries in by_role.items():
        items = role_items[role]
        fresh = ~labelled[items]
        labels[items[fresh]] = entries.labels[fresh]
        labelled[items] = True
        disagree = np.flatnonzero((labels[items] != entries.labels).any(axis=1))
        if disagree.size:
            row = int(disagree[0])
            raise ValueError(
                f"{entries.file}, line {entries.line_numbers[row]}: {entries.paths[row]} carries other "
                "labels than where it was listed first in this trio; one image has one label vector"
            )

    return ImageDataset(
        name=name,
        labels=labels,
        class_names=names,
        source=ImageFiles(image_root, tuple(item_of_path), size),
        given_split=Split(protocol="given", **role_items),
    )
