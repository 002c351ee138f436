"""One settings object per service, read from the environment (``RCM_`` prefix).

Secrets (Kafka SASL password, database password inside the URL) come from the
environment only and are kept as ``SecretStr`` so that they never appear in a
repr, a log line or an error message.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["KafkaSecurity", "ServiceSettings"]


class KafkaSecurity(BaseSettings):
    """TLS and SASL for Kafka: configuration, not code changes."""

    model_config = SettingsConfigDict(env_prefix="RCM_KAFKA_", extra="ignore")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def client_kwargs(self) -> dict[str, object]:
        """Keyword arguments for aiokafka clients."""
        kwargs: dict[str, object] = {"security_protocol": self.security_protocol}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            kwargs["ssl_context"] = create_ssl_context(
                cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
            )
        if self.security_protocol.startswith("SASL"):
            kwargs["sasl_mechanism"] = self.sasl_mechanism or "PLAIN"
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        return kwargs


class ServiceSettings(BaseSettings):
    """What every service reads at start-up. Services subclass it for their own settings."""

    model_config = SettingsConfigDict(env_prefix="RCM_", extra="ignore")

    service_name: str = Field("rcm", description="Consumer group, outbox owner and telemetry service name.")
    kafka_bootstrap: str = Field("127.0.0.1:19092", description="Kafka bootstrap servers, comma separated.")
    topic_prefix: str = Field(
        "", description="Environment prefix for every topic name: 'staging' gives 'staging.claim-submitted'."
    )
    database_url: SecretStr = Field(
        SecretStr("postgresql+psycopg://postgres@127.0.0.1:55432/rcm_test"),
        description="SQLAlchemy URL of the service's own database (postgresql+psycopg://...).",
    )
    db_pool_size: int = 5

    batch_max_records: int = Field(500, description="Records taken from Kafka per batch and transaction.")
    batch_timeout_ms: int = Field(
        250,
        description="Longest wait of a poll when no record is buffered (it returns as soon as records"
        " arrive): how often an idle consumer looks at its paused retry partitions and at the stop signal.",
    )
    batch_linger_ms: int = Field(
        0,
        description=(
            "After the first records of a batch arrive, how long to keep collecting more before"
            " applying them (0: apply what the first poll returned). Fewer, larger transactions"
            " for that much latency per hop."
        ),
    )
    retry_in_place_attempts: int = Field(3, description="Attempts of a failing batch before it is split.")
    retry_in_place_max_wait_s: float = 2.0
    retry_delays_s: list[float] = Field(
        default_factory=lambda: [5.0, 30.0, 300.0],
        description="Delay before each pass through the retry topic; after the last, dead letters.",
    )

    relay_batch_size: int = 1000
    relay_poll_interval_s: float = Field(
        0.2, description="Pause between outbox polls while they find rows (commits wake the relay at once)."
    )
    relay_idle_poll_max_s: float = Field(
        0.5,
        description="Longest pause between outbox polls once they keep finding nothing. With several"
        " replicas only one relays, and the rows the others commit wait for its next poll: this"
        " bounds that wait when it is idle.",
    )
    outbox_retention_hours: float = Field(
        0.0,
        description="How long published outbox rows are kept, marked sent. 0 (the default) deletes"
        " each row once the broker has acknowledged it: the topic holds the record, and the"
        " database does less work.",
    )
    inbox_retention_days: float = Field(
        35.0,
        description="How long the inbox remembers an applied event id. Keep it longer than the"
        " topics' retention (30 days): a record redelivered after its id was forgotten would be"
        " applied again.",
    )

    startup_timeout_s: float = Field(
        300.0, description="How long start-up waits for the database and broker."
    )
    http_host: str = "0.0.0.0"
    http_port: int = Field(8080, description="Port of /health, /ready and /metrics; 0 disables the server.")
    log_level: str = "INFO"
    otlp_endpoint: str | None = Field(None, description="OTLP/HTTP traces endpoint; unset disables export.")

    kafka_security: KafkaSecurity = Field(default_factory=KafkaSecurity)

    def topic(self, name: str) -> str:
        """A topic name with the environment prefix."""
        return f"{self.topic_prefix}.{name}" if self.topic_prefix else name

    @property
    def retry_topic(self) -> str:
        return self.topic(f"{self.service_name}.retry")

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(f"{self.service_name}.dlt")
