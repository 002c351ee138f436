"""Kafka records as the runtime sees them: what comes in and what goes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["Delivered", "Headers", "OutgoingMessage", "Record", "header"]

Headers = Sequence[tuple[str, bytes]]
T = TypeVar("T")

# Headers the runtime adds to records it moves to the retry and dead-letter topics.
ORIGINAL_TOPIC = "x-rcm-original-topic"
ORIGINAL_PARTITION = "x-rcm-original-partition"
ORIGINAL_OFFSET = "x-rcm-original-offset"
ATTEMPT = "x-rcm-attempt"
DUE_MS = "x-rcm-due-ms"
ERROR = "x-rcm-error"
ERROR_KIND = "x-rcm-error-kind"
CONSUMER = "x-rcm-consumer"
RUNTIME_HEADERS = frozenset(
    {ORIGINAL_TOPIC, ORIGINAL_PARTITION, ORIGINAL_OFFSET, ATTEMPT, DUE_MS, ERROR, ERROR_KIND, CONSUMER}
)


def header(headers: Headers, name: str) -> str | None:
    """The last value of a header as text, or None."""
    found: str | None = None
    for key, value in headers:
        if key == name:
            found = value.decode("utf-8", "replace") if value is not None else ""
    return found


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed Kafka record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = ()
    timestamp_ms: int = 0

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    @property
    def event_id(self) -> str:
        """The CloudEvents id (``ce_id``), or the record's first coordinates when it has none.

        A record moved to the retry topic, or replayed from dead letters, keeps its original
        coordinates in headers, so its id (and its inbox row) stays the same wherever it travels.
        """
        if event_id := self.header("ce_id"):
            return event_id
        partition = self.header(ORIGINAL_PARTITION) or str(self.partition)
        offset = self.header(ORIGINAL_OFFSET) or str(self.offset)
        return f"{self.source_topic}:{partition}:{offset}"

    @property
    def source_topic(self) -> str:
        """The topic the record was first published to (it differs for retried records)."""
        return self.header(ORIGINAL_TOPIC) or self.topic

    @property
    def attempt(self) -> int:
        return int(self.header(ATTEMPT) or 0)

    @property
    def due_ms(self) -> int:
        return int(self.header(DUE_MS) or 0)


@dataclass(frozen=True, slots=True)
class Delivered(Generic[T]):
    """A record and its decoded event, handed to a handler."""

    record: Record
    event: T
    trace_context: Any = None

    @property
    def event_id(self) -> str:
        return self.record.event_id


@dataclass(slots=True)
class OutgoingMessage:
    """A record to publish through the outbox."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
