"""``load_dataset``: every dataset the notebooks use, by name.

Expected layout under a data root (``data_root``, else ``$HASHKIT_DATA``, else the repository's
``data/``; Fashion-MNIST also falls back on its Debian package, see :mod:`hashkit.data.locate`)::

    fashion-mnist/        the four original *-ubyte.gz files
    cifar-10-batches-py/  data_batch_1..5, test_batch, batches.meta
    nus-wide/             test.txt, database.txt, train.txt  (list files, see hashkit.data.listfile)
    ms-coco/                 with image paths relative to this directory (or to image_root=),
    mir-flickr/              and optionally classes.txt: one class name per line, in label order
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hashkit.data import locate
from hashkit.data.cifar import find_cifar10, load_cifar10
from hashkit.data.dataset import ImageDataset
from hashkit.data.fashion_mnist import find_fashion_mnist, load_fashion_mnist
from hashkit.data.listfile import load_list_trio
from hashkit.data.mosaic import make_fashion_mosaic

LIST_FILE_DATASETS = ("nus-wide", "ms-coco", "mir-flickr")
LIST_TRIO_FILES = ("test.txt", "database.txt", "train.txt")
CLASS_NAMES_FILE = "classes.txt"


def _no_options(loader: Callable[[Any], ImageDataset], name: str) -> Callable[..., ImageDataset]:
    def load(data_root: str | os.PathLike | None, **options: Any) -> ImageDataset:
        if options:
            raise TypeError(f"dataset {name!r} takes no options, got {', '.join(sorted(options))}")
        return loader(data_root)

    return load


def _load_mosaic(data_root: str | os.PathLike | None, **options: Any) -> ImageDataset:
    return make_fashion_mosaic(load_fashion_mnist(data_root), **options)


def _find_list_trio(name: str, data_root: str | os.PathLike | None) -> Path:
    return locate.find_dir_with(f"{name} list files", LIST_TRIO_FILES, locate.candidate_dirs(name, data_root), [
        f"put them (and the images they list) in {locate.REPO_DATA_DIR / name}/",
        f"set {locate.DATA_ENV_VAR}=<dir holding {name}/>",
        "pass data_root=<that dir>",
    ])


def _list_trio_loader(name: str) -> Callable[..., ImageDataset]:
    def load(data_root: str | os.PathLike | None, **options: Any) -> ImageDataset:
        list_dir = _find_list_trio(name, data_root)
        names_file = list_dir / CLASS_NAMES_FILE
        if "class_names" not in options and names_file.is_file():
            lines = names_file.read_text().splitlines()
            options["class_names"] = [line.strip() for line in lines if line.strip()]
        return load_list_trio(list_dir, name=name, **options)

    return load


DATASET_LOADERS: dict[str, Callable[..., ImageDataset]] = {
    "fashion-mnist": _no_options(load_fashion_mnist, "fashion-mnist"),
    "fashion-mosaic": _load_mosaic,
    "cifar10": _no_options(load_cifar10, "cifar10"),
    **{name: _list_trio_loader(name) for name in LIST_FILE_DATASETS},
}


def locate_dataset(name: str, data_root: str | os.PathLike | None = None) -> Path:
    """The folder ``load_dataset(name, data_root)`` would read, found without reading it.

    A ``FileNotFoundError`` lists every place looked and how to provide the files; the mosaic set is
    built from Fashion-MNIST, so its folder is Fashion-MNIST's.
    """
    if name not in DATASET_LOADERS:
        raise ValueError(f"dataset: unknown name {name!r}; expected one of {', '.join(DATASET_LOADERS)}")
    if name in LIST_FILE_DATASETS:
        return _find_list_trio(name, data_root)
    return find_cifar10(data_root) if name == "cifar10" else find_fashion_mnist(data_root)


def load_dataset(name: str, data_root: str | os.PathLike | None = None, **options: Any) -> ImageDataset:
    """The dataset called ``name``, found under ``data_root`` (see the module docstring for the layout).

    Names: ``"fashion-mnist"``, ``"fashion-mosaic"`` (options of
    :func:`~hashkit.data.make_fashion_mosaic`: ``n_images``, ``seed``,
    ``item_count_probabilities``), ``"cifar10"``, and the list-file sets ``"nus-wide"``,
    ``"ms-coco"``, ``"mir-flickr"`` (options of :func:`~hashkit.data.load_list_trio`:
    ``image_root``, ``image_size``, ``class_names``; they carry their split as ``given_split``).
    """
    if name not in DATASET_LOADERS:
        raise ValueError(f"dataset: unknown name {name!r}; expected one of {', '.join(DATASET_LOADERS)}")
    return DATASET_LOADERS[name](data_root, **options)
