"""Tests of hashkit.data: loaders on fixtures written in the real on-disk formats, the mosaic set,
and the papers' protocols on the real Fashion-MNIST (when installed) and on the mosaic set."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from hashkit.data import (
    FASHION_MNIST_CLASSES,
    PAPER_PROTOCOLS,
    ArrayImages,
    ImageDataset,
    Split,
    draw_round_sample,
    fashion_mnist,
    load_cifar10,
    load_dataset,
    load_fashion_mnist,
    load_list_file,
    load_list_trio,
    locate,
    make_fashion_mosaic,
    paper_setting,
    protocol_split,
    protocol_table,
    split_table,
)
from tests.formats import write_cifar10, write_fashion_mnist, write_idx_gz, write_list_trio

FASHION_FILES = fashion_mnist.FASHION_MNIST_FILES


# ---------------------------------------------------------------- real data and mosaic fixtures

@pytest.fixture(scope="module")
def real_fashion(fashion_mnist_dataset: ImageDataset) -> ImageDataset:
    return fashion_mnist_dataset


@pytest.fixture(scope="module")
def real_mosaic(real_fashion: ImageDataset) -> ImageDataset:
    return make_fashion_mosaic(real_fashion, seed=0)


@pytest.fixture()
def no_default_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point the env variable, the repository's data/ and the system dir at empty temp dirs."""
    places = {"env": tmp_path / "env", "repo": tmp_path / "repo-data", "system": tmp_path / "system"}
    monkeypatch.delenv(locate.DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(locate, "REPO_DATA_DIR", places["repo"])
    monkeypatch.setattr(fashion_mnist, "SYSTEM_FASHION_MNIST_DIR", places["system"])
    return places


def small_single_label(n_per_class: int = 12, n_classes: int = 4, name: str = "tiny",
                       class_sizes: tuple[int, ...] | None = None) -> ImageDataset:
    class_sizes = class_sizes or (n_per_class,) * n_classes
    n_classes = len(class_sizes)
    class_ids = np.repeat(np.arange(n_classes), class_sizes)
    pixels = np.arange(class_ids.size * 4 * 4, dtype=np.uint64).reshape(-1, 4, 4) % 251 + 1
    return ImageDataset(
        name=name,
        labels=np.eye(n_classes, dtype=np.uint8)[class_ids],
        class_names=tuple(f"c{index}" for index in range(n_classes)),
        source=ArrayImages(pixels.astype(np.uint8)),
    )


# ---------------------------------------------------------------- Fashion-MNIST loader

def test_fashion_mnist_loads_idx_files(tmp_path: Path) -> None:
    dataset = load_fashion_mnist(write_fashion_mnist(tmp_path / "fm", 3, 2))
    assert len(dataset) == 50
    assert dataset.images([0, 49]).shape == (2, 28, 28)
    assert dataset.images([0]).dtype == np.uint8
    assert dataset.class_names == FASHION_MNIST_CLASSES
    assert dataset.official_test.sum() == 20 and dataset.official_test[30:].all()
    assert dataset.labels.shape == (50, 10) and (dataset.labels.sum(axis=1) == 1).all()
    np.testing.assert_array_equal(dataset.class_ids()[:12], np.tile(np.arange(10), 2)[:12])


def test_fashion_mnist_lookup_order(tmp_path: Path, no_default_places: dict[str, Path],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write_fashion_mnist(tmp_path / "explicit", fill=1)
    write_fashion_mnist(no_default_places["env"] / "fashion-mnist", fill=2)
    write_fashion_mnist(no_default_places["repo"] / "fashion-mnist", fill=3)
    write_fashion_mnist(no_default_places["system"], fill=4)
    monkeypatch.setenv(locate.DATA_ENV_VAR, str(no_default_places["env"]))

    def first_pixel(root: Path | None) -> int:
        return int(load_fashion_mnist(root).images([0])[0, 0, 0])

    assert first_pixel(explicit) == 1
    assert first_pixel(None) == 2  # $HASHKIT_DATA/fashion-mnist
    monkeypatch.setenv(locate.DATA_ENV_VAR, str(no_default_places["env"] / "fashion-mnist"))
    assert first_pixel(None) == 2  # $HASHKIT_DATA itself
    monkeypatch.delenv(locate.DATA_ENV_VAR)
    assert first_pixel(None) == 3  # the repository's data/fashion-mnist
    assert first_pixel(tmp_path / "nothing-here") == 3  # a root without the files is passed over
    for name in FASHION_FILES:
        (no_default_places["repo"] / "fashion-mnist" / name).unlink()
    assert first_pixel(None) == 4  # the Debian package's directory


def test_fashion_mnist_missing_names_every_place_and_way(
        tmp_path: Path, no_default_places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(locate.DATA_ENV_VAR, str(no_default_places["env"]))
    explicit = tmp_path / "explicit"
    with pytest.raises(FileNotFoundError) as caught:
        load_dataset("fashion-mnist", data_root=explicit)
    message = str(caught.value)
    for place in (explicit, explicit / "fashion-mnist", no_default_places["env"],
                  no_default_places["env"] / "fashion-mnist", no_default_places["repo"] / "fashion-mnist",
                  no_default_places["system"]):
        assert f"- {place}\n" in message
    ways = ("apt-get install dataset-fashion-mnist", "copy the four files", "HASHKIT_DATA=", "data_root=")
    for way in ways:
        assert way in message


def test_fashion_mnist_incomplete_copy_names_missing_file(tmp_path: Path, no_default_places) -> None:
    directory = write_fashion_mnist(tmp_path / "fm")
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="missing t10k-labels-idx1-ubyte.gz"):
        load_fashion_mnist(directory)


@pytest.mark.parametrize("damage", ["wrong magic", "short data", "not gzip", "cut gzip stream"])
def test_fashion_mnist_corrupted_idx_names_the_file(tmp_path: Path, no_default_places, damage: str) -> None:
    directory = write_fashion_mnist(tmp_path / "fm")
    broken = directory / "train-labels-idx1-ubyte.gz"
    labels = np.tile(np.arange(10, dtype=np.uint8), 2)
    if damage == "wrong magic":
        write_idx_gz(broken, labels, magic=0x00000803)
    elif damage == "short data":
        with gzip.open(broken, "wb") as stream:
            stream.write(np.array([0x801, 20], dtype=">u4").tobytes() + labels[:15].tobytes())
    elif damage == "not gzip":
        broken.write_bytes(b"plain text, not an IDX archive")
    else:
        broken.write_bytes(broken.read_bytes()[:-12])
    with pytest.raises(ValueError, match=str(broken).replace(".", r"\.")):
        load_fashion_mnist(directory)


# ---------------------------------------------------------------- CIFAR-10 loader

def test_cifar10_loads_python_batches(tmp_path: Path, no_default_places) -> None:
    directory = write_cifar10(tmp_path / "cifar-10-batches-py")
    for root in (directory, tmp_path):  # the dir itself or its parent
        dataset = load_cifar10(root)
        assert len(dataset) == 24 and dataset.official_test.sum() == 4 and dataset.official_test[-4:].all()
        assert dataset.class_names[3] == "cat"
    with open(directory / "data_batch_2", "rb") as stream:
        batch = pickle.load(stream, encoding="bytes")
    image = dataset.images([4])[0]  # first image of data_batch_2
    assert image.shape == (32, 32, 3)
    # channel-major storage: red plane, then green, then blue
    assert tuple(image[0, 1]) == (batch[b"data"][0, 1], batch[b"data"][0, 1025], batch[b"data"][0, 2049])
    assert dataset.class_ids()[4] == batch[b"labels"][0]


def test_cifar10_missing_batch_is_named(tmp_path: Path, no_default_places) -> None:
    directory = write_cifar10(tmp_path / "cifar-10-batches-py")
    (directory / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match="test_batch"):
        load_dataset("cifar10", data_root=tmp_path)


def test_cifar10_bad_batch_is_named(tmp_path: Path, no_default_places) -> None:
    directory = write_cifar10(tmp_path / "cifar-10-batches-py")
    with open(directory / "data_batch_3", "wb") as stream:
        pickle.dump({b"data": np.zeros((2, 100), dtype=np.uint8), b"labels": [0, 1]}, stream)
    with pytest.raises(ValueError, match="data_batch_3.*3072"):
        load_cifar10(directory)


# ---------------------------------------------------------------- list files

def test_list_file_loads_lazily_resized_rgb(tmp_path: Path) -> None:
    write_list_trio(tmp_path)
    dataset = load_list_file(tmp_path / "database.txt", tmp_path, image_size=(8, 6))
    assert dataset.name == "database" and len(dataset) == 4
    np.testing.assert_array_equal(dataset.labels, [[1, 0, 0], [0, 1, 1], [0, 0, 1], [1, 1, 0]])
    images = dataset.images([1, 2])
    assert images.shape == (2, 8, 6, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[0, 0, 0], [40, 0, 215])  # RGB PNG kept as RGB
    np.testing.assert_array_equal(images[1, 0, 0], [80, 80, 80])  # grey PNG converted to RGB
    with pytest.raises(ValueError, match="multi-label"):
        dataset.class_ids()


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [("img/x.png 0 2 1", "label 2 is '2'"),
     ("img/x.png 0 1", "2 labels, expected 3"),
     ("0 1 1", "expected an image path"),
     ("img/x.png 0 1 yes", "label 3 is 'yes'")],
)
def test_malformed_list_line_names_file_and_line(tmp_path: Path, bad_line: str, message: str) -> None:
    list_file = tmp_path / "train.txt"
    list_file.write_text(f"img/a.png 1 0 0\n\nimg/b.png 0 1 0\n{bad_line}\n")
    with pytest.raises(ValueError, match=rf"train\.txt, line 4: .*{message}"):
        load_list_file(list_file, tmp_path)


def test_missing_listed_image_is_named(tmp_path: Path) -> None:
    write_list_trio(tmp_path)
    (tmp_path / "img" / "c.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"database\.txt, line 3: image .*img/c\.png does not exist"):
        load_list_trio(tmp_path, name="trio")


def test_list_trio_keeps_the_given_split(tmp_path: Path) -> None:
    write_list_trio(tmp_path / "nus-wide")
    (tmp_path / "nus-wide" / "classes.txt").write_text("sky\nwater\nperson\n")
    dataset = load_dataset("nus-wide", data_root=tmp_path, image_size=16)
    split = protocol_split("given", dataset)
    assert len(dataset) == 6  # b and d appear in both train and database: one item each
    assert dataset.class_names == ("sky", "water", "person")
    assert split.protocol == "given" and split.sizes() == {"query": 2, "database": 4, "train": 2}
    paths = dataset.source.paths
    assert [paths[item] for item in split.query] == ["img/q1.png", "img/q2.png"]
    assert [paths[item] for item in split.train] == ["img/b.png", "img/d.png"]
    assert split.train_within_database() and split.overlaps()["query & database"] == 0
    np.testing.assert_array_equal(dataset.labels[split.query], [[1, 0, 1], [0, 1, 0]])
    assert dataset.images(split.query).shape == (2, 16, 16, 3)


def test_list_trio_conflicting_labels_are_named(tmp_path: Path) -> None:
    write_list_trio(tmp_path)
    (tmp_path / "train.txt").write_text("img/b.png 0 1 1\nimg/d.png 0 1 0\n")
    with pytest.raises(ValueError, match=r"train\.txt, line 2: img/d\.png carries other labels"):
        load_list_trio(tmp_path, name="trio")


def test_given_protocol_needs_a_given_split() -> None:
    with pytest.raises(ValueError, match="no given split"):
        protocol_split("given", small_single_label())


def test_load_dataset_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError) as caught:
        load_dataset("imagenet")
    for name in ("fashion-mnist", "fashion-mosaic", "cifar10", "nus-wide", "ms-coco", "mir-flickr"):
        assert name in str(caught.value)


# ---------------------------------------------------------------- the mosaic set

def test_mosaic_labels_boxes_and_pixels_match_the_items() -> None:
    source = small_single_label(n_per_class=30, n_classes=5)
    mosaic = make_fashion_mosaic(source, n_images=40, seed=3)
    layout = mosaic.mosaic
    assert mosaic.images([0]).shape == (1, 8, 8)
    counts = layout.items_per_image()
    assert counts.min() >= 1 and counts.max() <= 4
    for index in range(len(mosaic)):
        present = set(layout.item_classes[index][layout.item_classes[index] >= 0])
        assert set(np.flatnonzero(mosaic.labels[index])) == present
        image = mosaic.images([index])[0]
        for cell, (top, left, bottom, right) in enumerate(layout.item_boxes()[index]):
            source_id = layout.source_ids[index, cell]
            if source_id < 0:
                assert top == -1
                box = layout.cell_boxes()[cell]
                assert not image[box[0]:box[2], box[1]:box[3]].any()  # empty cells are black
            else:
                np.testing.assert_array_equal(image[top:bottom, left:right], source.images([source_id])[0])
                assert layout.item_classes[index, cell] == source.class_ids()[source_id]


def test_mosaic_is_deterministic_per_seed() -> None:
    source = small_single_label(n_per_class=30, n_classes=5)
    first, again = (make_fashion_mosaic(source, n_images=40, seed=7) for _ in range(2))
    assert first.images(slice(None)).tobytes() == again.images(slice(None)).tobytes()
    assert first.labels.tobytes() == again.labels.tobytes()
    assert first.mosaic.source_ids.tobytes() == again.mosaic.source_ids.tobytes()
    other = make_fashion_mosaic(source, n_images=40, seed=8)
    assert not np.array_equal(first.mosaic.source_ids, other.mosaic.source_ids)


def test_mosaic_too_many_images_is_an_error_before_building() -> None:
    with pytest.raises(ValueError, match="n_images=100"):
        make_fashion_mosaic(small_single_label(n_per_class=10, n_classes=4), n_images=100)


def test_real_mosaic_default_set(real_mosaic: ImageDataset, real_fashion: ImageDataset) -> None:
    layout = real_mosaic.mosaic
    assert real_mosaic.name == "fashion-mosaic" and len(real_mosaic) == 20_000
    assert real_mosaic.images([0]).shape == (1, 56, 56)
    used = layout.source_ids[layout.source_ids >= 0]
    assert np.unique(used).size == used.size  # every source image used at most once
    assert used.max() < len(real_fashion)
    assert set(np.unique(layout.items_per_image())) == {1, 2, 3, 4}
    assert 1.9 < real_mosaic.labels.sum(axis=1).mean() < 2.3  # NUS-WIDE-like label cardinality
    assert real_mosaic.is_multi_label


# ---------------------------------------------------------------- protocols

FASHION_SIZES = {  # query, database, train on Fashion-MNIST's 70,000 images
    "fdah": (10_000, 60_000, 60_000),  # official split; database = training set
    "dshc": (10_000, 60_000, 60_000),  # CIFAR-10 setting: 1,000 per class query
    "dsah": (1_000, 69_000, 10_000),   # CIFAR-10 setting: 100 / 1,000 per class
    "bgan": (1_000, 69_000, 10_000),
    "mch": (1_000, 69_000, 5_000),     # NUS-WIDE setting: 100 / 500 per class
}
MOSAIC_SIZES = {  # on the 20,000 mosaics (10 classes): NUS-WIDE settings at the rate per class
    "fdah": (1_000, 19_000, 19_000),
    "dshc": (1_000, 19_000, 19_000),
    "dsah": (1_000, 19_000, 5_000),
    "bgan": (1_000, 19_000, 10_000),
    "mch": (1_000, 19_000, 5_000),
}


def check_split(split: Split, n_items: int) -> None:
    """What every paper's split satisfies: queries apart, database = the rest, train ⊂ database."""
    assert split.overlaps()["query & database"] == 0
    assert split.overlaps()["query & train"] == 0
    assert split.train_within_database()
    np.testing.assert_array_equal(np.union1d(split.query, split.database), np.arange(n_items))


@pytest.mark.parametrize("protocol", PAPER_PROTOCOLS)
def test_protocols_on_real_fashion_mnist(real_fashion: ImageDataset, protocol: str) -> None:
    split = protocol_split(protocol, real_fashion, seed=0)
    assert tuple(split.sizes().values()) == FASHION_SIZES[protocol]
    check_split(split, len(real_fashion))
    query_per_class = np.bincount(real_fashion.class_ids()[split.query], minlength=10)
    assert (query_per_class == FASHION_SIZES[protocol][0] // 10).all()
    again = protocol_split(protocol, real_fashion, seed=0)
    assert np.array_equal(split.query, again.query) and np.array_equal(split.train, again.train)


def test_fdah_takes_the_official_fashion_mnist_split(real_fashion: ImageDataset) -> None:
    split = protocol_split("fdah", real_fashion, seed=5)
    np.testing.assert_array_equal(split.query, np.arange(60_000, 70_000))
    np.testing.assert_array_equal(split.train, split.database)
    random_query = protocol_split("fdah", real_fashion, seed=5, query_per_class=1_000)
    assert random_query.sizes()["query"] == 10_000 and random_query.query.min() < 60_000


@pytest.mark.parametrize("protocol", ["dshc", "dsah", "bgan", "mch"])
def test_seeds_give_different_splits(real_fashion: ImageDataset, protocol: str) -> None:
    first, second = (protocol_split(protocol, real_fashion, seed=seed) for seed in (0, 1))
    assert not np.array_equal(first.query, second.query)


@pytest.mark.parametrize("protocol", PAPER_PROTOCOLS)
def test_protocols_on_real_mosaic(real_mosaic: ImageDataset, protocol: str) -> None:
    split = protocol_split(protocol, real_mosaic, seed=0)
    assert tuple(split.sizes().values()) == MOSAIC_SIZES[protocol]
    check_split(split, len(real_mosaic))
    setting = paper_setting(protocol, real_mosaic)
    if setting.query.per_class is not None:  # every label drawn for per_class queries
        assert (real_mosaic.labels[split.query].sum(axis=0) >= setting.query.per_class).all()
    # Splitting mosaics never splits a source image: no source item on both sides.
    query_sources = real_mosaic.mosaic.source_ids[split.query]
    database_sources = real_mosaic.mosaic.source_ids[split.database]
    shared = np.intersect1d(query_sources[query_sources >= 0], database_sources[database_sources >= 0])
    assert shared.size == 0
    other = protocol_split(protocol, real_mosaic, seed=1)
    assert not np.array_equal(split.query, other.query)


def test_per_class_draw_on_multi_label_takes_each_item_once() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random((300, 6)) < 0.35).astype(np.uint8)
    labels[labels.sum(axis=1) == 0, 0] = 1
    dataset = ImageDataset("multi", labels, tuple("abcdef"), ArrayImages(np.zeros((300, 2, 2), np.uint8)))
    split = protocol_split("mch", dataset, seed=0, query_per_class=5, train_per_class=10)
    assert split.sizes() == {"query": 30, "database": 270, "train": 60}
    assert (labels[split.query].sum(axis=0) >= 5).all() and (labels[split.train].sum(axis=0) >= 10).all()
    check_split(split, 300)


def test_too_small_dataset_names_protocol_dataset_and_sizes() -> None:
    tiny = small_single_label(n_per_class=12, n_classes=4, name="tiny-set")
    with pytest.raises(ValueError, match=r"protocol 'dsah'.*'tiny-set' \(48 items\).*400 queries"):
        protocol_split("dsah", tiny)
    uneven = small_single_label(class_sizes=(20, 20, 20, 6), name="uneven")
    with pytest.raises(ValueError, match=r"'mch'.*'uneven'.*train: class 3 has 4 items left.*5 per class"):
        protocol_split("mch", uneven, query_per_class=2, train_per_class=5)
    split = protocol_split("dsah", tiny, query_per_class=2, train_per_class=5)
    assert split.sizes() == {"query": 8, "database": 40, "train": 20}
    with pytest.raises(ValueError, match="query_per_class: expected a positive int"):
        protocol_split("dsah", tiny, query_per_class=0)
    with pytest.raises(ValueError, match="protocol: unknown 'adsh'"):
        protocol_split("adsh", tiny)


def test_round_sample_is_reproducible_and_redrawn_each_round() -> None:
    train = np.arange(100, 600)
    first = draw_round_sample(train, 50, seed=0, round_index=3)
    assert np.array_equal(first, draw_round_sample(train, 50, seed=0, round_index=3))
    assert not np.array_equal(first, draw_round_sample(train, 50, seed=0, round_index=4))
    assert np.isin(first, train).all() and np.unique(first).size == 50
    with pytest.raises(ValueError, match="sample_size"):
        draw_round_sample(train, 501, seed=0, round_index=0)


def test_protocol_table_states_the_papers_sizes() -> None:
    table = protocol_table().set_index(["protocol", "dataset"])
    assert tuple(table.loc[("dsah", "CIFAR-10"), ["query", "database", "train"]]) == (1_000, 59_000, 10_000)
    assert tuple(table.loc[("dsah", "NUS-WIDE"), ["query", "database", "train"]]) == (2_100, 267_548, 10_500)
    assert tuple(table.loc[("mch", "MIR FLICKR"), ["query", "database", "train"]]) == (5_000, 20_000, 10_000)
    assert table.loc[("fdah", "Fashion-MNIST"), "round sample"] == 2_000
    assert len(table) == 14


def test_split_table_reports_sizes_and_problems() -> None:
    table = split_table(small_single_label(n_per_class=12, n_classes=4)).set_index("protocol")
    assert set(table.index) == set(PAPER_PROTOCOLS)
    assert table["problem"].notna().all()  # 48 items cannot hold any paper's sizes
    assert "stand-in" in table.loc["dsah", "setting"]


def test_split_rejects_repeated_indices() -> None:
    with pytest.raises(ValueError, match="Split.query: indices repeat"):
        Split(query=np.array([1, 1]), database=np.array([0]), train=np.array([0]), protocol="x")


def test_a_subset_keeps_labels_pixels_and_official_test_of_its_items():
    pixels = np.arange(6 * 2 * 2, dtype=np.uint8).reshape(6, 2, 2)
    labels = np.eye(3, dtype=np.uint8)[[0, 1, 2, 0, 1, 2]]
    dataset = ImageDataset("fashion-mnist", labels, ("a", "b", "c"), ArrayImages(pixels),
                           official_test=np.array([False, False, False, False, True, True]))
    part = dataset.subset(np.array([5, 0, 3]))
    assert part.name == "fashion-mnist" and len(part) == 3
    np.testing.assert_array_equal(part.images(np.array([0, 2])), pixels[[5, 3]])
    np.testing.assert_array_equal(part.labels, labels[[5, 0, 3]])
    np.testing.assert_array_equal(part.official_test, [True, False, False])
    for bad in (np.array([0, 0]), np.array([6]), np.array([0.5])):
        with pytest.raises(ValueError, match="indices"):
            dataset.subset(bad)


def test_fdah_on_a_fashion_subset_takes_the_subsets_official_test_items_as_queries():
    labels = np.eye(10, dtype=np.uint8)[np.arange(700) % 10]
    official_test = np.arange(700) >= 600
    dataset = ImageDataset("fashion-mnist", labels, FASHION_MNIST_CLASSES, ArrayImages(np.zeros((700, 2, 2), np.uint8)),
                           official_test=official_test)
    split = protocol_split("fdah", dataset.subset(np.arange(0, 700, 2)), seed=0)
    assert len(split.query) == 50 and len(split.train) == 300
