"""A Qualified Medicare Beneficiary's cost sharing is never the patient's (N781-N783).

The remittance service keeps it off the patient's balance; the denials service bills the next
payer on file (the state Medicaid program), and when there is none asks a person to find it,
once per remit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_next_payer_again import requests
from test_overlapping_batches import apply, handlers

from rcm.denials import store
from rcm.events import models as m
from rcm.events.testing import claim_created, coverage_updated, payer_updated, remit_received

PAYER = "payer-0001"


async def items(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(sa.select(store.work_item).order_by(store.work_item.c.item_id)))


async def test_no_medicaid_on_file_asks_a_person_once_and_bills_nobody(engine: AsyncEngine) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), claim_created(8, payer_id=PAYER)])
    plain = remit_received(8, payer_id=PAYER, rarcs=["N783"])
    # 5.00 of a non-covered service (PR-204) beside the copay: not cost sharing the QMB status protects
    line = plain.lines[0].model_copy(
        update={
            "adjustments": [
                m.Adjustment(group="CO", carc="45", amount=Decimal("30.00")),
                m.Adjustment(group="PR", carc="3", amount=Decimal("25.00")),
                m.Adjustment(group="PR", carc="204", amount=Decimal("5.00")),
            ]
        }
    )
    remit = plain.model_copy(update={"lines": [line], "patient_responsibility": Decimal("30.00")})
    for consumer in ("first", "re-sent"):
        async with engine.begin() as conn:
            await apply(conn, h, consumer, [remit.model_copy(update={"event_id": f"evt-{consumer}"})])
    (item,) = await items(engine)
    assert (item.kind, item.action, item.status) == ("qmb_cost_sharing", "human_review", "open")
    assert item.amount == Decimal("25.00")  # the copay alone
    assert item.evidence["rarcs"] == "N783" and "never the patient" in item.next_step
    assert await requests(engine) == []


async def test_a_line_remark_is_enough_and_medicaid_on_file_is_billed_instead(engine: AsyncEngine) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(
            conn,
            h,
            "setup",
            [
                payer_updated(1),
                coverage_updated(8, payer_id="payer-0002", coverage_id="cov-0008-b", priority="secondary"),
                claim_created(8, payer_id=PAYER),
            ],
        )
    first = remit_received(8, payer_id=PAYER)
    line = first.lines[0].model_copy(update={"rarcs": ["N782"]})
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [first.model_copy(update={"lines": [line]})])
    assert await items(engine) == []
    (request,) = await requests(engine)
    assert request["payer_id"] == "payer-0002"


async def test_a_remit_without_a_qmb_remark_leaves_the_cost_sharing_with_the_patient(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), claim_created(8, payer_id=PAYER)])
        await apply(conn, h, "remit", [remit_received(8, payer_id=PAYER)])
    assert await items(engine) == []
