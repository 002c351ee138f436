"""A payer's 277 asking for more before it adjudicates (category R): a person's work item with what
was asked and the payer's deadline, once per 277, closed by the claim's adjudication or its void."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import PAYER, apply, handlers

from rcm.denials import store
from rcm.denials.settings import load_configured_playbook
from rcm.events.testing import (
    claim_acknowledged,
    claim_created,
    claim_voided,
    payer_updated,
    remit_received,
)


def _asked(n: int, file_name: str = "277_000001.x12") -> Any:
    return claim_acknowledged(
        n,
        source="277",
        status="information_requested",
        payer_claim_number=f"PCN{n:08d}",
        file_name=file_name,
        reasons=[
            {"code": "R4:294:QC", "description": "supporting documentation"},
            {"code": "R4:21"},
        ],
    )


async def _items(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (await conn.execute(sa.select(store.work_item).order_by(store.work_item.c.claim_id))).all()
        )


async def test_a_request_for_information_is_queued_once_with_what_was_asked_and_the_deadline(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    asked = _asked(3)
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1, payer_id=PAYER), claim_created(3, payer_id=PAYER)])
    for consumer in ("first", "again"):  # a re-sent copy with its own event id
        async with engine.begin() as conn:
            await apply(conn, h, consumer, [asked])

    (item,) = await _items(engine)
    assert (item.kind, item.claim_id, item.payer_id, item.status) == (
        "information_request",
        asked.claim_id,
        PAYER,
        "open",
    )
    assert item.denial_id is None and item.action == "human_review"
    assert item.reason == "payer requests information before adjudicating (R4:294:QC, R4:21)"
    assert item.evidence["what"] == "R4:294:QC (supporting documentation); R4:21"
    assert item.evidence["payer_claim_number"] == asked.payer_claim_number
    assert item.evidence["source"] == "277 277_000001.x12"
    days = load_configured_playbook().information_request_days_for("commercial")
    assert item.deadline == asked.received_at.date() + timedelta(days=days)
    assert item.amount == sum(ln.charge for ln in claim_created(3).lines)

    # an accepted 277CA or a rejection is not a request for information
    async with engine.begin() as conn:
        await apply(conn, h, "other", [claim_created(4, payer_id=PAYER), claim_acknowledged(4)])
    assert len(await _items(engine)) == 1

    # a second 277 asking again is its own item
    async with engine.begin() as conn:
        await apply(conn, h, "later", [_asked(3, file_name="277_000002.x12")])
    assert [i.status for i in await _items(engine)] == ["open", "open"]


async def test_the_payers_adjudication_closes_the_request_and_a_void_closes_another(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(
            conn,
            h,
            "setup",
            [
                payer_updated(1, payer_id=PAYER),
                claim_created(3, payer_id=PAYER),
                claim_created(5, payer_id=PAYER),
                claim_created(6, payer_id=PAYER),
            ],
        )
    async with engine.begin() as conn:
        await apply(conn, h, "asked", [_asked(3), _asked(5), _asked(6)])
    assert [i.status for i in await _items(engine)] == ["open", "open", "open"]

    async with engine.begin() as conn:  # claim 3 paid, claim 5 voided, claim 6 still pended
        await apply(
            conn,
            h,
            "answers",
            [
                remit_received(3, payer_id=PAYER),
                claim_voided(5, from_status="pending", cause="claim-void-requested"),
            ],
        )
    by_claim = {i.claim_id: i for i in await _items(engine)}
    three, five, six = (by_claim[claim_created(n).claim_id] for n in (3, 5, 6))
    assert (three.status, three.decision) == ("closed", "adjudicated")
    assert (five.status, five.decision) == ("closed", "voided")
    assert (six.status, six.decision) == ("open", None)
    assert three.closed_at is not None
