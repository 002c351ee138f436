"""Lenient reading: what cannot be read is left out and listed, the rest is read; strict
reading (the default, and every money-bearing transaction) is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm.x12.convert import read_interchanges, read_interchanges_leniently
from rcm.x12.errors import X12Error
from rcm.x12.models.eligibility import EligibilityResponse271

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
BASE = (DATA / "271" / "Kartik-Hirijaganer-X12-Parser-Encoder__271_multiple_eb_segments.x12").read_text()


def _benefits(text: str) -> list[object]:
    interchange = read_interchanges_leniently(text)[0][0][0]
    [response] = [t for g in interchange.groups for t in g.transactions]
    assert isinstance(response, EligibilityResponse271)
    found: list[object] = []
    for source in response.sources:
        stack = [source]
        while stack:
            level = stack.pop()
            for party in level.parties:
                found += party.benefits
            stack += level.levels
    return found


def test_the_sample_reads_the_same_either_way() -> None:
    strict = read_interchanges(BASE)
    lenient, unread = read_interchanges_leniently(BASE)
    assert unread == [] and lenient[0][0] == strict[0][0]


def test_a_malformed_benefit_is_left_out_with_its_loop_and_listed() -> None:
    first_eb = next(line for line in BASE.replace("\n", "").split("~") if line.startswith("EB*"))
    broken = first_eb.split("*")
    broken += [""] * (8 - len(broken))
    broken[7] = "12.3X"  # EB07 amount
    text = BASE.replace(first_eb + "~", "*".join(broken) + "~", 1)
    with pytest.raises(X12Error, match="EB07"):
        read_interchanges(text)
    _, unread = read_interchanges_leniently(text)
    assert [(u.loop, u.segment) for u in unread] == [("2110C", "EB"), ("2110C", None)]
    assert "EB07" in unread[0].error
    assert len(_benefits(text)) == len(_benefits(BASE)) - 1
    # the block ends with the call: reading after it is strict again
    with pytest.raises(X12Error):
        read_interchanges(text)


def test_a_strict_read_says_which_segment_holds_the_bad_value() -> None:
    lines = BASE.replace("\n", "").split("~")
    place = next(i for i, line in enumerate(lines) if line.startswith("EB*")) + 1  # from 1, ISA first
    text = BASE.replace(lines[place - 1] + "~", "EB*B**30***27*1O.00~", 1)
    with pytest.raises(
        X12Error, match=rf"^segment {place} \(EB, loop 2110C\): EB07: '1O.00' is not a decimal"
    ):
        read_interchanges(text)
    _, unread = read_interchanges_leniently(text)
    assert [(u.segment, u.position) for u in unread] == [("EB", place), (None, place)]
