"""The AsyncAPI document of every topic, generated from the catalog with FastStream.

The committed ``libs/events/asyncapi.json`` is the published contract; a test fails
when it drifts from the code (regenerate with ``rcm events asyncapi``).

FastStream documents channels and payloads from publishers declared on a broker. One
publisher per catalogued topic describes the whole system; the CloudEvents headers and
the record key, which FastStream does not describe, are added to every message here.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from rcm.events.catalog import CATALOG

__all__ = ["DOCUMENT_PATH", "asyncapi_document", "asyncapi_json", "build_broker"]

DOCUMENT_PATH = Path(__file__).resolve().parents[3] / "asyncapi.json"
"""Where the committed document lives in the source tree (``libs/events/asyncapi.json``)."""

_HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 binary-mode attributes and W3C trace context.",
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0", "description": "CloudEvents version."},
        "ce_id": {"type": "string", "description": "Unique event id; consumers deduplicate on it."},
        "ce_source": {"type": "string", "description": "Producer, e.g. /rcm/claims."},
        "ce_type": {"type": "string", "description": "rcm.<event-name>.v<version>."},
        "ce_time": {"type": "string", "format": "date-time", "description": "When the event happened."},
        "ce_subject": {"type": "string", "description": "The partition key: an opaque id, never PHI."},
        "content-type": {"type": "string", "const": "application/json", "description": "Body format."},
        "traceparent": {"type": "string", "description": "W3C trace context parent."},
        "tracestate": {"type": "string", "description": "W3C trace context vendor state."},
    },
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "content-type"],
}


def build_broker(bootstrap: str = "localhost:9092", prefix: str = "") -> KafkaBroker:
    """A broker with a publisher for every catalogued topic (used only to describe them)."""
    broker = KafkaBroker(bootstrap, description="Kafka cluster of the revenue-cycle engine.")
    for spec in CATALOG:
        broker.publisher(
            spec.topic(prefix),
            schema=spec.model,
            title=spec.name,
            description=(
                f"{spec.description} Type {spec.type}; key {spec.key}; "
                f"{'compacted' if spec.compacted else 'retained'}; producers: {', '.join(spec.producers)}."
            ),
        )
    return broker


def asyncapi_document(prefix: str = "") -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a JSON-compatible dict."""
    spec = AsyncAPI(
        build_broker(prefix=prefix),
        title="rcm events",
        version=version("rcm-events"),
        description=(
            "Event contracts of the behavioural-health revenue-cycle engine. Bodies are JSON; "
            "CloudEvents attributes travel in Kafka headers (binary content mode)."
        ),
    ).to_specification()
    document: dict[str, Any] = spec.to_jsonable()
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["CloudEventHeaders"] = _HEADERS_SCHEMA
    by_name = {item.name: item for item in CATALOG}
    for name, message in components.get("messages", {}).items():
        message["headers"] = {"$ref": "#/components/schemas/CloudEventHeaders"}
        event_spec = by_name.get(name.split(":")[0])
        if event_spec is not None and event_spec.attributes:
            extensions = {
                event_spec.attribute_header(f): {
                    "type": "string",
                    "description": f"CloudEvents extension attribute: the body's {f}, for filtering.",
                }
                for f in event_spec.attributes
            }
            message["headers"] = {"allOf": [message["headers"], {"type": "object", "properties": extensions}]}
        if event_spec is not None:
            message["bindings"] = {
                "kafka": {
                    "key": {"type": "string", "description": f"The {event_spec.key} of the event."},
                    "bindingVersion": "0.5.0",
                }
            }
    return document


def asyncapi_json(prefix: str = "") -> str:
    """The document as stable, indented JSON text (ends with a newline)."""
    return json.dumps(asyncapi_document(prefix), indent=2, sort_keys=True) + "\n"
