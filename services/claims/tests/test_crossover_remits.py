"""A supplemental payer's remit on a claim the primary forwarded to it (crossover): the remittance
service posts its CLP02 2 against our primary claim. The handlers are called directly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from claims_direct import apply, force, handlers, one, rows, trail
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.store import claim
from rcm.events import testing as f


def supplemental() -> list[Any]:
    return [
        f.payer_updated(9, payer_id="payer-0009", electronic_payer_id="SUPPL1"),
        f.coverage_updated(
            1,
            coverage_id="cov-0001-b",
            payer_id="payer-0009",
            member_id="SLV300000001",
            priority="secondary",
            effective={"start": "2024-01-01"},
        ),
    ]


def primary_forwarded(claim_id: str) -> Any:
    return f.remit_received(1, claim_id=claim_id, status="19", rarcs=["MA18"], payer_claim_number="ICN0001")


def supplementals(claim_id: str, *, patient_share: str) -> Any:
    """The supplemental pays the forwarded 25.00 but the patient's 5.00 (its own copay)."""
    return f.remit_received(
        1,
        remit_id="rmt-suppl",
        claim_id=claim_id,
        status="2",
        charge=Decimal("170.00"),
        paid=Decimal("20.00"),
        patient_responsibility=Decimal(patient_share),
        claim_adjustments=[{"group": "PR", "carc": "3", "amount": patient_share}],
        lines=[],
        payer_claim_number="SUPP0001",
    )


async def _claimed(engine: AsyncEngine) -> Any:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        *supplemental(),
        session(1),
    )
    (primary,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, primary.claim_id, state="accepted", payer_claim_number="ICN0001")
    return h, primary


async def test_the_supplementals_remit_after_the_primarys_leaves_the_primarys_outcome_and_builds_no_claim(
    engine: AsyncEngine,
) -> None:
    h, primary = await _claimed(engine)
    await apply(engine, h, primary_forwarded(primary.claim_id))
    paid = await one(engine, primary.claim_id)
    assert (paid.state, paid.remit_paid, paid.crossed_over) == ("paid", Decimal("110.00"), True)

    await apply(engine, h, supplementals(primary.claim_id, patient_share="5.00"))
    after = await one(engine, primary.claim_id)
    assert (after.state, after.remit_paid, after.remit_patient_responsibility, after.crossed_over) == (
        "paid",
        Decimal("110.00"),
        Decimal("25.00"),
        True,
    )
    assert after.remitted_at > paid.remitted_at and after.payer_claim_number == "ICN0001"
    assert await rows(engine, claim.c.payer_order == 2) == []  # the supplemental already paid


async def test_the_supplementals_remit_before_the_primarys_moves_nothing_and_the_primarys_still_counts(
    engine: AsyncEngine,
) -> None:
    h, primary = await _claimed(engine)
    await apply(engine, h, supplementals(primary.claim_id, patient_share="5.00"))
    waiting = await one(engine, primary.claim_id)
    assert (waiting.state, waiting.remit_paid, waiting.payer_claim_number) == ("accepted", None, "ICN0001")
    assert waiting.remitted_at is not None
    assert await rows(engine, claim.c.payer_order == 2) == []

    await apply(engine, h, primary_forwarded(primary.claim_id))
    paid = await one(engine, primary.claim_id)
    assert (paid.state, paid.remit_paid, paid.crossed_over) == ("paid", Decimal("110.00"), True)
    assert (await trail(engine, primary.claim_id))[-1] == ("accepted", "paid")
    assert await rows(engine, claim.c.payer_order == 2) == []
