"""A batch of appointments costs a few statements per table, not a dozen per appointment."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcm.eligibility import store
from rcm.eligibility.app import MIGRATIONS
from rcm.eligibility.checker import Checker
from rcm.eligibility.handlers import Eligibility
from rcm.eligibility.settings import EligibilityOptions, PayerPolicy
from rcm.events import Event, decode
from rcm.events.models import EligibilityChecked, EligibilityStatus
from rcm.sandbox.testing import settings_for as transport_for
from rcm.servicekit import Delivered, Transaction, upgrade
from rcm.servicekit.messages import Record
from rcm.servicekit.testing import sequential_scans, statements_sent

from .test_service import DOS, reference, sandbox, visit

PATIENTS = 50


@pytest_asyncio.fixture
async def engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_async_engine(fresh_database)
    try:
        yield engine
    finally:
        await engine.dispose()


async def apply(engine: AsyncEngine, eligibility: Eligibility, events: list[Event]) -> list[Any]:
    """One batch through the consumer's handler, in one transaction; the events it published."""
    batch = [
        Delivered(Record("t", 0, n, None, b"", (("ce_id", uuid.uuid4().hex.encode()),)), event)
        for n, event in enumerate(events)
    ]
    async with engine.begin() as conn:
        tx = Transaction(conn, "eligibility")
        await eligibility.handle(tx, batch)
        await tx.flush()
    return [decode(m.value, m.headers).event for m in tx.outgoing]


async def test_fifty_appointments_cost_a_statement_per_table(engine: AsyncEngine, tmp_path: Path) -> None:
    async with sandbox(tmp_path) as (sb, answered):
        checker = Checker(transport_for(sb))
        options = EligibilityOptions(payers={"EVRGRN": PayerPolicy(max_concurrent=8, max_per_second=1000)})
        eligibility = Eligibility(checker, options)
        try:
            references = [e for n in range(1, PATIENTS + 1) for e in reference(n, "active")]
            await apply(engine, eligibility, references)
            appointments = [visit(n, DOS) for n in range(1, PATIENTS + 1)]

            with statements_sent(engine) as statements:
                published = await apply(engine, eligibility, appointments)

            # appointments, coverages, visits, reference data, cache, last summaries, checks,
            # outbox: one each (a dozen per appointment before: over 600)
            assert len(statements) <= 10, "\n".join(statements)
            checked = [e for e in published if isinstance(e, EligibilityChecked)]
            assert sorted(e.patient_id for e in checked) == [f"pat-{n:04d}" for n in range(1, PATIENTS + 1)]
            assert {e.status for e in checked} == {EligibilityStatus.ACTIVE}
            assert len(answered) == PATIENTS

            with statements_sent(engine) as statements:
                again = await apply(engine, eligibility, appointments)  # the same visits: answered already
            assert not again and len(answered) == PATIENTS
            assert len(statements) <= 6, "\n".join(statements)
        finally:
            await checker.aclose()

    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(store.checks)) == PATIENTS
        assert await conn.scalar(sa.select(sa.func.count()).select_from(store.appointments)) == PATIENTS


async def test_each_batch_read_is_an_index_lookup(engine: AsyncEngine) -> None:
    """No read of the store scans a whole table: each finds its rows through an index, so its
    cost follows the batch, not the rows on file."""
    reads = {n: q for n, q in vars(store).items() if n.isupper() and isinstance(q, sa.Select)}
    assert len(reads) >= 4
    async with engine.begin() as conn:
        for name, query in reads.items():
            assert await sequential_scans(conn, query) == [], name
