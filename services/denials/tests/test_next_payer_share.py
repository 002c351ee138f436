"""A next payer's claim denied for its coverage: the person who works it is told that the prior
payer's patient share, moved off the patient when this payer was billed, may be the patient's again."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import apply, handlers
from test_qmb import items

from rcm.events.testing import claim_created, payer_updated
from rcm.servicekit.db import outbox

PAYER = "payer-0001"


async def test_a_next_payers_claim_the_recheck_finds_not_covered_names_the_moved_patient_share(
    engine: AsyncEngine,
) -> None:
    """A next payer denies its claim for coverage (CO-27); the re-check finds the coverage inactive:
    the person is told that the prior payer's share, moved off the patient when this payer was
    billed, is the patient's again if the patient indeed has no such coverage."""
    from test_service import denied_remit

    from rcm.events.testing import eligibility_checked

    h = handlers()
    for n, priority in ((8, "secondary"), (9, "primary")):
        async with engine.begin() as conn:
            await apply(
                conn,
                h,
                f"setup-{n}",
                [payer_updated(1), claim_created(n, payer_id=PAYER, payer_responsibility=priority)],
            )
        async with engine.begin() as conn:
            await apply(conn, h, f"remit-{n}", [denied_remit(n, "CO", "27")])
    async with engine.connect() as conn:
        values = await conn.scalars(
            sa.select(outbox.c.value).where(outbox.c.topic.like("%eligibility-recheck-requested"))
        )
        asked = {json.loads(v)["claim_id"]: json.loads(v) for v in values}
    for n in (8, 9):
        request = asked[f"clm-{n:04d}"]
        answer = eligibility_checked(
            n,
            check_id=f"chk-{n}",
            coverage_id=request["coverage_id"],
            service_date=request["service_date"],
            status="inactive",
            trigger="recheck",
            request_id=request["request_id"],
        )
        async with engine.begin() as conn:
            await apply(conn, h, f"answer-{n}", [answer])
    reasons = {item.claim_id: item.reason for item in await items(engine)}
    assert "rcm remits to-patient" in reasons["clm-0008"]
    assert "to-patient" not in reasons["clm-0009"]
