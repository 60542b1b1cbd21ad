"""DSAH's claims {cite}`lin2021dsah` as computed verdicts on this run's tables.

"X beats Y" holds only beyond the noise of the difference (:mod:`hashkit.experiments.noise`); a
difference inside it is "within noise". A claim about an average over code lengths pools each
query's AP over the lengths, so its noise is that of the average. Claims about wall-clock time
are marked ``timed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hashkit.claims import (Claim, Evidence, above, all_of, beyond_noise, checked, highest, lowest, not_below,
                            not_testable, ratio_at_least)
from hashkit.experiments.dsah import DEEP_BASELINES, ON_FEATURES
from hashkit.experiments.noise import PerQuery, cell_noise, comparisons, difference_noise, mean_ap


@dataclass(frozen=True)
class Margins:
    """The margins of DSAH's claims, each printed in its evidence.

    ``tie``: "at least as good" allows this much below (the notes' t). ``settles``: the last
    AND update adds under this share of the first's pairs. ``faster``: "trains faster" means at
    least this ratio (timing noise).
    """

    tie: float = 0.005
    settles: float = 0.25
    faster: float = 1.05


def _pooled(per_query: PerQuery, method: str, dataset: str, bits: Sequence[int]) -> list[np.ndarray] | None:
    """Per seed, the queries' AP at every length in one array: its mean is the mean over lengths."""
    cells = [per_query.get((method, dataset, n)) for n in bits]
    if any(cell is None for cell in cells):
        return None
    return [np.concatenate(per_seed) for per_seed in zip(*cells)]


def _on_average(per_query: PerQuery, left: str, right: str, datasets: Sequence[str],
                bits: Sequence[int]) -> list[tuple[str, float, float, float]]:
    rows = []
    for dataset in datasets:
        a, b = _pooled(per_query, left, dataset, bits), _pooled(per_query, right, dataset, bits)
        if a is None or b is None:
            rows.append((f"mean over {list(bits)} bits on {dataset}", np.nan, np.nan, np.nan))
        else:
            rows.append((f"mean over {list(bits)} bits on {dataset}", float(np.mean([x.mean() for x in a])),
                         float(np.mean([x.mean() for x in b])), difference_noise(a, b)))
    return rows


def dsah_claims(per_query: PerQuery, precision: pd.DataFrame, similarity: pd.DataFrame, rounds: pd.DataFrame,
                seconds: Mapping[str, float], *, single: str, multi: str, bits: Sequence[int],
                ablation_bits: Sequence[int], control: PerQuery, control_bits: int, n_seeds: int,
                margins: Margins = Margins()) -> list[Claim]:
    """DSAH's claims (the notes' 1–16 and 24 where this run measures them) from per-query AP@K of
    every run (Table 1's methods and the variants of :data:`~hashkit.experiments.dsah.VARIANTS`),
    Table 3's precision summary, the W⁰/W_L quality table, Fig. 7's round table, the training
    seconds of the deep methods, and the scale control's per-query AP at ``control_bits``."""
    datasets = (single, multi)
    rivals = [*ON_FEATURES, *DEEP_BASELINES]
    claims = [beyond_noise(f"DSAH beats every method of Table 1 on the {kind} set", "Table 1, §5.3.1",
                           comparisons(per_query, "DSAH", rivals, dataset, bits), n_seeds, left="DSAH", right="rival")
              for kind, dataset in (("single-label", single), ("multi-label", multi))]
    shallow_best = [(f"{n} bits on {dataset}",
                     lowest(mean_ap(per_query, (m, dataset, n)) for m in ("BGAN", "MLS3RDUH", "DSAH")),
                     highest(mean_ap(per_query, (m, dataset, n)) for m in ON_FEATURES)) for dataset in datasets for n in bits]
    claims.append(checked("BGAN, MLS³RDUH and DSAH each beat every shallow method", "Table 1, §5.3.1",
                          above(shallow_best, margin=0.0, left="weakest of the three", right="best shallow")))
    longest, shortest = max(bits), min(bits)
    if longest == shortest:
        claims.append(checked("DSAH's MAP grows with the code length", "Table 1", not_testable("one code length")))
    else:
        claims.append(beyond_noise(f"DSAH's MAP grows from {shortest} to {longest} bits", "Table 1", [
            (dataset, mean_ap(per_query, ("DSAH", dataset, longest)), mean_ap(per_query, ("DSAH", dataset, shortest)),
             cell_noise(per_query, ("DSAH", dataset, longest), ("DSAH", dataset, shortest))) for dataset in datasets],
            n_seeds, left=f"{longest} bits", right=f"{shortest} bits"))
    cells = precision.set_index(["method", "dataset", "bits"])["precision_mean"]
    best_other = [(f"{n} bits on {dataset}", cells.get(("DSAH", dataset, n), np.nan),
                   highest(cells.get((m, dataset, n), np.nan) for m in rivals)) for dataset in datasets for n in bits]
    claims.append(checked("DSAH has the best precision@100", "Table 3, §5.3.1",
                          not_below(best_other, tolerance=margins.tie, left="DSAH", right="best other")))
    claims.append(beyond_noise("PIC beats PIC⁰ on average over code lengths", "Fig. 4, §5.4.1",
                               _on_average(per_query, "PIC", "PIC⁰", datasets, ablation_bits), n_seeds,
                               left="PIC", right="PIC⁰"))
    claims.append(beyond_noise("PIC⁻ falls below PIC on average over code lengths", "Fig. 4, §5.4.1",
                               _on_average(per_query, "PIC", "PIC⁻", datasets, ablation_bits), n_seeds,
                               left="PIC", right="PIC⁻"))
    claims.append(beyond_noise("PIC's gain is more than its loss scale (SGD, our control)", "ours",
                               comparisons(control, "PIC", ["PIC⁰ × mean a"], single, [control_bits]), n_seeds,
                               left="PIC", right="PIC⁰ × mean a"))
    claims.append(beyond_noise("AND beats AND⁰ on average over code lengths", "Fig. 6, §5.4.2",
                               _on_average(per_query, "AND", "PIC⁰", datasets, ablation_bits), n_seeds,
                               left="AND", right="AND⁰"))
    claims.append(beyond_noise("AND + PIC beats AND on average over code lengths", "Fig. 6, §5.4.2",
                               _on_average(per_query, "DSAH", "AND", datasets, ablation_bits), n_seeds,
                               left="AND + PIC", right="AND"))
    claims.extend(_round_claims(rounds, margins))
    claims.append(checked("W⁰ is more precise than the k1-NN lists alone", "§4.2.1", above(
        [(f"on {dataset}", _precision_of(similarity, "W⁰", dataset), _precision_of(similarity, "W_L", dataset))
         for dataset in datasets], margin=0.0, left="W⁰", right="W_L")))
    claims.append(checked("DSAH trains faster than SSDH, BGAN and MLS³RDUH", "Table 4, §5.6", ratio_at_least(
        [(rival, seconds.get(rival, np.nan), seconds.get("DSAH", np.nan)) for rival in ("SSDH", "BGAN", "MLS3RDUH")],
        ratio=margins.faster, left="rival", right="DSAH"), timed=True))
    return claims


def _precision_of(similarity: pd.DataFrame, prefix: str, dataset: str) -> float:
    """The precision of the similarity named ``prefix…`` on ``dataset``; NaN when the table lacks it."""
    rows = similarity[similarity["similarity"].str.startswith(prefix) & (similarity["dataset"] == dataset)] \
        if len(similarity) else similarity
    return float(rows["precision"].iloc[0]) if len(rows) else np.nan


def _round_claims(rounds: pd.DataFrame, margins: Margins) -> list[Claim]:
    """Fig. 7's claims (§5.4.2) on the round table of :func:`~hashkit.experiments.dsah.round_table`."""
    source = "Fig. 7, §5.4.2"
    positives = rounds["n₊ trained on"].to_numpy()
    added = rounds["added"].to_numpy()
    thresholds = rounds["threshold m"].to_numpy()
    steps = [(f"round {r} → {r + 1}", float(b), float(a)) for r, a, b in zip(rounds["round"], positives, positives[1:])]
    growth = [(f"round {r}", float(m_next), float(m)) for r, m, m_next in zip(rounds["round"], thresholds, thresholds[1:])]
    claims = [checked("AND's positive pairs never decrease, and its additions settle", source, all_of(
                  not_below(steps, tolerance=0.0, left="n₊ after", right="n₊ before"),
                  Evidence(bool(added[-1] < margins.settles * added[0]) if len(added) > 1 and added[0] > 0 else None,
                           f"last update adds {added[-1]:,.0f} pairs, the first {added[0]:,.0f} "
                           f"(settled: under {margins.settles:g} of it)"))),
              checked("AND's threshold m never decreases", source,
                      not_below(growth, tolerance=0.0, left="m after", right="m before")),
              checked("AND raises F_w of W above W⁰'s", source, above(
                  [("after the last round against W⁰", float(rounds["F_w after"].iloc[-1]),
                    float(rounds["F_w"].iloc[0]))],
                  margin=0.0, left="F_w(W^R)", right="F_w(W⁰)")),
              checked("MAP after round 2 exceeds MAP after round 1", source, above(
                  [("rounds 2 and 1", float(rounds["mAP"].iloc[1]), float(rounds["mAP"].iloc[0]))]
                  if len(rounds) > 1 else [("rounds 2 and 1", np.nan, np.nan)], margin=0.0,
                  left="round 2", right="round 1"))]
    return claims
