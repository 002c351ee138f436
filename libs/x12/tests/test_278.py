"""278 (005010X217): the guide's loops are recognised in every sample, and misplacements are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm.x12 import Loop, read, read_claims
from rcm.x12.findings import ElementError, SegmentError

from .conftest import DATA

pytestmark = pytest.mark.unit

SAMPLES = sorted((DATA / "278").iterdir())
REQUEST = (DATA / "278" / "kputnam-stupidedi__X217_pass_admission-request-for-review.edi").read_text()


def loop_paths(loop: Loop, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for child in loop.loops:
        path = f"{prefix}/{child.id}"
        out |= {path} | loop_paths(child, path)
    return out


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_278_sample_reads_into_the_guide_levels(path: Path) -> None:
    tx = read(path.read_bytes()).transactions[0]
    paths = loop_paths(tx.root)
    assert {"/2000A", "/2000A/2010A", "/2000A/2000B", "/2000A/2000B/2010B", "/2000A/2000B/2000C"} <= paths
    assert any(p.endswith("/2000E") for p in paths)
    assert not [f for f in tx.findings if f.kind.value in ("IK3", "IK4")]


def test_the_admission_request_has_event_service_and_provider_loops() -> None:
    paths = loop_paths(read(REQUEST).transactions[0].root)
    event = "/2000A/2000B/2000C/2000E"
    assert {event, f"{event}/2010EA", f"{event}/2000F", f"{event}/2000F/2010F"} <= paths


def test_a_service_line_at_the_event_level_is_misplaced() -> None:
    text = REQUEST.replace("CL1*", "SV2*0120**100*UN*1~CL1*", 1)
    found = {(f.code, f.segment_id) for f in read(text).errors}
    assert any(
        seg == "SV2" and code in (SegmentError.UNEXPECTED, SegmentError.OUT_OF_SEQUENCE)
        for code, seg in found
    )


def test_the_event_review_category_is_a_guide_code() -> None:
    text = REQUEST.replace("UM*AR*", "UM*ZZ*", 1)
    assert (ElementError.INVALID_CODE, "UM", 1) in {
        (f.code, f.segment_id, f.element) for f in read(text).errors
    }


@pytest.mark.parametrize("hl", ["HL*5*4*SS*0~", "HL*4*3*EV*1~"], ids=["service", "event"])
def test_every_level_carries_its_hierarchical_child_code(hl: str) -> None:
    """X217: HL04 is required at every level (1 when a child level follows, 0 when none)."""
    text = REQUEST.replace(hl, hl.rsplit("*", 1)[0] + "~", 1)
    assert (ElementError.REQUIRED_MISSING, "HL", 4) in {
        (f.code, f.segment_id, f.element) for f in read(text).errors
    }


def test_a_service_level_may_name_its_procedure_without_units() -> None:
    """X217 2000F SV1: SV102-SV104 are situational (a quantity may be the event's HSD); SV103 and
    SV104 still go together (P0304)."""
    reservation = DATA / "278" / "kputnam-stupidedi__X217_pass_request-for-medical-services-reservation.edi"
    text = reservation.read_text()
    assert "SV1*HC:99212**UN*1~" in text
    assert not read(text.replace("SV1*HC:99212**UN*1~", "SV1*HC:99212~")).errors
    unpaired = read(text.replace("SV1*HC:99212**UN*1~", "SV1*HC:99212***1~")).errors
    assert (ElementError.CONDITIONAL_MISSING, "SV1", 3) in {
        (f.code, f.segment_id, f.element) for f in unpaired
    }


def test_events_stream_one_at_a_time_with_the_subscriber_context() -> None:
    items = list(read_claims(REQUEST))
    assert [i.loop.id for i in items] == ["2000E"]
    subscriber = items[0].ancestor("2000C")
    assert subscriber is not None and subscriber.children("2010C")[0].first("NM1", "IL") is not None


def test_a_transport_event_lists_up_to_five_locations() -> None:
    # 2010EC (patient event transport information) repeats up to 5 times: pickup,
    # drop-off, next, next scheduled and final destinations
    places = "".join(
        f"NM1*{code}*2*PLACE {n}~N3*{n} SAMPLE ROAD~N4*SAMPLETOWN*CA*90000~"
        for n, code in enumerate(("PW", "45", "ND", "R3", "FS"), 1)
    )
    text = REQUEST.replace("HL*5*4*SS*0~", places + "HL*5*4*SS*0~", 1)
    tx = read(text).transactions[0]
    assert not [f for f in tx.findings if f.loop_id == "2010EC" or f.segment_id == "NM1"]
    event = "/2000A/2000B/2000C/2000E"
    assert f"{event}/2010EC" in loop_paths(tx.root)
