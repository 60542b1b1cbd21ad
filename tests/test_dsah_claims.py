"""Every DSAH claim (:func:`hashkit.experiments.dsah_claims.dsah_claims`) turns both ways: on hand-made numbers
shaped like the paper's all sixteen hold; each does not hold when the numbers it rests on turn, and the
others stay as they were; a lead inside its noise is "within noise", not a win; a cell the run lacks makes
exactly the claims that need it "not testable here". The margins (the 0.005 precision tie, the 0.25 share that
settles AND, the 1.05 time ratio) are checked at their edges; a missing cell anywhere in a best-of or
worst-of, and a single code length, make a claim not testable rather than judged on what is left."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from hashkit.claims import DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, WITHIN_NOISE
from hashkit.experiments.dsah import DEEP_BASELINES, ON_FEATURES
from hashkit.experiments.dsah_claims import dsah_claims
from tests.claim_support import assert_turns_alone, others, paired_ap, verdicts_by_start

SINGLE, MULTI = "cifar-small", "mosaic-small"
BITS, ABLATION_BITS, CONTROL_BITS = (16, 32), (16,), 32
QUERIES = 50  # a paired difference of two cells' per-query AP then has a noise of about ±0.01
RIVALS = (*ON_FEATURES, *DEEP_BASELINES)
W_L, W_0 = "W_L (k1 nearest)", "W⁰ (and k2 most overlapping)"  # as similarity_table names them
SCALED = "PIC⁰ × mean a"

# The claims, by the start of their text.
TABLE1_SINGLE = "DSAH beats every method of Table 1 on the single-label set"
TABLE1_MULTI = "DSAH beats every method of Table 1 on the multi-label set"
SHALLOW = "BGAN, MLS³RDUH and DSAH each beat every shallow method"
GROWS = "DSAH's MAP grows"
PRECISION = "DSAH has the best precision@100"
PIC = "PIC beats PIC⁰"
PIC_MINUS = "PIC⁻ falls below PIC"
SCALE = "PIC's gain is more than its loss scale"
AND = "AND beats AND⁰"
AND_PIC = "AND + PIC beats AND"
POSITIVES = "AND's positive pairs never decrease, and its additions settle"
THRESHOLD = "AND's threshold m never decreases"
F_W = "AND raises F_w of W above W⁰'s"
MAP_ROUNDS = "MAP after round 2 exceeds MAP after round 1"
W0 = "W⁰ is more precise than the k1-NN lists alone"
FASTER = "DSAH trains faster than SSDH, BGAN and MLS³RDUH"
CLAIMS = (TABLE1_SINGLE, TABLE1_MULTI, SHALLOW, GROWS, PRECISION, PIC, PIC_MINUS, SCALE, AND, AND_PIC, POSITIVES,
          THRESHOLD, F_W, MAP_ROUNDS, W0, FASTER)

BASELINE_MAP = {"GH": 0.35, "SSDH": 0.40, "BGAN": 0.45, "MLS3RDUH": 0.47, "TBH": 0.38}
VARIANT_MAP = {"PIC⁰": 0.45, "PIC": 0.52, "PIC⁻": 0.30, "AND": 0.55}  # DSAH (AND + PIC) is 0.60 at 16 bits


def paper_shaped_maps(ablation_bits: tuple[int, ...] = ABLATION_BITS) -> dict[tuple[str, str, int], float]:
    """mAP of every cell: DSAH ahead of every rival and growing 0.10 from 16 to 32 bits, the deep baselines
    above the shallow ones, PIC⁻ < PIC⁰ < PIC < AND < DSAH at the ablation lengths (Figs. 4 and 6)."""
    maps = {}
    for dataset in (SINGLE, MULTI):
        for step, n_bits in enumerate(BITS):
            rise = 0.04 * step
            maps[("DSAH", dataset, n_bits)] = 0.60 + 0.10 * step
            maps |= {(name, dataset, n_bits): value + rise for name, value in BASELINE_MAP.items()}
            maps |= {(name, dataset, n_bits): 0.20 + 0.02 * i + rise for i, name in enumerate(ON_FEATURES)}
        for n_bits in ablation_bits:
            maps |= {(name, dataset, n_bits): value for name, value in VARIANT_MAP.items()}
    return maps


def per_query_of(maps: dict, seeds: int = 1) -> dict[tuple[str, str, int], list[np.ndarray]]:
    return {key: [paired_ap(value, key, seed, QUERIES) for seed in range(seeds)] for key, value in maps.items()}


def control_maps(pic: float = 0.50, scaled: float = 0.45) -> dict[tuple[str, str, int], float]:
    return {("PIC", SINGLE, CONTROL_BITS): pic, (SCALED, SINGLE, CONTROL_BITS): scaled}


def precision_table(changes: dict | None = None) -> pd.DataFrame:
    """Table 3's precision@100: DSAH 0.70 in every cell, its rivals 0.50 to 0.65."""
    values = {("DSAH", d, n): 0.70 for d in (SINGLE, MULTI) for n in BITS}
    values |= {(m, d, n): 0.50 + 0.01 * i for i, m in enumerate(RIVALS) for d in (SINGLE, MULTI) for n in BITS}
    values |= changes or {}
    return pd.DataFrame([{"method": m, "dataset": d, "bits": n, "precision_mean": p} for (m, d, n), p in values.items()])


def similarity_table(w_0: tuple[float, float] = (0.55, 0.60), w_l: tuple[float, float] = (0.40, 0.45)) -> pd.DataFrame:
    rows = []
    for dataset, low, initial in zip((SINGLE, MULTI), w_l, w_0):
        rows += [{"dataset": dataset, "similarity": W_L, "precision": low},
                 {"dataset": dataset, "similarity": W_0, "precision": initial}]
    return pd.DataFrame(rows)


def round_table(**columns) -> pd.DataFrame:
    """Fig. 7's rounds: n₊ grows, m rises, additions settle (50 < 0.25 × 500), F_w and mAP rise."""
    table = {"round": [1, 2, 3], "n₊ trained on": [1000, 1500, 1700], "threshold m": [2, 3, 3],
             "added": [500, 200, 50], "F_w": [0.30, 0.35, 0.37], "F_w after": [0.35, 0.37, 0.38],
             "mAP": [0.50, 0.55, 0.56]}
    return pd.DataFrame(table | columns)


def scenario(maps: dict | None = None, **overrides) -> dict:
    """``dsah_claims``'s arguments on which every claim holds; ``maps`` overrides cells of the paper's shape."""
    arguments = {"per_query": per_query_of({**paper_shaped_maps(), **(maps or {})}), "precision": precision_table(),
                 "similarity": similarity_table(), "rounds": round_table(),
                 "seconds": {"SSDH": 300.0, "BGAN": 400.0, "MLS3RDUH": 250.0, "DSAH": 100.0},
                 "single": SINGLE, "multi": MULTI, "bits": list(BITS), "ablation_bits": list(ABLATION_BITS),
                 "control": per_query_of(control_maps()), "control_bits": CONTROL_BITS, "n_seeds": 1}
    return arguments | overrides


def verdicts(arguments: dict) -> dict[str, str]:
    """Each claim's verdict, keyed by the start of its text in :data:`CLAIMS`."""
    return verdicts_by_start(dsah_claims(**arguments), CLAIMS)



def test_every_claim_holds_on_numbers_shaped_like_the_papers():
    assert verdicts(scenario()) == dict.fromkeys(CLAIMS, HOLDS)


def test_only_the_training_time_claim_is_timed_and_the_length_claim_names_the_lengths():
    claims = dsah_claims(**scenario())
    assert [claim.claim for claim in claims if claim.timed] == [FASTER]
    assert "DSAH's MAP grows from 16 to 32 bits" in {claim.claim for claim in claims}


def _set_maps(maps: dict) -> Callable[[dict], None]:
    def change(arguments: dict) -> None:
        arguments["per_query"] = arguments["per_query"] | per_query_of(maps)
    return change


def _set(key: str, value) -> Callable[[dict], None]:
    return lambda arguments: arguments.__setitem__(key, value)


TURNS: dict[str, Callable[[dict], None]] = {
    TABLE1_SINGLE: _set_maps({("TBH", SINGLE, 32): 0.75}),  # a deep baseline: the shallow claim is untouched
    TABLE1_MULTI: _set_maps({("SSDH", MULTI, 16): 0.66}),
    SHALLOW: _set_maps({("SGH+feat", MULTI, 32): 0.50}),  # above BGAN (0.49), far below DSAH (0.70)
    GROWS: _set_maps({("DSAH", MULTI, 32): 0.57}),  # 0.03 below 16 bits, still 0.06 above every rival at 32
    PRECISION: _set("precision", precision_table({("BGAN", SINGLE, 32): 0.71})),
    PIC: _set_maps({("PIC", MULTI, 16): 0.42}),  # below PIC⁰, still above PIC⁻
    PIC_MINUS: _set_maps({("PIC⁻", SINGLE, 16): 0.56}),
    SCALE: _set("control", per_query_of(control_maps(scaled=0.55))),
    AND: _set_maps({("AND", MULTI, 16): 0.42}),  # below AND⁰ (PIC⁰), still below DSAH
    AND_PIC: _set_maps({("AND", SINGLE, 16): 0.64}),  # above DSAH, still above AND⁰
    POSITIVES: _set("rounds", round_table(**{"n₊ trained on": [1000, 1700, 1600]})),
    THRESHOLD: _set("rounds", round_table(**{"threshold m": [3, 2, 3]})),
    F_W: _set("rounds", round_table(**{"F_w after": [0.35, 0.37, 0.29]})),
    MAP_ROUNDS: _set("rounds", round_table(mAP=[0.50, 0.49, 0.56])),
    W0: _set("similarity", similarity_table(w_0=(0.55, 0.45))),  # a tie with W_L is not "more precise"
    FASTER: lambda a: a["seconds"].__setitem__("MLS3RDUH", 104.0),  # 1.04 × DSAH's time
}


def test_every_claim_is_turned_here():
    assert set(TURNS) == set(CLAIMS)


@pytest.mark.parametrize("claim", list(TURNS))
def test_a_claim_does_not_hold_when_its_numbers_turn_and_the_others_still_hold(claim):
    arguments = scenario()
    TURNS[claim](arguments)
    assert_turns_alone(verdicts(arguments), claim)


def test_additions_that_do_not_settle_turn_the_positive_pairs_claim():
    # n₊ still grows every round, but the last update adds 150 pairs: more than 0.25 of the first's 500.
    table = verdicts(scenario(rounds=round_table(added=[500, 200, 150])))
    assert table[POSITIVES] == DOES_NOT_HOLD
    assert others(table, POSITIVES) == {HOLDS}


# One cell set 0.001 from the value it is compared with, far inside the ±0.01 noise of a paired difference over
# 50 queries: (which per-query dict, the cell, the value compared with, whether the cell is the claim's left side).
CLOSE_CELLS = {
    TABLE1_SINGLE: ("per_query", ("GH", SINGLE, 16), 0.60, False),
    TABLE1_MULTI: ("per_query", ("MLS3RDUH", MULTI, 32), 0.70, False),
    GROWS: ("per_query", ("DSAH", SINGLE, 32), 0.60, True),
    PIC: ("per_query", ("PIC", SINGLE, 16), 0.45, True),
    PIC_MINUS: ("per_query", ("PIC⁻", MULTI, 16), 0.52, False),
    SCALE: ("control", (SCALED, SINGLE, CONTROL_BITS), 0.50, False),
    AND: ("per_query", ("AND", SINGLE, 16), 0.45, True),
    AND_PIC: ("per_query", ("AND", MULTI, 16), 0.60, False),
}


@pytest.mark.parametrize("lead", [0.001, -0.001], ids=["ahead", "behind"])
@pytest.mark.parametrize("claim", list(CLOSE_CELLS))
def test_a_difference_inside_its_noise_is_within_noise_either_way(claim, lead):
    which, key, value, is_left = CLOSE_CELLS[claim]
    arguments = scenario()
    arguments[which] = arguments[which] | per_query_of({key: value + lead if is_left else value - lead})
    table = verdicts(arguments)
    assert table[claim] == f"{WITHIN_NOISE} at 1 seed(s)"
    assert others(table, claim) == {HOLDS}


def test_the_same_cells_beyond_the_noise_decide_the_claim():
    # 0.03 either side of the compared value: three times the noise.
    held = verdicts(scenario({("GH", SINGLE, 16): 0.57, ("PIC", SINGLE, 16): 0.48}))
    assert held[TABLE1_SINGLE] == HOLDS and held[PIC] == HOLDS
    turned = verdicts(scenario({("GH", SINGLE, 16): 0.63, ("PIC", SINGLE, 16): 0.42}))
    assert turned[TABLE1_SINGLE] == DOES_NOT_HOLD and turned[PIC] == DOES_NOT_HOLD


def test_over_seeds_the_noise_is_their_spread_and_the_verdict_names_the_seeds():
    def over_seeds(pic: list[float]) -> dict[str, str]:
        key = ("PIC", SINGLE, 16)
        per_query = per_query_of(paper_shaped_maps(), seeds=3)
        per_query[key] = [paired_ap(value, key, seed, QUERIES) for seed, value in enumerate(pic)]
        return verdicts(scenario(per_query=per_query, control=per_query_of(control_maps(), seeds=3), n_seeds=3))

    # PIC⁰ at 0.45 every seed; PIC 0.03 above on average, but one seed below it: the differences spread.
    spread = over_seeds([0.40, 0.44, 0.60])
    assert spread[PIC] == f"{WITHIN_NOISE} at 3 seed(s)"
    assert others(spread, PIC) == {HOLDS}
    assert over_seeds([0.50, 0.52, 0.54])[PIC] == HOLDS
    assert over_seeds([0.38, 0.40, 0.42])[PIC] == DOES_NOT_HOLD


def test_the_ablation_claims_pool_the_queries_over_the_code_lengths():
    # PIC 0.15 above PIC⁰ at 16 bits and 0.05 below at 32: ahead by 0.05 on the average over the two lengths.
    maps = paper_shaped_maps(ablation_bits=(16, 32))
    maps |= {("PIC", d, 16): 0.60 for d in (SINGLE, MULTI)} | {("PIC", d, 32): 0.40 for d in (SINGLE, MULTI)}
    table = verdicts(scenario(per_query=per_query_of(maps), ablation_bits=[16, 32]))
    assert table[PIC] == HOLDS
    # The other way round on the mosaic: behind on average although ahead at 16 bits.
    maps |= {("PIC", MULTI, 16): 0.46, ("PIC", MULTI, 32): 0.34}
    assert verdicts(scenario(per_query=per_query_of(maps), ablation_bits=[16, 32]))[PIC] == DOES_NOT_HOLD


def _drop(*keys: tuple[str, str, int], where: str = "per_query") -> Callable[[dict], None]:
    def change(arguments: dict) -> None:
        arguments[where] = {key: value for key, value in arguments[where].items() if key not in keys}
    return change


def _without_row(table: str, **row) -> Callable[[dict], None]:
    def change(arguments: dict) -> None:
        frame = arguments[table]
        matches = np.logical_and.reduce([frame[column] == value for column, value in row.items()])
        arguments[table] = frame[~matches].reset_index(drop=True)
    return change


NOT_RUN: dict[str, tuple[Callable[[dict], None], set[str]]] = {
    "no TBH at 32 bits on the single-label set": (_drop(("TBH", SINGLE, 32)), {TABLE1_SINGLE}),
    # BGAN is the first of the three that the shallow claim takes the weakest of.
    "no BGAN at 32 bits on the mosaic": (_drop(("BGAN", MULTI, 32)), {TABLE1_MULTI, SHALLOW}),
    "no LSH on features at 16 bits": (_drop(("LSH+feat", SINGLE, 16)), {TABLE1_SINGLE, SHALLOW}),
    "no DSAH precision": (_without_row("precision", method="DSAH", dataset=MULTI, bits=16), {PRECISION}),
    "no PIC⁰ on the mosaic": (_drop(("PIC⁰", MULTI, 16)), {PIC, AND}),
    "no PIC⁻": (_drop(("PIC⁻", SINGLE, 16)), {PIC_MINUS}),
    "no PIC": (_drop(("PIC", MULTI, 16)), {PIC, PIC_MINUS}),
    "no AND": (_drop(("AND", SINGLE, 16)), {AND, AND_PIC}),
    "no control run": (_drop((SCALED, SINGLE, CONTROL_BITS), where="control"), {SCALE}),
    "a control at another length": (_set("control_bits", 64), {SCALE}),
    "one round": (_set("rounds", round_table().iloc[:1]), {POSITIVES, THRESHOLD, MAP_ROUNDS}),
    "nothing added by the first update": (_set("rounds", round_table(added=[0, 0, 0])), {POSITIVES}),
    "F_w after the last round not measured": (_set("rounds", round_table(**{"F_w after": [0.35, 0.37, np.nan]})),
                                              {F_W}),
    "no W⁰ precision on the mosaic": (_set("similarity", similarity_table(w_0=(0.55, np.nan))), {W0}),
    "no similarity table": (_set("similarity", similarity_table().iloc[:0]), {W0}),
    "DSAH not timed": (lambda a: a["seconds"].pop("DSAH"), {FASTER}),
    "BGAN not timed": (lambda a: a["seconds"].pop("BGAN"), {FASTER}),
}


@pytest.mark.parametrize("missing", list(NOT_RUN))
def test_a_missing_cell_makes_exactly_the_claims_that_need_it_not_testable(missing):
    change, untestable = NOT_RUN[missing]
    arguments = scenario()
    change(arguments)
    table = verdicts(arguments)
    assert {claim for claim, verdict in table.items() if verdict == NOT_TESTABLE} == untestable
    assert others(table, *untestable) == {HOLDS}


# Missing cells that the claims' Python min()/max() drop silently: min(0.45, nan) is 0.45 but min(nan, 0.45) is nan,
# so a NaN counts only when it comes first (hashkit.claims.lowest/highest exist for this).
ORDER_DEPENDENT: dict[str, tuple[Callable[[dict], None], set[str]]] = {
    "no DSAH at 32 bits on the single-label set": (_drop(("DSAH", SINGLE, 32)), {TABLE1_SINGLE, SHALLOW, GROWS}),
    "no MLS3RDUH at 32 bits on the mosaic": (_drop(("MLS3RDUH", MULTI, 32)), {TABLE1_MULTI, SHALLOW}),
    "no SGH on features at 16 bits": (_drop(("SGH+feat", SINGLE, 16)), {TABLE1_SINGLE, SHALLOW}),
    "no TBH precision": (_without_row("precision", method="TBH", dataset=SINGLE, bits=32), {PRECISION}),
}


@pytest.mark.parametrize("missing", list(ORDER_DEPENDENT))
def test_a_missing_cell_anywhere_in_a_min_or_max_makes_the_claim_not_testable(missing):
    change, untestable = ORDER_DEPENDENT[missing]
    arguments = scenario()
    change(arguments)
    table = verdicts(arguments)
    assert {claim for claim, verdict in table.items() if verdict == NOT_TESTABLE} == untestable


def test_the_growth_claim_with_one_code_length_is_not_testable():
    assert verdicts(scenario(bits=[32]))[GROWS] == NOT_TESTABLE


def test_a_dataset_without_w_l_makes_the_w0_claim_not_testable():
    arguments = scenario()
    _without_row("similarity", dataset=MULTI, similarity=W_L)(arguments)
    assert verdicts(arguments)[W0] == NOT_TESTABLE


def test_the_growth_claim_compares_the_shortest_length_with_the_longest():
    # A 24-bit run 0.05 below the 16-bit one: DSAH still grows from 16 to 32 bits.
    maps = paper_shaped_maps()
    dip = {(m, d, 24): v for (m, d, n), v in maps.items() if n == 16 and (m in RIVALS or m == "DSAH")}
    dip |= {("DSAH", d, 24): 0.55 for d in (SINGLE, MULTI)}
    table = verdicts(scenario(per_query=per_query_of(maps | dip), bits=[24, 32, 16],
                              precision=pd.concat([precision_table(), precision_table().query("bits == 16").assign(bits=24)])))
    assert table == dict.fromkeys(CLAIMS, HOLDS)
    assert "DSAH's MAP grows from 16 to 32 bits" in {c.claim for c in dsah_claims(**scenario(bits=[32, 16]))}


@pytest.mark.parametrize(("rival", "expected"), [(0.704, HOLDS), (0.706, DOES_NOT_HOLD)])
def test_best_precision_allows_a_tie_of_0_005(rival, expected):
    table = verdicts(scenario(precision=precision_table({("SSDH", MULTI, 16): rival})))
    assert table[PRECISION] == expected


@pytest.mark.parametrize(("last", "expected"), [(124, HOLDS), (125, DOES_NOT_HOLD)])
def test_additions_settle_below_a_quarter_of_the_first(last, expected):
    assert verdicts(scenario(rounds=round_table(added=[500, 200, last])))[POSITIVES] == expected


def test_positive_pairs_and_threshold_may_stay_level():
    table = verdicts(scenario(rounds=round_table(**{"n₊ trained on": [1000, 1000, 1000], "threshold m": [3, 3, 3]})))
    assert table[POSITIVES] == HOLDS and table[THRESHOLD] == HOLDS


def test_f_w_compares_the_last_round_with_w0_and_map_rounds_1_and_2_only():
    # F_w dips after round 2 but ends above W⁰'s; mAP falls in round 3 but round 2 beats round 1.
    rounds = round_table(**{"F_w after": [0.25, 0.20, 0.31]}, mAP=[0.50, 0.51, 0.10])
    table = verdicts(scenario(rounds=rounds))
    assert table[F_W] == HOLDS and table[MAP_ROUNDS] == HOLDS
    assert verdicts(scenario(rounds=round_table(mAP=[0.50, 0.50, 0.90])))[MAP_ROUNDS] == DOES_NOT_HOLD


@pytest.mark.parametrize(("seconds", "expected"), [(106.0, HOLDS), (104.0, DOES_NOT_HOLD)])
def test_faster_needs_a_ratio_of_1_05_against_each_rival(seconds, expected):
    timing = {"SSDH": 300.0, "BGAN": seconds, "MLS3RDUH": 250.0, "DSAH": 100.0}
    assert verdicts(scenario(seconds=timing))[FASTER] == expected
