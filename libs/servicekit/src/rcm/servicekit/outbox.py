"""The transactional outbox and its relay.

A handler's outgoing events are rows in ``kit_outbox``, written in the same
transaction as its state change and inbox rows. The relay publishes pending rows
in id order with an idempotent producer, pipelining the sends of a batch and
awaiting them together, then marks the rows sent. One relay per service is
active at a time (a PostgreSQL advisory lock), which keeps records of one key in
order. A crash between publishing and marking republishes those rows; their
event ids are unchanged, so consumers' inboxes absorb the duplicates.

The relay reports how many rows wait and how old the oldest is every few seconds,
also while its passes fail: a broker outage shows as a growing outbox age.

The relaying replica also keeps the two tables from growing without end: published outbox rows
kept go after ``retention_hours``, inbox rows after ``inbox_retention_days`` (longer than the topics
keep records, so a redelivered record is still recognised), a chunk per transaction every
``purge_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcm.servicekit.db import inbox, outbox
from rcm.servicekit.errors import is_infrastructure_error
from rcm.servicekit.messages import OutgoingMessage
from rcm.servicekit.metrics import RuntimeMetrics

__all__ = ["OutboxRelay", "write_outbox"]

log = logging.getLogger(__name__)


async def write_outbox(conn: AsyncConnection, messages: Sequence[OutgoingMessage]) -> None:
    """Insert outgoing messages in one executemany (inside the caller's transaction)."""
    if not messages:
        return
    await conn.execute(
        outbox.insert(),
        [
            {
                "topic": m.topic,
                "key": m.key,
                "value": m.value,
                "headers": [[k, v.decode("utf-8", "surrogateescape")] for k, v in m.headers],
            }
            for m in messages
        ],
    )


# one statement text whatever the count of rows sent
_SENT = outbox.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.BigInteger)))
_MARK_SENT = outbox.update().where(_SENT).values(published_at=sa.func.now())
_DELETE_SENT = outbox.delete().where(_SENT)


def _lock_id(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"rcm-outbox:{name}".encode()).digest()[:8], "big", signed=True)


class OutboxRelay:
    """Publishes the outbox of one service database."""

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer | None,
        *,
        name: str,
        batch_size: int = 1000,
        poll_interval_s: float = 0.2,
        idle_poll_max_s: float | None = None,
        retention_hours: float = 0.0,
        inbox_retention_days: float = 35.0,
        purge_interval_s: float = 600.0,
        purge_chunk: int = 10_000,
        metrics: RuntimeMetrics | None = None,
        observe_interval_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.name = name
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.idle_poll_max_s = max(poll_interval_s, idle_poll_max_s or poll_interval_s)
        """The longest pause between polls when they keep finding nothing: each empty poll doubles
        the pause from ``poll_interval_s`` up to this, a poll that publishes resets it. The service's
        own commits wake the relay anyway; polls find the rows other processes wrote (another
        replica while this one holds the relay lock, a command-line tool)."""
        self.retention_hours = retention_hours
        """How long published rows are kept, marked sent; 0 deletes each as soon as it is sent."""
        self.inbox_retention_days = inbox_retention_days
        self.purge_interval_s = purge_interval_s
        self.purge_chunk = purge_chunk
        self._purged_at = float("-inf")
        self._purging: asyncio.Task[None] | None = None
        self.metrics = metrics or RuntimeMetrics()
        self.observe_interval_s = observe_interval_s
        self._observed_at = float("-inf")
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        # test seam: runs after a batch is published and before it is marked sent
        self.after_publish: Callable[[int], Awaitable[None]] | None = None

    def wake(self) -> None:
        """Ask for a pass now (called after a transaction that wrote to the outbox commits)."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish every pending row once, batch by batch; return how many were sent."""
        if self.producer is None:
            raise RuntimeError("the relay has no producer yet (the service sets it when it starts)")
        total = 0
        while True:
            async with self.engine.connect() as conn:
                # the read and the mark commit each on their own: no transaction is held open while
                # the broker acknowledges (nor BEGIN and COMMIT round trips paid per pass); a crash
                # between them republishes the rows, as it would with a transaction around both
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                rows = (
                    await conn.execute(
                        sa.select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value, outbox.c.headers)
                        .where(outbox.c.published_at.is_(None))
                        .order_by(outbox.c.id)
                        .limit(self.batch_size)
                    )
                ).all()
                if not rows:
                    return total
                futures = [
                    await self.producer.send(
                        row.topic,
                        value=row.value,
                        key=row.key,
                        headers=[(k, v.encode("utf-8", "surrogateescape")) for k, v in row.headers],
                    )
                    for row in rows
                ]
                await asyncio.gather(*futures)
                if self.after_publish is not None:
                    await self.after_publish(len(rows))
                sent = _MARK_SENT if self.retention_hours > 0 else _DELETE_SENT
                await conn.execute(sent, {"ids": [row.id for row in rows]})
            total += len(rows)
            self.metrics.published.inc(len(rows))
            if len(rows) < self.batch_size:
                # all that was pending when read; rows committed since then woke the relay
                # (the wake is cleared before each pass), so the next pass follows at once
                return total

    async def _observe(self) -> None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.extract("epoch", sa.func.now() - sa.func.min(outbox.c.created_at)),
                    ).where(outbox.c.published_at.is_(None))
                )
            ).one()
        self.metrics.outbox_pending.set(row[0])
        self.metrics.outbox_age.set(float(row[1] or 0))

    async def _observe_when_due(self) -> None:
        """Refresh the outbox gauges every ``observe_interval_s``; a database that is down leaves them."""
        now = time.monotonic()
        if now - self._observed_at < self.observe_interval_s:
            return
        self._observed_at = now
        try:
            await self._observe()
        except Exception as exc:
            log.debug("outbox gauges not refreshed: %s", type(exc).__name__)

    async def purge_expired(self) -> tuple[int, int]:
        """Delete published outbox rows past their retention and inbox rows past the inbox's, a
        chunk per transaction (no long lock, no huge transaction after a long pause); return how
        many of each went. The relaying replica does it for the database."""
        kept_outbox = sa.func.now() - sa.text(f"interval '{float(self.retention_hours)} hours'")
        kept_inbox = sa.func.now() - sa.text(f"interval '{float(self.inbox_retention_days)} days'")
        expired_outbox = (
            sa.select(outbox.c.id)
            .where(outbox.c.created_at < kept_outbox, outbox.c.published_at < kept_outbox)
            .limit(self.purge_chunk)
        )
        expired_inbox = (
            sa.select(inbox.c.consumer, inbox.c.event_id)
            .where(inbox.c.received_at < kept_inbox)
            .limit(self.purge_chunk)
        )
        # with no retention the relay deleted what it sent: nothing is kept to expire
        outbox_gone = (
            await self._delete_in_chunks(
                outbox.delete().where(outbox.c.id.in_(expired_outbox.scalar_subquery()))
            )
            if self.retention_hours > 0
            else 0
        )
        inbox_gone = await self._delete_in_chunks(
            inbox.delete().where(sa.tuple_(inbox.c.consumer, inbox.c.event_id).in_(expired_inbox))
        )
        return outbox_gone, inbox_gone

    async def _delete_in_chunks(self, statement: sa.Delete) -> int:
        """Run a delete of at most ``purge_chunk`` rows, a transaction each, until one takes fewer."""
        total = 0
        while True:
            async with self.engine.begin() as conn:
                deleted = (await conn.execute(statement)).rowcount
            total += deleted
            if deleted < self.purge_chunk:
                return total

    def _purge_when_due(self) -> None:
        """Start a purge beside the passes when one is due and none is running: a backlog of
        expired rows (after a long stop, at a high rate) takes many chunks, and publishing must
        not wait for them."""
        now = time.monotonic()
        if now - self._purged_at < self.purge_interval_s or (self._purging and not self._purging.done()):
            return
        self._purged_at = now
        self._purging = asyncio.create_task(self._purge_logged())

    async def _purge_logged(self) -> None:
        try:
            await self.purge_expired()
        except Exception as exc:  # the next interval tries again
            log.warning("outbox and inbox purge failed: %s", type(exc).__name__)

    async def _stop_purge(self) -> None:
        if self._purging is not None and not self._purging.done():
            self._purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purging

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set, then drain what is pending and return."""
        lock_conn: Any = None
        empty = 0  # polls in a row that published nothing
        try:
            while not stop.is_set():
                try:
                    if lock_conn is None:
                        lock_conn = await self.engine.connect()
                        got = await lock_conn.scalar(
                            sa.select(sa.func.pg_try_advisory_lock(_lock_id(self.name)))
                        )
                        # the lock is the session's and outlives the transaction; a transaction
                        # left open would hold back the database's xmin horizon for as long as
                        # the relay runs: no dead row in any table could be vacuumed, and the
                        # outbox's pending index would fill with rows the relay already sent
                        await lock_conn.commit()
                        if not got:  # another replica relays; stand by
                            await lock_conn.close()
                            lock_conn = None
                            self._wake.clear()  # a fixed back-off: commits do not hasten it
                            await self._sleep(stop, 2.0)
                            continue
                    self._wake.clear()  # a commit from here on asks for another pass
                    empty = 0 if await self.publish_pending() else empty + 1
                    await self._observe_when_due()
                    self._purge_when_due()
                except Exception as exc:
                    if not is_infrastructure_error(exc):
                        log.exception("outbox relay pass failed")
                    else:
                        log.warning("outbox relay waiting for infrastructure: %s", type(exc).__name__)
                    if lock_conn is not None:
                        with contextlib.suppress(Exception):
                            await lock_conn.close()
                        lock_conn = None
                    await self._observe_when_due()  # rows pile up while the broker is away
                    self._wake.clear()
                    await self._sleep(stop, 1.0)
                    continue
                self._idle.set()
                await self._sleep(stop, self.pause_after(empty))
            if lock_conn is not None:
                with contextlib.suppress(Exception):
                    await self.publish_pending()
        finally:
            await self._stop_purge()
            if lock_conn is not None:
                with contextlib.suppress(Exception):
                    await lock_conn.close()

    def pause_after(self, empty_polls: int) -> float:
        """The pause before the next poll after ``empty_polls`` polls in a row found nothing."""
        if empty_polls <= 1:
            return self.poll_interval_s
        return min(self.poll_interval_s * float(2 ** min(empty_polls - 1, 30)), self.idle_poll_max_s)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        """Wait ``seconds``, or less when stopped or woken (also by a wake since the last pass began)."""
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
