"""Kafka clients configured from the service settings."""

from __future__ import annotations

import contextlib

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from rcm.servicekit.settings import ServiceSettings

__all__ = ["ensure_topics", "make_broker", "make_producer"]


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """An idempotent producer (acks=all) that pipelines: callers send, then await the futures."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.service_name}-relay",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        **settings.kafka_security.client_kwargs(),
    )


async def ensure_topics(
    settings: ServiceSettings, topics: dict[str, dict[str, object]], *, partitions: int = 3
) -> None:
    """Create missing topics: ``{name: {"partitions": 3, "compacted": False, "retention_ms": ...}}``."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, **settings.kafka_security.client_kwargs()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = []
        for name, spec in topics.items():
            if name in existing:
                continue
            configs: dict[str, str] = {}
            if spec.get("compacted"):
                configs["cleanup.policy"] = "compact"
            if spec.get("retention_ms") is not None:
                configs["retention.ms"] = str(spec["retention_ms"])
            count = spec.get("partitions", partitions)
            new.append(
                NewTopic(
                    name=name,
                    num_partitions=int(count) if isinstance(count, int | str) else partitions,
                    replication_factor=1 if not spec.get("replication") else int(str(spec["replication"])),
                    topic_configs=configs,
                )
            )
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica created them meanwhile
                await admin.create_topics(new)
    finally:
        await admin.close()


def make_broker(settings: ServiceSettings):  # type: ignore[no-untyped-def]
    """A FastStream KafkaBroker with OpenTelemetry middleware, for simple subscribers and AsyncAPI."""
    from faststream.kafka import KafkaBroker
    from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

    return KafkaBroker(
        settings.kafka_bootstrap,
        middlewares=[KafkaTelemetryMiddleware()],
        client_id=settings.service_name,
    )
