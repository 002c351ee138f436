"""A running authorizations service on the real broker and database, one per test; or, for
rules that need no broker, the consumer's batch handler on a fresh database (``ledger_db``)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcm.authorizations import store
from rcm.authorizations.app import MIGRATIONS, TOPICS, build_service
from rcm.authorizations.domain import Authorization
from rcm.authorizations.handlers import Ledger
from rcm.authorizations.settings import AuthorizationOptions
from rcm.events import Event, decode, encode
from rcm.servicekit import Delivered, Service, Transaction, upgrade
from rcm.servicekit.kafka import ensure_topics
from rcm.servicekit.messages import Record
from rcm.servicekit.testing import read_topic, settings_for, wait_for

OUTPUTS = ["authorization-consumed", "authorization-released", "authorization-alert"]


@dataclass
class RunningLedger:
    service: Service
    bootstrap: str
    prefix: str

    def topic(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    async def send(self, *events: Event, event_id: str | None = None) -> None:
        """Publish events as a clinical system or the claims service would (CloudEvents headers)."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for event in events:
                record = encode(event, source="/rcm/test", prefix=self.prefix, event_id=event_id)
                await producer.send_and_wait(
                    record.topic, value=record.value, key=record.key, headers=list(record.headers)
                )
        finally:
            await producer.stop()

    async def received(self, name: str, *, expect: int, timeout: float = 15) -> list[Any]:
        """Bodies published on an output topic (waits for ``expect``, then a short moment for extras)."""
        records = await read_topic(self.bootstrap, self.topic(name), expect=expect, timeout=timeout)
        return [decode(r.value, r.headers).event for r in records]

    async def scalar(self, query: sa.Executable) -> Any:
        async with self.service.engine.connect() as conn:
            return await conn.scalar(query)

    async def rows(self, query: sa.Executable) -> list[Any]:
        async with self.service.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def until(self, query: sa.Executable, expected: Any = True, timeout: float = 15) -> None:
        """Wait until the query answers ``expected`` (e.g. an event was applied)."""

        async def check() -> bool:
            return bool(await self.scalar(query) == expected)

        await wait_for(check, timeout=timeout)


@pytest_asyncio.fixture
async def ledger_service(kafka_bootstrap: str, fresh_database: str) -> AsyncIterator[RunningLedger]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    settings = settings_for(
        kafka_bootstrap, fresh_database, topic_prefix=prefix, service_name="authorizations"
    )
    await upgrade(fresh_database, MIGRATIONS)
    names = [settings.topic(t) for t in [*TOPICS, *OUTPUTS]]
    await ensure_topics(settings, {name: {"partitions": 1} for name in names})
    service = build_service(settings, options=AuthorizationOptions(low_remaining=2, low_used_fraction=0.9))
    task = asyncio.create_task(service.run(install_signal_handlers=False))

    async def ready() -> bool:
        return all(c.ready.is_set() for c in service.consumers)

    await wait_for(ready, timeout=20)
    try:
        yield RunningLedger(service, kafka_bootstrap, prefix)
    finally:
        service.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=15)
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            mine = [t for t in await admin.list_topics() if t.startswith(f"{prefix}.")]
            with contextlib.suppress(Exception):
                await admin.delete_topics(mine)
        finally:
            await admin.close()


@dataclass
class LedgerDb:
    """The consumer's batch handler on a fresh database: each ``apply`` is one batch (one
    transaction), as the consumer would run it, with a fixed clock."""

    engine: AsyncEngine
    ledger: Ledger

    async def apply(self, *events: Event) -> list[Any]:
        """Apply ``events`` as one batch (each under a new event id); the events it published."""
        batch = [
            Delivered(Record("t", 0, n, None, b"", (("ce_id", uuid.uuid4().hex.encode()),)), event)
            for n, event in enumerate(events)
        ]
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "authorizations")
            await self.ledger.batch_handler()(tx, batch)
            await tx.flush()
        return [decode(m.value, m.headers).event for m in tx.outgoing]

    async def apply_each(self, *events: Event) -> list[Any]:
        """Apply ``events`` one batch each; everything they published."""
        published: list[Any] = []
        for event in events:
            published += await self.apply(event)
        return published

    async def timer(self, *, today: datetime) -> list[Any]:
        """What the daily timer does (drop stale bookings, raise expiry alerts) on ``today``."""
        timed = Ledger(
            policy=self.ledger.policy,
            booking_grace_days=self.ledger.booking_grace_days,
            clock=lambda: today,
        )
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "authorizations")
            await timed.expire_bookings(tx)
            await timed.check_expiry(tx)
            await tx.flush()
        return [decode(m.value, m.headers).event for m in tx.outgoing]

    async def authorization(self, authorization_id: str) -> Authorization:
        async with self.engine.connect() as conn:
            found = await store.load_ledger(conn, authorization_ids=[authorization_id])
        return found[authorization_id]

    async def rows(self, query: sa.Executable) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())


LEDGER_NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
"""The clock of ``ledger_db``'s handlers."""


@pytest_asyncio.fixture
async def ledger_db(fresh_database: str) -> AsyncIterator[LedgerDb]:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_async_engine(fresh_database)
    try:
        yield LedgerDb(engine, Ledger(clock=lambda: LEDGER_NOW))
    finally:
        await engine.dispose()
