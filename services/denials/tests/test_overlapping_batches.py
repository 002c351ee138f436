"""Two consumers applying the same facts at once, against PostgreSQL.

A consumer-group rebalance can hand a partition over while the old owner's batch is still open,
and a re-sent claim, acknowledgment file or 835 arrives with an event id of its own, which the
inbox does not recognise. Both transactions then read "not on file" and queue the same rows; the
second one's insert waits for the first to commit and must then find the rows there, not fail
the whole batch with a unique violation (and go round the retry loop).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcm.denials import store
from rcm.denials.handlers import DenialHandlers
from rcm.denials.metrics import DenialsMetrics
from rcm.denials.settings import load_configured_playbook
from rcm.events.catalog import spec_for
from rcm.events.testing import (
    claim_acknowledged,
    claim_created,
    fee_schedule_updated,
    payer_updated,
    remit_received,
)
from rcm.servicekit import Delivered, Record, Transaction
from rcm.servicekit.db import outbox

PAYER = "payer-0001"


def handlers() -> DenialHandlers:
    return DenialHandlers(
        load_configured_playbook(),
        now=lambda: datetime(2025, 6, 1, tzinfo=UTC),
        metrics=DenialsMetrics(CollectorRegistry()),
    )


def batch(consumer: str, events: list[Any]) -> list[Delivered[Any]]:
    """The events as one consumer received them: event ids of its own (re-sent copies)."""
    delivered = []
    for i, event in enumerate(events):
        spec = spec_for(event)
        key = str(getattr(event, spec.key)).encode()
        headers = (("ce_id", f"{consumer}-{i}".encode()),)
        delivered.append(Delivered(Record(spec.name, 0, i, key, b"{}", headers), event))
    return delivered


async def apply(conn: AsyncConnection, h: DenialHandlers, consumer: str, events: list[Any]) -> Transaction:
    """The batch written as the runtime writes it, left uncommitted."""
    tx = Transaction(conn, consumer, source="denials")
    await h.batch_handler()(tx, batch(consumer, events))
    await tx.flush()
    return tx


async def waiting_for_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


def events() -> list[Any]:
    line = {**claim_created(3).lines[0].model_dump(mode="json"), "modifiers": []}
    cas = [{"group": "CO", "carc": "4", "amount": "170.00"}]
    denied_line = {
        "line_key": line["line_key"],
        "procedure_code": line["procedure_code"],
        "modifiers": [],
        "service_date": line["service_date"],
        "charge": "170.00",
        "paid": "0.00",
        "adjustments": cas,
    }
    return [
        fee_schedule_updated(1, payer_id=PAYER),  # first: its rates are not serialised behind the payer's
        payer_updated(1),
        claim_created(3, payer_id=PAYER, lines=[line]),
        claim_acknowledged(3),
        remit_received(
            3,
            payer_id=PAYER,
            status="4",
            paid="0.00",
            patient_responsibility="0.00",
            lines=[denied_line],
        ),
    ]


async def test_a_batch_overlapping_an_open_one_finds_its_rows_instead_of_failing(
    engine: AsyncEngine,
) -> None:
    h_first, h_second = handlers(), handlers()
    async with engine.connect() as first_conn, engine.connect() as second_conn:
        await first_conn.begin()
        await apply(first_conn, h_first, "first", events())

        await second_conn.begin()
        second = asyncio.create_task(apply(second_conn, h_second, "second", events()))
        for _ in range(200):  # the second batch's insert waits for the first batch's rows
            if await waiting_for_a_lock(engine) or second.done():
                break
            await asyncio.sleep(0.02)
        assert not second.done(), "the second batch should wait for the first one's rows"

        await first_conn.commit()
        await asyncio.wait_for(second, timeout=20)  # no unique violation
        await second_conn.commit()

    async with engine.connect() as conn:

        async def rows(table: sa.Table) -> int:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

        assert await rows(store.claim) == 1
        assert await rows(store.acknowledgment) == 1
        assert await rows(store.adjudication) == 1
        assert await rows(store.contract_rate) == len(fee_schedule_updated(1, payer_id=PAYER).rates)
        assert await rows(store.denial) == 1
        assert await rows(store.fix_attempt) == 1
        corrections = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(outbox.c.topic == "claim-correction-requested")
        )
    assert corrections == 1  # the replacement is requested once, by the first batch


async def test_a_re_sent_batch_after_the_commit_changes_nothing(engine: AsyncEngine) -> None:
    h = handlers()
    for consumer in ("first", "second"):
        async with engine.begin() as conn:
            await apply(conn, h, consumer, events())
    async with engine.connect() as conn:
        for table in (store.claim, store.acknowledgment, store.adjudication, store.denial):
            count = await conn.scalar(sa.select(sa.func.count()).select_from(table))
            assert count == 1, table.name
