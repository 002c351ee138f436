"""Helpers for tests of the runtime and of services built on it.

A tiny ledger application is included: events are JSON objects
``{"n": 1, "amount": "10.00"}`` with a CloudEvents id header, and applying one
inserts a row into ``effect``. Because ``effect.event_id`` is not unique, a
second application of the same event shows up as a second row: exactly-once
effects mean ``count(*) == count(distinct event_id)``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.servicekit.consumer import Transaction
from rcm.servicekit.db import kit_metadata
from rcm.servicekit.errors import PermanentError
from rcm.servicekit.messages import Delivered, OutgoingMessage, Record
from rcm.servicekit.settings import ServiceSettings

app_metadata = sa.MetaData()
effect = sa.Table(
    "effect",
    app_metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("key", sa.Text),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)


class SimulatedCrash(BaseException):
    """Stands for kill -9: escapes every ``except Exception``."""


def settings_for(bootstrap: str, database_url: str, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": f"svc-{uuid.uuid4().hex[:8]}",
        "kafka_bootstrap": bootstrap,
        "database_url": database_url,
        "batch_timeout_ms": 50,
        "retry_in_place_attempts": 2,
        "retry_delays_s": [1.0, 1.0],
        "relay_poll_interval_s": 0.05,
        "http_port": 0,
    }
    values.update(overrides)
    return ServiceSettings(**values)


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(kit_metadata.create_all)
        await conn.run_sync(app_metadata.create_all)


def decode(record: Record) -> dict[str, Any]:
    body = json.loads(record.value)
    if not isinstance(body, dict) or "n" not in body:
        raise PermanentError("not a ledger event")
    return body


def ledger_handler(
    *, fail: Callable[[Delivered[dict[str, Any]]], None] | None = None, emit_to: str | None = None
) -> Callable[[Transaction, list[Delivered[dict[str, Any]]]], Any]:
    async def handle(tx: Transaction, events: list[Delivered[dict[str, Any]]]) -> None:
        for d in events:
            if fail is not None:
                fail(d)
        await tx.conn.execute(
            effect.insert(),
            [
                {
                    "event_id": d.event_id,
                    "key": d.record.key.decode() if d.record.key else None,
                    "n": d.event["n"],
                    "amount": Decimal(d.event.get("amount", "1.00")),
                }
                for d in events
            ],
        )
        if emit_to:
            for d in events:
                tx.emit(
                    OutgoingMessage(
                        topic=emit_to,
                        key=d.record.key,
                        value=json.dumps(
                            {"n": d.event["n"], "amount": d.event.get("amount", "1.00")}
                        ).encode(),
                        headers=[("ce_id", f"out-{d.event_id}".encode())],
                    ),
                    cause=d,
                )

    return handle


async def produce(
    bootstrap: str, topic: str, events: Iterable[tuple[str | None, bytes]], *, ids: list[str] | None = None
) -> list[str]:
    """Publish (key, value) pairs with fresh CloudEvents ids; returns the ids."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=2)
    await producer.start()
    sent: list[str] = []
    try:
        futures = []
        for i, (key, value) in enumerate(events):
            event_id = ids[i] if ids else str(uuid.uuid4())
            sent.append(event_id)
            futures.append(
                await producer.send(
                    topic,
                    value=value,
                    key=key.encode() if key else None,
                    headers=[("ce_id", event_id.encode()), ("ce_type", b"test.ledger")],
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


def ledger_events(count: int, *, key: str | None = None, start: int = 0) -> list[tuple[str | None, bytes]]:
    return [
        (key or f"k{i % 5}", json.dumps({"n": i, "amount": f"{i}.25"}).encode())
        for i in range(start, start + count)
    ]


async def effects(engine: AsyncEngine) -> list[sa.Row[Any]]:
    async with engine.connect() as conn:
        return list((await conn.execute(sa.select(effect).order_by(effect.c.id))).all())


async def wait_for(predicate: Callable[[], Any], *, timeout: float = 30, interval: float = 0.1) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            value = await predicate()
            if value:
                return value
            await asyncio.sleep(interval)


async def read_topic(bootstrap: str, topic: str, *, expect: int, timeout: float = 20) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    out: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(out) < expect:
                batch = await consumer.getmany(timeout_ms=300)
                for msgs in batch.values():
                    out.extend(msgs)
        extra = await consumer.getmany(timeout_ms=500)
        out.extend(m for msgs in extra.values() for m in msgs)
    finally:
        await consumer.stop()
    return out


class OutageProxy:
    """A TCP proxy on loopback that can take its upstream away: an outage on demand.

    ``cut()`` closes every open connection and refuses new ones until ``restore()``.
    Tests point a service at the proxy instead of PostgreSQL or the broker.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.down = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.down = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.down = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()
                self._writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends while the block runs (an executemany counts once:
    one round trip)."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)


def _placeholder(kind: Any) -> Any:
    """A value of a bound parameter's type, for planning a statement."""
    for python_type, value in (
        (sa.DateTime, datetime(2026, 1, 1, tzinfo=UTC)),
        (sa.Date, date(2026, 1, 1)),
        (sa.Boolean, False),
        (sa.Integer, 0),
        (sa.Numeric, Decimal(0)),
    ):
        if isinstance(kind, python_type):
            return value
    return "x"


async def sequential_scans(
    conn: Any, query: sa.Select[Any], params: dict[str, Any] | None = None, *, price_out: bool = True
) -> list[str]:
    """The tables ``query`` reads whole: a sequential scan, or an index walked end to end without
    a condition. Such a read's cost grows with the table, not with the rows it asks for.

    ``price_out`` (the default) plans with sequential scans priced out, which shows whether an
    index path exists at all; without it the plan is the one the planner picks from the table's
    statistics (fill and ``ANALYZE`` the tables first). Parameters not in ``params`` and without
    a value get a placeholder of their type (in a one-item list for an array)."""
    compiled = query.compile(dialect=conn.dialect)
    values = {
        name: [_placeholder(bind.type.item_type)]
        if isinstance(bind.type, sa.ARRAY)
        else _placeholder(bind.type)
        for name, bind in compiled.binds.items()
        if bind.value is None and bind.callable is None
    }
    values.update(params or {})
    sql = query.params(values).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    if price_out:
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()
    whole: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        unbounded = (
            kind in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"} and "Index Cond" not in node
        )
        if kind == "Seq Scan" or unbounded:
            whole.append(f"{kind} on {node.get('Relation Name') or node.get('Index Name')}")
        for child in node.get("Plans", ()):
            walk(child)

    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return whole
