"""MCH's out-of-sample extension (§4.3) and its count of codes per image (ANHC, eq. 8).

Every database image is coded as a whole and in five regions (four corners and the centre at side
ratio σ). The whole image's code is always kept; a region's code is kept when the policy's
keep-probability reaches ξ (``P ≥ ξ``: Table 3's ξ = 1.0 column exceeds 1, so probabilities equal
to 1 count). Identical codes of one image are one code: they are counted once in ANHC (Table 3's
σ = 1.0 row is exactly 1.00, where every region is the whole image) and change no distance.

The codes of all images are one ``(n, 1 + 5, bits)`` array, the whole image's code first; a
discarded region holds a copy of the whole image's code, which changes no item's minimum distance
(:mod:`hashkit.metrics` takes such arrays as several codes per item).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hashkit.mch.regions import check_ratio


@dataclass
class MultiCodes:
    """The codes MCH gives each database image at threshold ``xi``.

    ``codes``: ``(n, 1 + r, bits)`` int8, the whole image's code first, discarded regions replaced
    by it; ``keep_probabilities``: ``(n, r)`` the policy's P(keep) of each region; ``kept``:
    ``(n, r)`` bool, ``P ≥ ξ``.
    """

    codes: np.ndarray
    keep_probabilities: np.ndarray
    kept: np.ndarray
    xi: float

    def distinct_codes(self) -> np.ndarray:
        """``(n,)`` distinct codes per image, the whole image's included."""
        same = (self.codes[:, :, None, :] == self.codes[:, None, :, :]).all(axis=-1)
        seen_before = np.tril(same, k=-1).any(axis=2)
        return (~seen_before).sum(axis=1)

    def anhc(self) -> float:
        """Eq. 8's average number of hash codes per image, identical codes of an image counted once."""
        return float(self.distinct_codes().mean())


def multi_codes(whole_codes: np.ndarray, region_codes: np.ndarray, keep_probabilities: np.ndarray,
                xi: float) -> MultiCodes:
    """The extension: ``whole_codes`` ``(n, bits)``, ``region_codes`` ``(n, r, bits)`` and their
    ``keep_probabilities`` ``(n, r)`` to the codes kept at threshold ``xi``."""
    xi = check_ratio(xi, "xi")
    n_items, n_regions = keep_probabilities.shape
    if whole_codes.shape[0] != n_items or region_codes.shape[:2] != (n_items, n_regions):
        raise ValueError(f"whole_codes {whole_codes.shape}, region_codes {region_codes.shape} and "
                         f"keep_probabilities {keep_probabilities.shape} must describe the same images and regions")
    kept = keep_probabilities >= xi
    regions = np.where(kept[:, :, None], region_codes, whole_codes[:, None, :])
    codes = np.concatenate([whole_codes[:, None, :], regions], axis=1).astype(np.int8)
    return MultiCodes(codes=codes, keep_probabilities=keep_probabilities, kept=kept, xi=xi)
