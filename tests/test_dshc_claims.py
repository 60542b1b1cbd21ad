"""Every DSHC claim turns: it holds on numbers shaped like the paper's, does not hold when the numbers it
rests on turn, and a lead inside its noise is "within noise", not a win."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from hashkit.claims import DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, WITHIN_NOISE
from hashkit.experiments.dshc import FAIR, KBC
from hashkit.experiments.dshc_claims import dshc_claims
from hashkit.experiments.noise import difference_noise

SINGLE, MULTI = "fashion-mnist", "fashion-mosaic"
QUERIES = 400
# The paper's shape: DSHC ahead of everyone, ITQ and SH far behind; DPSH sensitive to the length.
SINGLE_MAPS = {("DSHC", 10): 0.36, ("DSHC", 20): 0.83, ("DSHC", 30): 0.94, ("DSHC", 60): 0.943,
               (FAIR, 30): 0.93, (FAIR, 60): 0.932, ("DPSH", 30): 0.80, ("DPSH", 60): 0.89, ("DSDH", 30): 0.80,
               ("DSDH", 60): 0.87, ("DTSH", 30): 0.85, ("VDSH", 30): 0.84, ("ITQ", 30): 0.17, ("SH", 30): 0.13,
               (KBC, 10): 0.9}
MULTI_MAPS = {("DSHC", 10): 0.84, ("DPSH", 24): 0.72, ("DSDH", 24): 0.81, ("DTSH", 24): 0.77, ("VDSH", 24): 0.56,
              ("ITQ", 24): 0.47, ("SH", 24): 0.40}


def per_query_ap(mean: float, seed: int) -> np.ndarray:
    """Per-query AP with mean ``mean``: a fixed pattern of ±0.05 around it (small, paired noise)."""
    pattern = np.random.default_rng(seed).choice([-0.05, 0.05], QUERIES)
    return np.clip(mean + pattern - pattern.mean(), 0, 1)


def scenario(single: dict | None = None, multi: dict | None = None) -> dict:
    single_maps, multi_maps = {**SINGLE_MAPS, **(single or {})}, {**MULTI_MAPS, **(multi or {})}
    per_query = {(m, SINGLE, b): [per_query_ap(v, zlib.crc32(f'{m} {b}'.encode()))] for (m, b), v in single_maps.items()}
    per_query |= {(m, MULTI, b): [per_query_ap(v, zlib.crc32(f'{m} {b}'.encode()))] for (m, b), v in multi_maps.items()}
    runs = pd.DataFrame([{"method": m, "dataset": d, "bits": b, "map": float(aps[0].mean())}
                         for (m, d, b), aps in per_query.items()])
    geometry = pd.DataFrame([{"construction": "CPBC", "bits": b, "classes": 10, "sub-classes": (b + 1) * 10,
                              "distinct codes": 56 if b == 10 else (b + 1) * 10,
                              "min inter-class distance": 2 * (b // 10) - 2, "max intra-class distance": 2}
                             for b in (10, 20, 30, 60)]
                            + [{"construction": "KBC (seed 0)", "bits": 10, "classes": 10, "sub-classes": 74,
                                "distinct codes": 74, "min inter-class distance": 2, "max intra-class distance": 2}])
    seconds = pd.DataFrame([{"method": "DSHC", "bits": b, "seconds": 40.0 + b / 60} for b in (10, 20, 30, 60)]
                           + [{"method": FAIR, "bits": 60, "seconds": 17.0}, {"method": "DPSH", "bits": 60, "seconds": 25.0}])
    top_k = pd.DataFrame([{"bits": 60, "K": k, "recall r=0": r} for k, r in ((1, 0.03), (2, 0.02), (3, 0.9))])
    shared = {("DSHC", MULTI, 10): [per_query_ap(0.86, 7)]}
    return {"runs": runs, "per_query": per_query, "single": SINGLE, "multi": MULTI, "table1_bits": 30,
            "table2_bits": 60, "multilabel_bits": 10, "baseline_multilabel_bits": 24, "kbc_bits": 10,
            "seconds": seconds, "recall_r0": {("DSHC", 60): 0.03, ("DPSH", 60): 0.7}, "geometry": geometry,
            "top_k": top_k, "shared_positive_maps": {key: float(v[0].mean()) for key, v in shared.items()},
            "shared_positive_queries": shared, "n_seeds": 1}


def verdicts(arguments: dict) -> dict[str, str]:
    return {claim.claim: claim.verdict for claim in dshc_claims(**arguments)}


def find(table: dict[str, str], start: str) -> str:
    (verdict,) = [verdict for claim, verdict in table.items() if claim.startswith(start)]
    return verdict


def test_every_claim_holds_on_numbers_shaped_like_the_papers():
    table = verdicts(scenario())
    assert set(table.values()) == {HOLDS}, {claim: v for claim, v in table.items() if v != HOLDS}
    assert len(table) == 14


@pytest.mark.parametrize(("change", "claim"), [
    ({"single": {("DTSH", 30): 0.96}}, "DSHC retrieves better than every compared method on the single-label"),
    ({"multi": {("DPSH", 24): 0.9}}, "DSHC retrieves better than every compared method on the multi-label set (DSHC "
                                     "ranked by Hamming"),
    ({"multi": {("DPSH", 24): 0.9}}, "DSHC retrieves better than every compared method on the multi-label set, DSHC "
                                     "ranked by shared"),
    ({"single": {(FAIR, 30): 0.79}}, "(ours) DSHC still retrieves better"),
    ({"single": {("ITQ", 30): 0.75}}, "The unsupervised ITQ and SH"),
    ({"single": {(FAIR, 60): 0.88}}, "At 60 bits DSHC has the highest mAP"),
    ({"single": {(FAIR, 60): 0.95}}, "From 60 to 30 bits DSHC's mAP is stable"),
    ({"single": {("DSHC", 60): 0.90}}, "DSHC's mAP rises with the code length"),
    ({"single": {(KBC, 10): 0.30}}, "At 10 bits KBC beats CPBC"),
])
def test_each_comparison_turns_when_its_numbers_turn(change, claim):
    assert find(verdicts(scenario(**change)), claim) == DOES_NOT_HOLD


def test_kbc_with_more_subclasses_than_cpbc_does_not_hold_even_when_it_wins():
    arguments = scenario()
    geometry = arguments["geometry"]
    geometry.loc[geometry["construction"].str.startswith("KBC"), "sub-classes"] = 150
    assert find(verdicts(arguments), "At 10 bits KBC beats CPBC") == DOES_NOT_HOLD


def test_recall_geometry_encoding_and_timing_turn():
    arguments = scenario()
    arguments["recall_r0"] = {("DSHC", 60): 0.5, ("DPSH", 60): 0.7}
    arguments["geometry"].loc[1, "min inter-class distance"] = 1
    arguments["top_k"] = pd.DataFrame([{"bits": 60, "K": k, "recall r=0": r} for k, r in ((1, 0.5), (3, 0.03))])
    arguments["seconds"] = pd.DataFrame([{"method": "DSHC", "bits": b, "seconds": 10.0 * b} for b in (10, 60)]
                                        + [{"method": FAIR, "bits": 60, "seconds": 30.0},
                                           {"method": "DPSH", "bits": 60, "seconds": 25.0}])
    table = verdicts(arguments)
    for start in ("At 60 bits DSHC's recall within radius 0", "CPBC: codes of a class", "(ours) The paper's recall",
                  "DSHC trains in less time than DPSH", "The code length does not change"):
        assert find(table, start) == DOES_NOT_HOLD, start
    claims = dshc_claims(**arguments)
    assert {claim.claim for claim in claims if claim.timed} == {
        "DSHC trains in less time than DPSH (the last ten epochs)", "The code length does not change DSHC's training time"}


def test_a_lead_inside_its_noise_is_within_noise():
    # DTSH 0.001 behind DSHC: a lead far inside the ±0.05 per-query spread of 400 queries.
    table = verdicts(scenario(single={("DTSH", 30): 0.939}))
    assert find(table, "DSHC retrieves better than every compared method on the single-label").startswith(
        f"{WITHIN_NOISE} at 1 seed")


def test_a_cell_not_run_makes_the_claim_not_testable():
    arguments = scenario()
    del arguments["per_query"][("DTSH", SINGLE, 30)]
    arguments["runs"] = arguments["runs"][arguments["runs"]["method"] != "DTSH"]
    assert find(verdicts(arguments), "DSHC retrieves better than every compared method on the single-label") == \
        NOT_TESTABLE


def test_noise_over_seeds_is_the_spread_of_the_differences_and_with_one_seed_a_resampling():
    first = [np.full(10, 0.8), np.full(10, 0.7)]
    second = [np.full(10, 0.6), np.full(10, 0.6)]
    assert difference_noise(first, second) == pytest.approx(np.std([0.2, 0.1], ddof=1))
    assert difference_noise([np.full(10, 0.8)], [np.full(10, 0.6)]) == pytest.approx(0.0)
    spread = difference_noise([np.r_[np.ones(50), np.zeros(50)]], [np.full(100, 0.5)])
    assert spread == pytest.approx(0.5 / np.sqrt(100), rel=0.15)
    with pytest.raises(ValueError, match="one array per seed"):
        difference_noise([np.ones(3)], [])
