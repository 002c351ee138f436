"""OpenTelemetry: traces follow an event across services through Kafka headers (W3C trace context)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

__all__ = ["configure_tracing", "extract_context", "inject_context", "tracer"]


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


def configure_tracing(service: str, otlp_endpoint: str | None = None, **resource: Any) -> TracerProvider:
    """Install a tracer provider for the process; export over OTLP/HTTP when an endpoint is set."""
    provider = TracerProvider(resource=Resource.create({"service.name": service, **resource}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    return provider
