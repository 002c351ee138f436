"""A batch costs a few statements per table, not several per event, and applies as events one by one would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcm.authorizations import store
from rcm.authorizations.app import MIGRATIONS
from rcm.authorizations.handlers import Ledger
from rcm.events import Event, decode
from rcm.events.models import AuthorizationConsumed, ClaimCreated
from rcm.events.testing import appointment_scheduled, authorization_received, claim_created
from rcm.servicekit import Delivered, Transaction, upgrade
from rcm.servicekit.messages import Record
from rcm.servicekit.testing import sequential_scans, statements_sent

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
WITH_AUTH = 10  # patients 1..10 hold an authorization; 11..25 none
PATIENTS = 25


@pytest_asyncio.fixture
async def engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_async_engine(fresh_database)
    try:
        yield engine
    finally:
        await engine.dispose()


async def apply(engine: AsyncEngine, ledger: Ledger, events: list[Event]) -> list[Any]:
    """One batch through the consumer's handler, in one transaction; the events it published."""
    handle = ledger.batch_handler()
    batch = [
        Delivered(Record("t", 0, n, None, b"", (("ce_id", uuid.uuid4().hex.encode()),)), event)
        for n, event in enumerate(events)
    ]
    async with engine.begin() as conn:
        tx = Transaction(conn, "authorizations")
        await handle(tx, batch)
        await tx.flush()
    return [decode(m.value, m.headers).event for m in tx.outgoing]


def a_claim(n: int, patient: int) -> ClaimCreated:
    session = f"ses-{n:04d}"
    line = {
        "line_key": f"{session}:1",
        "session_id": session,
        "service_date": date(2025, 2, 1) + timedelta(days=n % 20),
        "procedure_code": "90837",
        "units": 1,
        "place_of_service": "11",
        "charge": "170.00",
        "diagnosis_pointers": [1],
        "rule": "psychotherapy.duration_band",
    }
    return claim_created(
        1,
        claim_id=f"clm-{n:04d}",
        patient_id=f"pat-{patient:04d}",
        coverage_id=f"cov-{patient:04d}",
        payer_id="payer-0001",
        rendering_provider_id="prov-0001",
        lines=[line],
        total_charge=Decimal("170.00"),
    )


async def registered(engine: AsyncEngine, ledger: Ledger) -> None:
    await apply(
        engine,
        ledger,
        [
            authorization_received(
                p,
                patient_id=f"pat-{p:04d}",
                coverage_id=f"cov-{p:04d}",
                payer_id="payer-0001",
                authorized=30,
                valid={"start": date(2025, 1, 1), "end": date(2025, 12, 31)},
            )
            for p in range(1, WITH_AUTH + 1)
        ],
    )


async def test_fifty_claims_cost_a_statement_per_table_and_burn_down_in_order(engine: AsyncEngine) -> None:
    ledger = Ledger(clock=lambda: NOW)
    await registered(engine, ledger)
    claims = [a_claim(n, 1 + n % PATIENTS) for n in range(50)]

    with statements_sent(engine) as statements:
        published = await apply(engine, ledger, claims)

    # one read per table for the batch, one write per table at the end (each claim read 8
    # tables and wrote its lines on its own before: over 400 statements)
    assert len(statements) <= 12, "\n".join(statements)
    consumed = [e for e in published if isinstance(e, AuthorizationConsumed)]
    assert len(consumed) == 2 * WITH_AUTH  # two claims per patient with an authorization
    by_auth: dict[str, list[int]] = {}
    for e in consumed:
        by_auth.setdefault(e.authorization_id, []).append(e.remaining)
    assert set(map(tuple, by_auth.values())) == {(29, 28)}  # the second claim saw the first
    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(store.service_line)) == 50
        assert await conn.scalar(sa.select(sa.func.count()).select_from(store.usage)) == 2 * WITH_AUTH

    with statements_sent(engine) as statements:
        again = await apply(engine, ledger, claims)  # the same claims, re-sent: counted once
    assert not [e for e in again if isinstance(e, AuthorizationConsumed)]
    assert len(statements) <= 10, "\n".join(statements)


async def test_fifty_appointments_cost_a_statement_per_table_and_book_once(engine: AsyncEngine) -> None:
    ledger = Ledger(clock=lambda: NOW)
    await registered(engine, ledger)
    start = datetime(2025, 3, 10, 15, tzinfo=UTC)
    appointments = [
        appointment_scheduled(
            n,
            patient_id=f"pat-{1 + n % PATIENTS:04d}",
            start=start + timedelta(days=n),
            end=start + timedelta(days=n, hours=1),
        )
        for n in range(1, 51)
    ]

    with statements_sent(engine) as statements:
        await apply(engine, ledger, [*appointments, appointments[0]])  # one scheduled twice

    # ledgers, alerts and reservations read once, reservations written once (three per
    # appointment before: 150 statements)
    assert len(statements) <= 6, "\n".join(statements)
    async with engine.connect() as conn:
        booked = await conn.execute(
            sa.select(store.reservation.c.authorization_id, sa.func.count())
            .group_by(store.reservation.c.authorization_id)
            .order_by(store.reservation.c.authorization_id)
        )
        assert {count for _, count in booked} == {2}  # two appointments per patient with one
    ledger_after = await _ledger(engine, "pat-0001")
    assert (ledger_after.reserved, ledger_after.remaining) == (2, 30)


async def _ledger(engine: AsyncEngine, patient_id: str) -> Any:
    async with engine.connect() as conn:
        [auth] = (await store.load_ledger(conn, patient_id=patient_id)).values()
    return auth


async def test_each_batch_read_is_an_index_lookup(engine: AsyncEngine) -> None:
    """No read of the store scans a whole table: each finds its rows through an index, so its
    cost follows the batch, not the rows on file."""
    reads = {n: q for n, q in vars(store).items() if n.isupper() and isinstance(q, sa.Select)}
    del reads["_LEDGER"]  # the base the ledger reads filter per use, never run as it is
    assert len(reads) >= 4
    async with engine.begin() as conn:
        for name, query in reads.items():
            assert await sequential_scans(conn, query) == [], name


async def test_two_batches_on_different_replicas_cannot_both_take_the_last_visit(engine: AsyncEngine) -> None:
    """The batch locks the authorizations it burns (one statement, in id order) before it reads
    their balances: the other waits, then sees what the first used."""
    ledger = Ledger(clock=lambda: NOW)
    await apply(
        engine,
        ledger,
        [
            authorization_received(
                1,
                patient_id="pat-0001",
                coverage_id="cov-0001",
                payer_id="payer-0001",
                authorized=1,
                valid={"start": date(2025, 1, 1), "end": date(2025, 12, 31)},
            )
        ],
    )
    handle = ledger.batch_handler()

    def delivered(event: Event) -> list[Delivered[Any]]:
        return [Delivered(Record("t", 0, 0, None, b"", (("ce_id", uuid.uuid4().hex.encode()),)), event)]

    async def second() -> None:
        async with engine.begin() as conn:
            tx = Transaction(conn, "authorizations")
            await handle(tx, delivered(a_claim(2, 1)))
            await tx.flush()

    async with engine.begin() as conn:
        tx = Transaction(conn, "authorizations")
        await handle(tx, delivered(a_claim(1, 1)))
        await tx.flush()
        other = asyncio.create_task(second())
        await asyncio.sleep(0.5)
        assert not other.done(), "the second batch read the balance the first is using"
    await other
    assert (await _ledger(engine, "pat-0001")).used == 1
