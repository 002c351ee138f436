"""Event contracts of the revenue-cycle engine: models, catalog, envelope, AsyncAPI.

* :mod:`rcm.events.models` - the pydantic body of every event.
* :mod:`rcm.events.catalog` - topic, key, compaction and version of each event type.
* :mod:`rcm.events.envelope` - CloudEvents-in-Kafka-headers encoding and decoding.
* :mod:`rcm.events.evolution` - schema snapshots and the compatibility rules.
* :mod:`rcm.events.asyncapi` - the AsyncAPI document generated with FastStream.
* :mod:`rcm.events.testing` - synthetic events (no PHI) for tests and demos.
"""

from rcm.events.catalog import (
    CATALOG,
    EventSpec,
    all_specs,
    spec_for,
    spec_for_name,
    spec_for_topic,
    spec_for_type,
    topic_prefix,
)
from rcm.events.envelope import (
    Envelope,
    OutgoingRecord,
    ReceivedEvent,
    TraceContext,
    build_headers,
    decode,
    encode,
    partition_key,
    serialize,
)
from rcm.events.errors import EventError, InvalidEvent, InvalidReason, UnknownEventType
from rcm.events.models import Event, EventModel

__all__ = [
    "CATALOG",
    "Envelope",
    "Event",
    "EventError",
    "EventModel",
    "EventSpec",
    "InvalidEvent",
    "InvalidReason",
    "OutgoingRecord",
    "ReceivedEvent",
    "TraceContext",
    "UnknownEventType",
    "all_specs",
    "build_headers",
    "decode",
    "encode",
    "partition_key",
    "serialize",
    "spec_for",
    "spec_for_name",
    "spec_for_topic",
    "spec_for_type",
    "topic_prefix",
]
