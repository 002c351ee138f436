"""A tertiary payer's claim carries every payer's adjudication before it: made from the
secondary's remit, it names the secondary's and the primary's (the 837P's 2320 for each)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from claims_direct import apply, force, rows
from sqlalchemy.ext.asyncio import AsyncEngine
from test_secondary_adjudicated_again import _secondary_made

from rcm.claims.store import claim
from rcm.events import testing as f


def _secondary_remit(secondary: Any) -> Any:
    """The secondary pays 20.00 of the primary's 25.00 patient share; 5.00 stays the patient's."""
    line = secondary.draft["lines"][0]
    return f.remit_received(
        1,
        remit_id="rmt-second",
        claim_id=secondary.claim_id,
        payer_id="payer-0009",
        payer_claim_number="ICN0002",
        charge=Decimal("170.00"),
        paid=Decimal("20.00"),
        patient_responsibility=Decimal("5.00"),
        lines=[
            {
                "line_key": line["line_key"],
                "procedure_code": line["code"],
                "modifiers": line["modifiers"],
                "service_date": line["date_of_service"],
                "charge": "170.00",
                "paid": "20.00",
                "units_paid": 1,
                "adjustments": [
                    {"group": "OA", "carc": "23", "amount": "145.00"},
                    {"group": "PR", "carc": "2", "amount": "5.00"},
                ],
            }
        ],
    )


async def test_the_tertiary_claim_carries_the_primary_and_the_secondary_adjudication(
    engine: AsyncEngine,
) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await apply(
        engine,
        h,
        f.payer_updated(8, payer_id="payer-0008", electronic_payer_id="THIRD1"),
        f.coverage_updated(
            1,
            coverage_id="cov-0001-c",
            payer_id="payer-0008",
            member_id="TER300000001",
            priority="tertiary",
            effective={"start": "2024-01-01"},
        ),
    )
    await force(engine, secondary.claim_id, state="accepted", payer_claim_number="ICN0002")
    await apply(engine, h, _secondary_remit(secondary))
    (tertiary,) = await rows(engine, claim.c.payer_order == 3)
    assert tertiary.cob["payer_id"] == "payer-0009" and tertiary.cob["paid"] == "20.00"
    (earlier,) = tertiary.cob["earlier"]
    assert (earlier["payer_id"], earlier["paid"], earlier["payer_claim_number"]) == (
        primary.payer_id,
        "110.00",
        "ICN0001",
    )
    assert earlier["earlier"] == []
