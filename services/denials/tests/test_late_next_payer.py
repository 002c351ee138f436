"""A secondary coverage the practice learns of after the primary paid is billed the patient share.

Patients often mention a second plan only after the first one adjudicated. A remit whose patient
share found no next payer on file waits (``next_payer_wait``); a secondary (or tertiary) coverage
in force on the claim's date of service that arrives later is billed it, as if it had been on
file when the remit came. A reversal takes the waiting share back; a QMB's Medicaid coverage
arriving closes the work item that asked a person to find it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_next_payer_again import requests
from test_overlapping_batches import apply, handlers
from test_qmb import items

from rcm.denials import store
from rcm.denials.analytics import expire_waits_task
from rcm.events import models as m
from rcm.events.testing import claim_created, coverage_updated, payer_updated, remit_received
from rcm.servicekit.db import outbox

PAYER = "payer-0001"


def secondary(**fields: Any) -> Any:
    return coverage_updated(
        8, payer_id="payer-0002", coverage_id="cov-0008-b", priority="secondary", **fields
    )


async def waiting(engine: AsyncEngine) -> list[str]:
    """The remits whose patient share waits for a next payer (not reversed since)."""
    w = store.next_payer_wait.c
    async with engine.connect() as conn:
        return list(
            await conn.scalars(sa.select(w.remit_id).where(w.reversed_by.is_(None)).order_by(w.remit_id))
        )


async def paid_with_no_secondary_on_file(engine: AsyncEngine, **remit: Any) -> Any:
    h = handlers()
    async with engine.begin() as conn:
        await apply(conn, h, "setup", [payer_updated(1), claim_created(8, payer_id=PAYER)])
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [remit_received(8, payer_id=PAYER, **remit)])
    return h


async def test_a_secondary_added_after_the_primary_paid_is_billed_the_patient_share_once(
    engine: AsyncEngine,
) -> None:
    h = await paid_with_no_secondary_on_file(engine)
    assert await requests(engine) == []
    assert await waiting(engine) == ["rmt-0008"]

    for consumer in ("coverage", "coverage-re-sent"):
        async with engine.begin() as conn:
            await apply(conn, h, consumer, [secondary()])

    (request,) = await requests(engine)
    assert (request["claim_id"], request["coverage_id"], request["payer_id"]) == (
        "clm-0008",
        "cov-0008-b",
        "payer-0002",
    )
    assert (request["prior_paid"], request["patient_responsibility"]) == ("110.00", "25.00")
    assert request["remit_id"] == "rmt-0008"
    assert await waiting(engine) == []
    # nobody checked the new coverage on the date of service: the eligibility service is asked, once
    async with engine.connect() as conn:
        values = await conn.scalars(
            sa.select(outbox.c.value).where(outbox.c.topic == "eligibility-recheck-requested")
        )
        (check,) = [json.loads(v) for v in values]
    assert (check["coverage_id"], check["reason"], check["claim_id"]) == (
        "cov-0008-b",
        "coverage_added",
        "clm-0008",
    )
    assert check["service_date"] == remit_received(8).lines[0].service_date.isoformat()


async def test_a_secondary_not_in_force_on_the_date_of_service_is_not_billed(engine: AsyncEngine) -> None:
    h = await paid_with_no_secondary_on_file(engine)
    async with engine.begin() as conn:
        await apply(conn, h, "coverage", [secondary(effective={"start": date(2026, 1, 1)})])
    assert await requests(engine) == []
    assert await waiting(engine) == ["rmt-0008"]  # the plan's dates may yet be corrected


async def test_a_primary_coverage_added_later_is_not_a_next_payer(engine: AsyncEngine) -> None:
    h = await paid_with_no_secondary_on_file(engine)
    other = coverage_updated(8, payer_id="payer-0002", coverage_id="cov-0008-b", priority="primary")
    async with engine.begin() as conn:
        await apply(conn, h, "coverage", [other])
    assert await requests(engine) == []
    assert await waiting(engine) == ["rmt-0008"]


async def test_a_reversed_remit_leaves_nothing_waiting(engine: AsyncEngine) -> None:
    h = await paid_with_no_secondary_on_file(engine)
    reversal = remit_received(8, payer_id=PAYER, remit_id="rmt-reversal-0008", status="22")
    async with engine.begin() as conn:
        await apply(conn, h, "reversal", [reversal])
    assert await waiting(engine) == []
    async with engine.begin() as conn:
        await apply(conn, h, "coverage", [secondary()])
    assert await requests(engine) == []


async def test_a_qmbs_medicaid_coverage_arriving_is_billed_and_closes_the_work_item(
    engine: AsyncEngine,
) -> None:
    h = await paid_with_no_secondary_on_file(engine, rarcs=["N781"])
    (item,) = await items(engine)
    assert (item.kind, item.status) == ("qmb_cost_sharing", "open")

    medicaid = secondary()
    async with engine.begin() as conn:
        await apply(conn, h, "coverage", [medicaid])

    (request,) = await requests(engine)
    assert request["coverage_id"] == "cov-0008-b"
    (item,) = await items(engine)
    assert item.status == "closed" and "Medicaid coverage came" in item.decision


async def test_shares_waiting_longer_than_the_setting_are_dropped(engine: AsyncEngine) -> None:
    await paid_with_no_secondary_on_file(engine)
    async with engine.begin() as conn:  # the handlers' clock is fixed in the past: waiting from now
        await conn.execute(sa.update(store.next_payer_wait).values(waiting_since=datetime.now(UTC)))
        await conn.execute(
            sa.insert(store.next_payer_wait).values(
                remit_id="rmt-old",
                claim_id="clm-old",
                patient_id="pat-old",
                remit={},
                waiting_since=datetime.now(UTC) - timedelta(days=400),
            )
        )
    stopping = asyncio.Event()
    task = asyncio.create_task(expire_waits_task(days=365)(SimpleNamespace(engine=engine), stopping))  # type: ignore[arg-type]
    for _ in range(100):
        if await waiting(engine) == ["rmt-0008"]:
            break
        await asyncio.sleep(0.05)
    stopping.set()
    await task
    assert await waiting(engine) == ["rmt-0008"]


async def test_a_remit_and_its_reversal_or_a_later_coverage_in_one_batch_see_each_other(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    async with engine.begin() as conn:
        await apply(
            conn,
            h,
            "setup",
            [payer_updated(1), claim_created(8, payer_id=PAYER), claim_created(9, payer_id=PAYER)],
        )
    reversal = remit_received(8, payer_id=PAYER, remit_id="rmt-reversal-0008", status="22")
    other = coverage_updated(9, payer_id="payer-0002", coverage_id="cov-0009-b", priority="secondary")
    async with engine.begin() as conn:
        batch = [remit_received(8, payer_id=PAYER), reversal, remit_received(9, payer_id=PAYER), other]
        await apply(conn, h, "one-batch", batch)
    assert await waiting(engine) == []
    (request,) = await requests(engine)
    assert (request["claim_id"], request["coverage_id"]) == ("clm-0009", "cov-0009-b")


async def test_a_reversal_takes_back_only_the_remit_it_reverses(engine: AsyncEngine) -> None:
    """The correction (80.00 paid) comes before the reversal of the first payment (110.00) in the
    835, as 5010 allows: the correction's share keeps waiting, and the same reversal delivered again
    takes nothing more."""
    h = await paid_with_no_secondary_on_file(engine)
    first = remit_received(8, payer_id=PAYER)
    line = first.lines[0].model_copy(
        update={
            "paid": Decimal("80.00"),
            "adjustments": [
                m.Adjustment(group="CO", carc="45", amount=Decimal("65.00")),
                m.Adjustment(group="PR", carc="3", amount=Decimal("25.00")),
            ],
        }
    )
    correction = first.model_copy(
        update={"remit_id": "rmt-correction-0008", "paid": Decimal("80.00"), "lines": [line]}
    )
    reversal = remit_received(8, payer_id=PAYER, remit_id="rmt-reversal-0008", status="22")
    async with engine.begin() as conn:
        await apply(conn, h, "reprocessed", [correction, reversal])
    assert await waiting(engine) == ["rmt-correction-0008"]
    async with engine.begin() as conn:
        await apply(conn, h, "reversal-again", [reversal])
    assert await waiting(engine) == ["rmt-correction-0008"]

    async with engine.begin() as conn:
        await apply(conn, h, "coverage", [secondary()])
    (request,) = await requests(engine)
    assert (request["remit_id"], request["prior_paid"]) == ("rmt-correction-0008", "80.00")
