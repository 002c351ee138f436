"""A request to bill the next payer whose coverage is not on file yet waits for it: coverage-updated
travels on another topic and may come after the request. The handlers are called directly."""

from __future__ import annotations

import sqlalchemy as sa
from claims_direct import apply, force, handlers, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine
from test_secondary_adjudicated_again import primary_remit, secondary_coverage

from rcm.claims.store import claim, pending_secondary_request
from rcm.events import testing as f


async def _pending(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list(await conn.scalars(sa.select(pending_secondary_request.c.request_id)))


async def test_the_request_waits_for_its_coverage_and_bills_the_next_payer_once_it_arrives(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await apply(engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), session(1))
    (primary,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, primary.claim_id, state="accepted", payer_claim_number="ICN0001")
    remit = primary_remit(primary, remit_id="rmt-first", paid="110.00", patient_share="25.00")
    await apply(engine, h, remit)  # no next coverage on file: no next payer's claim
    assert await rows(engine, claim.c.payer_order == 2) == []

    line = remit.lines[0]
    request = f.secondary_claim_requested(
        1,
        claim_id=primary.claim_id,
        patient_id=primary.patient_id,
        coverage_id="cov-0001-b",
        payer_id="payer-0009",
        prior_payer_id=primary.payer_id,
        prior_payer_claim_number="ICN0001",
        remit_id=remit.remit_id,
        lines=[
            {
                "line_key": line.line_key,
                "procedure_code": line.procedure_code,
                "modifiers": line.modifiers,
                "units": 1,
                "paid": line.paid,
                "adjustments": [a.model_dump(mode="json") for a in line.adjustments],
                "adjudicated_on": remit.payment_date,
            }
        ],
    )
    await apply(engine, h, request)
    await apply(engine, h, request)  # delivered again: still one waiting request
    assert await _pending(engine) == [request.request_id]
    assert await rows(engine, claim.c.payer_order == 2) == []

    await apply(engine, h, *secondary_coverage())  # the coverage arrives
    (secondary,) = await rows(engine, claim.c.payer_order == 2)
    assert (secondary.coverage_id, secondary.payer_id) == ("cov-0001-b", "payer-0009")
    assert await _pending(engine) == []
