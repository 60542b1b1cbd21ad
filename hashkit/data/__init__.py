"""Datasets and retrieval protocols: loaders for the on-disk formats, the mosaic set, the splits.

* :func:`load_dataset` — any dataset by name; the loaders behind it:
  :func:`load_fashion_mnist`, :func:`load_cifar10`, :func:`load_list_file`, :func:`load_list_trio`,
  and :func:`make_fashion_mosaic`.
* :class:`ImageDataset` — what every loader returns: multi-hot labels, class names, images.
* :func:`protocol_split` — the five papers' query / database / training splits as a :class:`Split`;
  :func:`protocol_table` and :func:`split_table` for the book.
"""

from hashkit.data.cifar import load_cifar10
from hashkit.data.dataset import ArrayImages, ImageDataset, ImageFiles
from hashkit.data.fashion_mnist import FASHION_MNIST_CLASSES, find_fashion_mnist, load_fashion_mnist
from hashkit.data.listfile import load_list_file, load_list_trio, read_list_file
from hashkit.data.load import DATASET_LOADERS, load_dataset, locate_dataset
from hashkit.data.mosaic import MosaicLayout, make_fashion_mosaic
from hashkit.data.protocols import (
    PAPER_PROTOCOLS,
    PAPER_SETTINGS,
    PROTOCOLS,
    PaperSetting,
    draw_round_sample,
    paper_setting,
    protocol_split,
    protocol_table,
    split_table,
)
from hashkit.data.split import Split

__all__ = [
    "ArrayImages",
    "DATASET_LOADERS",
    "FASHION_MNIST_CLASSES",
    "ImageDataset",
    "ImageFiles",
    "MosaicLayout",
    "PAPER_PROTOCOLS",
    "PAPER_SETTINGS",
    "PROTOCOLS",
    "PaperSetting",
    "Split",
    "draw_round_sample",
    "find_fashion_mnist",
    "load_cifar10",
    "load_dataset",
    "locate_dataset",
    "load_fashion_mnist",
    "load_list_file",
    "load_list_trio",
    "make_fashion_mosaic",
    "paper_setting",
    "protocol_split",
    "protocol_table",
    "read_list_file",
    "split_table",
]
