"""The one event envelope: CloudEvents 1.0 in binary content mode over Kafka.

A record carries the event body (the pydantic model as JSON) as its value, the
partition key from the catalog as its key, and these headers::

    ce_specversion  1.0
    ce_id           unique event id (a UUID unless the producer supplies one)
    ce_source       URI reference of the producer, e.g. /rcm/claims
    ce_type         rcm.<event-name>.v<version>
    ce_time         RFC 3339 time the event happened
    ce_subject      the partition key: an opaque entity/patient id, never PHI
    ce_<attribute>  extension attributes the catalog names for the type (``ce_tostatus`` of a
                    claim-status-changed), for consumers that filter without decoding
    content-type    application/json
    traceparent     W3C trace context, when the producer is inside a trace
    tracestate      W3C vendor trace state, when present

:func:`encode` builds a record for a producer; :func:`decode` turns a consumed record
back into the typed model or raises :class:`~rcm.events.errors.InvalidEvent`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from rcm.events.catalog import EventSpec, spec_for, spec_for_type
from rcm.events.errors import InvalidEvent, InvalidReason, UnknownEventType
from rcm.events.models import Event

__all__ = [
    "CONTENT_TYPE",
    "SPECVERSION",
    "Envelope",
    "HeadersLike",
    "OutgoingRecord",
    "ReceivedEvent",
    "TraceContext",
    "build_headers",
    "decode",
    "encode",
    "partition_key",
    "serialize",
]

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

HeadersLike = Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]
"""Kafka headers as aiokafka gives them (pairs of name and bytes) or as a mapping."""


@dataclass(frozen=True, slots=True)
class TraceContext:
    """W3C trace context carried in the ``traceparent`` and ``tracestate`` headers."""

    traceparent: str
    tracestate: str | None = None

    def __post_init__(self) -> None:
        if not _TRACEPARENT.match(self.traceparent) or self.traceparent.startswith("ff"):
            raise ValueError("traceparent is not a W3C version-trace-parent-flags value")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The CloudEvents attributes of one event."""

    id: str
    source: str
    type: str
    time: datetime | None
    subject: str | None
    specversion: str = SPECVERSION
    trace: TraceContext | None = None


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """A record ready for a Kafka producer."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A consumed record turned back into its typed event."""

    envelope: Envelope
    event: Event
    spec: EventSpec


def partition_key(event: Event) -> str:
    """The catalog's partition key of ``event`` (an opaque id)."""
    return spec_for(event).key_of(event)


def serialize(event: Event) -> bytes:
    """The JSON body of ``event`` (money as strings, times in RFC 3339)."""
    return event.model_dump_json().encode()


def build_headers(
    event: Event,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    trace: TraceContext | None = None,
) -> list[tuple[str, bytes]]:
    """CloudEvents (binary mode) and trace-context headers for ``event``."""
    spec = spec_for(event)
    if not source:
        raise ValueError("source is required")
    when = time or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    headers = [
        ("ce_specversion", SPECVERSION),
        ("ce_id", event_id or str(uuid.uuid4())),
        ("ce_source", source),
        ("ce_type", spec.type),
        ("ce_time", when.isoformat()),
        ("ce_subject", spec.key_of(event)),
        *spec.attributes_of(event),
        ("content-type", CONTENT_TYPE),
    ]
    if trace is not None:
        headers.append(("traceparent", trace.traceparent))
        if trace.tracestate:
            headers.append(("tracestate", trace.tracestate))
    return [(name, value.encode()) for name, value in headers]


def encode(
    event: Event,
    *,
    source: str,
    prefix: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    trace: TraceContext | None = None,
) -> OutgoingRecord:
    """Topic, key, value and headers of ``event`` (``prefix`` defaults to ``RCM_TOPIC_PREFIX``)."""
    spec = spec_for(event)
    return OutgoingRecord(
        topic=spec.topic(prefix),
        key=spec.key_of(event).encode(),
        value=serialize(event),
        headers=tuple(build_headers(event, source=source, event_id=event_id, time=time, trace=trace)),
    )


def _header_map(headers: HeadersLike) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for name, raw in pairs:
        try:
            value = raw.decode() if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise InvalidEvent(InvalidReason.BAD_ATTRIBUTE, f"header {name} is not UTF-8") from None
        result[name.lower()] = value
    return result


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise InvalidEvent(InvalidReason.MISSING_ATTRIBUTE, f"header {name} is missing")
    return value


def _trace(headers: Mapping[str, str]) -> TraceContext | None:
    parent = headers.get("traceparent")
    if parent is None:
        return None
    try:
        return TraceContext(parent, headers.get("tracestate") or None)
    except ValueError:
        return None  # W3C: an invalid traceparent is ignored and a new trace starts


def decode(value: bytes | None, headers: HeadersLike) -> ReceivedEvent:
    """Parse a consumed record into its typed event.

    Raises :class:`InvalidEvent` for missing or unsupported CloudEvents attributes, an
    unknown type, an empty body, malformed JSON or a schema violation.
    """
    attrs = _header_map(headers)
    event_id = _required(attrs, "ce_id")
    source = _required(attrs, "ce_source")
    ce_type = _required(attrs, "ce_type")
    specversion = _required(attrs, "ce_specversion")
    if specversion != SPECVERSION:
        raise InvalidEvent(InvalidReason.UNSUPPORTED_SPECVERSION, f"specversion {specversion!r} is not 1.0")
    content_type = attrs.get("content-type", CONTENT_TYPE).split(";")[0].strip().lower()
    if content_type != CONTENT_TYPE:
        raise InvalidEvent(
            InvalidReason.UNSUPPORTED_CONTENT_TYPE, f"content-type {content_type!r} is not {CONTENT_TYPE}"
        )
    try:
        spec = spec_for_type(ce_type)
    except UnknownEventType:
        raise InvalidEvent(
            InvalidReason.UNKNOWN_TYPE, f"unknown event type {ce_type!r}", event_type=ce_type
        ) from None
    time: datetime | None = None
    if raw_time := attrs.get("ce_time"):
        try:
            time = datetime.fromisoformat(raw_time)
        except ValueError:
            raise InvalidEvent(
                InvalidReason.BAD_ATTRIBUTE, "ce_time is not an RFC 3339 time", event_type=ce_type
            ) from None
        if time.tzinfo is None:
            raise InvalidEvent(InvalidReason.BAD_ATTRIBUTE, "ce_time has no zone", event_type=ce_type)
    if not value:
        raise InvalidEvent(InvalidReason.EMPTY_BODY, "the record has no value", event_type=ce_type)
    try:
        event = spec.model.model_validate_json(value)
    except ValidationError as exc:
        raise _invalid(exc, ce_type) from None
    envelope = Envelope(
        id=event_id,
        source=source,
        type=ce_type,
        time=time,
        subject=attrs.get("ce_subject"),
        specversion=specversion,
        trace=_trace(attrs),
    )
    return ReceivedEvent(envelope=envelope, event=event, spec=spec)


def _invalid(exc: ValidationError, ce_type: str) -> InvalidEvent:
    # Only locations and error kinds: input values may be PHI.
    details = exc.errors(include_input=False, include_url=False, include_context=False)
    if any(error["type"] == "json_invalid" for error in details):
        return InvalidEvent(InvalidReason.BAD_JSON, "the value is not valid JSON", event_type=ce_type)
    errors = [
        f"{'.'.join(str(part) for part in error['loc']) or '<body>'}: {error['type']}" for error in details
    ]
    return InvalidEvent(
        InvalidReason.SCHEMA_VIOLATION,
        f"{len(errors)} schema violation(s): " + "; ".join(errors[:10]),
        event_type=ce_type,
        errors=errors,
    )
