"""The five papers' query / database / training splits, and how each maps onto our datasets.

Every paper fixes, per dataset it reports on, how many queries are drawn, which items form the
database and which train the model. In all five the queries are left out of both the database
and the training set, and the database is every item that is not a query. What differs:

* **FDAH** (§3.1): Fashion-MNIST, 1,000 test images per class as queries and the other 6,000
  per class as training set; CIFAR-10, 100 per class as queries and 5,900 per class for
  training; NUS-WIDE (21 classes), 2,100 queries and the rest (over 190,000) for training. As in
  ADSH, the whole training set is the retrieval database. The "query set" of m items that FDAH
  redraws from the training set in each round of its optimisation (§2, m = 2,000 on Fashion-MNIST
  and CIFAR-10, 5,000 on NUS-WIDE, §3.1) is part of training, not of the split:
  :func:`draw_round_sample` draws it.
* **DSHC** (§4.1): CIFAR-10, 1,000 queries per class, the other 50,000 images are both training
  set and database; NUS-WIDE (21 classes, 195,834 images), 2,100 random queries, the rest is
  training set and database. (DSHC also reports DSDH's smaller setting, 2,100 queries and
  10,500 training images; pass ``train_total=10_500`` for it.)
* **DSAH** (§5.1, Table 2): CIFAR-10, 100 queries per class, the rest is the retrieval set and
  1,000 per class of it train; FLICKR25K, 1,000 queries and 10,000 training images from the
  retrieval set; NUS-WIDE, 2,100 queries and 10,500 training images (where from is not said;
  we draw them from the retrieval set, as for the other two datasets).
* **BGAN** (§4.1.1): CIFAR-10 and NUS-WIDE, 100 queries and 1,000 training images per class;
  Flickr, 1,000 queries and 4,000 training images. BGAN does not name its database; we take
  every non-query item, which holds the training set, as DSAH's Table 2 does when it reports
  BGAN under the same CIFAR-10 setting.
* **MCH** (§5.1): NUS-WIDE, 100 queries per class, the rest is the database and 500 per class of
  it train; MS-COCO and MIR FLICKR, 5,000 queries and 10,000 training images from the database.

Mapping onto the data we have (:func:`paper_setting`): a dataset a paper reports on gets that
paper's setting. Another single-label dataset (Fashion-MNIST for all but FDAH) gets the paper's
CIFAR-10 setting, or its NUS-WIDE setting when the paper has no CIFAR-10 (MCH); another
multi-label dataset (the mosaic set, and MS-COCO / MIR FLICKR where a paper lacks them) gets
the paper's NUS-WIDE setting. Stated per class, a NUS-WIDE setting carries over as it is;
stated in totals (2,100 and 10,500 are 100 and 500 per class of NUS-WIDE's 21), it is scaled to
the same rate per class, so the 10-class mosaic set gets 1,000 and 5,000.

"Per class" on multi-label data draws among the items holding each label and takes each item
at most once (see :func:`hashkit.data.sampling.draw_per_class`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from hashkit.data.dataset import ImageDataset
from hashkit.data.sampling import draw_per_class, draw_total
from hashkit.data.split import Split

PAPER_PROTOCOLS = ("fdah", "dshc", "dsah", "bgan", "mch")
PROTOCOLS = (*PAPER_PROTOCOLS, "given")
NUS_WIDE_CLASSES = 21


@dataclass(frozen=True)
class Draw:
    """How many items a role takes: ``per_class`` items of each class, or ``total`` items at random."""

    per_class: int | None = None
    total: int | None = None

    def __post_init__(self) -> None:
        if (self.per_class is None) == (self.total is None):
            raise ValueError("Draw: give exactly one of per_class and total")

    def size(self, n_classes: int) -> int:
        return self.total if self.per_class is None else self.per_class * n_classes

    def describe(self) -> str:
        return f"{self.per_class:,} per class" if self.per_class is not None else f"{self.total:,} at random"


@dataclass(frozen=True)
class PaperSetting:
    """One paper's split of one dataset, as the paper states it.

    Attributes:
        protocol: the paper, e.g. ``"dsah"``.
        dataset: our name of the paper's dataset (``"cifar10"``, ``"nus-wide"``, ...).
        paper_dataset_name: the dataset as the paper names it (``"FLICKR25K"``).
        query: how the queries are drawn from all items.
        train: how the training items are drawn from the database; ``None``: the whole database.
        query_is_official_test: the stated query set matches the dataset's own test set, which
            is taken when the dataset has one.
        section: where the paper states it.
        images, query_size, database_size, train_size: the sizes the paper states or implies,
            ``None`` where it leaves them open.
        round_sample: FDAH's per-round sample size m (:func:`draw_round_sample`); ``None`` for
            the other papers.
    """

    protocol: str
    dataset: str
    paper_dataset_name: str
    query: Draw
    train: Draw | None
    section: str
    images: int | None
    query_size: int | None
    database_size: int | None
    train_size: int | None
    query_is_official_test: bool = False
    round_sample: int | None = None


# Classes of each paper dataset, to turn "per class" into totals for the table.
PAPER_DATASET_CLASSES = {"fashion-mnist": 10, "cifar10": 10, "nus-wide": NUS_WIDE_CLASSES,
                         "ms-coco": 80, "mir-flickr": 24}


def _setting(protocol: str, dataset: str, paper_name: str, section: str, query: Draw,
             train: Draw | None, images: int | None, **extra: object) -> PaperSetting:
    n_classes = PAPER_DATASET_CLASSES[dataset]
    query_size = query.size(n_classes)
    database_size = None if images is None else images - query_size
    return PaperSetting(
        protocol=protocol, dataset=dataset, paper_dataset_name=paper_name, query=query, train=train,
        section=section, images=images, query_size=query_size, database_size=database_size,
        train_size=database_size if train is None else train.size(n_classes), **extra,
    )


# Sizes as the papers state them. NUS-WIDE-21 has 195,834 images (DSHC §4.1, BGAN §4.1.1);
# FDAH and MCH leave the count open, DSAH's Table 2 counts all 269,648 NUS-WIDE images.
PAPER_SETTINGS: dict[str, dict[str, PaperSetting]] = {
    "fdah": {
        "fashion-mnist": _setting("fdah", "fashion-mnist", "Fashion-MNIST", "FDAH §3.1",
                                  Draw(per_class=1_000), None, 70_000,
                                  query_is_official_test=True, round_sample=2_000),
        "cifar10": _setting("fdah", "cifar10", "CIFAR-10", "FDAH §3.1",
                            Draw(per_class=100), None, 60_000, round_sample=2_000),
        "nus-wide": _setting("fdah", "nus-wide", "NUS-WIDE", "FDAH §3.1",
                             Draw(total=2_100), None, None, round_sample=5_000),
    },
    "dshc": {
        "cifar10": _setting("dshc", "cifar10", "CIFAR-10", "DSHC §4.1",
                            Draw(per_class=1_000), None, 60_000),
        "nus-wide": _setting("dshc", "nus-wide", "NUS-WIDE", "DSHC §4.1",
                             Draw(total=2_100), None, 195_834),
    },
    "dsah": {
        "cifar10": _setting("dsah", "cifar10", "CIFAR-10", "DSAH §5.1, Table 2",
                            Draw(per_class=100), Draw(per_class=1_000), 60_000),
        "mir-flickr": _setting("dsah", "mir-flickr", "FLICKR25K", "DSAH §5.1, Table 2",
                               Draw(total=1_000), Draw(total=10_000), 25_000),
        "nus-wide": _setting("dsah", "nus-wide", "NUS-WIDE", "DSAH §5.1, Table 2",
                             Draw(total=2_100), Draw(total=10_500), 269_648),
    },
    "bgan": {
        "cifar10": _setting("bgan", "cifar10", "CIFAR-10", "BGAN §4.1.1",
                            Draw(per_class=100), Draw(per_class=1_000), 60_000),
        "nus-wide": _setting("bgan", "nus-wide", "NUS-WIDE", "BGAN §4.1.1",
                             Draw(per_class=100), Draw(per_class=1_000), 195_834),
        "mir-flickr": _setting("bgan", "mir-flickr", "Flickr", "BGAN §4.1.1",
                               Draw(total=1_000), Draw(total=4_000), 25_000),
    },
    "mch": {
        "nus-wide": _setting("mch", "nus-wide", "NUS-WIDE", "MCH §5.1",
                             Draw(per_class=100), Draw(per_class=500), None),
        "ms-coco": _setting("mch", "ms-coco", "MS-COCO", "MCH §5.1",
                            Draw(total=5_000), Draw(total=10_000), 82_783 + 40_504),
        "mir-flickr": _setting("mch", "mir-flickr", "MIR FLICKR", "MCH §5.1",
                               Draw(total=5_000), Draw(total=10_000), 25_000),
    },
}


def _check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol: unknown {protocol!r}; expected one of {', '.join(PROTOCOLS)}")


def _scaled_to_classes(draw: Draw | None, n_classes: int) -> Draw | None:
    """A NUS-WIDE draw stated in totals, at the same rate per class for ``n_classes`` classes."""
    if draw is None or draw.total is None:
        return draw
    return Draw(total=round(draw.total * n_classes / NUS_WIDE_CLASSES))


def paper_setting(protocol: str, dataset: ImageDataset) -> PaperSetting:
    """The setting of ``protocol``'s paper that applies to ``dataset`` (see the module docstring).

    For a dataset the paper reports on, the paper's own setting; otherwise the stand-in
    setting, with ``dataset`` set to the stand-in paper dataset and totals rescaled as described.
    """
    _check_protocol(protocol)
    if protocol == "given":
        raise ValueError("protocol 'given' has no paper setting: the split comes with the data")
    settings = PAPER_SETTINGS[protocol]
    if dataset.name in settings:
        return settings[dataset.name]
    if not dataset.is_multi_label and "cifar10" in settings:
        return settings["cifar10"]
    nus_wide = settings["nus-wide"]
    return replace(
        nus_wide,
        query=_scaled_to_classes(nus_wide.query, dataset.n_classes),
        train=_scaled_to_classes(nus_wide.train, dataset.n_classes),
    )


def _override(draw: Draw | None, per_class: int | None, total: int | None, role: str) -> Draw | None:
    for name, value in ((f"{role}_per_class", per_class), (f"{role}_total", total)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name}: expected a positive int, got {value!r}")
    if per_class is not None and total is not None:
        raise ValueError(f"give at most one of {role}_per_class and {role}_total")
    if per_class is not None:
        return Draw(per_class=int(per_class))
    if total is not None:
        return Draw(total=int(total))
    return draw


def protocol_split(
    protocol: str,
    dataset: ImageDataset,
    seed: int = 0,
    *,
    query_per_class: int | None = None,
    query_total: int | None = None,
    train_per_class: int | None = None,
    train_total: int | None = None,
) -> Split:
    """The query / database / training split of ``protocol`` on ``dataset``.

    ``protocol`` is a paper (``"fdah"``, ``"dshc"``, ``"dsah"``, ``"bgan"``, ``"mch"``; their
    settings are in the module docstring) or ``"given"``, the split shipped with a list-file
    trio. Queries are never in the database or the training set; the database is every other
    item; the training set is the whole database or a draw from it. The same ``seed`` gives the
    same split. The overrides replace the setting's query or training draw (one of
    ``*_per_class`` / ``*_total`` per role), e.g. to fit a small smoke-test set; overriding the
    query of FDAH on Fashion-MNIST draws it at random instead of taking the official test set.
    Raises ``ValueError`` naming the protocol, the dataset and the sizes when the dataset is too
    small for them.
    """
    _check_protocol(protocol)
    if protocol == "given":
        if dataset.given_split is None:
            raise ValueError(
                f"protocol 'given': dataset {dataset.name!r} has no given split "
                "(only datasets loaded with load_list_trio carry one)"
            )
        return dataset.given_split

    setting = paper_setting(protocol, dataset)
    query_draw = _override(setting.query, query_per_class, query_total, "query")
    train_draw = _override(setting.train, train_per_class, train_total, "train")
    what = (
        f"protocol {protocol!r} ({setting.section}, {setting.paper_dataset_name} setting) "
        f"on dataset {dataset.name!r} ({len(dataset):,} items)"
    )
    use_official = (
        setting.query_is_official_test
        and dataset.official_test is not None
        and query_per_class is None
        and query_total is None
    )
    query_size = int(dataset.official_test.sum()) if use_official else query_draw.size(dataset.n_classes)
    train_size = 0 if train_draw is None else train_draw.size(dataset.n_classes)
    # Checked before drawing: a per-class draw can still fail later for one class, with its own message.
    if query_size + train_size > len(dataset):
        raise ValueError(
            f"{what}: {query_size:,} queries ({query_draw.describe()}) + {train_size:,} training "
            f"items need more than the dataset holds; pass smaller query_*/train_* overrides"
        )

    rng = np.random.default_rng(seed)
    everything = np.arange(len(dataset), dtype=np.int64)
    if use_official:
        query = np.flatnonzero(dataset.official_test).astype(np.int64)
    else:
        query = _draw(query_draw, dataset, everything, rng, f"{what}, query")
    database = np.setdiff1d(everything, query)
    train = database if train_draw is None else _draw(train_draw, dataset, database, rng, f"{what}, train")
    return Split(query=query, database=database, train=train, protocol=protocol)


def _draw(
    draw: Draw, dataset: ImageDataset, pool: np.ndarray, rng: np.random.Generator, what: str
) -> np.ndarray:
    if draw.per_class is not None:
        return draw_per_class(dataset.labels, pool, draw.per_class, rng, what)
    return draw_total(pool, draw.total, rng, what)


def draw_round_sample(train: np.ndarray, sample_size: int, seed: int, round_index: int) -> np.ndarray:
    """FDAH's (and ADSH's) per-round "query set": ``sample_size`` training items, redrawn each round.

    FDAH (§2, §3.1) optimises in rounds and samples m items of the training set anew in each;
    the network is trained on those m against the codes of the whole training set. The draw
    depends only on ``(seed, round_index)``, so a run can be resumed at any round.
    ``PaperSetting.round_sample`` holds the paper's m. Returns sorted ``int64`` indices.
    """
    train = np.asarray(train, dtype=np.int64)
    if not isinstance(sample_size, (int, np.integer)) or not 1 <= sample_size <= train.size:
        raise ValueError(
            f"sample_size: expected an int in 1..{train.size:,} (the training set's size), "
            f"got {sample_size!r}"
        )
    if round_index < 0:
        raise ValueError(f"round_index: expected >= 0, got {round_index}")
    rng = np.random.default_rng([seed, round_index])
    return np.sort(rng.choice(train, size=sample_size, replace=False))


def protocol_table() -> pd.DataFrame:
    """The splits as the papers state them: one row per paper and dataset, in the style of DSAH's Table 2.

    Columns: ``protocol``, ``dataset`` (as the paper names it), ``images``, ``query``,
    ``database``, ``train`` (sizes; missing where the paper leaves them open), ``query rule``,
    ``train rule``, ``round sample`` (FDAH's m), ``section``.
    """
    rows = [
        {
            "protocol": setting.protocol,
            "dataset": setting.paper_dataset_name,
            "images": setting.images,
            "query": setting.query_size,
            "database": setting.database_size,
            "train": setting.train_size,
            "query rule": ("official test set: " if setting.query_is_official_test else "")
            + setting.query.describe(),
            "train rule": "the whole database" if setting.train is None
            else f"{setting.train.describe()} from the database",
            "round sample": setting.round_sample,
            "section": setting.section,
        }
        for per_dataset in PAPER_SETTINGS.values()
        for setting in per_dataset.values()
    ]
    table = pd.DataFrame(rows)
    for column in ("images", "query", "database", "train", "round sample"):
        table[column] = table[column].astype("Int64")
    return table


def split_table(
    dataset: ImageDataset, seed: int = 0, protocols: tuple[str, ...] = PAPER_PROTOCOLS
) -> pd.DataFrame:
    """The splits each protocol gives on ``dataset``: sizes, overlaps and the setting applied.

    One row per protocol; protocols whose sizes ``dataset`` cannot hold get a row with the
    reason instead of sizes.
    """
    rows = []
    for protocol in protocols:
        row: dict[str, object] = {"protocol": protocol, "dataset": dataset.name}
        if protocol != "given":
            setting = paper_setting(protocol, dataset)
            stand_in = "" if setting.dataset == dataset.name else ", stand-in"
            row["setting"] = f"{setting.paper_dataset_name} ({setting.section}{stand_in})"
        try:
            split = protocol_split(protocol, dataset, seed)
        except ValueError as error:
            row["problem"] = str(error)
        else:
            row.update(split.sizes())
            row["train in database"] = split.train_within_database()
            row["query & train"] = split.overlaps()["query & train"]
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("query", "database", "train"):
        if column in table:
            table[column] = table[column].astype("Int64")
    return table
