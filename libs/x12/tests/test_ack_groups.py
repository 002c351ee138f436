"""A 999 per functional group: group findings and counts stay with their own group."""

from __future__ import annotations

from datetime import datetime

import pytest

from rcm.x12 import acknowledge, read

from .conftest import DATA

pytestmark = pytest.mark.unit

NOW = datetime(2024, 1, 2, 3, 4)
ONE = (DATA / "835" / "azoner-pyx12__835_mult_loops.txt").read_text()
CONTROL = "000238388"


def ak9s(ack: str) -> list[str]:
    return [line for line in ack.splitlines() if line.startswith("AK9")]


def second(number: str) -> str:
    """The same interchange under another ISA13/IEA02 (its GS06 stays the same)."""
    return ONE.replace(f"*{CONTROL}*", f"*{number}*").replace(f"IEA*1*{CONTROL}", f"IEA*1*{number}")


def test_the_sample_has_one_clean_group() -> None:
    assert ak9s(acknowledge(ONE, now=NOW)) == ["AK9*A*1*1*1~"]
    assert ONE.count("GE*1*") == 1


def test_a_group_error_does_not_reject_the_same_numbered_group_of_the_next_interchange() -> None:
    bad = ONE.replace("GE*1*", "GE*2*")
    text = bad + second("000238389")
    assert len(read(text).interchanges) == 2
    assert ak9s(acknowledge(text, now=NOW)) == ["AK9*R*2*1*1*5~", "AK9*A*1*1*1~"]


def test_ak902_repeats_ge01_and_ak903_counts_the_sets_received() -> None:
    ack = acknowledge(ONE.replace("GE*1*", "GE*3*"), now=NOW)
    assert ak9s(ack) == ["AK9*R*3*1*1*5~"]
    assert read(ack).valid


def test_a_group_without_ge_counts_what_was_received() -> None:
    text = ONE[: ONE.index("GE*1*")] + f"IEA*1*{CONTROL}~"
    assert ak9s(acknowledge(text, now=NOW)) == ["AK9*R*1*1*1*3~"]


def test_groups_of_a_rejected_interchange_get_no_999_even_when_empty() -> None:
    gs = ONE[ONE.index("GS*") : ONE.index("~", ONE.index("GS*")) + 1]
    control = gs.split("*")[6]
    rejected = ONE[: ONE.index("GS*")] + gs + f"GE*0*{control}~"  # no IEA: the TA1 rejects it
    ack = acknowledge(rejected + second("000238389"), now=NOW)
    assert "TA1*000238388*" in ack and "*R*023~" in ack
    assert ack.count("AK1*") == 1
