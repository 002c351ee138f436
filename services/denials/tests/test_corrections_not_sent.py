"""Corrections that are not sent: an authorization the payer cancelled (278 HCR01 C) covers no
service on or after the date it was cancelled, and a line is not corrected while the claim itself
is denied for what a person must work."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import apply, handlers
from test_service import PAYER, denied_remit

from rcm.denials import store
from rcm.events.testing import authorization_received, claim_created, payer_updated, remit_received
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


def _video_claim_denied(n: int, *, claim_level: list[dict[str, str]]) -> list[Any]:
    """A video visit's claim billed without 95, and the payer's denial of its line for the modifier
    (CO-4), with ``claim_level`` adjustments beside."""
    from test_service import line

    bare = {**claim_created(n).lines[0].model_dump(mode="json"), "modifiers": []}
    denied = remit_received(
        n,
        payer_id=PAYER,
        status="4",
        paid="0.00",
        patient_responsibility="0.00",
        claim_adjustments=claim_level,
        lines=[
            line(n, paid="0.00", adjustments=[{"group": "CO", "carc": "4", "amount": "100.00"}], modifiers=[])
        ],
    )
    return [claim_created(n, payer_id=PAYER, lines=[bare]), denied]


async def test_a_line_is_not_corrected_while_the_claim_itself_is_denied_as_a_duplicate(
    engine: AsyncEngine,
) -> None:
    """CO-18 on the claim (a duplicate, never resubmitted) beside CO-4 on its video line: the 95 the
    line lacks would go out on a replacement the payer denies again as a duplicate."""
    h = handlers()
    claim, remit = _video_claim_denied(7, claim_level=[{"group": "CO", "carc": "18", "amount": "70.00"}])
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), claim])
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [remit])
    assert await corrections(engine) == []
    assert sorted(await actions(engine)) == ["human_review", "human_review"]

    # the line's denial alone is corrected with the modifier, as before
    claim, remit = _video_claim_denied(8, claim_level=[])
    async with engine.begin() as conn:
        await apply(conn, h, "setup-8", [claim])
    async with engine.begin() as conn:
        await apply(conn, h, "remit-8", [remit])
    (correction,) = await corrections(engine)
    assert correction["claim_id"] == "clm-0008" and correction["changes"][0]["value"] == "95"
