"""hashkit.claims: verdicts come from conditions, and a claim cannot carry a verdict that is not one."""

import pytest

from hashkit.claims import DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, Claim, checked, claims_table, verdict


def test_a_verdict_follows_its_condition():
    assert [verdict(True), verdict(False), verdict(None)] == [HOLDS, DOES_NOT_HOLD, NOT_TESTABLE]
    assert checked("c", "§1", "numbers", 0.3 > 0.2).verdict == HOLDS


def test_a_claim_with_an_unknown_verdict_is_an_error():
    with pytest.raises(ValueError, match="verdict"):
        Claim("c", "§1", "numbers", "probably")


def test_the_claims_table_has_one_row_per_claim():
    table = claims_table([checked("a", "§1", "x", True), checked("b", "§2", "y", None)])
    assert list(table.columns) == ["claim", "source", "evidence", "verdict"]
    assert table["verdict"].tolist() == [HOLDS, NOT_TESTABLE]


def test_timed_claims_are_marked_and_the_table_keeps_its_four_columns():
    timed = checked("faster", "§2", "3 s vs 4 s", True, timed=True)
    assert timed.timed and not checked("a", "§1", "x", True).timed
    assert list(claims_table([timed]).columns) == ["claim", "source", "evidence", "verdict"]
