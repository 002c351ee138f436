"""Inspecting and re-driving dead-letter topics (``rcm dlt list|replay TOPIC``).

A dead letter keeps the original record's key, value and headers, plus the
runtime's headers: original topic, partition and offset, attempt count, error
kind and error. Replaying sends it to the consumer's retry topic, due at once,
so only the consumer that failed sees it again; its inbox makes a second replay
of the same record a no-op.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from rcm.servicekit import messages as h
from rcm.servicekit.settings import ServiceSettings

__all__ = ["DeadLetter", "list_dead_letters", "replay_dead_letters"]


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        return h.header(self.headers, name)

    def summary(self) -> dict[str, object]:
        """What is safe to show an operator: coordinates, ids, types and the error; no payload."""
        return {
            "partition": self.partition,
            "offset": self.offset,
            "event_id": self.header("ce_id"),
            "type": self.header("ce_type"),
            "original_topic": self.header(h.ORIGINAL_TOPIC),
            "original_partition": self.header(h.ORIGINAL_PARTITION),
            "original_offset": self.header(h.ORIGINAL_OFFSET),
            "consumer": self.header(h.CONSUMER),
            "attempt": self.header(h.ATTEMPT),
            "error_kind": self.header(h.ERROR_KIND),
            "error": self.header(h.ERROR),
        }


async def list_dead_letters(
    settings: ServiceSettings, topic: str, *, timeout_s: float = 5.0
) -> list[DeadLetter]:
    """Every record currently in a dead-letter topic (read without a consumer group)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        **settings.kafka_security.client_kwargs(),
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[DeadLetter] = []
        async with asyncio.timeout(timeout_s):
            while True:
                positions = [await consumer.position(tp) for tp in tps]
                if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                    break
                batch = await consumer.getmany(timeout_ms=200)
                for msgs in batch.values():
                    out.extend(
                        DeadLetter(m.partition, m.offset, m.key, m.value or b"", tuple(m.headers or ()))
                        for m in msgs
                    )
        return sorted(out, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


def _consumer_name(dead_letter_topic: str, settings: ServiceSettings) -> str:
    name = dead_letter_topic.removeprefix(f"{settings.topic_prefix}." if settings.topic_prefix else "")
    if not name.endswith(".dlt"):
        raise ValueError(f"{dead_letter_topic!r} is not a dead-letter topic (<consumer>.dlt)")
    return name.removesuffix(".dlt")


async def replay_dead_letters(
    settings: ServiceSettings,
    topic: str,
    *,
    offsets: set[tuple[int, int]] | None = None,
    event_ids: set[str] | None = None,
) -> int:
    """Send dead letters (all, or those selected) back through their consumer's retry topic."""
    retry_topic = settings.topic(f"{_consumer_name(topic, settings)}.retry")
    letters = await list_dead_letters(settings, topic)
    chosen = [
        d
        for d in letters
        if (offsets is None or (d.partition, d.offset) in offsets)
        and (event_ids is None or d.header("ce_id") in event_ids)
    ]
    if not chosen:
        return 0
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_idempotence=True,
        acks="all",
        **settings.kafka_security.client_kwargs(),
    )
    await producer.start()
    try:
        now = str(int(time.time() * 1000)).encode()
        futures = []
        for d in chosen:
            keep = [(k, v) for k, v in d.headers if k not in (h.ERROR, h.ERROR_KIND, h.ATTEMPT, h.DUE_MS)]
            headers = [*keep, (h.ATTEMPT, b"0"), (h.DUE_MS, now), ("x-rcm-replayed-from", topic.encode())]
            futures.append(await producer.send(retry_topic, value=d.value, key=d.key, headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(chosen)
