"""hashkit.claims: verdicts come from combinators over this run's numbers, each printing its margin;
a missing number makes a claim not testable, and a claim cannot carry a verdict that is not one."""

import math

import pytest

from hashkit.claims import (
    DOES_NOT_HOLD,
    HOLDS,
    NOT_TESTABLE,
    Claim,
    above,
    all_of,
    at_least,
    at_most,
    checked,
    claims_table,
    not_below,
    not_testable,
    ratio_at_least,
    verdict,
    within,
)

NAN = math.nan


def test_a_verdict_follows_its_condition():
    assert [verdict(True), verdict(False), verdict(None)] == [HOLDS, DOES_NOT_HOLD, NOT_TESTABLE]


def test_a_claim_with_an_unknown_verdict_is_an_error():
    with pytest.raises(ValueError, match="verdict"):
        Claim("c", "§1", "numbers", "probably")


@pytest.mark.parametrize(("evidence", "expected"), [
    (above([("a", 0.9, 0.8)], margin=0.05), True),
    (above([("a", 0.84, 0.8)], margin=0.05), False),  # a win by less than the margin is no win
    (above([("a", 0.9, 0.8), ("b", 0.7, 0.8), ("c", 0.9, 0.8)], margin=0.0, share=0.51), True),
    (above([("a", 0.9, 0.8), ("b", 0.7, 0.8)], margin=0.0, share=0.51), False),  # half is not most
    (above([("a", 0.9, NAN)], margin=0.0), None),
    (above([], margin=0.0), None),
    (not_below([("a", 0.796, 0.8)], tolerance=0.005), True),
    (not_below([("a", 0.79, 0.8)], tolerance=0.005), False),
    (not_below([("a", NAN, 0.8)], tolerance=0.005), None),
    (at_least([("a", 0.9), ("b", 0.85)], threshold=0.85), True),
    (at_least([("a", 0.9), ("b", 0.84)], threshold=0.85), False),
    (at_most([("a", 1.1)], threshold=1.2), True),
    (at_most([("a", 1.3)], threshold=1.2), False),
    (at_most([("a", math.inf)], threshold=1.2), None),
    (ratio_at_least([("a", 10.0, 4.0)], ratio=2.0), True),
    (ratio_at_least([("a", 10.0, 6.0)], ratio=2.0), False),
    (within([("a", 0.9), ("b", 0.91)], spread=0.02), True),
    (within([("a", 0.9), ("b", 0.95)], spread=0.02), False),
    (within([("a", 0.9)], spread=0.02), None),  # one value says nothing about stability
    (all_of(at_least([("a", 1.0)], threshold=0.5), at_most([("b", 1.0)], threshold=2.0)), True),
    (all_of(at_least([("a", 1.0)], threshold=0.5), at_most([("b", 3.0)], threshold=2.0)), False),
    (all_of(at_least([("a", 1.0)], threshold=0.5), not_testable("no sweep")), None),
])
def test_each_combinator_decides_by_its_margin_and_is_not_testable_without_its_numbers(evidence, expected):
    assert evidence.condition is expected or evidence.condition == expected


def test_the_evidence_names_the_margin_and_the_missing_cells():
    assert "by more than 0.05 in 1 of 1 cells (needed: 1): a: 0.900 vs 0.800" in above(
        [("a", 0.9, 0.8)], margin=0.05, left="x", right="y").text
    assert above([("fashion-mnist 12", 0.9, NAN)], margin=0.0).text == "not measured in this run: fashion-mnist 12"


def test_the_claims_table_has_one_row_per_claim_and_timed_claims_are_marked():
    held = checked("a", "§1", above([("a", 0.9, 0.8)], margin=0.0))
    timed = checked("faster", "§2", ratio_at_least([("a", 4.0, 3.0)], ratio=1.05), timed=True)
    untested = checked("b", "§2", not_testable("no dataset"))
    table = claims_table([held, timed, untested])
    assert list(table.columns) == ["claim", "source", "evidence", "verdict"]
    assert table["verdict"].tolist() == [HOLDS, HOLDS, NOT_TESTABLE]
    assert timed.timed and not held.timed
