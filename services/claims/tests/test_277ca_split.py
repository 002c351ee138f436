"""A 277CA naming one of our claims in several 2200D (a claim the payer split, or reported twice):
one verdict for the claim, so the file's single acknowledgement of it loses no part."""

from __future__ import annotations

import pytest
from claims_direct import acknowledgements, handlers, one, received, submitted_claims
from sqlalchemy.ext.asyncio import AsyncEngine
from test_277ca_accepts import _outbox

from rcm.claims.acknowledgements import read_277ca_file
from rcm.events.models import AckStatus

ISA = "ISA*00*          *00*          *ZZ*SANDBOXCH      *ZZ*PRACTICE01     *250303*1200*^*00501*000000009*0*P*:~"


def _277ca(*claim_segments: list[str]) -> bytes:
    """A 277CA with one patient HL per entry, each holding the given 2200D/2220D segments."""
    segments = [
        "ST*277*0001*005010X214",
        "BHT*0085*08*CA9*20250303*1200*TH",
        "HL*1**20*1",
        "NM1*PR*2*PAYER*****PI*EVRGRN",
        "TRN*1*CA9",
        "DTP*050*D8*20250303",
        "DTP*009*D8*20250303",
        "HL*2*1*21*1",
        "NM1*41*2*SUB*****46*PRACTICE01",
        "TRN*2*B9",
        "STC*A1:19:PR*20250303*WQ*900.00",
        "HL*3*2*19*1",
        "NM1*85*2*GROUP*****XX*1234567893",
        "TRN*1*P9",
    ]
    for i, tracking in enumerate(claim_segments):
        segments += [f"HL*{4 + i}*3*PT", f"NM1*QC*1*SAMPLE*PAT****MI*M{i}", *tracking]
    body = "~".join(segments) + "~"
    return (
        ISA
        + "GS*HN*SANDBOXCH*PRACTICE01*20250303*1200*9*X*005010X214~"
        + body
        + f"SE*{len(segments) + 1}*0001~GE*1*9~IEA*1*000000009~"
    ).encode()


def _line(key: str, status: str) -> list[str]:
    return [
        "SVC*HC:90837*150.00*****1",
        f"STC*{status}*20250303*WQ*150.00",
        f"REF*FJ*{key}",
        "DTP*472*D8*20250301",
    ]


@pytest.mark.unit
def test_two_claim_level_stcs_of_one_2200d_reject_when_either_rejects() -> None:
    (verdict,) = read_277ca_file(
        _277ca(["TRN*2*CLM1", "STC*A1:20*20250303*WQ*150.00", "STC*A7:562:85*20250303*WQ*150.00"])
    ).verdicts
    assert verdict.status is AckStatus.REJECTED
    assert [r.code for r in verdict.reasons] == ["A1:20", "A7:562:85"]


@pytest.mark.unit
@pytest.mark.parametrize("order", ["accepted first", "rejected first"])
def test_a_claim_accepted_in_one_2200d_and_rejected_in_another_naming_no_line_is_rejected(order: str) -> None:
    accepted = ["TRN*2*CLM1", "STC*A2:20*20250303*WQ*100.00", "REF*1K*ICN-1"]
    rejected = ["TRN*2*CLM1", "STC*A7:21:IL*20250303*WQ*50.00", "REF*1K*ICN-2"]
    parts = (accepted, rejected) if order == "accepted first" else (rejected, accepted)
    (verdict,) = read_277ca_file(_277ca(*parts)).verdicts
    assert verdict.status is AckStatus.REJECTED
    assert {r.code for r in verdict.reasons} == {"A2:20", "A7:21:IL"}
    assert verdict.payer_claim_number == ("ICN-1" if order == "accepted first" else "ICN-2")


@pytest.mark.unit
def test_a_rejected_part_naming_its_lines_leaves_the_claim_accepted_with_those_lines_rejected() -> None:
    content = _277ca(
        ["TRN*2*CLM1", "STC*A2:20*20250303*WQ*150.00", "REF*1K*ICN-1", *_line("L1", "A2:20")],
        ["TRN*2*CLM1", "STC*A7:21:IL*20250303*WQ*150.00", "REF*1K*ICN-2", *_line("L2", "A1:20")],
    )
    (verdict,) = read_277ca_file(content).verdicts
    assert verdict.status is AckStatus.ACCEPTED_WITH_ERRORS
    assert verdict.payer_claim_number == "ICN-1"
    lines = {line.line_key: line for line in verdict.lines}
    assert lines["L1"].status is AckStatus.ACCEPTED
    assert lines["L2"].status is AckStatus.REJECTED
    # the rejected part's own reason is carried to its line
    assert [r.code for r in lines["L2"].reasons] == ["A7:21:IL", "A1:20"]


@pytest.mark.unit
def test_a_line_named_twice_is_rejected_when_either_part_rejects_it() -> None:
    content = _277ca(
        ["TRN*2*CLM1", "STC*A2:20*20250303*WQ*150.00", *_line("L1", "A2:20")],
        ["TRN*2*CLM1", "STC*A2:20*20250303*WQ*150.00", *_line("L1", "A7:453")],
    )
    (verdict,) = read_277ca_file(content).verdicts
    assert verdict.status is AckStatus.ACCEPTED_WITH_ERRORS
    (line,) = verdict.lines
    assert line.status is AckStatus.REJECTED


@pytest.mark.unit
def test_other_claims_keep_their_own_verdicts_in_file_order() -> None:
    content = _277ca(
        ["TRN*2*CLM1", "STC*A2:20*20250303*WQ*100.00"],
        ["TRN*2*CLM2", "STC*A3:21*20250303*WQ*90.00"],
        ["TRN*2*CLM1", "STC*A2:20*20250303*WQ*50.00"],
    )
    verdicts = read_277ca_file(content).verdicts
    assert [(v.claim_id, v.status) for v in verdicts] == [
        ("CLM1", AckStatus.ACCEPTED),
        ("CLM2", AckStatus.REJECTED),
    ]


async def test_a_claim_named_in_two_2200d_is_acknowledged_once_with_its_rejected_part(
    engine: AsyncEngine,
) -> None:
    # the denials service keeps one acknowledgement per claim and file: a second event is dropped
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG20000000")
    content = _277ca(
        [f"TRN*2*{made.claim_id}", "STC*A2:20*20250303*WQ*100.00", "REF*1K*ICN-1"],
        [f"TRN*2*{made.claim_id}", "STC*A7:21:IL*20250303*WQ*50.00", "REF*1K*ICN-2"],
    )
    await acknowledgements(engine, h).handle(received("split.277", "277CA", content))
    after = await one(engine, made.claim_id)
    assert after.state == "held"
    assert after.payer_claim_number == "ICN-1"
    kinds = [kind for key, kind in await _outbox(engine) if key == made.patient_id]
    assert kinds.count("rcm.claim-acknowledged.v1") == 1
