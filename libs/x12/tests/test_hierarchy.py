"""HL structure: HL01 numbering, HL02 parents, HL03 levels under their parent, HL04 child codes."""

from __future__ import annotations

import pytest

from rcm.x12 import FindingKind, read
from rcm.x12.findings import ElementError
from rcm.x12.hierarchy import parent_levels
from rcm.x12.schema import load_guide

from .conftest import DATA

pytestmark = pytest.mark.unit

P837 = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_text()


def hl_errors(text: str) -> set[tuple[str, int, int, str]]:
    """(IK403 code, set position, element, loop) of every HL element finding."""
    result = read(text)
    return {
        (f.code, f.set_position, f.element, f.loop_id)
        for f in result.findings
        if f.kind is FindingKind.ELEMENT and f.segment_id == "HL"
    }


def test_the_clean_837_has_a_consistent_hierarchy() -> None:
    assert hl_errors(P837) == set()


def test_parent_levels_come_from_the_guide_loops() -> None:
    assert parent_levels(load_guide("005010X222A1")) == {
        "20": frozenset({""}),
        "22": frozenset({"20"}),
        "23": frozenset({"22"}),
    }
    assert parent_levels(load_guide("005010X217:278"))["EV"] == frozenset({"22", "23"})
    assert parent_levels(load_guide("005010X221A1")) == {}


def test_hl01_out_of_sequence_is_reported_once() -> None:
    text = P837.replace("HL*2*1*22*1", "HL*5*1*22*1").replace("HL*3*2*23*0", "HL*6*5*23*0")
    assert hl_errors(text) == {(ElementError.PATTERN_MISMATCH, 15, 1, "2000B")}


def test_a_second_billing_provider_restarting_at_1_is_out_of_sequence() -> None:
    body = P837.split("HL*1**20*1", 1)[1].split("SE*", 1)[0]
    text = P837.replace("SE*40*0021", "HL*1**20*1" + body + "SE*74*0021")
    assert (ElementError.PATTERN_MISMATCH, 40, 1, "2000A") in hl_errors(text)


def test_hl02_must_name_an_enclosing_earlier_level() -> None:
    text = P837.replace("HL*3*2*23*0", "HL*3*7*23*0")
    assert (ElementError.PATTERN_MISMATCH, 19, 2, "2000C") in hl_errors(text)


def test_hl02_missing_on_a_child_level_and_present_on_a_top_level() -> None:
    missing = hl_errors(P837.replace("HL*2*1*22*1", "HL*2**22*1"))
    assert (ElementError.REQUIRED_MISSING, 15, 2, "2000B") in missing
    present = hl_errors(P837.replace("HL*1**20*1", "HL*1*1*20*1"))
    assert (ElementError.NOT_USED_PRESENT, 6, 2, "2000A") in present


def test_hl03_level_must_be_allowed_under_its_parent() -> None:
    # a patient level (23) directly under the billing provider (20)
    text = P837.replace("HL*3*2*23*0", "HL*3*1*23*0")
    assert (ElementError.INVALID_CODE, 19, 3, "2000C") in hl_errors(text)


def test_hl03_level_unknown_to_the_guide() -> None:
    text = P837.replace("HL*3*2*23*0", "HL*3*2*99*0")
    assert any(code == ElementError.INVALID_CODE and element == 3 for code, _, element, _ in hl_errors(text))


def test_hl04_says_no_children_but_a_child_follows() -> None:
    text = P837.replace("HL*2*1*22*1", "HL*2*1*22*0")
    assert hl_errors(text) == {(ElementError.PATTERN_MISMATCH, 15, 4, "2000B")}


def test_hl04_says_children_follow_but_none_do() -> None:
    # the patient level becomes a second subscriber: subscriber 2 (HL04=1) has no child
    text = P837.replace("HL*3*2*23*0", "HL*3*1*22*0")
    assert (ElementError.PATTERN_MISMATCH, 15, 4, "2000B") in hl_errors(text)
    assert all(element != 3 for _, _, element, _ in hl_errors(text))


def test_hierarchy_findings_are_the_same_when_streaming() -> None:
    from rcm.x12 import read_claims

    text = P837.replace("HL*2*1*22*1", "HL*2*1*22*0")
    stream = read_claims(text)
    assert len(list(stream)) == 1
    found = {(f.code, f.set_position, f.element) for f in stream.findings if f.segment_id == "HL"}
    assert found == {(ElementError.PATTERN_MISMATCH, 15, 4)}
