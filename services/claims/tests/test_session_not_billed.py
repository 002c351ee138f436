"""A session that yields no claim is said so on session-not-billed, with the reason a biller acts on,
once per revision of the session; handlers are called directly."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from claims_direct import apply, handlers, rows
from claims_world import corrected, reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.domain.coding import NotBillableReason
from rcm.claims.store import claim
from rcm.events.models import NotBilledReason
from rcm.servicekit.db import outbox


async def _not_billed(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        values = await conn.scalars(
            sa.select(outbox.c.value).where(outbox.c.topic == "t.session-not-billed").order_by(outbox.c.id)
        )
        return [json.loads(v) for v in values]


def test_every_reason_coding_gives_is_one_the_event_carries() -> None:
    assert {r.value for r in NotBillableReason} == {r.value for r in NotBilledReason}


async def test_a_session_too_short_to_bill_is_reported_once_and_makes_no_claim(engine: AsyncEngine) -> None:
    h = handlers()
    short = session(1, minutes=10)
    await apply(engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), short)
    await apply(engine, h, short)  # delivered again
    (event,) = await _not_billed(engine)
    assert (event["session_id"], event["reason"]) == (short.session_id, "under_minimum_time")
    assert event["rendering_provider_id"] == short.rendering_provider_id
    assert "EVG" not in event["message"]  # no member data in what dashboards read
    assert await rows(engine, claim.c.session_id == short.session_id) == []


async def test_a_correction_that_leaves_nothing_to_bill_is_reported_for_that_revision(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    first = session(1, minutes=53)
    await apply(engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), first)
    assert await _not_billed(engine) == []
    too_short = corrected(1, first, 10)
    await apply(engine, h, too_short)
    (event,) = await _not_billed(engine)
    assert (event["session_id"], event["reason"]) == (first.session_id, "under_minimum_time")
