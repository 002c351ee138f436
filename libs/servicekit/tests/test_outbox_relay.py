"""The relay reads the outbox once per pass when it holds less than a batch, and a commit made
while a pass runs gets a pass of its own at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.servicekit.db import create_engine
from rcm.servicekit.kafka import make_producer
from rcm.servicekit.messages import OutgoingMessage
from rcm.servicekit.outbox import OutboxRelay, write_outbox
from rcm.servicekit.settings import ServiceSettings
from rcm.servicekit.testing import create_schema, read_topic, settings_for, statements_sent


@dataclass(frozen=True)
class RelayWorld:
    """A one-partition topic, the service's settings, its database with the runtime's tables
    and a started producer, for one test."""

    topic: str
    settings: ServiceSettings
    engine: AsyncEngine
    producer: AIOKafkaProducer
    database: str


@pytest.fixture
async def world(kafka_bootstrap, kafka_topics, fresh_database) -> AsyncIterator[RelayWorld]:
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    producer = make_producer(settings)
    await producer.start()
    try:
        yield RelayWorld(
            await kafka_topics(partitions=1), settings, engine, producer, fresh_database.rsplit("/", 1)[-1]
        )
    finally:
        await producer.stop()
        await engine.dispose()


def _messages(topic: str, numbers: range) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            topic=topic,
            key=b"k",
            value=json.dumps({"n": i}).encode(),
            headers=[("ce_id", f"evt-{i}".encode())],
        )
        for i in numbers
    ]


async def test_a_pass_reads_the_outbox_once_per_batch_and_stops_at_a_short_one(
    kafka_bootstrap: str, world: RelayWorld
) -> None:
    topic, settings, engine, producer = world.topic, world.settings, world.engine, world.producer
    async with engine.begin() as conn:
        await write_outbox(conn, _messages(topic, range(25)))
    relay = OutboxRelay(engine, producer, name=settings.service_name, batch_size=10)
    with statements_sent(engine) as sent:
        assert await relay.publish_pending() == 25
    reads = [s for s in sent if s.startswith("SELECT") and "kit_outbox" in s]
    assert len(reads) == 3  # 10, 10 and 5 rows: the short batch was all there was
    with statements_sent(engine) as sent:
        assert await relay.publish_pending() == 0
    assert len([s for s in sent if s.startswith("SELECT")]) == 1
    published = await read_topic(kafka_bootstrap, topic, expect=25)
    assert [json.loads(m.value)["n"] for m in published] == list(range(25))


async def test_a_pass_holds_no_transaction_open_while_the_broker_acknowledges(
    kafka_bootstrap: str, world: RelayWorld
) -> None:
    topic, settings, engine, producer = world.topic, world.settings, world.engine, world.producer
    relay = OutboxRelay(engine, producer, name=settings.service_name)
    seen: list[str] = []

    async def look(count: int) -> None:  # the sends are acknowledged, the rows not marked yet
        async with engine.connect() as conn:
            seen.extend(
                (
                    await conn.execute(
                        sa.text(
                            "SELECT state FROM pg_stat_activity WHERE datname = :db"
                            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                        ),
                        {"db": world.database},
                    )
                ).scalars()
            )

    relay.after_publish = look
    async with engine.begin() as conn:
        await write_outbox(conn, _messages(topic, range(3)))
    assert await relay.publish_pending() == 3
    assert seen and "idle in transaction" not in seen, seen  # the relay's connection is idle
    assert await relay.publish_pending() == 0  # the rows were marked sent
    published = await read_topic(kafka_bootstrap, topic, expect=3)
    assert [json.loads(m.value)["n"] for m in published] == [0, 1, 2]


async def test_a_sent_row_is_deleted_unless_a_retention_keeps_it_marked(
    kafka_bootstrap: str, world: RelayWorld
) -> None:
    """By default the relay deletes what the broker acknowledged, in one statement per batch; with
    a retention it marks the rows sent instead, and the purge takes them once they are older."""
    topic, settings, engine, producer = world.topic, world.settings, world.engine, world.producer
    async with engine.begin() as conn:
        await write_outbox(conn, _messages(topic, range(4)))
    relay = OutboxRelay(engine, producer, name=settings.service_name, batch_size=3)
    with statements_sent(engine) as sent:
        assert await relay.publish_pending() == 4
    assert len([s for s in sent if s.startswith("DELETE FROM kit_outbox")]) == 2  # 3 rows, then 1
    assert not [s for s in sent if s.startswith("UPDATE")]
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM kit_outbox")) == 0
    assert await relay.purge_expired() == (0, 0)

    keeping = OutboxRelay(engine, producer, name=settings.service_name, retention_hours=1)
    async with engine.begin() as conn:
        await write_outbox(conn, _messages(topic, range(4, 6)))
    assert await keeping.publish_pending() == 2
    assert await keeping.publish_pending() == 0  # marked: not sent again
    async with engine.begin() as conn:
        kept = (
            (await conn.execute(sa.text("SELECT published_at IS NOT NULL FROM kit_outbox"))).scalars().all()
        )
        assert kept == [True, True]
        await conn.execute(
            sa.text(
                "UPDATE kit_outbox SET created_at = created_at - interval '2 hours',"
                " published_at = published_at - interval '2 hours'"
            )
        )
    assert await keeping.purge_expired() == (2, 0)
    published = await read_topic(kafka_bootstrap, topic, expect=6)
    assert [json.loads(m.value)["n"] for m in published] == list(range(6))


async def test_a_commit_during_a_pass_is_published_without_waiting_for_the_poll(
    kafka_bootstrap: str, world: RelayWorld
) -> None:
    topic, settings, engine, producer = world.topic, world.settings, world.engine, world.producer
    # the poll would come only after a minute: a prompt second pass is the wake's doing
    relay = OutboxRelay(engine, producer, name=settings.service_name, poll_interval_s=60)
    written_during_pass = asyncio.Event()

    async def commit_meanwhile(count: int) -> None:
        if written_during_pass.is_set():
            return
        async with engine.begin() as conn:  # another transaction commits while the pass runs
            await write_outbox(conn, _messages(topic, range(1, 2)))
        relay.wake()
        written_during_pass.set()

    relay.after_publish = commit_meanwhile
    async with engine.begin() as conn:
        await write_outbox(conn, _messages(topic, range(1)))
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        published = await read_topic(kafka_bootstrap, topic, expect=2, timeout=15)  # well inside the poll
        assert [json.loads(m.value)["n"] for m in published] == [0, 1]
    finally:
        stop.set()
        await task


def test_idle_polls_back_off_to_the_maximum_and_start_over_after_a_find() -> None:
    relay = OutboxRelay(
        create_engine("postgresql+psycopg://u@127.0.0.1:1/x"),
        None,
        name="r",
        poll_interval_s=0.2,
        idle_poll_max_s=2.0,
    )
    assert [relay.pause_after(n) for n in range(7)] == [0.2, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert relay.pause_after(10_000) == 2.0
    fixed = OutboxRelay(
        create_engine("postgresql+psycopg://u@127.0.0.1:1/x"), None, name="r", poll_interval_s=0.3
    )
    assert {fixed.pause_after(n) for n in range(5)} == {0.3}  # no maximum: no back-off


async def test_an_idle_relay_polls_less_yet_finds_rows_another_process_wrote(
    kafka_bootstrap: str, world: RelayWorld
) -> None:
    """Rows written without a wake (another replica, a command-line tool) are found by the
    backed-off poll; while idle the relay reads the outbox a few times, not every 50 ms."""
    topic, settings, engine, producer = world.topic, world.settings, world.engine, world.producer
    relay = OutboxRelay(
        engine, producer, name=settings.service_name, poll_interval_s=0.05, idle_poll_max_s=0.8
    )
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        with statements_sent(engine) as sent:
            await asyncio.sleep(2.0)
        polls = [s for s in sent if s.startswith("SELECT") and "kit_outbox" in s and "count" not in s]
        # 0.05, 0.05, 0.1, 0.2, 0.4, 0.8, 0.8 ... : about 6 in 2 s (40 without the back-off)
        assert 3 <= len(polls) <= 9, len(polls)
        async with engine.begin() as conn:  # no wake: as another process would
            await write_outbox(conn, _messages(topic, range(3)))
        published = await read_topic(kafka_bootstrap, topic, expect=3, timeout=5)
        assert [json.loads(m.value)["n"] for m in published] == [0, 1, 2]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_the_relay_holds_its_lock_without_holding_a_transaction_open(
    kafka_bootstrap: str, world: RelayWorld
) -> None:
    """The relay lock is a session lock; a transaction left open beside it would pin the
    database's xmin horizon for as long as the relay runs, and vacuum could remove no dead row in
    any of the service's tables (the outbox's pending index then grows with every row sent)."""
    topic, settings, engine, producer = world.topic, world.settings, world.engine, world.producer
    relay = OutboxRelay(engine, producer, name=settings.service_name, poll_interval_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    database = world.database
    try:
        async with engine.begin() as conn:
            await write_outbox(conn, _messages(topic, range(50)))
        relay.wake()
        await read_topic(kafka_bootstrap, topic, expect=50, timeout=15)
        await asyncio.sleep(0.5)
        async with engine.connect() as conn:
            held = await conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                    " WHERE l.locktype = 'advisory' AND l.granted AND a.datname = :db"
                ),
                {"db": database},
            )
            open_transactions = await conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :db"
                    " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
                ),
                {"db": database},
            )
        assert held == 1  # the relay still holds its lock
        assert open_transactions == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_expired_outbox_and_inbox_rows_are_purged_in_chunks_and_the_rest_kept(fresh_database) -> None:
    """Published outbox rows go after their retention, inbox ids after the inbox's (longer than
    the topics keep records); an unpublished row and recent rows stay, whatever their number."""
    engine = create_engine(fresh_database)
    await create_schema(engine)
    relay = OutboxRelay(engine, None, name="r", retention_hours=24, inbox_retention_days=35, purge_chunk=7)
    old, recent = "now() - interval '40 days'", "now() - interval '1 hour'"
    async with engine.begin() as conn:
        for n, (created, published) in enumerate(
            [(old, old)] * 20 + [(old, None), (old, recent), (recent, recent), (recent, None)]
        ):
            await conn.execute(
                sa.text(
                    "INSERT INTO kit_outbox (topic, value, headers, created_at, published_at)"
                    f" VALUES ('t', :v, '[]', {created}, {published or 'NULL'})"
                ),
                {"v": str(n).encode()},
            )
        for n, received in enumerate([old] * 16 + [recent] * 3 + ["now() - interval '34 days'"]):
            await conn.execute(
                sa.text(
                    f"INSERT INTO kit_inbox (consumer, event_id, received_at) VALUES ('c', :e, {received})"
                ),
                {"e": f"evt-{n}"},
            )
    assert await relay.purge_expired() == (20, 16)  # 7 + 7 + 6 and 7 + 7 + 2: chunks until a short one
    async with engine.connect() as conn:
        left = (
            await conn.execute(sa.text("SELECT convert_from(value, 'UTF8') FROM kit_outbox ORDER BY id"))
        ).scalars()
        assert list(left) == ["20", "21", "22", "23"]  # never published, published lately, recent
        inbox_left = (await conn.execute(sa.text("SELECT count(*) FROM kit_inbox"))).scalar_one()
        assert inbox_left == 4
    assert await relay.purge_expired() == (0, 0)
    await engine.dispose()


async def test_a_running_relay_purges_beside_its_passes(kafka_bootstrap: str, world: RelayWorld) -> None:
    """The relaying replica purges when the interval comes round, in a task of its own, while it
    goes on publishing; stopping the relay stops the purge too."""
    async with world.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO kit_inbox (consumer, event_id, received_at)"
                " SELECT 'c', 'old-' || n, now() - interval '40 days' FROM generate_series(1, 30) AS n"
            )
        )
    relay = OutboxRelay(
        world.engine, world.producer, name=world.settings.service_name, poll_interval_s=0.05, purge_chunk=4
    )
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        async with world.engine.begin() as conn:
            await write_outbox(conn, _messages(world.topic, range(5)))
        relay.wake()
        published = await read_topic(kafka_bootstrap, world.topic, expect=5, timeout=15)
        assert [json.loads(m.value)["n"] for m in published] == list(range(5))
        for _ in range(50):
            async with world.engine.connect() as conn:
                left = await conn.scalar(sa.text("SELECT count(*) FROM kit_inbox"))
            if left == 0:
                break
            await asyncio.sleep(0.1)
        assert left == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert relay._purging is not None and relay._purging.done()
