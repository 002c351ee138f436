"""An authorization the payer cancelled (278 HCR01 C) covers no service on or after the date it was
cancelled: a denial for a missing authorization is never corrected with its number."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import apply, handlers
from test_service import PAYER, denied_remit

from rcm.denials import store
from rcm.events.testing import authorization_received, claim_created, payer_updated
from rcm.servicekit.db import outbox


async def corrections(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        values = await conn.scalars(
            sa.select(outbox.c.value).where(outbox.c.topic.like("%claim-correction-requested"))
        )
        return [json.loads(v) for v in values]


async def actions(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list(await conn.scalars(sa.select(store.denial.c.action)))


async def test_a_cancelled_authorization_does_not_correct_a_co197_denial(engine: AsyncEngine) -> None:
    h = handlers()
    # the service on 9 March 2025; the payer cancelled the authorization on 5 March
    cancelled = authorization_received(7, payer_id=PAYER, cancelled_on=date(2025, 3, 5))
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), claim_created(7, payer_id=PAYER), cancelled])
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [denied_remit(7, "CO", "197")])
    assert await corrections(engine) == []
    assert await actions(engine) == ["fix_auth"]


async def test_a_cancellation_after_the_service_date_still_corrects_it(engine: AsyncEngine) -> None:
    h = handlers()
    later = authorization_received(7, payer_id=PAYER, cancelled_on=date(2025, 3, 20))
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), claim_created(7, payer_id=PAYER), later])
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [denied_remit(7, "CO", "197")])
    (correction,) = await corrections(engine)
    assert correction["changes"][0]["value"] == later.auth_number


async def test_a_cancellation_arriving_for_a_waiting_denial_sends_nothing(engine: AsyncEngine) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), claim_created(7, payer_id=PAYER)])
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [denied_remit(7, "CO", "197")])
    assert await actions(engine) == ["fix_auth"]
    # the authorization arrives, as cancelled before the service: the denial keeps waiting for a person
    cancelled = authorization_received(7, payer_id=PAYER, cancelled_on=date(2025, 3, 1))
    async with engine.begin() as conn:
        await apply(conn, h, "cancelled", [cancelled])
    assert await corrections(engine) == []
    assert await actions(engine) == ["fix_auth"]
