"""A 277CA applies only to the submission it answers and to a claim still in the payer's hands:
a late answer to an earlier attempt, or any answer to a claim paid, rejected or withdrawn since,
changes nothing and announces nothing. A claim the payer cannot find (A4) or cannot respond on
(E0 to E4) is not in adjudication; a rejected submission's payer claim number is not kept."""

from __future__ import annotations

import pytest
from claims_direct import acknowledgements, force, handlers, in_batch, one, received, submitted_claims
from sqlalchemy.ext.asyncio import AsyncEngine
from test_277ca_accepts import _outbox

from rcm.claims.acknowledgements import read_277ca_file
from rcm.events.models import AckStatus

ACK = "rcm.claim-acknowledged.v1"


def _277ca(batch_ref: str, *claims: tuple[str, str, str | None], control: int = 9) -> bytes:
    """A 277CA answering the 837 batch ``batch_ref`` (2200B TRN02): per claim its id, STC01 and
    REF*1K when given."""
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
        f"TRN*2*{batch_ref}",
        "STC*A1:19:PR*20250303*WQ*900.00",
        "HL*3*2*19*1",
        "NM1*85*2*GROUP*****XX*1234567893",
        "TRN*1*P9",
    ]
    for i, (claim_id, stc, number) in enumerate(claims):
        segments += [f"HL*{4 + i}*3*PT", f"NM1*QC*1*SAMPLE*PAT****MI*M{i}", f"TRN*2*{claim_id}"]
        segments += [f"STC*{stc}*20250303*WQ*180.00"] + ([f"REF*1K*{number}"] if number else [])
    body = "~".join(segments) + "~"
    isa = (
        "ISA*00*          *00*          *ZZ*SANDBOXCH      *ZZ*PRACTICE01     *250303*1200*^*00501*"
        f"{control:09d}*0*P*:~"
    )
    return (
        isa
        + f"GS*HN*SANDBOXCH*PRACTICE01*20250303*1200*{control}*X*005010X214~"
        + body
        + f"SE*{len(segments) + 1}*0001~GE*1*{control}~IEA*1*{control:09d}~"
    ).encode()


async def _acks_of(engine: AsyncEngine, patient_id: str) -> int:
    return [kind for key, kind in await _outbox(engine) if key == patient_id].count(ACK)


async def test_a_late_277ca_for_an_earlier_attempt_leaves_the_resubmitted_claim_alone(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    made, other = await submitted_claims(engine, h, 2, member="EVG30000000")
    # attempt 1 went out in B1 and was rejected; the fixed claim went out again in B2
    await in_batch(engine, "B1", "11", {made.claim_id: "0001", other.claim_id: "0001"})
    await in_batch(engine, "B2", "12", {made.claim_id: "0001"}, attempt=2)
    await force(engine, made.claim_id, attempts=2)
    acks = acknowledgements(engine, h)

    # B1's answer arrives late, accepting and then (sent again as new bytes) rejecting
    await acks.handle(received("late-a.277", "277CA", _277ca("B1", (made.claim_id, "A1:19", "OLD-ICN"))))
    await acks.handle(
        received("late-r.277", "277CA", _277ca("B1", (made.claim_id, "A3:21", None), control=10))
    )
    after = await one(engine, made.claim_id)
    assert after.state == "submitted"
    assert after.payer_claim_number is None
    assert await _acks_of(engine, made.patient_id) == 0

    # the answer to the current attempt applies
    await acks.handle(
        received("b2.277", "277CA", _277ca("B2", (made.claim_id, "A2:20", "NEW-ICN"), control=11))
    )
    after = await one(engine, made.claim_id)
    assert (after.state, after.payer_claim_number) == ("accepted", "NEW-ICN")
    assert await _acks_of(engine, made.patient_id) == 1


async def test_a_277ca_naming_a_batch_we_do_not_know_is_applied_as_it_is(engine: AsyncEngine) -> None:
    # a clearinghouse that puts its own trace number in 2200B TRN02 still acknowledges our claims
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG31000000")
    await in_batch(engine, "B1", "11", {made.claim_id: "0001"})
    await acknowledgements(engine, h).handle(
        received("ch.277", "277CA", _277ca("CH-TRACE-77", (made.claim_id, "A2:20", "ICN-9")))
    )
    assert (await one(engine, made.claim_id)).state == "accepted"


@pytest.mark.unit
@pytest.mark.parametrize("category", ["A4", "D0", "E0", "E1", "E2", "E3", "E4"])
def test_a_claim_not_found_or_not_answerable_is_not_accepted(category: str) -> None:
    (verdict,) = read_277ca_file(_277ca("B1", ("CLM1", f"{category}:35", None))).verdicts
    assert verdict.status is AckStatus.REJECTED
    assert verdict.batch_reference == "B1"


@pytest.mark.unit
@pytest.mark.parametrize("category", ["A0", "A1", "A2", "A5", "P1"])
def test_acknowledged_split_or_pended_claims_stay_in_adjudication(category: str) -> None:
    (verdict,) = read_277ca_file(_277ca("B1", ("CLM1", f"{category}:20", None))).verdicts
    assert verdict.status is AckStatus.ACCEPTED
    # received or forwarded only (A0, A1): not yet in adjudication, the claim stays submitted
    assert verdict.received_only is (category in ("A0", "A1"))


async def test_a_payer_that_cannot_find_the_claim_sends_it_back_to_held(engine: AsyncEngine) -> None:
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG32000000")
    await acknowledgements(engine, h).handle(
        received("a4.277", "277CA", _277ca("B1", (made.claim_id, "A4:35", None)))
    )
    assert (await one(engine, made.claim_id)).state == "held"


async def test_the_number_of_a_rejected_submission_is_announced_but_not_kept(engine: AsyncEngine) -> None:
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG33000000")
    await acknowledgements(engine, h).handle(
        received("rej.277", "277CA", _277ca("B1", (made.claim_id, "A7:562:85", "REJ-ICN")))
    )
    after = await one(engine, made.claim_id)
    assert after.state == "held"
    assert after.payer_claim_number is None
    assert await _acks_of(engine, made.patient_id) == 1


@pytest.mark.parametrize("state", ["paid", "held", "voided"])
async def test_an_answer_for_a_claim_no_longer_in_flight_changes_and_announces_nothing(
    engine: AsyncEngine, state: str
) -> None:
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG34000000")
    await force(engine, made.claim_id, state=state, payer_claim_number="PAID-ICN")
    acks = acknowledgements(engine, h)
    await acks.handle(received("late.277", "277CA", _277ca("B1", (made.claim_id, "A3:21", "X-ICN"))))
    await acks.handle(
        received("late2.277", "277CA", _277ca("B1", (made.claim_id, "A2:20", "Y-ICN"), control=12))
    )
    after = await one(engine, made.claim_id)
    assert (after.state, after.payer_claim_number) == (state, "PAID-ICN")
    assert await _acks_of(engine, made.patient_id) == 0


async def test_a_payer_s_rejection_after_a_clearinghouse_s_acceptance_drops_its_number(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG35000000")
    acks = acknowledgements(engine, h)
    await acks.handle(received("ch.277", "277CA", _277ca("B1", (made.claim_id, "A1:19", "CH-TRACE-1"))))
    assert (await one(engine, made.claim_id)).payer_claim_number == "CH-TRACE-1"
    await acks.handle(
        received("payer.277", "277CA", _277ca("B1", (made.claim_id, "A3:21", None), control=13))
    )
    after = await one(engine, made.claim_id)
    assert (after.state, after.payer_claim_number) == ("held", None)
