"""The next payer is billed again when the prior payer adjudicates the claim again.

A secondary claim goes out with the primary's first adjudication. When the primary pays the
claim again (a corrected claim after a denial, a reprocessed claim, the rest of a split
payment), that remit's lines go to the claims service too, once per remit, so the secondary's
claim can be brought up to date; a re-sent copy of either remit asks for nothing more.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import apply, handlers

from rcm.events import models as m
from rcm.events.testing import claim_created, coverage_updated, payer_updated, remit_received
from rcm.servicekit.db import outbox

PAYER = "payer-0001"


def world() -> list[Any]:
    return [
        payer_updated(1),
        coverage_updated(8, payer_id="payer-0002", coverage_id="cov-0008-b", priority="secondary"),
        claim_created(8, payer_id=PAYER),
    ]


def paid_again(**fields: Any) -> m.RemitReceived:
    """The primary's second remit for the claim: 130.00 paid, 5.00 left to the patient."""
    first = remit_received(8, payer_id=PAYER)
    line = first.lines[0].model_copy(
        update={
            "paid": first.lines[0].paid + 20,
            "adjustments": [
                m.Adjustment(group="CO", carc="45", amount=first.lines[0].adjustments[0].amount),
                m.Adjustment(group="PR", carc="3", amount=first.lines[0].adjustments[1].amount - 20),
            ],
        }
    )
    return first.model_copy(
        update={
            "remit_id": "rmt-again-0008",
            "paid": first.paid + 20,
            "patient_responsibility": first.patient_responsibility - 20,
            "lines": [line],
            **fields,
        }
    )


async def requests(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.value)
            .where(outbox.c.topic == "secondary-claim-requested")
            .order_by(outbox.c.id)
        )
        return [json.loads(r.value) for r in rows]


async def test_a_second_adjudication_asks_again_once_and_a_re_sent_copy_asks_nothing(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "setup", world())
    async with engine.begin() as conn:
        await apply(conn, h, "first", [remit_received(8, payer_id=PAYER)])
    first = await requests(engine)
    assert len(first) == 1
    assert first[0]["prior_paid"] == "110.00"

    async with engine.begin() as conn:
        await apply(conn, h, "again", [paid_again()])
    for consumer in ("re-sent-first", "re-sent-again"):  # 835s delivered twice: event ids of their own
        async with engine.begin() as conn:
            await apply(conn, h, consumer, [remit_received(8, payer_id=PAYER), paid_again()])

    published = await requests(engine)
    assert len(published) == 2
    again = published[1]
    assert again["remit_id"] == "rmt-again-0008"
    assert (again["prior_paid"], again["patient_responsibility"]) == ("130.00", "5.00")
    assert again["request_id"] != first[0]["request_id"]
    assert again["coverage_id"] == "cov-0008-b"


async def test_a_reversal_asks_nothing_of_the_next_payer(engine: AsyncEngine) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "setup", world())
    async with engine.begin() as conn:
        await apply(conn, h, "first", [remit_received(8, payer_id=PAYER)])
    reversal = remit_received(8, payer_id=PAYER, remit_id="rmt-reversal-0008", status="22")
    async with engine.begin() as conn:
        await apply(conn, h, "reversal", [reversal])
    assert len(await requests(engine)) == 1
