"""OpenTelemetry: traces follow an event across services through Kafka headers (W3C trace context).

Spans leave the process through ``RedactingSpanProcessor``: attributes whose names
denote PHI are masked, and text attributes, event attributes (an exception's
message and stack trace) and status descriptions go through the same text
redactor as log lines. ``configure_tracing`` installs it in front of the exporter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Status

from rcm.servicekit.logs import MASK, PHI_FIELDS, redact_text

__all__ = [
    "RedactingSpanProcessor",
    "configure_tracing",
    "extract_context",
    "inject_context",
    "redact_attributes",
    "tracer",
    "tracer_provider",
]

# Namespaces of the OpenTelemetry semantic conventions: their keys name technical
# things (``messaging.destination.name``, ``service.name``), not people.
_SEMCONV_NAMESPACES = frozenset(
    {
        "client", "code", "db", "error", "exception", "host", "http", "messaging", "net", "network",
        "os", "otel", "peer", "process", "rpc", "server", "service", "telemetry", "thread", "url",
        "user_agent",
    }
)  # fmt: skip


class _HeaderGetter(Getter[Sequence[tuple[str, bytes]]]):
    def get(self, carrier: Sequence[tuple[str, bytes]], key: str) -> list[str] | None:
        values = [v.decode("latin-1") for k, v in carrier if k == key and v is not None]
        return values or None

    def keys(self, carrier: Sequence[tuple[str, bytes]]) -> list[str]:
        return [k for k, _ in carrier]


class _HeaderSetter(Setter[list[tuple[str, bytes]]]):
    def set(self, carrier: list[tuple[str, bytes]], key: str, value: str) -> None:
        carrier[:] = [(k, v) for k, v in carrier if k != key]
        carrier.append((key, value.encode("latin-1")))


_getter = _HeaderGetter()
_setter = _HeaderSetter()


def tracer() -> trace.Tracer:
    return trace.get_tracer("rcm.servicekit")


def inject_context(headers: list[tuple[str, bytes]], ctx: otel_context.Context | None = None) -> None:
    """Write ``traceparent``/``tracestate`` for ``ctx`` (default: the current context) into headers."""
    propagate.inject(headers, context=ctx, setter=_setter)


def extract_context(headers: Sequence[tuple[str, bytes]]) -> otel_context.Context:
    return propagate.extract(headers, getter=_getter)


def _is_phi_key(key: str) -> bool:
    parts = key.lower().split(".")
    return parts[-1] in PHI_FIELDS and (len(parts) == 1 or parts[0] not in _SEMCONV_NAMESPACES)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return tuple(redact_text(v) if isinstance(v, str) else v for v in value)
    return value


def redact_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Span or event attributes with PHI-named keys masked and PHI-looking text masked."""
    return {k: MASK if _is_phi_key(k) else _redact_value(v) for k, v in (attributes or {}).items()}


class RedactingSpanProcessor(SpanProcessor):
    """Hands the wrapped processor (and so its exporter) a copy of each span without PHI."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner

    def on_start(self, span: Any, parent_context: otel_context.Context | None = None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        status = span.status
        if status.description:
            status = Status(status.status_code, redact_text(status.description))
        self.inner.on_end(
            ReadableSpan(
                name=redact_text(span.name),
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                attributes=redact_attributes(span.attributes),
                events=[Event(e.name, redact_attributes(e.attributes), e.timestamp) for e in span.events],
                links=span.links,
                kind=span.kind,
                status=status,
                start_time=span.start_time,
                end_time=span.end_time,
                instrumentation_scope=span.instrumentation_scope,
            )
        )

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


def configure_tracing(service: str, otlp_endpoint: str | None = None, **resource: Any) -> TracerProvider:
    """Install :func:`tracer_provider`'s provider for the process."""
    provider = tracer_provider(service, otlp_endpoint, **resource)
    trace.set_tracer_provider(provider)
    return provider


def tracer_provider(service: str, otlp_endpoint: str | None = None, **resource: Any) -> TracerProvider:
    """A tracer provider that exports over OTLP/HTTP when an endpoint is set.

    Every span passes through ``RedactingSpanProcessor`` before it is exported. Without an
    endpoint nothing would read the spans, so none is recorded (``ALWAYS_OFF``): each still has
    its trace and span ids, so the trace context still travels in the events' headers, at a
    quarter of a recorded span's cost.
    """
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, **resource}),
        sampler=None if otlp_endpoint else ALWAYS_OFF,
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            RedactingSpanProcessor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
        )
    return provider
