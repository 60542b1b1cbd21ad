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
                            not_testable, ratio_at_least, within)
from hashkit.experiments.dsah import DEEP_BASELINES, ON_FEATURES, SCALED
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
                               comparisons(control, "PIC", [SCALED], single, [control_bits]), n_seeds,
                               left="PIC", right=SCALED))
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


def adam_scale_claim(per_query: PerQuery, *, dataset: str, n_bits: int, n_seeds: int) -> Claim:
    """The loss-scale control under the chapter's Adam: PIC against PIC⁰ with PIC's mean weight, both
    trained as Table 1's runs are. Adam divides a constant factor out of each step, except where the
    factor changes the balance of the pair term against λ's quantisation term."""
    return beyond_noise("PIC's gain is more than its loss scale (Adam, our control)", "ours",
                        comparisons(per_query, "PIC", [SCALED], dataset, [n_bits]), n_seeds,
                        left="PIC", right=SCALED)


def _point(points: Sequence[tuple[str, str, float]], symbol: str, value: float) -> str | None:
    """The run's name at ``symbol`` = ``value`` in Fig. 8's points, ``None`` when the grid lacks it."""
    return next((name for name, swept, at in points if (swept, at) == (symbol, float(value))), None)


def sensitivity_claims(per_query: PerQuery, points: Sequence[tuple[str, str, float]], gamma_rounds: pd.DataFrame, *,
                       dataset: str, n_bits: int, default_gamma: float, n_seeds: int,
                       margins: Margins = Margins()) -> list[Claim]:
    """Figs. 8 and 9's claims (the notes' 17–22) on ``dataset`` at ``n_bits``: per-query AP@K of the
    sensitivity runs (:func:`~hashkit.experiments.dsah.sensitivity_points`) and
    the γ × round table of :func:`~hashkit.experiments.dsah.gamma_round_table`."""
    def compared(left: tuple[str, float], right: tuple[str, float]) -> tuple[str, float, float, float]:
        cells = [(_point(points, *side), dataset, n_bits) for side in (left, right)]
        label = f"{left[0]} = {left[1]:g} vs {right[0]} = {right[1]:g}"
        if None in (cells[0][0], cells[1][0]):
            return label, np.nan, np.nan, np.nan
        return label, mean_ap(per_query, cells[0]), mean_ap(per_query, cells[1]), cell_noise(per_query, *cells)

    def value(symbol: str, at: float) -> float:
        name = _point(points, symbol, at)
        return mean_ap(per_query, (name, dataset, n_bits)) if name else np.nan

    lambdas = [value for _, symbol, value in points if symbol == "λ"]
    claims = [beyond_noise("λ = 10 beats λ = 100 and λ = 0", "Fig. 8a, §5.5.1",
                           [compared(("λ", 10), ("λ", 100)), compared(("λ", 10), ("λ", 0))], n_seeds,
                           left="λ = 10", right="the other λ"),
              checked("λ = 10 is as good as the best λ tried", "Fig. 8a, §5.5.1", not_below(
                  [(f"λ grid {lambdas}", value("λ", 10), highest(value("λ", v) for v in lambdas) if lambdas else np.nan)],
                  tolerance=margins.tie, left="λ = 10", right="best λ")),
              beyond_noise("τ = 1 beats τ = 0.1 and τ = 0.01", "Fig. 8b, §5.5.2",
                           [compared(("τ", 1), ("τ", 0.1)), compared(("τ", 1), ("τ", 0.01))], n_seeds,
                           left="τ = 1", right="the smaller τ"),
              checked("τ = 10 is within 0.02 of τ = 1", "Fig. 8b, §5.5.2",
                      within([("τ = 1", value("τ", 1)), ("τ = 10", value("τ", 10))], spread=0.02, what="MAP@K"))]
    return claims + _gamma_claims(gamma_rounds, default_gamma, margins)


def _gamma_claims(gamma_rounds: pd.DataFrame, default_gamma: float, margins: Margins) -> list[Claim]:
    """Fig. 9's claims on the γ × round table: more rounds help up to R = 3 and not after, and γ ≥ 0 is best."""
    source = "Fig. 9a, §5.5.3"
    at_default = gamma_rounds[gamma_rounds["γ"] == default_gamma].sort_values("round").set_index("round")["mAP"]
    if len(at_default) < 3:
        rounds_evidence = not_testable(f"fewer than 3 rounds at γ = {default_gamma:g}")
    else:
        rounds_evidence = all_of(
            above([("R = 3 vs R = 1", float(at_default[3]), float(at_default[1]))], margin=0.0,
                  left="MAP(R = 3)", right="MAP(R = 1)"),
            within([("R = 3", float(at_default[3])), (f"R = {at_default.index.max()}", float(at_default.iloc[-1]))],
                   spread=0.01, what="MAP"))
    final = gamma_rounds.sort_values("round").groupby("γ")["mAP"].agg(lambda values: values.iloc[-1])  # NaN stays NaN
    if not ((final.index >= 0).any() and (final.index < 0).any()):
        gamma_evidence = not_testable("the γ grid needs values on both sides of 0")
    else:
        gamma_evidence = not_below([("best final MAP", highest(final[final.index >= 0]), highest(final[final.index < 0]))],
                                   tolerance=margins.tie, left="γ ≥ 0", right="γ < 0")
    return [checked("Three rounds beat one, and more rounds change MAP by at most 0.01", source, rounds_evidence),
            checked("γ ≥ 0 does at least as well as γ < 0", source, gamma_evidence)]


def view_claims(silhouettes: PerQuery, precision: pd.DataFrame, *, dataset: str, n_bits: int, n_seeds: int,
                margins: Margins = Margins()) -> list[Claim]:
    """Figs. 10 and 11's claims (the notes' 25–26): the codes' silhouette by class (per item, so that
    its noise pairs the items) and P@10, DSAH against BGAN and MLS³RDUH."""
    cells = precision.set_index(["method", "dataset", "bits"])["precision_mean"]
    return [beyond_noise("DSAH's codes separate the classes better than BGAN's and MLS³RDUH's", "Fig. 10, §5.7.1",
                         comparisons(silhouettes, "DSAH", ["BGAN", "MLS3RDUH"], dataset, [n_bits]), n_seeds,
                         left="DSAH's silhouette", right="rival's"),
            checked("DSAH's top 10 are at least as precise as MLS³RDUH's", "Fig. 11, §5.7.2", not_below(
                [(f"P@10, {n_bits} bits on {dataset}", cells.get(("DSAH", dataset, n_bits), np.nan),
                  cells.get(("MLS3RDUH", dataset, n_bits), np.nan))], tolerance=margins.tie,
                left="DSAH", right="MLS³RDUH"))]
