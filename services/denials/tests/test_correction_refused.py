"""A correction the claims service refused: the denial that asked for it goes to a person's queue
with the reason, once, instead of waiting for a corrected claim that will not come."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import apply, events, handlers

from rcm.denials import store
from rcm.events.testing import claim_correction_refused
from rcm.servicekit.db import outbox


async def _requested(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        values = await conn.scalars(
            sa.select(outbox.c.value).where(outbox.c.topic == "claim-correction-requested")
        )
        return [json.loads(v) for v in values]


async def _items(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(sa.select(store.work_item))).all())


async def _denial(engine: AsyncEngine, denial_id: str) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(sa.select(store.denial).where(store.denial.c.denial_id == denial_id))
        ).one()


async def test_a_refused_correction_puts_its_denial_in_a_persons_queue_with_the_reason_once(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    async with engine.begin() as conn:  # CO-4 on claim 3: the missing modifier is asked for
        await apply(conn, h, "remits", events())
    (request,) = await _requested(engine)
    denial_id = request["denial_id"]
    assert (await _denial(engine, denial_id)).action == "resubmit_replacement"
    assert await _items(engine) == []  # nothing for a person: the fix is on its way

    refused = claim_correction_refused(
        3,
        request_id=request["request_id"],
        claim_id=request["claim_id"],
        patient_id=request["patient_id"],
        denial_id=denial_id,
        reason="unsupported_change",
        action="add_modifier",
        detail="add_modifier cannot be applied to a stored claim",
    )
    other_claim = claim_correction_refused(9, claim_id="clm-0009", patient_id="pat-0009", denial_id=None)
    for consumer in ("first", "again"):  # delivered twice, as a re-sent copy with its own event id
        async with engine.begin() as conn:
            await apply(conn, h, consumer, [refused, other_claim])

    (item,) = await _items(engine)
    assert (item.denial_id, item.claim_id, item.status) == (denial_id, request["claim_id"], "open")
    assert item.action == "human_review"
    assert item.reason == (
        "correction refused by the claims service (unsupported_change): "
        "add_modifier cannot be applied to a stored claim"
    )
    assert "by hand" in item.next_step
    assert item.evidence["correction_request"] == request["request_id"]
    assert (item.evidence["refusal"], item.evidence["change"]) == ("unsupported_change", "add_modifier")
    denial = await _denial(engine, denial_id)
    assert (denial.status, denial.action, denial.why) == ("open", "human_review", item.reason)
    assert len(await _requested(engine)) == 1  # nothing asked again by itself


async def test_an_unknown_provider_refusal_tells_the_person_to_add_the_provider(engine: AsyncEngine) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "remits", events())
    (request,) = await _requested(engine)
    refused = claim_correction_refused(
        3,
        request_id=request["request_id"],
        claim_id=request["claim_id"],
        patient_id=request["patient_id"],
        denial_id=None,  # found by the request the denial claimed its fix with
    )
    async with engine.begin() as conn:
        await apply(conn, h, "refusals", [refused])

    (item,) = await _items(engine)
    assert item.denial_id == request["denial_id"]
    assert "provider reference data" in item.next_step
    assert item.reason.endswith("provider prov-9003 is not on file")
