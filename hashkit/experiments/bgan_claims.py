"""BGAN's claims {cite}`song2017bgan` as computed verdicts on this run's tables.

"X beats Y" holds only beyond the noise of the difference (:mod:`hashkit.experiments.noise`); a
difference inside it is "within noise". Claims about wall-clock time are marked ``timed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hashkit.claims import (Claim, Evidence, above, all_of, at_most, beyond_noise, checked, not_testable,
                            ratio_at_least)
from hashkit.experiments.bgan import HAND_CRAFTED, ON_FEATURES, SUPERVISED_DEEP, SUPERVISED_SHALLOW
from hashkit.experiments.noise import PerQuery, cell_noise, comparisons, mean_ap



@dataclass(frozen=True)
class Margins:
    """The margins of BGAN's claims, each printed in its evidence.

    ``collapsed``: "identical codes for all images" means at most this many distinct database
    codes. ``converged``: "converges in a few epochs" means the mAP after ``early_epochs`` is
    within this of the last epoch's. ``slower``: "takes longer" means at least this ratio (timing
    noise). ``most``: "most" means at least this share of the cells.
    """

    collapsed: int = 2
    converged: float = 0.01
    early_epochs: int = 3
    slower: float = 1.05
    most: float = 0.51


def bgan_claims(per_query: PerQuery, *, single: str, multi: str, bits: Sequence[int], multi_bits: Sequence[int],
                supervised_bits: Sequence[int], ablation_bits: int, distinct_codes: Mapping[str, int],
                convergence: pd.DataFrame, seconds: Mapping[str, float], encode_ms: Mapping[str, float],
                fig2: pd.DataFrame, unsupervised_rivals: Sequence[str], n_seeds: int,
                margins: Margins = Margins()) -> list[Claim]:
    """BGAN's claims (the notes' C1–C13) from per-query AP of every run (``BGAN[combo]`` and
    ``BGAN[variant]`` at ``ablation_bits`` on ``single``), the distinct database codes of each
    ablation row, the convergence run's per-epoch ``map``, the training seconds and per-image
    encoding milliseconds of ``"BGAN"`` and ``"DH"``, and Fig. 2's table."""
    claims = []
    collapsing = [(combo, distinct_codes.get(f"BGAN[{combo}]", np.nan)) for combo in ("C", "A", "C+A")]
    claims.append(checked("Without ℓN (ℓC, ℓA, or both) BGAN gives every image the same code", "Table 2",
                          at_most(collapsing, threshold=margins.collapsed, what="distinct database codes", digits=0)))

    def ablation(combo: str) -> tuple[str, str, int]:
        return f"BGAN[{combo}]", single, ablation_bits

    for partner in ("C", "A"):
        rows = [(f"{ablation_bits} bits", mean_ap(per_query, ablation("N")), mean_ap(per_query, ablation(f"N+{partner}")),
                 cell_noise(per_query, ablation("N"), ablation(f"N+{partner}")))]
        claims.append(beyond_noise(f"Adding ℓ{partner} alone to ℓN lowers mAP", "Table 2", rows, n_seeds,
                                   left="ℓN", right=f"ℓN + ℓ{partner}"))
    rows = [(f"against {combo}", mean_ap(per_query, ablation("N+C+A")), mean_ap(per_query, ablation(combo)),
             cell_noise(per_query, ablation("N+C+A"), ablation(combo))) for combo in ("N", "N+C", "N+A")]
    claims.append(beyond_noise("ℓN + ℓC + ℓA is the best combination", "Table 2, §4.2", rows, n_seeds,
                               left="ℓN + ℓC + ℓA", right="other"))
    rows = [(f"{variant} {ablation_bits} bits", mean_ap(per_query, (f"BGAN[continuation-{variant}]", single, ablation_bits)),
             mean_ap(per_query, ("BGAN[two-step]", single, ablation_bits)),
             cell_noise(per_query, (f"BGAN[continuation-{variant}]", single, ablation_bits),
                    ("BGAN[two-step]", single, ablation_bits))) for variant in ("tanh", "app")]
    claims.append(beyond_noise("Continuation (app or tanh) beats the two-step sign", "Table 4, §4.3", rows, n_seeds,
                               left="continuation", right="two-step"))
    claims.append(beyond_noise("BGAN beats every unsupervised method on the single-label set", "Table 3, §4.4",
                               comparisons(per_query, "BGAN", unsupervised_rivals, single, bits), n_seeds,
                               left="BGAN", right="rival"))
    claims.append(beyond_noise("BGAN beats every unsupervised method on the multi-label set", "Table 3, §4.4",
                               comparisons(per_query, "BGAN", unsupervised_rivals, multi, multi_bits), n_seeds,
                               left="BGAN", right="rival"))
    claims.append(_features_help(per_query, single, multi, bits, multi_bits, margins))
    claims.append(_rising(per_query, single, bits, margins))
    claims.append(beyond_noise("BGAN_s beats every supervised method", "Table 5, §4.5",
                               comparisons(per_query, "BGAN_s", (*SUPERVISED_SHALLOW, *SUPERVISED_DEEP), single,
                                            supervised_bits), n_seeds, left="BGAN_s", right="rival"))
    claims.append(_converges(convergence, margins))
    claims.append(checked("BGAN takes longer than DH to train and to encode an image (paper: 5× and 6×)", "Table 6",
                          all_of(ratio_at_least([("training", seconds.get("BGAN", np.nan), seconds.get("DH", np.nan))],
                                                ratio=margins.slower, left="BGAN", right="DH"),
                                 ratio_at_least([("encoding", encode_ms.get("BGAN", np.nan), encode_ms.get("DH", np.nan))],
                                                ratio=margins.slower, left="BGAN", right="DH")), timed=True))
    claims.append(_neighbourhood(fig2))
    return claims


def _features_help(per_query: PerQuery, single: str, multi: str, bits: Sequence[int], multi_bits: Sequence[int],
                   margins: Margins) -> Claim:
    pairs = [(f"{name} {n} bits on {dataset}", mean_ap(per_query, (ours, dataset, n)), mean_ap(per_query, (name, dataset, n)))
             for dataset, lengths in ((single, bits), (multi, multi_bits)) for n in lengths
             for name, ours in zip(HAND_CRAFTED, ON_FEATURES)]
    return checked("The shallow methods do better on learned features than on hand-crafted ones in most cells",
                   "§4.4", above(pairs, margin=0.0, share=margins.most, left="learned features", right="pixels"))


def _rising(per_query: PerQuery, single: str, bits: Sequence[int], margins: Margins) -> Claim:
    if len(bits) < 2:
        return checked("mAP grows with the code length for most methods", "§4.4", not_testable("one code length"))
    shortest, longest = min(bits), max(bits)
    methods = sorted({method for method, dataset, _ in per_query if dataset == single
                      and all((method, single, n) in per_query for n in bits)})
    pairs = [(method, mean_ap(per_query, (method, single, longest)), mean_ap(per_query, (method, single, shortest)))
             for method in methods]
    return checked(f"mAP grows from {shortest} to {longest} bits for most methods", "§4.4",
                   above(pairs, margin=0.0, share=margins.most, left=f"{longest} bits", right=f"{shortest} bits"))


def _converges(convergence: pd.DataFrame, margins: Margins) -> Claim:
    by_epoch = convergence.set_index("epoch")["map"].sort_index()
    # The early point must be scored, and a later one must exist to compare it with.
    if margins.early_epochs not in by_epoch.index or by_epoch.index[-1] <= margins.early_epochs:
        return checked("BGAN converges within a few epochs", "Fig. 5",
                       not_testable(f"the convergence run has no score after epoch {margins.early_epochs} "
                                    "and after a later one"))
    early, last = by_epoch.loc[margins.early_epochs], by_epoch.iloc[-1]
    return checked("BGAN converges within a few epochs", "Fig. 5",
                   Evidence(abs(last - early) <= margins.converged,
                            f"mAP after {margins.early_epochs} epochs {early:.4f}, after {by_epoch.index[-1]} "
                            f"{last:.4f} (converged: within {margins.converged:g})"))


def _neighbourhood(fig2: pd.DataFrame) -> Claim:
    expanded = fig2[fig2["construction"].str.startswith("expanded")]
    plain = fig2[fig2["construction"] == "k nearest neighbours"].sort_values("neighbours")
    if expanded.empty or len(plain) < 2:
        return checked("The expanded neighbourhood is more precise than plain k-NN lists of its size", "Fig. 2, §3.1",
                       not_testable("no expanded neighbourhood or too few k-NN points"))
    pairs = [(f"K1 = {int(row.K1)} ({row.neighbours:.0f} neighbours)", row.precision,
              float(np.interp(row.neighbours, plain["neighbours"], plain["precision"])))
             for row in expanded.itertuples()]
    return checked("The expanded neighbourhood is more precise than plain k-NN lists of its size", "Fig. 2, §3.1",
                   above(pairs, margin=0.0, left="expanded", right="k-NN at that size (interpolated)"))

