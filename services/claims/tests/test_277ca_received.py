"""A 277CA that only acknowledges a claim's receipt is no acceptance (005010X214; Claim Status
Category Codes): A0 (forwarded to another entity) and A1 (received) leave the claim submitted,
with the receipt and any REF*1K on its trail, waiting for the payer's verdict; A2 (accepted into
adjudication) and A5 (split) accept it. A later A2 or rejection still applies, and an aged claim
with only a receipt is still asked about with a 276."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import sqlalchemy as sa
from claims_direct import AckService, force, handlers, one, received, submitted_claims, trail
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from test_277ca_accepts import _outbox
from test_277ca_late_and_stale import _277ca
from test_277ca_split import _277ca as _tracked
from test_277ca_split import _line
from test_status_inquiry_277 import _Core, x277

from rcm.claims.acknowledgements import Acknowledgements, read_277ca_file
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.status_inquiry import StatusInquiry
from rcm.claims.store import claim_audit
from rcm.events.models import AckStatus
from rcm.servicekit import Service

ACK = "rcm.claim-acknowledged.v1"


@pytest.mark.unit
@pytest.mark.parametrize("category", ["A0", "A1"])
def test_a_claim_only_received_or_forwarded_is_not_accepted(category: str) -> None:
    (verdict,) = read_277ca_file(_277ca("B1", ("CLM1", f"{category}:20", "ICN-R"))).verdicts
    assert verdict.received_only
    assert verdict.payer_claim_number == "ICN-R"  # announced on the trail, kept while submitted
    assert verdict.adjudicated_number is None  # not a number of a claim in adjudication


@pytest.mark.unit
@pytest.mark.parametrize("category", ["A2", "A5"])
def test_a_claim_accepted_into_adjudication_or_split_is_accepted(category: str) -> None:
    (verdict,) = read_277ca_file(_277ca("B1", ("CLM1", f"{category}:20", "ICN-A"))).verdicts
    assert not verdict.received_only
    assert (verdict.status, verdict.adjudicated_number) == (AckStatus.ACCEPTED, "ICN-A")


@pytest.mark.unit
def test_a_receipt_beside_an_acceptance_in_the_same_stc_is_an_acceptance() -> None:
    # STC01 receipt, STC10 accepted into adjudication: the claim is in adjudication
    content = _tracked(["TRN*2*CLM1", "STC*A1:20*20250303*WQ*180.00******A2:20"])
    (verdict,) = read_277ca_file(content).verdicts
    assert not verdict.received_only and verdict.status is AckStatus.ACCEPTED


@pytest.mark.unit
def test_a_receipt_with_a_rejected_line_is_applied_as_the_line_rejection() -> None:
    # a rejected service line is a verdict that needs work now: accepted with errors, as before
    content = _tracked(["TRN*2*CLM1", "STC*A1:20*20250303*WQ*180.00", *_line("L1", "A7:454")])
    (verdict,) = read_277ca_file(content).verdicts
    assert verdict.status is AckStatus.ACCEPTED_WITH_ERRORS and not verdict.received_only


@pytest.mark.unit
def test_a_split_claim_received_in_one_part_and_accepted_in_the_other_is_accepted() -> None:
    content = _tracked(
        ["TRN*2*CLM1", "STC*A1:20*20250303*WQ*90.00", "REF*1K*ICN-1"],
        ["TRN*2*CLM1", "STC*A2:20*20250303*WQ*90.00", "REF*1K*ICN-2"],
    )
    (verdict,) = read_277ca_file(content).verdicts
    assert not verdict.received_only and verdict.adjudicated_number == "ICN-2"


async def _acks_of(engine: AsyncEngine, patient_id: str) -> int:
    return [kind for key, kind in await _outbox(engine) if key == patient_id].count(ACK)


async def _reasons(engine: AsyncEngine, claim_id: str) -> list[str]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    sa.select(claim_audit.c.reason)
                    .where(claim_audit.c.claim_id == claim_id)
                    .order_by(claim_audit.c.id)
                )
            ).scalars()
        )


async def test_a_receipt_leaves_the_claim_submitted_on_its_trail_and_a_later_a2_accepts_it(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG36000000")
    metrics = ClaimsMetrics(CollectorRegistry())
    acks = Acknowledgements(cast(Service, AckService(engine)), metrics, after=h.after_acknowledgement)

    await acks.handle(received("a1.277", "277CA", _277ca("B1", (made.claim_id, "A1:20", "RCV-ICN"))))
    after = await one(engine, made.claim_id)
    assert (after.state, after.payer_claim_number) == ("submitted", "RCV-ICN")
    assert (await trail(engine, made.claim_id))[-1] == ("submitted", "submitted")
    assert "277CA received, not yet accepted into adjudication (A1:20)" in await _reasons(
        engine, made.claim_id
    )
    assert await _acks_of(engine, made.patient_id) == 0  # no acceptance announced
    assert metrics.acknowledged.labels(source="277CA", result="received")._value.get() == 1
    assert metrics.acknowledged.labels(source="277CA", result="accepted")._value.get() == 0

    await acks.handle(
        received("a2.277", "277CA", _277ca("B1", (made.claim_id, "A2:20", "PAYER-ICN"), control=10))
    )
    after = await one(engine, made.claim_id)
    assert (after.state, after.payer_claim_number) == ("accepted", "PAYER-ICN")
    assert (await trail(engine, made.claim_id))[-1] == ("submitted", "accepted")
    assert await _acks_of(engine, made.patient_id) == 1
    assert metrics.acknowledged.labels(source="277CA", result="accepted")._value.get() == 1


async def test_a_rejection_after_a_receipt_holds_the_claim(engine: AsyncEngine) -> None:
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG37000000")
    acks = Acknowledgements(
        cast(Service, AckService(engine)), ClaimsMetrics(CollectorRegistry()), after=h.after_acknowledgement
    )
    await acks.handle(received("a0.277", "277CA", _277ca("B1", (made.claim_id, "A0:16", None))))
    assert (await one(engine, made.claim_id)).state == "submitted"
    await acks.handle(received("a3.277", "277CA", _277ca("B1", (made.claim_id, "A3:21", None), control=11)))
    assert (await one(engine, made.claim_id)).state == "held"
    assert await _acks_of(engine, made.patient_id) == 1  # the rejection only


async def test_a_late_receipt_after_the_acceptance_moves_nothing(engine: AsyncEngine) -> None:
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG38000000")
    await force(engine, made.claim_id, state="accepted", payer_claim_number="PAYER-ICN")
    acks = Acknowledgements(
        cast(Service, AckService(engine)), ClaimsMetrics(CollectorRegistry()), after=h.after_acknowledgement
    )
    await acks.handle(received("late.277", "277CA", _277ca("B1", (made.claim_id, "A1:20", "CH-ICN"))))
    after = await one(engine, made.claim_id)
    assert (after.state, after.payer_claim_number) == ("accepted", "PAYER-ICN")
    assert await _acks_of(engine, made.patient_id) == 0


async def test_an_aged_claim_with_only_a_receipt_is_asked_about_with_its_number(engine: AsyncEngine) -> None:
    # the wait for the payer's verdict runs from the submission: a receipt neither stops nor
    # restarts it, and the 276 quotes the number the receipt gave (2200D REF*1K)
    h = handlers()
    (made,) = await submitted_claims(engine, h, 1, member="EVG39000000")
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    await force(engine, made.claim_id, submitted_at=now - timedelta(days=40))
    acks = Acknowledgements(
        cast(Service, AckService(engine)), ClaimsMetrics(CollectorRegistry()), after=h.after_acknowledgement
    )
    await acks.handle(received("a1.277", "277CA", _277ca("B1", (made.claim_id, "A1:20", "RCV-ICN"))))
    key = made.draft["claim_key"]
    core = _Core(x277(f"TRN*2*{key}", "STC*P1:20*20250301", "REF*1K*RCV-ICN"))
    inquiry = StatusInquiry(
        cast(Service, AckService(engine)), submitter_id="S", receiver_id="R", after=timedelta(days=30)
    )
    assert await inquiry.run_once(core, now=now) == 1  # type: ignore[arg-type]
    assert "REF*1K*RCV-ICN~" in core.asked[0]
    assert (await one(engine, made.claim_id)).state == "pended"
