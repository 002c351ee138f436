"""Typed events through the runtime: decoded from the envelope, published with the catalog's topic and key."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from rcm.events import decode, encode
from rcm.events import testing as f
from rcm.events.models import SessionCompleted
from rcm.servicekit import messages as h
from rcm.servicekit.consumer import BatchConsumer, Transaction
from rcm.servicekit.contracts import decode_event
from rcm.servicekit.db import create_engine, outbox
from rcm.servicekit.deadletters import list_dead_letters
from rcm.servicekit.kafka import ensure_topics, make_producer
from rcm.servicekit.messages import Delivered
from rcm.servicekit.outbox import OutboxRelay
from rcm.servicekit.testing import create_schema, read_topic, settings_for, wait_for


async def test_session_in_claim_event_out(kafka_bootstrap, kafka_topics, fresh_database) -> None:
    settings = settings_for(kafka_bootstrap, fresh_database, topic_prefix=f"t{fresh_database[-6:]}")
    session_topic = settings.topic("session-completed")
    claim_topic = settings.topic("claim-created")
    await ensure_topics(settings, {session_topic: {}, claim_topic: {}})
    engine = create_engine(fresh_database)
    await create_schema(engine)
    seen: list[SessionCompleted] = []

    async def handle(tx: Transaction, events: list[Delivered[object]]) -> None:
        for d in events:
            assert isinstance(d.event, SessionCompleted)
            seen.append(d.event)
            tx.publish(f.claim_created(1, patient_id=d.event.patient_id), cause=d)

    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(engine, producer, name=settings.service_name, poll_interval_s=0.05)
    consumer = BatchConsumer(
        name=settings.service_name,
        topics=[session_topic],
        handler=handle,
        decode=decode_event,
        engine=engine,
        settings=settings,
        relay=relay,
    )
    await ensure_topics(settings, {consumer.retry_topic: {}, consumer.dead_letter_topic: {}})
    stop = asyncio.Event()
    tasks = [asyncio.create_task(consumer.run(stop)), asyncio.create_task(relay.run(stop))]

    session = f.session_completed(3)
    record = encode(session, source="ehr-test", prefix=settings.topic_prefix)
    raw = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await raw.start()
    await raw.send_and_wait(record.topic, record.value, key=record.key, headers=list(record.headers))
    bad = [(k, v) for k, v in record.headers if k != "ce_type"] + [("ce_type", b"rcm.no-such-event.v1")]
    await raw.send_and_wait(record.topic, record.value, key=record.key, headers=bad)
    await raw.stop()

    (out,) = await read_topic(kafka_bootstrap, claim_topic, expect=1)
    letters = await wait_for(lambda: list_dead_letters(settings, consumer.dead_letter_topic))
    stop.set()
    await asyncio.gather(*tasks)
    await producer.stop()

    assert seen == [session]
    received = decode(out.value, out.headers)
    assert received.event.patient_id == session.patient_id  # type: ignore[attr-defined]
    assert out.key == session.patient_id.encode()  # patient-centric events keyed by patient
    assert received.envelope.source == settings.service_name
    assert len(letters) == 1
    assert letters[0].header(h.ERROR_KIND) == "permanent"
    assert "no-such-event" in (letters[0].header(h.ERROR) or "")
    async with engine.connect() as conn:
        rows = (await conn.execute(outbox.select().order_by(outbox.c.topic))).all()
    # the claim and the dead letter both left through the outbox, both published
    assert sorted(r.topic for r in rows) == sorted([claim_topic, consumer.dead_letter_topic])
    assert all(r.published_at is not None for r in rows)
    await engine.dispose()
