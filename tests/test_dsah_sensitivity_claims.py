"""DSAH's sensitivity and view claims (:func:`~hashkit.experiments.dsah_claims.sensitivity_claims`,
:func:`~hashkit.experiments.dsah_claims.view_claims`) turn both ways: on hand-made numbers shaped like the
paper's Figs. 8–11 all eight hold; each does not hold when the numbers it rests on turn, and the others stay as
they were; a lead inside its noise is "within noise", not a win; a grid point, a run, a round or a table row the
run lacks makes exactly the claims that need it "not testable here". The margins (the 0.02 spread of τ = 10
about τ = 1, the 0.01 spread of MAP beyond three rounds, the 0.005 tie of "as good as") are checked at their
edges, and a λ = 10 that loses to λ = 0 on every query by less than the tie shows that "beats beyond noise"
and "as good as the best" are different claims."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from hashkit.claims import DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, WITHIN_NOISE
from hashkit.experiments.dsah import DSAHSettings, sensitivity_points
from hashkit.experiments.dsah_claims import sensitivity_claims, view_claims
from tests.claim_support import assert_turns_alone, others, paired_ap, verdicts_by_start

DATASET, N_BITS = "cifar-small", 32
SETTINGS = DSAHSettings()  # λ = 10, τ = 1, γ = 1: those points are "DSAH" itself
GRIDS = {"λ": [0, 1, 10, 100], "τ": [0.01, 0.1, 1, 10]}
POINTS = sensitivity_points(SETTINGS, GRIDS)
QUERIES = 50  # a paired difference of two cells' per-query AP then has a noise of about ±0.01

# The claims, by the start of their text.
LAMBDA_BEATS = "λ = 10 beats λ = 100 and λ = 0"
LAMBDA_BEST = "λ = 10 is as good as the best λ tried"
TAU_BEATS = "τ = 1 beats τ = 0.1 and τ = 0.01"
TAU_10 = "τ = 10 is within 0.02 of τ = 1"
ROUNDS = "Three rounds beat one, and more rounds change MAP by at most 0.01"
GAMMA = "γ ≥ 0 does at least as well as γ < 0"
CLAIMS = (LAMBDA_BEATS, LAMBDA_BEST, TAU_BEATS, TAU_10, ROUNDS, GAMMA)


def run(symbol: str, value: float) -> str:
    """The run's name at ``symbol`` = ``value`` on the chapter's grid ("DSAH" at the chapter's own value)."""
    (name,) = [name for name, swept, at in POINTS if (swept, at) == (symbol, float(value))]
    return name


def cell(symbol: str, value: float) -> tuple[str, str, int]:
    return run(symbol, value), DATASET, N_BITS


DSAH = ("DSAH", DATASET, N_BITS)
# Fig. 8's shape: MAP peaks at λ = 10 and at τ = 1 (both DSAH itself, 0.60), every other grid point at least
# 0.03 lower, three times the noise; τ = 10 is 0.01 below τ = 1.
SENSITIVITY_MAP = {cell("λ", 0): 0.50, cell("λ", 1): 0.57, DSAH: 0.60, cell("λ", 100): 0.55,
                   cell("τ", 0.01): 0.45, cell("τ", 0.1): 0.52, cell("τ", 10): 0.59}
# Fig. 9's shape: MAP after each of five rounds per γ. At γ = 1 (the default) round 3 is 0.08 above round 1 and
# rounds 4–5 stay within 0.005 of it; the best final MAP with γ ≥ 0 (0.583, γ = 1) is 0.083 above the best
# with γ < 0 (0.50, γ = −0.5).
CURVES = {-1.0: [0.30, 0.38, 0.42, 0.44, 0.45], -0.5: [0.40, 0.45, 0.48, 0.49, 0.50],
          0.0: [0.48, 0.53, 0.56, 0.565, 0.566], 0.5: [0.49, 0.54, 0.57, 0.575, 0.575],
          1.0: [0.50, 0.55, 0.58, 0.585, 0.583]}


def per_query_of(maps: dict, seeds: int = 1, low: float = 0.0) -> dict[tuple[str, str, int], list[np.ndarray]]:
    return {key: [paired_ap(value, key, seed, QUERIES, low) for seed in range(seeds)] for key, value in maps.items()}


def gamma_table(curves: dict[float, list[float]]) -> pd.DataFrame:
    """Fig. 9's table as :func:`~hashkit.experiments.dsah.gamma_round_table` gives it (columns γ, round, mAP,
    n₊ trained on, added), the positive pairs growing and the additions settling in every γ."""
    return pd.DataFrame([{"γ": gamma, "round": r + 1, "mAP": value, "n₊ trained on": 1000.0 + 200 * r,
                          "added": 200 // (r + 1)} for gamma, maps in curves.items() for r, value in enumerate(maps)],
                        columns=["γ", "round", "mAP", "n₊ trained on", "added"])


def scenario(maps: dict | None = None, curves: dict | None = None, **overrides) -> dict:
    """``sensitivity_claims``'s arguments on which every claim holds; ``maps`` and ``curves`` override cells and
    γ curves of the paper's shape."""
    arguments = {"per_query": per_query_of({**SENSITIVITY_MAP, **(maps or {})}), "points": POINTS,
                 "gamma_rounds": gamma_table({**CURVES, **(curves or {})}), "dataset": DATASET, "n_bits": N_BITS,
                 "default_gamma": SETTINGS.gamma, "n_seeds": 1}
    return arguments | overrides


def verdicts(arguments: dict) -> dict[str, str]:
    """Each claim's verdict, keyed by the start of its text in :data:`CLAIMS`."""
    return verdicts_by_start(sensitivity_claims(**arguments), CLAIMS)



def test_the_chapters_own_lambda_and_tau_are_one_run_named_dsah():
    assert run("λ", 10) == run("τ", 1) == "DSAH"
    assert run("λ", 0) == "DSAH (λ = 0)" and run("τ", 0.01) == "DSAH (τ = 0.01)"


def test_every_claim_holds_on_numbers_shaped_like_the_papers():
    assert verdicts(scenario()) == dict.fromkeys(CLAIMS, HOLDS)


def test_no_sensitivity_claim_is_timed_and_each_names_its_figure():
    claims = sensitivity_claims(**scenario())
    assert not any(claim.timed for claim in claims)
    assert [claim.source.split(",")[0] for claim in claims] == ["Fig. 8a", "Fig. 8a", "Fig. 8b", "Fig. 8b",
                                                                "Fig. 9a", "Fig. 9a"]


def _set_maps(maps: dict) -> Callable[[dict], None]:
    def change(arguments: dict) -> None:
        arguments["per_query"] = arguments["per_query"] | per_query_of(maps)
    return change


def _set_curves(curves: dict) -> Callable[[dict], None]:
    return lambda arguments: arguments.__setitem__("gamma_rounds", gamma_table(CURVES | curves))


def _paired_with_dsah(symbol: str, value: float, lead: float) -> Callable[[dict], None]:
    """The run at ``symbol`` = ``value`` ``lead`` above DSAH on every query: a difference without noise."""
    def change(arguments: dict) -> None:
        arguments["per_query"] = arguments["per_query"] | {cell(symbol, value): [paired_ap(0.60 + lead, DSAH, 0, QUERIES)]}
    return change


TURNS: dict[str, Callable[[dict], None]] = {
    # λ = 0 0.003 above λ = 10 on every query: behind beyond a noise of 0, yet inside the 0.005 tie of the best.
    LAMBDA_BEATS: _paired_with_dsah("λ", 0, 0.003),
    LAMBDA_BEST: _set_maps({cell("λ", 1): 0.63}),  # λ = 1 is on neither side of the "beats" claim
    TAU_BEATS: _set_maps({cell("τ", 0.1): 0.64}),
    TAU_10: _set_maps({cell("τ", 10): 0.56}),
    ROUNDS: _set_curves({1.0: [0.50, 0.52, 0.50, 0.505, 0.503]}),  # R = 3 ties R = 1; its final is still γ ≥ 0's
    GAMMA: _set_curves({-0.5: [0.40, 0.50, 0.55, 0.58, 0.60]}),  # γ < 0 ends 0.017 above γ ≥ 0's best
}


def test_every_claim_is_turned_here():
    assert set(TURNS) == set(CLAIMS)


@pytest.mark.parametrize("claim", list(TURNS))
def test_a_claim_does_not_hold_when_its_numbers_turn_and_the_others_still_hold(claim):
    arguments = scenario()
    TURNS[claim](arguments)
    assert_turns_alone(verdicts(arguments), claim)


def test_tau_10_may_be_on_either_side_of_tau_1():
    assert verdicts(scenario({cell("τ", 10): 0.63}))[TAU_10] == DOES_NOT_HOLD
    assert verdicts(scenario({cell("τ", 10): 0.61}))[TAU_10] == HOLDS


def test_rounds_beyond_three_that_still_gain_turn_the_rounds_claim():
    # R = 3 is 0.08 above R = 1, but round 5 is 0.015 above R = 3: more rounds still change MAP.
    table = verdicts(scenario(curves={1.0: [0.50, 0.55, 0.58, 0.59, 0.595]}))
    assert table[ROUNDS] == DOES_NOT_HOLD
    assert others(table, ROUNDS) == {HOLDS}


def test_the_rounds_claim_reads_the_default_gamma_only():
    # γ = 0 gets worse after round 3 and γ = −1 never gains: neither is the default γ = 1.
    table = verdicts(scenario(curves={0.0: [0.48, 0.53, 0.56, 0.50, 0.45], -1.0: [0.45, 0.44, 0.43, 0.42, 0.41]}))
    assert table == dict.fromkeys(CLAIMS, HOLDS)
    assert verdicts(scenario(curves={0.0: [0.48, 0.53, 0.56, 0.50, 0.45]}, default_gamma=0.0))[ROUNDS] == DOES_NOT_HOLD


def test_the_gamma_claim_compares_final_maps_not_the_best_round():
    # γ = −0.5 peaks at 0.70 after round 2 and ends at 0.50: its final MAP is what counts.
    table = verdicts(scenario(curves={-0.5: [0.40, 0.70, 0.60, 0.55, 0.50]}))
    assert table[GAMMA] == HOLDS
    # γ = −0.5 ends at 0.577: beyond the tie above γ = 0's 0.566, inside it below γ = 1's 0.583, the best final
    # over γ ≥ 0.
    assert verdicts(scenario(curves={-0.5: [0.40, 0.45, 0.48, 0.49, 0.577]}))[GAMMA] == HOLDS


def test_gamma_zero_counts_on_the_non_negative_side():
    curves = {0.0: CURVES[1.0], -0.5: CURVES[-0.5]}
    table = verdicts(scenario(gamma_rounds=gamma_table(curves), default_gamma=0.0))
    assert table == dict.fromkeys(CLAIMS, HOLDS)


# One grid point set 0.001 from DSAH's 0.60, far inside the ±0.01 noise of a paired difference over 50 queries.
CLOSE_CELLS = {LAMBDA_BEATS: cell("λ", 100), TAU_BEATS: cell("τ", 0.1)}


@pytest.mark.parametrize("lead", [0.001, -0.001], ids=["ahead", "behind"])
@pytest.mark.parametrize("claim", list(CLOSE_CELLS))
def test_a_difference_inside_its_noise_is_within_noise_either_way(claim, lead):
    table = verdicts(scenario({CLOSE_CELLS[claim]: 0.60 - lead}))
    assert table[claim] == f"{WITHIN_NOISE} at 1 seed(s)"
    assert others(table, claim) == {HOLDS}


@pytest.mark.parametrize("claim", list(CLOSE_CELLS))
def test_the_same_cells_beyond_the_noise_decide_the_claim(claim):
    # 0.03 either side of DSAH's 0.60: three times the noise.
    assert verdicts(scenario({CLOSE_CELLS[claim]: 0.57}))[claim] == HOLDS
    assert verdicts(scenario({CLOSE_CELLS[claim]: 0.63}))[claim] == DOES_NOT_HOLD


def test_over_seeds_the_noise_is_their_spread_and_the_verdict_names_the_seeds():
    def over_seeds(lambda_100: list[float]) -> dict[str, str]:
        per_query = per_query_of(SENSITIVITY_MAP, seeds=3)
        key = cell("λ", 100)
        per_query[key] = [paired_ap(value, key, seed, QUERIES) for seed, value in enumerate(lambda_100)]
        return verdicts(scenario(per_query=per_query, n_seeds=3))

    # DSAH at 0.60 every seed; λ = 100 0.02 below on average, but one seed 0.06 above it: the differences spread.
    spread = over_seeds([0.50, 0.58, 0.66])
    assert spread[LAMBDA_BEATS] == f"{WITHIN_NOISE} at 3 seed(s)"
    assert others(spread, LAMBDA_BEATS) == {HOLDS}
    assert over_seeds([0.54, 0.55, 0.56])[LAMBDA_BEATS] == HOLDS
    assert over_seeds([0.64, 0.65, 0.66])[LAMBDA_BEATS] == DOES_NOT_HOLD


def _grid(**grids: list[float]) -> Callable[[dict], None]:
    """The chapter's grid with ``grids`` replacing a symbol's values; the runs of the dropped points stay in
    the per-query dict, so a claim reads the grid rather than whatever was run."""
    return lambda arguments: arguments.__setitem__("points", sensitivity_points(SETTINGS, GRIDS | grids))


def _drop(*keys: tuple[str, str, int]) -> Callable[[dict], None]:
    def change(arguments: dict) -> None:
        arguments["per_query"] = {key: value for key, value in arguments["per_query"].items() if key not in keys}
    return change


def _set(key: str, value) -> Callable[[dict], None]:
    return lambda arguments: arguments.__setitem__(key, value)


NOT_RUN: dict[str, tuple[Callable[[dict], None], set[str]]] = {
    "a λ grid without 100": (_grid(λ=[0, 1, 10]), {LAMBDA_BEATS}),
    "a λ grid without 0": (_grid(λ=[1, 10, 100]), {LAMBDA_BEATS}),
    "a λ grid without the chapter's 10": (_grid(λ=[0, 1, 100]), {LAMBDA_BEATS, LAMBDA_BEST}),
    "no λ grid": (lambda a: a.__setitem__("points", sensitivity_points(SETTINGS, {"τ": GRIDS["τ"]})),
                  {LAMBDA_BEATS, LAMBDA_BEST}),
    "a τ grid without 0.01": (_grid(τ=[0.1, 1, 10]), {TAU_BEATS}),
    "a τ grid without 0.1": (_grid(τ=[0.01, 1, 10]), {TAU_BEATS}),
    "a τ grid without 10": (_grid(τ=[0.01, 0.1, 1]), {TAU_10}),
    "λ = 1 on the grid but not run": (_drop(cell("λ", 1)), {LAMBDA_BEST}),
    "λ = 0 on the grid but not run": (_drop(cell("λ", 0)), {LAMBDA_BEATS, LAMBDA_BEST}),
    "τ = 0.01 on the grid but not run": (_drop(cell("τ", 0.01)), {TAU_BEATS}),
    "τ = 10 on the grid but not run": (_drop(cell("τ", 10)), {TAU_10}),
    "DSAH not run": (_drop(DSAH), {LAMBDA_BEATS, LAMBDA_BEST, TAU_BEATS, TAU_10}),
    "runs at another code length": (_set("n_bits", 64), {LAMBDA_BEATS, LAMBDA_BEST, TAU_BEATS, TAU_10}),
    "runs on another dataset": (_set("dataset", "mosaic-small"), {LAMBDA_BEATS, LAMBDA_BEST, TAU_BEATS, TAU_10}),
    "a γ grid with γ ≥ 0 only": (_set("gamma_rounds", gamma_table({g: c for g, c in CURVES.items() if g >= 0})),
                                 {GAMMA}),
    "a γ grid with γ < 0 only": (_set("gamma_rounds", gamma_table({g: c for g, c in CURVES.items() if g < 0})),
                                 {ROUNDS, GAMMA}),
    "two rounds": (_set("gamma_rounds", gamma_table({g: c[:2] for g, c in CURVES.items()})), {ROUNDS}),
    "two rounds at the default γ only": (_set_curves({1.0: CURVES[1.0][:2]}), {ROUNDS}),
    "a default γ off the γ grid": (_set("default_gamma", 2.0), {ROUNDS}),
    "MAP after round 3 not measured": (_set_curves({1.0: [0.50, 0.55, np.nan, 0.585, 0.583]}), {ROUNDS}),
    "no γ table": (_set("gamma_rounds", gamma_table({})), {ROUNDS, GAMMA}),
}


@pytest.mark.parametrize("missing", list(NOT_RUN))
def test_a_missing_point_makes_exactly_the_claims_that_need_it_not_testable(missing):
    change, untestable = NOT_RUN[missing]
    arguments = scenario()
    change(arguments)
    table = verdicts(arguments)
    assert {claim for claim, verdict in table.items() if verdict == NOT_TESTABLE} == untestable
    assert others(table, *untestable) == {HOLDS}


def test_not_testable_evidence_says_what_is_missing():
    arguments = scenario()
    _set_curves({1.0: CURVES[1.0][:2]})(arguments)
    _grid(λ=[0, 1, 10])(arguments)
    evidence = {claim.claim: claim.evidence for claim in sensitivity_claims(**arguments)}
    assert evidence[ROUNDS] == "fewer than 3 rounds at γ = 1"
    assert "not measured in this run" in evidence[LAMBDA_BEATS] and "λ = 10 vs λ = 100" in evidence[LAMBDA_BEATS]
    only_positive = scenario(gamma_rounds=gamma_table({g: c for g, c in CURVES.items() if g >= 0}))
    assert {c.claim: c.evidence for c in sensitivity_claims(**only_positive)}[GAMMA] == \
        "the γ grid needs values on both sides of 0"


@pytest.mark.parametrize(("tau_10", "expected"), [(0.581, HOLDS), (0.579, DOES_NOT_HOLD), (0.619, HOLDS),
                                                  (0.621, DOES_NOT_HOLD)])
def test_tau_10_may_differ_from_tau_1_by_0_02(tau_10, expected):
    assert verdicts(scenario({cell("τ", 10): tau_10}))[TAU_10] == expected


@pytest.mark.parametrize(("last", "expected"), [(0.589, HOLDS), (0.571, HOLDS), (0.591, DOES_NOT_HOLD),
                                                (0.569, DOES_NOT_HOLD)])
def test_more_rounds_may_change_map_by_0_01(last, expected):
    # Round 3 at 0.58; round 5, the last, 0.009 or 0.011 away either side.
    assert verdicts(scenario(curves={1.0: [0.50, 0.55, 0.58, 0.585, last]}))[ROUNDS] == expected


def test_three_rounds_alone_compare_round_3_with_itself():
    table = verdicts(scenario(gamma_rounds=gamma_table({g: c[:3] for g, c in CURVES.items()})))
    assert table == dict.fromkeys(CLAIMS, HOLDS)


@pytest.mark.parametrize(("best_lambda", "expected"), [(0.604, HOLDS), (0.606, DOES_NOT_HOLD)])
def test_as_good_as_the_best_lambda_allows_a_tie_of_0_005(best_lambda, expected):
    assert verdicts(scenario({cell("λ", 1): best_lambda}))[LAMBDA_BEST] == expected


@pytest.mark.parametrize(("negative_final", "expected"), [(0.587, HOLDS), (0.589, DOES_NOT_HOLD)])
def test_gamma_at_least_as_good_allows_a_tie_of_0_005(negative_final, expected):
    # The best final MAP with γ ≥ 0 is γ = 1's 0.583.
    table = verdicts(scenario(curves={-1.0: [0.30, 0.38, 0.42, 0.44, negative_final]}))
    assert table[GAMMA] == expected


def test_a_lead_of_lambda_0_on_every_query_inside_the_tie_separates_the_two_lambda_claims():
    arguments = scenario()
    _paired_with_dsah("λ", 0, 0.003)(arguments)
    claims = {claim.claim: claim for claim in sensitivity_claims(**arguments)}
    assert claims[LAMBDA_BEATS].verdict == DOES_NOT_HOLD and "noise ±0.0000" in claims[LAMBDA_BEATS].evidence
    assert claims[LAMBDA_BEST].verdict == HOLDS
    # 0.006 above on every query is beyond the tie as well.
    arguments = scenario()
    _paired_with_dsah("λ", 0, 0.006)(arguments)
    assert verdicts(arguments)[LAMBDA_BEST] == DOES_NOT_HOLD


def test_the_rounds_claim_does_not_depend_on_the_tables_row_order():
    # The same tables, their rows reversed: round 5 is still the last round, not the last row.
    reversed_rows = gamma_table(CURVES).iloc[::-1].reset_index(drop=True)
    assert verdicts(scenario(gamma_rounds=reversed_rows)) == dict.fromkeys(CLAIMS, HOLDS)
    # Round 5 is 0.015 above round 3 (does not hold); round 1, the last row, only 0.005 below it.
    gaining = gamma_table(CURVES | {1.0: [0.575, 0.577, 0.58, 0.59, 0.595]})
    assert verdicts(scenario(gamma_rounds=gaining))[ROUNDS] == DOES_NOT_HOLD
    assert verdicts(scenario(gamma_rounds=gaining.iloc[::-1].reset_index(drop=True)))[ROUNDS] == DOES_NOT_HOLD


def test_a_gamma_whose_final_map_was_not_measured_makes_the_gamma_claim_not_testable():
    # γ = −0.5's last round has no MAP: its best round-4 value (0.49) must not stand in for the final one.
    table = verdicts(scenario(curves={-0.5: [0.40, 0.45, 0.48, 0.49, np.nan]}))
    assert table[GAMMA] == NOT_TESTABLE


# Figs. 10 and 11: the silhouette of each database item's code by class, and P@10.
VIEW_SEPARATE = "DSAH's codes separate the classes better than BGAN's and MLS³RDUH's"
VIEW_TOP10 = "DSAH's top 10 are at least as precise as MLS³RDUH's"
VIEW_CLAIMS = (VIEW_SEPARATE, VIEW_TOP10)
ITEMS = QUERIES  # items per silhouette array: a paired difference again has a noise of about ±0.01
SILHOUETTE = {"DSAH": 0.40, "BGAN": 0.25, "MLS3RDUH": 0.30}  # DSAH 0.10 above the better rival
TOP10 = {"DSAH": 0.80, "BGAN": 0.70, "MLS3RDUH": 0.75}


def silhouettes_of(changes: dict | None = None, seeds: int = 1) -> dict[tuple[str, str, int], list[np.ndarray]]:
    """Per-item silhouettes (from −1 to 1) keyed like per-query AP; ``changes``: method → mean."""
    means = SILHOUETTE | (changes or {})
    return per_query_of({(method, DATASET, N_BITS): mean for method, mean in means.items()}, seeds, low=-1.0)


def top10_table(changes: dict | None = None, bits: int = N_BITS) -> pd.DataFrame:
    return pd.DataFrame([{"method": m, "dataset": DATASET, "bits": bits, "precision_mean": p}
                         for m, p in (TOP10 | (changes or {})).items()])


def view_verdicts(silhouettes: dict | None = None, precision: pd.DataFrame | None = None,
                  n_seeds: int = 1) -> dict[str, str]:
    claims = view_claims(silhouettes_of() if silhouettes is None else silhouettes,
                         top10_table() if precision is None else precision, dataset=DATASET, n_bits=N_BITS,
                         n_seeds=n_seeds)
    assert len(claims) == len(VIEW_CLAIMS)
    table = {}
    for start in VIEW_CLAIMS:
        (verdict,) = [claim.verdict for claim in claims if claim.claim.startswith(start)]
        table[start] = verdict
    return table


def test_the_view_claims_hold_on_numbers_shaped_like_the_papers():
    assert view_verdicts() == dict.fromkeys(VIEW_CLAIMS, HOLDS)
    # A negative silhouette is a silhouette: DSAH 0.10 above rivals that are all below 0.
    below_zero = silhouettes_of({"DSAH": -0.10, "BGAN": -0.30, "MLS3RDUH": -0.20})
    assert view_verdicts(silhouettes=below_zero)[VIEW_SEPARATE] == HOLDS


@pytest.mark.parametrize(("claim", "silhouettes", "precision"), [
    (VIEW_SEPARATE, {"BGAN": 0.45}, None),  # BGAN's precision is untouched
    (VIEW_SEPARATE, {"MLS3RDUH": 0.45}, None),
    (VIEW_TOP10, None, {"MLS3RDUH": 0.85}),
], ids=["BGAN separates better", "MLS3RDUH separates better", "MLS3RDUH more precise"])
def test_a_view_claim_does_not_hold_when_its_numbers_turn_and_the_other_still_holds(claim, silhouettes, precision):
    table = view_verdicts(silhouettes_of(silhouettes), top10_table(precision))
    assert table[claim] == DOES_NOT_HOLD
    assert {v for name, v in table.items() if name != claim} == {HOLDS}


def test_the_precision_claim_is_against_mls3rduh_alone():
    assert view_verdicts(precision=top10_table({"BGAN": 0.95})) == dict.fromkeys(VIEW_CLAIMS, HOLDS)


@pytest.mark.parametrize("lead", [0.001, -0.001], ids=["ahead", "behind"])
def test_a_silhouette_lead_inside_its_noise_is_within_noise(lead):
    table = view_verdicts(silhouettes_of({"MLS3RDUH": 0.40 - lead}))
    assert table[VIEW_SEPARATE] == f"{WITHIN_NOISE} at 1 seed(s)"
    assert table[VIEW_TOP10] == HOLDS


def test_over_seeds_the_silhouette_verdict_names_the_seeds():
    silhouettes = silhouettes_of(seeds=3)
    assert view_verdicts(silhouettes, n_seeds=3) == dict.fromkeys(VIEW_CLAIMS, HOLDS)
    # DSAH at 0.40 every seed; BGAN 0.40 on average, 0.15 either side of it in two seeds.
    key = ("BGAN", DATASET, N_BITS)
    silhouettes[key] = [paired_ap(value, key, seed, QUERIES, low=-1.0) for seed, value in enumerate([0.25, 0.40, 0.55])]
    assert view_verdicts(silhouettes, n_seeds=3)[VIEW_SEPARATE] == f"{WITHIN_NOISE} at 3 seed(s)"


@pytest.mark.parametrize(("mls3rduh", "expected"), [(0.804, HOLDS), (0.806, DOES_NOT_HOLD)])
def test_top_10_allows_a_tie_of_0_005(mls3rduh, expected):
    assert view_verdicts(precision=top10_table({"MLS3RDUH": mls3rduh}))[VIEW_TOP10] == expected


def _without_method(table: pd.DataFrame, method: str) -> pd.DataFrame:
    return table[table["method"] != method].reset_index(drop=True)


@pytest.mark.parametrize(("silhouettes", "precision", "untestable"), [
    ({k: v for k, v in silhouettes_of().items() if k[0] != "MLS3RDUH"}, None, {VIEW_SEPARATE}),
    ({k: v for k, v in silhouettes_of().items() if k[0] != "BGAN"}, None, {VIEW_SEPARATE}),
    ({k: v for k, v in silhouettes_of().items() if k[0] != "DSAH"}, None, {VIEW_SEPARATE}),
    (None, _without_method(top10_table(), "MLS3RDUH"), {VIEW_TOP10}),
    (None, _without_method(top10_table(), "DSAH"), {VIEW_TOP10}),
    (None, top10_table(bits=64), {VIEW_TOP10}),
], ids=["no MLS3RDUH silhouettes", "no BGAN silhouettes", "no DSAH silhouettes", "no MLS3RDUH precision row",
        "no DSAH precision row", "precision at another length"])
def test_a_missing_view_makes_exactly_its_claim_not_testable(silhouettes, precision, untestable):
    table = view_verdicts(silhouettes, precision)
    assert {claim for claim, verdict in table.items() if verdict == NOT_TESTABLE} == untestable
    assert {verdict for claim, verdict in table.items() if claim not in untestable} == {HOLDS}


# The loss-scale control under Adam (ours): PIC against PIC⁰ with PIC's mean weight, Table 1's optimiser.
ADAM_SCALE = "PIC's gain is more than its loss scale (Adam, our control)"


@pytest.mark.parametrize(("pic", "scaled", "expected"), [(0.60, 0.50, HOLDS), (0.50, 0.60, DOES_NOT_HOLD),
                                                          (0.501, 0.50, WITHIN_NOISE), (0.60, None, NOT_TESTABLE)])
def test_the_adam_scale_control_turns_both_ways(pic, scaled, expected):
    from hashkit.experiments.dsah_claims import adam_scale_claim

    maps = {("PIC", DATASET, N_BITS): pic} | ({("PIC⁰ × mean a", DATASET, N_BITS): scaled} if scaled is not None else {})
    claim = adam_scale_claim(per_query_of(maps), dataset=DATASET, n_bits=N_BITS, n_seeds=1)
    assert claim.claim == ADAM_SCALE and claim.verdict.startswith(expected)


def test_the_scale_control_table_puts_each_optimiser_beside_the_other():
    from hashkit.experiments.dsah import scale_control_table

    def summary(values: dict[str, float]) -> pd.DataFrame:
        return pd.DataFrame([{"method": method, "dataset": DATASET, "bits": N_BITS, "map_mean": value}
                             for method, value in values.items()])

    table = scale_control_table(summary({"PIC⁰": 0.3, "PIC⁰ × mean a": 0.4, "PIC": 0.5}),
                                summary({"PIC⁰": 0.35, "PIC": 0.55}), DATASET, N_BITS)
    assert table["method"].tolist() == ["PIC⁰", "PIC⁰ × mean a", "PIC"]
    assert table["MAP@K (SGD)"].tolist() == [0.3, 0.4, 0.5]
    assert table["MAP@K (Adam)"].iloc[[0, 2]].tolist() == [0.35, 0.55] and np.isnan(table["MAP@K (Adam)"].iloc[1])
