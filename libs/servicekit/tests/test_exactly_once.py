"""Crashes at the worst moments change nothing: each effect happens once."""

from __future__ import annotations

import asyncio
import json

import pytest

from rcm.servicekit.consumer import BatchConsumer
from rcm.servicekit.db import create_engine
from rcm.servicekit.kafka import make_producer
from rcm.servicekit.messages import OutgoingMessage
from rcm.servicekit.outbox import OutboxRelay, write_outbox
from rcm.servicekit.testing import (
    SimulatedCrash,
    create_schema,
    decode,
    effects,
    ledger_events,
    ledger_handler,
    produce,
    read_topic,
    settings_for,
    wait_for,
)


def _consumer(settings, engine, topic, relay=None, **kw):  # type: ignore[no-untyped-def]
    return BatchConsumer(
        name=settings.service_name,
        topics=[topic],
        handler=kw.pop("handler", ledger_handler()),
        decode=decode,
        engine=engine,
        settings=settings,
        relay=relay,
        **kw,
    )


async def test_crash_after_db_commit_before_offset_commit(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    topic = await kafka_topics(partitions=2)
    settings = settings_for(kafka_bootstrap, fresh_database, batch_max_records=20)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    ids = await produce(kafka_bootstrap, topic, ledger_events(50))

    first = _consumer(settings, engine, topic)

    async def crash(records):  # type: ignore[no-untyped-def]
        raise SimulatedCrash

    first.after_db_commit = crash
    with pytest.raises(SimulatedCrash):
        await asyncio.wait_for(first.run(asyncio.Event()), 30)
    applied_before_crash = len(await effects(engine))
    assert applied_before_crash > 0  # the batch's transaction did commit

    # restarted: the same group re-reads the uncommitted records
    second = _consumer(settings, engine, topic)
    stop = asyncio.Event()
    task = asyncio.create_task(second.run(stop))

    async def all_applied():  # type: ignore[no-untyped-def]
        return len(await effects(engine)) >= 50

    await wait_for(all_applied)
    await asyncio.sleep(0.5)
    stop.set()
    await task
    rows = await effects(engine)
    assert sorted(r.event_id for r in rows) == sorted(ids)  # every effect exactly once
    duplicates = second.metrics.events.labels(settings.service_name, topic, "duplicate")._value.get()
    assert duplicates >= applied_before_crash  # the redelivered records were seen and dropped
    await engine.dispose()


async def test_relay_killed_between_publish_and_mark(kafka_bootstrap, kafka_topics, fresh_database) -> None:
    out_topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    async with engine.begin() as conn:
        await write_outbox(
            conn,
            [
                OutgoingMessage(
                    topic=out_topic,
                    key=b"k",
                    value=json.dumps({"n": i}).encode(),
                    headers=[("ce_id", f"evt-{i}".encode())],
                )
                for i in range(30)
            ],
        )

    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(engine, producer, name=settings.service_name)

    async def killed(count: int) -> None:
        raise SimulatedCrash

    relay.after_publish = killed
    with pytest.raises(SimulatedCrash):
        await relay.publish_pending()
    # restarted relay: nothing was marked, so it publishes everything again
    relay.after_publish = None
    assert await relay.publish_pending() == 30
    assert await relay.publish_pending() == 0
    await producer.stop()

    published = await read_topic(kafka_bootstrap, out_topic, expect=60)
    assert len(published) == 60  # no event lost; each at most twice
    assert [json.loads(m.value)["n"] for m in published[30:]] == list(range(30))  # order kept per key

    # a consumer's inbox absorbs the duplicates
    consumer_settings = settings_for(kafka_bootstrap, fresh_database)
    consumer = _consumer(consumer_settings, engine, out_topic)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def consumed_all():  # type: ignore[no-untyped-def]
        total = consumer.metrics.events.labels(
            consumer_settings.service_name, out_topic, "processed"
        )._value.get()
        dup = consumer.metrics.events.labels(
            consumer_settings.service_name, out_topic, "duplicate"
        )._value.get()
        return total + dup >= 60

    await wait_for(consumed_all)
    stop.set()
    await task
    rows = await effects(engine)
    assert sorted(r.n for r in rows) == list(range(30))
    await engine.dispose()


async def test_outgoing_events_published_once_with_consumer_effects(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    source = await kafka_topics(partitions=3)
    sink = await kafka_topics(partitions=3)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(engine, producer, name=settings.service_name, poll_interval_s=0.05)
    consumer = _consumer(settings, engine, source, relay=relay, handler=ledger_handler(emit_to=sink))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(consumer.run(stop)), asyncio.create_task(relay.run(stop))]
    ids = await produce(kafka_bootstrap, source, ledger_events(120))
    await produce(kafka_bootstrap, source, ledger_events(120), ids=ids)  # a full replay of the same events
    out = await read_topic(kafka_bootstrap, sink, expect=120)
    stop.set()
    await asyncio.gather(*tasks)
    await producer.stop()
    assert len(out) == 120
    assert {m.headers[0][1].decode() for m in out} == {f"out-{i}" for i in ids}
    assert len(await effects(engine)) == 120
    await engine.dispose()


async def test_two_relay_replicas_publish_each_row_once(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    out_topic = await kafka_topics(partitions=3)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    producers = [make_producer(settings), make_producer(settings)]
    for producer in producers:
        await producer.start()
    # two replicas of one service: one relay holds the outbox lock, the other stands by
    relays = [
        OutboxRelay(engine, producer, name=settings.service_name, poll_interval_s=0.02)
        for producer in producers
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)) for relay in relays]
    for start in range(0, 300, 30):  # rows keep arriving while both run
        async with engine.begin() as conn:
            await write_outbox(
                conn,
                [
                    OutgoingMessage(
                        topic=out_topic,
                        key=f"k{i % 4}".encode(),
                        value=json.dumps({"n": i}).encode(),
                        headers=[("ce_id", f"evt-{i}".encode())],
                    )
                    for i in range(start, start + 30)
                ],
            )
        for relay in relays:
            relay.wake()
        await asyncio.sleep(0.05)
    published = await read_topic(kafka_bootstrap, out_topic, expect=300)
    stop.set()
    await asyncio.gather(*tasks)
    for producer in producers:
        await producer.stop()
    numbers = [json.loads(m.value)["n"] for m in published]
    assert sorted(numbers) == list(range(300))  # each row exactly once
    for k in range(4):  # and in order per key
        of_key = [json.loads(m.value)["n"] for m in published if m.key == f"k{k}".encode()]
        assert of_key == sorted(of_key)
    assert sorted(r.metrics.published._value.get() for r in relays) == [0, 300]
    await engine.dispose()


async def test_outbox_gauges_show_rows_piling_up_while_publishing_fails(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    from aiokafka.errors import KafkaTimeoutError

    out_topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    async with engine.begin() as conn:
        await write_outbox(
            conn,
            [
                OutgoingMessage(
                    topic=out_topic, key=b"k", value=b"{}", headers=[("ce_id", f"e-{i}".encode())]
                )
                for i in range(12)
            ],
        )
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(
        engine, producer, name=settings.service_name, poll_interval_s=0.05, observe_interval_s=0.1
    )

    async def broker_away(count: int) -> None:  # every pass fails before it can mark its rows sent
        raise KafkaTimeoutError()

    relay.after_publish = broker_away
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:

        async def age_reported():  # type: ignore[no-untyped-def]
            return relay.metrics.outbox_age._value.get() >= 1.5

        await wait_for(age_reported, timeout=20)
        assert relay.metrics.outbox_pending._value.get() == 12
        relay.after_publish = None  # the broker is back

        async def drained():  # type: ignore[no-untyped-def]
            return (
                relay.metrics.outbox_pending._value.get() == 0 and relay.metrics.published._value.get() == 12
            )

        await wait_for(drained, timeout=20)
        assert relay.metrics.outbox_age._value.get() == 0
    finally:
        stop.set()
        await task
        await producer.stop()
        await engine.dispose()
