"""What keeps a batch cheap: cached upserts, queued inserts, a linger that fills batches."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncEngine

import rcm.servicekit  # noqa: F401  (enables the upsert cache)
from rcm.servicekit.consumer import BatchConsumer, Transaction, dispatch
from rcm.servicekit.db import create_engine, outbox
from rcm.servicekit.messages import Delivered, OutgoingMessage, Record
from rcm.servicekit.testing import create_schema, decode, ledger_events, produce, settings_for, wait_for

meta = sa.MetaData()
account = sa.Table(
    "account",
    meta,
    sa.Column("account_id", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text),
    sa.Column("balance", sa.Numeric(12, 2), nullable=False),
    sa.Column("body", JSONB),
)
journal = sa.Table(
    "journal",
    meta,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)


async def _until(predicate: Any, timeout: float = 30) -> None:
    async def check() -> bool:
        return bool(predicate())

    await wait_for(check, timeout=timeout, interval=0.05)


def _key(stmt: Any) -> Any:
    return stmt._generate_cache_key()


def _shape(stmt: Any) -> Any:
    """The statement's cache key without its parameter values (hashable)."""
    key = _key(stmt)
    return None if key is None else key.key


# ---------------------------------------------------------------------- upsert cache keys


def test_insert_on_conflict_do_nothing_has_a_cache_key_with_values_bound() -> None:
    a = pg_insert(account).values(account_id="A", balance=1).on_conflict_do_nothing()
    b = pg_insert(account).values(account_id="B", balance=2).on_conflict_do_nothing()
    assert _key(a) is not None
    assert _key(a) == _key(b)  # the same statement: the values are parameters
    assert [p.value for p in _key(b).bindparams] == ["B", 2]


def test_the_conflict_target_is_part_of_the_key() -> None:
    plain = pg_insert(account).values(account_id="A", balance=1)
    keys = {
        _shape(plain.on_conflict_do_nothing()),
        _shape(plain.on_conflict_do_nothing(index_elements=["account_id"])),
        _shape(plain.on_conflict_do_nothing(index_elements=[account.c.owner])),
        _shape(plain.on_conflict_do_nothing(constraint="account_pkey")),
        _shape(
            plain.on_conflict_do_nothing(index_elements=["owner"], index_where=account.c.owner.is_not(None))
        ),
        _shape(plain),
    }
    assert len(keys) == 6 and None not in keys


def test_do_update_set_list_and_where_are_part_of_the_key() -> None:
    s = pg_insert(account).values(account_id="A", balance=1)
    ex = s.excluded
    keys = [
        _shape(s.on_conflict_do_update(index_elements=["account_id"], set_={"balance": ex.balance})),
        _shape(
            s.on_conflict_do_update(
                index_elements=["account_id"], set_={"balance": account.c.balance + ex.balance}
            )
        ),
        _shape(s.on_conflict_do_update(index_elements=["account_id"], set_={"owner": ex.owner})),
        _shape(
            s.on_conflict_do_update(
                index_elements=["account_id"],
                set_={"balance": ex.balance},
                where=account.c.owner.is_(None),
            )
        ),
    ]
    assert None not in keys
    assert len(set(keys)) == 4


def test_do_update_with_a_plain_value_in_set_stays_uncached() -> None:
    s = pg_insert(account).values(account_id="A", balance=1)
    assert _key(s.on_conflict_do_update(index_elements=["account_id"], set_={"owner": "x"})) is None
    literal = s.on_conflict_do_update(index_elements=["account_id"], set_={"owner": sa.literal("x")})
    other = s.on_conflict_do_update(index_elements=["account_id"], set_={"owner": sa.literal("y")})
    assert _key(literal) == _key(other)
    assert "y" in [p.value for p in _key(other).bindparams]


# ---------------------------------------------------------------------- against PostgreSQL


@pytest.fixture
def statements() -> Iterator[list[tuple[str, Any]]]:
    """(SQL, cache outcome) of every statement the engines run during the test."""
    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        seen.append((statement, getattr(context, "cache_hit", None)))

    event.listen(sa.engine.Engine, "before_cursor_execute", listen)
    yield seen
    event.remove(sa.engine.Engine, "before_cursor_execute", listen)


async def _schema(url: str) -> AsyncEngine:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    return engine


async def test_cached_upserts_write_each_executions_own_values(
    fresh_database: str, statements: list[tuple[str, Any]]
) -> None:
    engine = await _schema(fresh_database)
    try:
        async with engine.begin() as conn:
            for n in range(3):
                s = pg_insert(account).values(
                    account_id=f"A{n}", owner=f"o{n}", balance=Decimal(n), body={"n": n}
                )
                await conn.execute(s.on_conflict_do_nothing())
            # a second insert of A1 changes nothing; an upsert adds to the balance
            await conn.execute(
                pg_insert(account)
                .values(account_id="A1", owner="other", balance=Decimal("5"))
                .on_conflict_do_nothing()
            )
            for amount in ("2.50", "4.00"):
                s = pg_insert(account).values(account_id="A2", owner="new", balance=Decimal(amount))
                await conn.execute(
                    s.on_conflict_do_update(
                        index_elements=["account_id"],
                        set_={"balance": account.c.balance + s.excluded.balance, "owner": s.excluded.owner},
                    )
                )
            rows = {r.account_id: r for r in await conn.execute(sa.select(account))}
        assert {k: (r.owner, r.balance, r.body) for k, r in rows.items()} == {
            "A0": ("o0", Decimal("0.00"), {"n": 0}),
            "A1": ("o1", Decimal("1.00"), {"n": 1}),
            "A2": ("new", Decimal("8.50"), {"n": 2}),
        }
        outcomes = [hit for sql, hit in statements if sql.startswith("INSERT INTO account")]
        # one compile per statement shape (three columns lists or conflict clauses), then reuse
        miss, hit = CacheStats.CACHE_MISS, CacheStats.CACHE_HIT
        assert outcomes == [miss, hit, hit, miss, miss, hit]
        assert CacheStats.NO_CACHE_KEY not in outcomes
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------- queued inserts


async def test_queued_inserts_are_written_once_in_order_one_statement_per_table(
    fresh_database: str, statements: list[tuple[str, Any]]
) -> None:
    engine = await _schema(fresh_database)
    await create_schema(engine)
    try:
        async with engine.begin() as conn:
            tx = Transaction(conn, "test", source="test")
            for n in range(5):
                tx.insert_later(journal, {"account_id": "A", "note": f"n{n}"})
            tx.emit(OutgoingMessage(topic="t", key=b"k", value=b"one", headers=[]))
            assert await conn.scalar(sa.select(sa.func.count()).select_from(journal)) == 0
            await tx.flush()
            tx.insert_later(journal, {"account_id": "B", "note": "late"})
            tx.emit(OutgoingMessage(topic="t", key=b"k", value=b"two", headers=[]))
            await tx.flush()
            await tx.flush()  # nothing left: writes nothing more
            notes = [r.note for r in await conn.execute(sa.select(journal).order_by(journal.c.id))]
            values = [r.value for r in await conn.execute(sa.select(outbox).order_by(outbox.c.id))]
        assert notes == ["n0", "n1", "n2", "n3", "n4", "late"]
        assert values == [b"one", b"two"]
        journal_writes = [sql for sql, _ in statements if sql.startswith("INSERT INTO journal")]
        assert len(journal_writes) == 2  # the five queued rows went in one statement
    finally:
        await engine.dispose()


async def test_queued_inserts_of_a_rolled_back_transaction_are_not_written(fresh_database: str) -> None:
    engine = await _schema(fresh_database)
    try:

        async def failing_batch() -> None:
            async with engine.begin() as conn:
                tx = Transaction(conn, "test", source="test")
                tx.insert_later(journal, {"account_id": "A", "note": "x"})
                await tx.flush()
                raise RuntimeError("handler failed")

        with pytest.raises(RuntimeError):
            await failing_batch()
        async with engine.connect() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(journal)) == 0
    finally:
        await engine.dispose()


async def test_a_consumer_batch_writes_queued_rows_with_its_commit(
    kafka_bootstrap: str, kafka_topics: Any, fresh_database: str
) -> None:
    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = await _schema(fresh_database)
    await create_schema(engine)

    async def handle(tx: Transaction, events: list[Delivered[dict[str, Any]]]) -> None:
        for d in events:
            tx.insert_later(journal, {"account_id": "A", "note": str(d.event["n"])})

    consumer = BatchConsumer(
        name=settings.service_name,
        topics=[topic],
        handler=handle,
        decode=decode,
        engine=engine,
        settings=settings,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await produce(kafka_bootstrap, topic, ledger_events(20))

        async def written() -> bool:
            async with engine.connect() as conn:
                return await conn.scalar(sa.select(sa.func.count()).select_from(journal)) == 20

        await wait_for(written)
        async with engine.connect() as conn:
            notes = [r.note for r in await conn.execute(sa.select(journal).order_by(journal.c.id))]
        assert notes == [str(n) for n in range(20)]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await engine.dispose()


# ---------------------------------------------------------------------- linger


@pytest.mark.parametrize("linger_ms", [0, 3000])
async def test_linger_collects_records_arriving_after_the_first_into_one_batch(
    kafka_bootstrap: str, kafka_topics: Any, fresh_database: str, linger_ms: int
) -> None:
    topic = await kafka_topics(partitions=2)
    settings = settings_for(kafka_bootstrap, fresh_database, batch_linger_ms=linger_ms)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    sizes: list[int] = []
    seen: collections.Counter[int] = collections.Counter()

    async def handle(tx: Transaction, events: list[Delivered[dict[str, Any]]]) -> None:
        sizes.append(len(events))
        seen.update(d.event["n"] for d in events)

    consumer = BatchConsumer(
        name=settings.service_name,
        topics=[topic],
        handler=handle,
        decode=decode,
        engine=engine,
        settings=settings,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await _until(consumer.ready.is_set)
        await produce(kafka_bootstrap, topic, ledger_events(1))
        await _until(lambda: sizes or linger_ms)  # without linger, the first record is applied alone
        await asyncio.sleep(0.3)
        await produce(kafka_bootstrap, topic, ledger_events(9, start=1))
        await _until(lambda: sum(sizes) >= 10)
        assert sorted(seen) == list(range(10)) and set(seen.values()) == {1}
        if linger_ms:
            assert sizes == [10]
        else:
            assert sizes[0] == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await engine.dispose()


async def test_dispatch_prepares_the_whole_batch_before_its_handlers(fresh_database: str) -> None:
    engine = create_engine(fresh_database)
    calls: list[Any] = []

    async def prepare(tx: Transaction, events: list[Delivered[Any]]) -> None:
        calls.append(("prepare", [d.event for d in events]))
        tx.memo["seen"] = {d.event for d in events}

    async def on_int(tx: Transaction, d: Delivered[Any]) -> None:
        calls.append(("int", d.event, d.event in tx.memo["seen"]))

    handle = dispatch({int: on_int}, prepare=prepare)
    try:
        async with engine.begin() as conn:
            tx = Transaction(conn, "test", source="test")
            events: list[Delivered[Any]] = [
                Delivered(Record(topic="t", partition=0, offset=n, key=None, value=b"", headers=()), n, None)
                for n in (1, 2)
            ]
            await handle(tx, events)
        assert calls == [("prepare", [1, 2]), ("int", 1, True), ("int", 2, True)]
    finally:
        await engine.dispose()
