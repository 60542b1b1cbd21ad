"""The deep methods on the Fashion-MNIST FDAH split with the default backbone (SmallCNN).

Per method and code length (12, 24, 32, 48 bits): mAP@all of 1,000 official-test queries against
the 60,000-image database, training wall time and images per second. The symmetric methods train
on 5,000 training images (FDAH §3.1's setting for DPSH, DSDH, DDSH, applied to all of them);
ADSH and FDAH on the whole training set with m = 2,000 sampled queries per round, the database
ranked by their learned codes. The last rows give each asymmetric method's 48-bit to 12-bit
training-time ratio: ADSH's discrete update goes bit by bit, FDAH's closed form does not.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import row
from hashkit.data import Split, load_dataset, protocol_split
from hashkit.deep.engine import evaluate, train
from hashkit.deep.methods import ADSH, DCH, DDSH, DPSH, DSDH, FDAH, MMHH, HashNet

SEED = 0
BITS = (12, 24, 32, 48)
N_SYMMETRIC_TRAIN = 5_000
N_QUERIES = 1_000
SYMMETRIC = (DPSH, DSDH, DDSH, HashNet, DCH, MMHH)
ASYMMETRIC = (ADSH, FDAH)
EPOCHS = {"symmetric": 5, "asymmetric": 6}  # asymmetric: 2 rounds of 3 passes over m = 2,000


def run(device: str = "cpu") -> list[dict]:
    fashion = load_dataset("fashion-mnist")
    split = protocol_split("fdah", fashion, SEED)
    rng = np.random.default_rng(SEED)
    queries = np.sort(rng.choice(split.query, N_QUERIES, replace=False))
    symmetric_split = Split(query=queries, database=split.database,
                            train=np.sort(rng.choice(split.train, N_SYMMETRIC_TRAIN, replace=False)), protocol="fdah")
    asymmetric_split = Split(query=queries, database=split.database, train=split.train, protocol="fdah")
    rows, seconds = [], {}
    for group, methods, group_split in (("symmetric", SYMMETRIC, symmetric_split),
                                        ("asymmetric", ASYMMETRIC, asymmetric_split)):
        for cls in methods:
            setting = f"{cls.__name__}, FDAH split, SmallCNN, {len(group_split.train):,} training images, {device}"
            for bits in BITS:
                trained = train(cls(), fashion, group_split, bits, epochs=EPOCHS[group], seed=SEED,
                                progress=False, device=device)
                seconds[cls.__name__, bits] = trained.training_seconds
                rows.append(row(setting, f"mAP@all, {bits} bits", evaluate(trained, fashion, group_split)))
                rows.append(row(setting, f"training seconds, {bits} bits", trained.training_seconds))
                rows.append(row(setting, f"training images/s, {bits} bits", trained.images_per_second))
    for cls in ASYMMETRIC:
        ratio = seconds[cls.__name__, 48] / seconds[cls.__name__, 12]
        rows.append(row(f"{cls.__name__} training time, 48 bits over 12 bits", "ratio", ratio))
    return rows
