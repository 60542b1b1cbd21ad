"""DSHC's codebooks {cite}`luo2021dshc`: every sub-class of every class gets a code (§3.2).

A class gets a *centre* code; its sub-classes are the centre and codes one bit away from it, so
codes of one class lie within Hamming distance 2 of each other, and classes are as far apart as
their centres. Two constructions of the centres:

* :func:`cpbc_codebook` (centre-point-based): ``L = C·H`` bits, class ``i``'s centre has its
  ``i``-th block of ``H`` bits at +1 and every other bit at −1, so any two centres are ``2H``
  apart. Each class has ``L + 1`` sub-classes, the centre and its ``L`` one-bit flips.
* :func:`kbc_codebook` (k-means-based): all ``2^L`` codes clustered into ``C`` groups; the signs
  of the centroids are the centres, and a centre's ``L + 1`` candidates are kept when they are at
  least ``threshold`` bits from every *other* centre (§4.4's "threshold 3").

The paper states neither CPBC's collisions nor KBC's filter rule; the resolutions and their
measurements are in the DSHC chapter: at ``H = 1`` CPBC is not injective (flipping bit ``j`` of
centre ``i`` gives the same code as flipping bit ``i`` of centre ``j``, and every class's flip of
its own bit gives the all −1 code), and the "≥ threshold from every other centre" rule reproduces
§4.4's count of 74 sub-classes at 10 bits within its spread over k-means seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans

from hashkit.checks import check_positive_int
from hashkit.codes import hamming_distances, sign

# KBC clusters every code of its length: 2^20 ≈ 1M points of 20 dimensions is about the most
# k-means handles in seconds here; 2^24 would take minutes and 16M × 24 bytes of memory.
KBC_MAX_BITS = 20
# How many k-means seeds KBC tries (from the given one) for a codebook where no class is empty.
KBC_SEED_TRIES = 100


@dataclass(frozen=True)
class Codebook:
    """The codes of a classifier's sub-classes.

    Attributes:
        construction: ``"cpbc"`` or ``"kbc"``.
        codes: ``(n_subclasses, n_bits)`` ±1 ``int8``, one row per output of the classifier.
        classes: ``(n_subclasses,)`` the class of each sub-class.
        centres: ``(n_classes, n_bits)`` ±1 ``int8`` centre of each class.
        paper_weights: ``(n_subclasses,)`` the target of eq. 2 on each of its class's sub-classes:
            ``1/H`` for CPBC (the paper's choice, "instead of 1/(CH+1) for computation"), and
            ``1/|sub-classes of the class|`` for KBC, which has no ``H``.
        seed: the k-means seed KBC used (``None`` for CPBC).
    """

    construction: str
    codes: np.ndarray
    classes: np.ndarray
    centres: np.ndarray
    paper_weights: np.ndarray
    seed: int | None = None

    @property
    def n_bits(self) -> int:
        return self.codes.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.centres)

    @property
    def n_subclasses(self) -> int:
        return len(self.codes)

    def subclasses_per_class(self) -> np.ndarray:
        """``(n_classes,)`` how many sub-classes each class has."""
        return np.bincount(self.classes, minlength=self.n_classes)

    def targets(self, labels: np.ndarray | None = None, *, normalised: bool = False) -> np.ndarray:
        """``(n_classes, n_subclasses)`` soft targets of eq. 2, one row per class.

        Row ``c`` holds the paper's weight on each sub-class of ``c`` and 0 elsewhere;
        ``normalised=True`` makes each row sum to 1 instead (``1/|sub-classes of c|``).
        """
        per_class = self.subclasses_per_class()
        weights = 1.0 / per_class[self.classes] if normalised else self.paper_weights
        table = np.zeros((self.n_classes, self.n_subclasses), dtype=np.float32)
        table[self.classes, np.arange(self.n_subclasses)] = weights
        return table


def _one_bit_neighbourhoods(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each centre followed by its one-bit flips: ``(C·(L+1), L)`` codes and the class of each."""
    n_classes, n_bits = centres.shape
    flips = np.vstack([np.ones(n_bits, dtype=np.int8), 1 - 2 * np.eye(n_bits, dtype=np.int8)])
    codes = (centres[:, None, :] * flips[None, :, :]).reshape(-1, n_bits).astype(np.int8)
    return codes, np.repeat(np.arange(n_classes), n_bits + 1)


def cpbc_codebook(n_classes: int, n_bits: int) -> Codebook:
    """CPBC (§3.2): ``n_bits = n_classes · H``; ``(n_bits + 1) · n_classes`` sub-classes.

    Raises ``ValueError`` naming ``n_bits`` when it is not a positive multiple of ``n_classes``.
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    n_bits = check_positive_int(n_bits, "n_bits")
    if n_bits % n_classes:
        lower, upper = n_bits // n_classes * n_classes, (n_bits // n_classes + 1) * n_classes
        suggestion = f"{upper}" if lower == 0 else f"{lower} or {upper}"
        raise ValueError(f"n_bits: CPBC gives each of the {n_classes} classes a block of H bits, so the code "
                         f"length must be a multiple of {n_classes}; got {n_bits} (try {suggestion})")
    block = n_bits // n_classes
    centres = -np.ones((n_classes, n_bits), dtype=np.int8)
    for index in range(n_classes):
        centres[index, index * block:(index + 1) * block] = 1
    codes, classes = _one_bit_neighbourhoods(centres)
    return Codebook("cpbc", codes, classes, centres, np.full(len(codes), 1.0 / block, dtype=np.float32))


def all_codes(n_bits: int) -> np.ndarray:
    """Every ±1 code of ``n_bits`` bits, ``(2^n_bits, n_bits)`` ``int8``, bit 0 the most significant."""
    integers = np.arange(2 ** n_bits, dtype=np.int64)[:, None]
    return (((integers >> np.arange(n_bits - 1, -1, -1)) & 1) * 2 - 1).astype(np.int8)


def kbc_centres(n_classes: int, n_bits: int, seed: int) -> np.ndarray:
    """``(n_classes, n_bits)`` centres: signs of k-means centroids over every ``n_bits``-bit code (one start)."""
    kmeans = KMeans(n_clusters=n_classes, n_init=1, random_state=seed).fit(all_codes(n_bits).astype(np.float64))
    return sign(kmeans.cluster_centers_)


def kbc_filter(centres: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Each centre's one-bit neighbourhood, keeping codes at least ``threshold`` bits from every other centre."""
    codes, classes = _one_bit_neighbourhoods(centres)
    distances = hamming_distances(codes, centres).astype(np.int64)
    distances[np.arange(len(codes)), classes] = np.iinfo(np.int64).max  # its own centre does not count
    keep = distances.min(axis=1) >= threshold
    return codes[keep], classes[keep]


def kbc_codebook(n_classes: int, n_bits: int, *, threshold: int = 3, seed: int = 0,
                 search_seeds: bool = True) -> Codebook:
    """KBC (§3.2, §4.4): k-means centres, one-bit neighbourhoods filtered by ``threshold``.

    With ``search_seeds`` the k-means seed goes up from ``seed`` until no class is left without a
    sub-class (about one seed in five leaves one empty at 10 bits and 10 classes); the codebook
    records the seed it used. Raises ``ValueError`` naming ``n_bits`` above :data:`KBC_MAX_BITS`
    (2^L codes to cluster) or below the number of classes' needs, and naming ``seed`` when no
    seed tried gives every class a sub-class.
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    n_bits = check_positive_int(n_bits, "n_bits")
    threshold = check_positive_int(threshold, "threshold")
    if n_bits > KBC_MAX_BITS:
        raise ValueError(f"n_bits: KBC clusters all 2^L codes, {2 ** n_bits:,} at L = {n_bits}; it enumerates at most "
                         f"L = {KBC_MAX_BITS} ({2 ** KBC_MAX_BITS:,} codes). Use CPBC for longer codes")
    if 2 ** n_bits < n_classes:
        raise ValueError(f"n_bits: {n_bits} bits give {2 ** n_bits} codes, fewer than the {n_classes} classes")
    tries = KBC_SEED_TRIES if search_seeds else 1
    for candidate in range(seed, seed + tries):
        centres = kbc_centres(n_classes, n_bits, candidate)
        codes, classes = kbc_filter(centres, threshold)
        per_class = np.bincount(classes, minlength=n_classes)
        if per_class.min() > 0:
            return Codebook("kbc", codes, classes, centres, (1.0 / per_class[classes]).astype(np.float32),
                            seed=candidate)
    raise ValueError(f"seed: no k-means seed in {seed}..{seed + tries - 1} leaves every one of the {n_classes} classes "
                     f"a sub-class at {n_bits} bits and threshold {threshold}; lower threshold or lengthen the codes")


def codebook_geometry(codebook: Codebook) -> dict:
    """What a codebook guarantees: its size, collisions, and the Hamming distances within and between classes.

    Keys: construction, bits, classes, sub-classes, distinct codes, min / mean inter-class distance
    (over pairs of sub-classes of different classes), max / mean intra-class distance, and
    ``D_intra − D_inter`` (eq. 1, summed over ordered pairs as the paper writes it).
    """
    distances = hamming_distances(codebook.codes, codebook.codes).astype(np.int64)
    same_class = codebook.classes[:, None] == codebook.classes[None, :]
    off_diagonal = ~np.eye(len(distances), dtype=bool)
    intra, inter = distances[same_class & off_diagonal], distances[~same_class]
    return {"construction": codebook.construction.upper(), "bits": codebook.n_bits, "classes": codebook.n_classes,
            "sub-classes": codebook.n_subclasses, "distinct codes": len(np.unique(codebook.codes, axis=0)),
            "min inter-class distance": int(inter.min()), "mean inter-class distance": float(inter.mean()),
            # A class of one sub-class has no intra-class pair.
            "max intra-class distance": int(intra.max()) if intra.size else 0,
            "mean intra-class distance": float(intra.mean()) if intra.size else 0.0,
            "D_intra − D_inter": int(intra.sum() - inter.sum())}
