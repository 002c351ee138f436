"""The real Kafka broker does what the services rely on: idempotence, transactions, groups, partitions."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

pytestmark = pytest.mark.kafka


async def _consume_all(bootstrap: str, topic: str, *, isolation: str, expect: int, timeout: float = 20):
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level=isolation,
    )
    await consumer.start()
    records = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < expect:
                batch = await consumer.getmany(timeout_ms=500)
                for msgs in batch.values():
                    records.extend(msgs)
        # anything beyond what we expect would show up now
        extra = await consumer.getmany(timeout_ms=1000)
        records.extend(m for msgs in extra.values() for m in msgs)
    finally:
        await consumer.stop()
    return records


async def test_topic_created_with_partitions(kafka_bootstrap: str, kafka_topics) -> None:
    topic = await kafka_topics(partitions=6)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        # CreateTopics returns once the controller has the topic; the broker's metadata follows
        # shortly after (UNKNOWN_TOPIC_OR_PARTITION, code 3, until then)
        async with asyncio.timeout(15):
            while True:
                (description,) = await admin.describe_topics([topic])
                if description["error_code"] != 3:
                    break
                await asyncio.sleep(0.1)
    finally:
        await admin.close()
    assert description["error_code"] == 0
    assert len(description["partitions"]) == 6


async def test_idempotent_producer_writes_each_record_once(kafka_bootstrap: str, kafka_topics) -> None:
    topic = await kafka_topics(partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(topic, key=f"patient-{i % 7}".encode(), value=f"event-{i}".encode())
            for i in range(300)
        ]
        metadata = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    assert {m.partition for m in metadata} <= {0, 1, 2}
    records = await _consume_all(kafka_bootstrap, topic, isolation="read_uncommitted", expect=300)
    values = [r.value.decode() for r in records]
    assert sorted(values) == sorted(f"event-{i}" for i in range(300))
    # one key stays on one partition, in order
    by_key: dict[bytes, list[tuple[int, int]]] = {}
    for r in records:
        by_key.setdefault(r.key, []).append((r.partition, int(r.value.decode().split("-")[1])))
    for pairs in by_key.values():
        assert len({p for p, _ in pairs}) == 1
        numbers = [n for _, n in pairs]
        assert numbers == sorted(numbers)


async def test_transaction_with_offsets_is_read_committed(kafka_bootstrap: str, kafka_topics) -> None:
    source = await kafka_topics(partitions=1, prefix="src")
    sink = await kafka_topics(partitions=1, prefix="sink")
    group = f"g-{uuid.uuid4().hex[:8]}"

    seed = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await seed.start()
    for i in range(5):
        await seed.send_and_wait(source, f"in-{i}".encode())
    await seed.stop()

    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=f"tx-{uuid.uuid4().hex[:8]}"
    )
    await consumer.start()
    await producer.start()
    try:
        batch = await consumer.getmany(timeout_ms=10000, max_records=5)
        records = [m for msgs in batch.values() for m in msgs]
        assert len(records) == 5
        tp = TopicPartition(source, 0)

        # an aborted transaction leaves nothing visible to read_committed readers
        await producer.begin_transaction()
        await producer.send(sink, b"will-abort")
        await producer.abort_transaction()

        async with producer.transaction():
            for r in records:
                await producer.send(sink, b"out-" + r.value)
            await producer.send_offsets_to_transaction({tp: records[-1].offset + 1}, group)
    finally:
        await producer.stop()
        await consumer.stop()

    committed_view = await _consume_all(kafka_bootstrap, sink, isolation="read_committed", expect=5)
    values = [r.value for r in committed_view]
    assert b"will-abort" not in values
    assert values == [b"out-in-%d" % i for i in range(5)]

    # the group's offset moved with the transaction
    check = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await check.start()
    try:
        assert await check.committed(TopicPartition(source, 0)) == 5
    finally:
        await check.stop()


async def test_consumer_group_rebalances_between_two_members(kafka_bootstrap: str, kafka_topics) -> None:
    topic = await kafka_topics(partitions=4)
    group = f"g-{uuid.uuid4().hex[:8]}"

    def member() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            session_timeout_ms=10000,
            heartbeat_interval_ms=500,
        )

    async def assigned(consumer: AIOKafkaConsumer, count: int) -> set[int]:
        async with asyncio.timeout(30):
            while True:
                await consumer.getmany(timeout_ms=200)
                parts = {tp.partition for tp in consumer.assignment()}
                if len(parts) == count:
                    return parts

    first = member()
    await first.start()
    try:
        assert await assigned(first, 4) == {0, 1, 2, 3}
        second = member()
        await second.start()
        try:
            a, b = await asyncio.gather(assigned(first, 2), assigned(second, 2))
            assert a | b == {0, 1, 2, 3}
            assert not a & b
        finally:
            await second.stop()
        # the survivor takes every partition back
        assert await assigned(first, 4) == {0, 1, 2, 3}
    finally:
        await first.stop()
