"""Failures: poison records, retries with a due time, order per key, dead letters, a database outage."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from rcm.servicekit import messages as h
from rcm.servicekit.consumer import BatchConsumer
from rcm.servicekit.db import create_engine
from rcm.servicekit.deadletters import list_dead_letters, replay_dead_letters
from rcm.servicekit.errors import PermanentError, TransientError
from rcm.servicekit.kafka import ensure_topics, make_producer
from rcm.servicekit.outbox import OutboxRelay
from rcm.servicekit.testing import (
    OutageProxy,
    create_schema,
    decode,
    effects,
    ledger_events,
    ledger_handler,
    produce,
    settings_for,
    wait_for,
)


class Running:
    """A consumer and its relay running in the background for one test."""

    def __init__(self, settings, engine, topic, handler, **kw):  # type: ignore[no-untyped-def]
        self.settings = settings
        self.engine = engine
        self.producer = make_producer(settings)
        self.relay = OutboxRelay(engine, self.producer, name=settings.service_name, poll_interval_s=0.05)
        self.consumer = BatchConsumer(
            name=settings.service_name,
            topics=[topic],
            handler=handler,
            decode=decode,
            engine=engine,
            settings=settings,
            relay=self.relay,
            **kw,
        )
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Running:
        await ensure_topics(
            self.settings, {self.consumer.retry_topic: {}, self.consumer.dead_letter_topic: {}}
        )
        await self.producer.start()
        self.tasks = [
            asyncio.create_task(self.consumer.run(self.stop)),
            asyncio.create_task(self.relay.run(self.stop)),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)
        await self.producer.stop()


async def test_poison_goes_to_dead_letters_and_the_partition_keeps_flowing(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    await produce(kafka_bootstrap, topic, [("k1", b'{"n": 1}'), ("k1", b"{not json"), ("k1", b'{"n": 3}')])
    async with Running(settings, engine, topic, ledger_handler()):

        async def two_applied():  # type: ignore[no-untyped-def]
            return len(await effects(engine)) == 2

        await wait_for(two_applied)
        letters = await wait_for(lambda: list_dead_letters(settings, settings.dead_letter_topic))
    assert [r.n for r in await effects(engine)] == [1, 3]
    (letter,) = letters
    assert letter.value == b"{not json"
    assert letter.header(h.ORIGINAL_TOPIC) == topic
    assert letter.header(h.ORIGINAL_PARTITION) == "0"
    assert letter.header(h.ORIGINAL_OFFSET) == "1"
    assert letter.header(h.ERROR_KIND) == "permanent"
    assert "JSONDecodeError" in (letter.header(h.ERROR) or "")
    await engine.dispose()


async def test_replayed_dead_letter_is_processed_once(kafka_bootstrap, kafka_topics, fresh_database) -> None:
    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    rule_fixed = False

    def fail(d):  # type: ignore[no-untyped-def]
        if d.event["n"] == 2 and not rule_fixed:
            raise PermanentError("payer rule missing")

    (bad_id,) = (await produce(kafka_bootstrap, topic, [("k", b'{"n": 1}'), ("k", b'{"n": 2}')]))[1:]
    async with Running(settings, engine, topic, ledger_handler(fail=fail)):
        letters = await wait_for(lambda: list_dead_letters(settings, settings.dead_letter_topic))
        assert letters[0].header("ce_id") == bad_id
        assert "payer rule missing" in (letters[0].header(h.ERROR) or "")
        assert [r.n for r in await effects(engine)] == [1]

        rule_fixed = True
        assert await replay_dead_letters(settings, settings.dead_letter_topic) == 1
        assert (
            await replay_dead_letters(settings, settings.dead_letter_topic) == 1
        )  # an operator replays twice

        async def applied_twice():  # type: ignore[no-untyped-def]
            return len(await effects(engine)) >= 2

        await wait_for(applied_twice)
        await asyncio.sleep(1.5)  # time for the second replay to arrive and be dropped
    assert sorted(r.n for r in await effects(engine)) == [1, 2]
    await engine.dispose()


async def test_transient_failure_waits_in_retry_topic_and_keeps_key_order(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database, retry_delays_s=[1.5, 1.5], batch_max_records=1)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    failed_at: list[float] = []

    def fail(d):  # type: ignore[no-untyped-def]
        if d.event["n"] == 1 and d.record.attempt == 0:
            failed_at.append(time.time())
            raise TransientError("payer timed out")

    await produce(
        kafka_bootstrap,
        topic,
        [("A", b'{"n": 1}'), ("A", b'{"n": 2}'), ("B", b'{"n": 3}'), ("A", b'{"n": 4}')],
    )
    async with Running(settings, engine, topic, ledger_handler(fail=fail), ordered_per_key=True):

        async def all_applied():  # type: ignore[no-untyped-def]
            return len(await effects(engine)) == 4

        await wait_for(all_applied, timeout=30)
    rows = await effects(engine)
    by_key: dict[str, list[int]] = {}
    for r in rows:
        by_key.setdefault(r.key, []).append(r.n)
    assert by_key == {"A": [1, 2, 4], "B": [3]}  # A's later records did not overtake the retried one
    assert rows[0].n == 3  # B was not held up by A's retry
    first_applied = next(r for r in rows if r.n == 1).applied_at.timestamp()
    # not reprocessed before its due time (1.5 s after the last in-place attempt)
    assert first_applied - failed_at[-1] >= 1.4
    async with engine.connect() as conn:
        from sqlalchemy import text

        assert (await conn.scalar(text("SELECT count(*) FROM kit_parked_key"))) == 0
    await engine.dispose()


async def test_transient_failure_exhausts_retries_into_dead_letters(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database, retry_delays_s=[0.3, 0.3])
    engine = create_engine(fresh_database)
    await create_schema(engine)

    def fail(d):  # type: ignore[no-untyped-def]
        if d.event["n"] == 1:
            raise TransientError("still down")

    await produce(kafka_bootstrap, topic, [("A", b'{"n": 1}'), ("B", b'{"n": 2}')])
    async with Running(settings, engine, topic, ledger_handler(fail=fail), ordered_per_key=True):
        letters = await wait_for(lambda: list_dead_letters(settings, settings.dead_letter_topic), timeout=30)
    (letter,) = letters
    assert letter.header(h.ATTEMPT) == "3"  # the first try, then two passes through the retry topic
    assert letter.header(h.ERROR_KIND) == "transient"
    assert letter.header(h.ORIGINAL_TOPIC) == topic
    assert [r.n for r in await effects(engine)] == [2]
    await engine.dispose()


async def test_database_outage_mid_stream_loses_nothing(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    topic = await kafka_topics(partitions=3)
    pg = urlsplit(fresh_database)
    proxy = OutageProxy(pg.hostname or "127.0.0.1", pg.port or 5432)
    port = await proxy.start()
    proxied_url = pg._replace(netloc=f"{pg.username}@127.0.0.1:{port}").geturl()
    settings = settings_for(kafka_bootstrap, proxied_url, batch_max_records=25)
    engine = create_engine(proxied_url)
    await create_schema(engine)
    direct = create_engine(fresh_database)
    ids = await produce(kafka_bootstrap, topic, ledger_events(100))
    async with Running(settings, engine, topic, ledger_handler()) as running:

        async def some_applied():  # type: ignore[no-untyped-def]
            return len(await effects(direct)) >= 1

        await wait_for(some_applied)
        proxy.cut()
        cut_at = time.monotonic()
        late_ids = await produce(kafka_bootstrap, topic, ledger_events(100, start=100))

        async def lag_shows_the_backlog():  # type: ignore[no-untyped-def]
            lag = running.consumer.metrics.consumer_lag
            return sum(lag.labels(settings.service_name, topic, str(p))._value.get() for p in range(3)) >= 100

        await wait_for(lag_shows_the_backlog, timeout=20)  # the dashboards see the stream back up
        await asyncio.sleep(max(0.0, 3 - (time.monotonic() - cut_at)))
        proxy.restore()

        async def all_applied():  # type: ignore[no-untyped-def]
            return len(await effects(direct)) >= 200

        await wait_for(all_applied, timeout=60)
        await asyncio.sleep(0.5)
    rows = await effects(direct)
    assert sorted(r.event_id for r in rows) == sorted(ids + late_ids)
    assert await list_dead_letters(settings, settings.dead_letter_topic) == []
    await proxy.stop()
    await engine.dispose()
    await direct.dispose()
