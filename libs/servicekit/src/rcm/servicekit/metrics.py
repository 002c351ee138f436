"""The runtime's Prometheus metrics. Labels are service, consumer, topic and outcome: never PHI."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["RuntimeMetrics"]


class RuntimeMetrics:
    """One set of runtime metrics in its own registry (one per service process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "rcm_events_total",
            "Records handled, by outcome (processed, duplicate, retried, dead_lettered, forwarded, skipped).",
            ["consumer", "topic", "outcome"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "rcm_handler_batch_seconds",
            "Time to apply one batch: decode, inbox, handler, outbox, commit.",
            ["consumer"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.batch_size = Histogram(
            "rcm_handler_batch_records",
            "Records per applied batch.",
            ["consumer"],
            buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 5000),
            registry=r,
        )
        self.retries = Counter(
            "rcm_retries_total",
            "In-place retries of a batch after a failure.",
            ["consumer", "kind"],
            registry=r,
        )
        self.dead_letters = Counter(
            "rcm_dead_letters_total",
            "Records moved to the dead-letter topic.",
            ["consumer", "topic"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "rcm_consumer_lag",
            "Records behind the partition's end.",
            ["consumer", "topic", "partition"],
            registry=r,
        )
        self.outbox_pending = Gauge("rcm_outbox_pending", "Outbox rows not yet published.", registry=r)
        self.outbox_age = Gauge(
            "rcm_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row.", registry=r
        )
        self.published = Counter("rcm_outbox_published_total", "Records published by the relay.", registry=r)
