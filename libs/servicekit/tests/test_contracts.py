"""Typed events through the runtime: decoded from the envelope, published with the catalog's topic and key."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from rcm.events import decode, encode
from rcm.events import testing as f
from rcm.events.models import SessionCompleted
from rcm.servicekit import messages as h
from rcm.servicekit.consumer import BatchConsumer, Transaction
from rcm.servicekit.contracts import decode_event, only_when
from rcm.servicekit.db import create_engine, outbox
from rcm.servicekit.deadletters import list_dead_letters
from rcm.servicekit.kafka import ensure_topics, make_producer
from rcm.servicekit.messages import Delivered, Record
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
        left = (await conn.execute(outbox.select())).all()
    # the claim and the dead letter both left through the outbox (read above from their topics),
    # each row deleted once the broker acknowledged it
    assert left == []
    await engine.dispose()


def test_only_when_names_attributes_the_catalog_carries() -> None:
    import pytest

    from rcm.events.models import ClaimStatus

    accept = only_when("claim-status-changed", to_status={ClaimStatus.VOIDED})
    voided = encode(f.claim_status_changed(1, to_status="voided"), source="s", prefix="")
    paid = encode(f.claim_status_changed(1, to_status="paid"), source="s", prefix="")
    other = encode(f.session_completed(1), source="s", prefix="")

    def rec(r) -> Record:  # type: ignore[no-untyped-def]
        return Record(topic=r.topic, partition=0, offset=0, key=r.key, value=r.value, headers=r.headers)

    assert accept(rec(voided)) and accept(rec(other)) and not accept(rec(paid))
    with pytest.raises(ValueError, match="from_status"):
        only_when("claim-status-changed", from_status={"paid"})
    with pytest.raises(ValueError, match="carries no extension attribute"):
        only_when("session-completed", patient_id={"p"})


async def test_records_the_filter_refuses_are_skipped_before_decoding(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    """Status changes other than voids are skipped: never decoded (a broken one is not
    dead-lettered), no inbox row, their offsets committed; a void and a record without the
    attribute are applied; a broken void still goes to dead letters."""
    from aiokafka.admin import AIOKafkaAdminClient

    from rcm.servicekit.db import inbox
    from rcm.servicekit.metrics import RuntimeMetrics

    settings = settings_for(kafka_bootstrap, fresh_database, topic_prefix=f"k{fresh_database[-6:]}")
    topic = settings.topic("claim-status-changed")
    await ensure_topics(settings, {topic: {"partitions": 1}})
    engine = create_engine(fresh_database)
    await create_schema(engine)
    seen: list[str] = []

    async def handle(tx: Transaction, events: list[Delivered[object]]) -> None:
        seen.extend(d.event.claim_id for d in events)  # type: ignore[attr-defined]

    metrics = RuntimeMetrics()
    consumer = BatchConsumer(
        name=settings.service_name,
        topics=[topic],
        handler=handle,
        decode=decode_event,
        engine=engine,
        settings=settings,
        metrics=metrics,
        accept=only_when("claim-status-changed", to_status={"voided"}),
    )
    await ensure_topics(settings, {consumer.retry_topic: {}, consumer.dead_letter_topic: {}})

    def status(n: int, to: str, *, event_id: str | None = None) -> tuple[bytes, list[tuple[str, bytes]]]:
        r = encode(f.claim_status_changed(n, to_status=to), source="s", prefix="", event_id=event_id)
        return r.value, list(r.headers)

    sent = [status(n, to) for n, to in enumerate(["accepted", "voided", "paid", "submitted"], start=1)]
    sent.append((b"{broken", status(5, "paid")[1]))  # skipped: never decoded
    sent.append((b"{broken", status(6, "voided", event_id="broken-void")[1]))  # dead-lettered
    older_value, older_headers = status(7, "paid")
    sent.append((older_value, [(k, v) for k, v in older_headers if k != "ce_tostatus"]))  # applied
    raw = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await raw.start()
    for value, headers in sent:
        await raw.send_and_wait(topic, value, key=b"pat", headers=headers)
    await raw.stop()

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()

    async def all_committed() -> bool:
        offsets = await admin.list_consumer_group_offsets(settings.service_name)
        return any(tp.topic == topic and o.offset == len(sent) for tp, o in offsets.items())

    try:
        await wait_for(all_committed)
    finally:
        stop.set()
        await asyncio.gather(task)
        await admin.close()
    assert seen == [f.claim_status_changed(2).claim_id, f.claim_status_changed(7).claim_id]
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(inbox.c.event_id))).all()
        letters = (
            await conn.execute(sa.select(outbox).where(outbox.c.topic == consumer.dead_letter_topic))
        ).all()
    assert [dict(letter.headers).get("ce_id") for letter in letters] == ["broken-void"]
    assert len(rows) == 2  # the void and the record without the attribute; skipped ones leave no row
    skipped = metrics.registry.get_sample_value(
        "rcm_events_total", {"consumer": settings.service_name, "topic": topic, "outcome": "skipped"}
    )
    assert skipped == 4  # accepted, paid, submitted and the broken "paid"
    await engine.dispose()
