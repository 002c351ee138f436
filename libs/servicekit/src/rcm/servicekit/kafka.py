"""Kafka clients configured from the service settings."""

from __future__ import annotations

import contextlib
import ssl
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from rcm.servicekit.settings import KafkaSecurity, ServiceSettings

__all__ = ["ensure_topics", "faststream_security", "make_broker", "make_producer"]


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


def faststream_security(security: KafkaSecurity) -> Any:
    """The same TLS and SASL settings as the aiokafka clients, as a FastStream security object."""
    from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

    protocol = security.security_protocol
    if protocol == "PLAINTEXT":
        return None
    ssl_context = cast("ssl.SSLContext | None", security.client_kwargs().get("ssl_context"))
    if protocol == "SSL":
        return BaseSecurity(ssl_context=ssl_context, use_ssl=True)
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}[
        security.sasl_mechanism or "PLAIN"
    ]
    return sasl(
        username=security.sasl_username or "",
        password=security.sasl_password.get_secret_value() if security.sasl_password else "",
        ssl_context=ssl_context,
        use_ssl=protocol == "SASL_SSL",
    )


def make_broker(settings: ServiceSettings):  # type: ignore[no-untyped-def]
    """A FastStream KafkaBroker with OpenTelemetry middleware, for simple subscribers and AsyncAPI.

    It connects with the service's TLS and SASL settings, like the runtime's own clients,
    and reads and writes the same W3C ``traceparent`` header.
    """
    from faststream.kafka import KafkaBroker
    from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

    return KafkaBroker(
        settings.kafka_bootstrap,
        middlewares=[KafkaTelemetryMiddleware()],
        client_id=settings.service_name,
        security=faststream_security(settings.kafka_security),
    )
