"""Traces across a Kafka hop, PHI kept out of logs, probes and metrics, graceful shutdown."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rcm.servicekit import messages as h
from rcm.servicekit.consumer import BatchConsumer, dispatch
from rcm.servicekit.db import create_engine, outbox
from rcm.servicekit.errors import describe_error
from rcm.servicekit.http import ProbeServer
from rcm.servicekit.logs import JsonFormatter, RedactingFilter, redact
from rcm.servicekit.metrics import RuntimeMetrics
from rcm.servicekit.service import Service
from rcm.servicekit.telemetry import (
    RedactingSpanProcessor,
    extract_context,
    inject_context,
    redact_attributes,
    tracer_provider,
)
from rcm.servicekit.testing import (
    create_schema,
    decode,
    effects,
    ledger_events,
    ledger_handler,
    produce,
    read_topic,
    settings_for,
    wait_for,
)

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def _tracing() -> None:
    # spans reach the exporter through the redaction layer, as configure_tracing() wires it
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(RedactingSpanProcessor(SimpleSpanProcessor(_exporter)))


async def test_one_trace_spans_producer_and_consumer(kafka_bootstrap, kafka_topics, fresh_database) -> None:
    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    _exporter.clear()
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    with trace.get_tracer("test").start_as_current_span("session-completed publish") as parent:
        headers: list[tuple[str, bytes]] = [("ce_id", b"evt-trace-1")]
        inject_context(headers)
        await producer.send_and_wait(topic, b'{"n": 7}', key=b"p1", headers=headers)
    await producer.stop()
    trace_id = parent.get_span_context().trace_id

    consumer = BatchConsumer(
        name=settings.service_name,
        topics=[topic],
        handler=ledger_handler(emit_to="downstream"),
        decode=decode,
        engine=engine,
        settings=settings,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await wait_for(lambda: effects(engine))
    stop.set()
    await task

    spans = {s.name: s for s in _exporter.get_finished_spans()}
    consumed = spans[f"{topic} process"]
    assert consumed.context.trace_id == trace_id
    assert consumed.parent is not None and consumed.parent.span_id == parent.get_span_context().span_id
    assert consumed.kind == trace.SpanKind.CONSUMER
    # the event the handler emitted carries the same trace onwards, child of the consumer span
    async with engine.connect() as conn:
        (headers_row,) = (await conn.execute(outbox.select())).all()
    traceparent = dict(headers_row.headers)["traceparent"]
    assert traceparent.split("-")[1] == f"{trace_id:032x}"
    assert traceparent.split("-")[2] == f"{consumed.context.span_id:016x}"
    await engine.dispose()


def test_logs_keep_phi_out() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("claims"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.phi")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.warning(
        "eligibility failed for member born %s, contact jane.roe@example.org or 555-123-4567, ssn 123-45-6789",
        "1984-02-29",
        extra={
            "fields": {
                "claim_key": "C7Q2M4X9",
                "patient": {
                    "first_name": "Jane",
                    "last_name": "Roe",
                    "member_id": "SYN123456",
                    "dob": "19840229",
                },
                "note": "DMG*D8*19840229",
            }
        },
    )
    line = stream.getvalue()
    entry = json.loads(line)
    for phi in ("Jane", "Roe", "SYN123456", "1984-02-29", "19840229", "jane.roe@example.org", "555-123-4567",
                "123-45-6789"):  # fmt: skip
        assert phi not in line
    assert entry["claim_key"] == "C7Q2M4X9"  # opaque ids stay readable
    assert entry["patient"]["member_id"] == "[redacted]"


async def test_handlers_log_with_the_trace_and_keep_phi_out_of_logs_spans_and_metrics(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    """A handler that logs, traces and fails with PHI at hand: none of it leaves the process."""
    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, fresh_database, retry_in_place_attempts=2)
    engine = create_engine(fresh_database)
    await create_schema(engine)
    _exporter.clear()
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(JsonFormatter("eligibility"))
    capture.addFilter(RedactingFilter())
    loggers = [logging.getLogger("test.handler"), logging.getLogger("rcm.servicekit.consumer")]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.INFO)

    async def check_eligibility(tx, d) -> None:  # type: ignore[no-untyped-def]
        loggers[0].info(
            "checking eligibility for claim %s",
            "C7Q2M4X9",
            extra={"fields": {"member_id": "SYN998877", "first_name": "Jane", "claim_key": "C7Q2M4X9"}},
        )
        with trace.get_tracer("test").start_as_current_span(
            "payer lookup",
            attributes={
                "member_id": "SYN998877",
                "patient.first_name": "Jane",
                "rcm.note": "born 1984-02-29",
                "rcm.claim_key": "C7Q2M4X9",
            },
        ):
            raise RuntimeError("payer answered: subscriber born 1984-02-29, call 555-123-4567")

    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    with trace.get_tracer("test").start_as_current_span("coverage-updated publish") as parent:
        headers: list[tuple[str, bytes]] = [("ce_id", b"evt-phi-1")]
        inject_context(headers)
        await producer.send_and_wait(topic, b'{"n": 1}', key=b"pat-0001", headers=headers)
    await producer.stop()
    trace_id = f"{parent.get_span_context().trace_id:032x}"

    consumer = BatchConsumer(
        name=settings.service_name,
        topics=[topic],
        handler=dispatch({dict: check_eligibility}),
        decode=decode,
        engine=engine,
        settings=settings,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def moved_to_retry():  # type: ignore[no-untyped-def]
        async with engine.connect() as conn:
            return (await conn.execute(outbox.select())).all()

    try:
        (retry_row,) = await wait_for(moved_to_retry)
    finally:
        stop.set()
        await task
        for logger in loggers:
            logger.removeHandler(capture)
    await engine.dispose()

    phi = ("SYN998877", "Jane", "1984-02-29", "555-123-4567")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    handler_lines = [e for e in lines if e["logger"] == "test.handler"]
    failure_lines = [e for e in lines if e["logger"] == "rcm.servicekit.consumer" and "failed" in e["msg"]]
    assert len(handler_lines) == 2  # the first try and the in-place retry
    assert failure_lines, "the move to the retry topic is logged"
    consumer_spans = [s for s in _exporter.get_finished_spans() if s.name == f"{topic} process"]
    assert len(consumer_spans) == 2
    # the handler's lines carry the event's trace and the consumer span they ran in
    for entry, span in zip(handler_lines, consumer_spans, strict=True):
        assert entry["trace_id"] == trace_id
        assert entry["span_id"] == f"{span.context.span_id:016x}"
        assert entry["claim_key"] == "C7Q2M4X9" and entry["member_id"] == "[redacted]"
    assert all(e["trace_id"] == trace_id for e in failure_lines)
    # the consumer spans failed, and say so with the error's type only
    for span in consumer_spans:
        assert span.status.status_code == trace.StatusCode.ERROR
        assert span.status.description == "RuntimeError"
    lookups = [s for s in _exporter.get_finished_spans() if s.name == "payer lookup"]
    assert len(lookups) == 2
    for span in lookups:
        assert span.parent is not None and span.parent.span_id in {s.context.span_id for s in consumer_spans}
        assert span.attributes["rcm.claim_key"] == "C7Q2M4X9"
        assert span.attributes["member_id"] == "[redacted]"
        assert span.attributes["patient.first_name"] == "[redacted]"
        assert span.events and span.events[0].name == "exception"  # recorded, then redacted
    exported = json.dumps(
        [
            {
                "name": s.name,
                "attributes": dict(s.attributes or {}),
                "events": [{"name": e.name, **dict(e.attributes or {})} for e in s.events],
                "status": s.status.description,
            }
            for s in _exporter.get_finished_spans()
        ]
    )
    from prometheus_client import generate_latest

    metrics = generate_latest(consumer.metrics.registry).decode()
    assert 'outcome="retried"' in metrics  # the metrics did see the failure
    retry_error = dict(retry_row.headers)[h.ERROR]
    assert retry_error.startswith("RuntimeError")
    for text in (stream.getvalue(), exported, metrics, retry_error):
        for value in phi:
            assert value not in text


def test_without_an_exporter_spans_are_not_recorded_yet_the_trace_still_travels() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tracer = tracer_provider("test-service").get_tracer("test")
    span = tracer.start_span("t process", context=extract_context([("traceparent", parent.encode())]))
    assert not span.is_recording()
    ctx = span.get_span_context()
    assert ctx.is_valid and ctx.trace_id == int("4bf92f3577b34da6a3ce929d0e0e4736", 16)
    assert ctx.span_id != int("00f067aa0ba902b7", 16)  # a span of its own
    headers: list[tuple[str, bytes]] = []
    inject_context(headers, trace.set_span_in_context(span))
    assert dict(headers)["traceparent"].decode().split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    # a new trace (no parent) still gets ids to hand on
    root = tracer.start_span("first")
    assert root.get_span_context().is_valid and not root.is_recording()
    # with an endpoint, spans are recorded
    recording = tracer_provider("test-service", "http://127.0.0.1:9/v1/traces")
    try:
        assert recording.get_tracer("test").start_span("x").is_recording()
    finally:
        recording.shutdown()


def test_span_attribute_redaction_keeps_technical_names_and_masks_people() -> None:
    attributes = redact_attributes(
        {
            "messaging.destination.name": "coverage-updated",
            "service.name": "eligibility",
            "rcm.subscriber_name": "Roe, Jane",
            "address": "1 Main St",
            "rcm.dates": ["2025-03-03", "visit"],
            "messaging.kafka.offset": 7,
        }
    )
    assert attributes == {
        "messaging.destination.name": "coverage-updated",
        "service.name": "eligibility",
        "rcm.subscriber_name": "[redacted]",
        "address": "[redacted]",
        "rcm.dates": ("[redacted]", "visit"),
        "messaging.kafka.offset": 7,
    }


def test_error_descriptions_never_echo_invalid_input() -> None:
    from pydantic import BaseModel, ValidationError

    class Coverage(BaseModel):
        member_id: int

    with pytest.raises(ValidationError) as info:
        Coverage(member_id="SYN-PHI-0042")  # type: ignore[arg-type]
    text = describe_error(info.value)
    assert "member_id" in text and "SYN-PHI-0042" not in text
    assert redact({"name": "x", "ok": [{"dob": "y"}]}) == {
        "name": "[redacted]",
        "ok": [{"dob": "[redacted]"}],
    }


async def test_probe_server_answers_health_ready_and_metrics() -> None:
    metrics = RuntimeMetrics()
    metrics.dead_letters.labels("claims", "claims.dlt").inc()
    state = {"database": True, "broker": False}

    async def ready() -> dict[str, bool]:
        return dict(state)

    server = ProbeServer("127.0.0.1", 0, metrics.registry, ready)
    port = await server.start()

    async def get(path: str) -> tuple[int, str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        raw = (await reader.read()).decode()
        writer.close()
        return int(raw.split()[1]), raw.split("\r\n\r\n", 1)[1]

    assert (await get("/health"))[0] == 200
    status, body = await get("/ready")
    assert status == 503 and json.loads(body)["checks"]["broker"] is False
    state["broker"] = True
    assert (await get("/ready"))[0] == 200
    status, body = await get("/metrics")
    assert status == 200 and 'rcm_dead_letters_total{consumer="claims",topic="claims.dlt"} 1.0' in body
    await server.stop()


async def test_service_runs_probes_and_shuts_down_gracefully(
    kafka_bootstrap, kafka_topics, fresh_database
) -> None:
    source = await kafka_topics(partitions=2)
    sink = await kafka_topics(partitions=2)
    settings = settings_for(kafka_bootstrap, fresh_database, http_port=_free_port())
    engine = create_engine(fresh_database)
    await create_schema(engine)
    await engine.dispose()
    service = Service(settings)
    consumer = service.add_consumer(
        "ledger", topics=[source], handler=ledger_handler(emit_to=sink), decode=decode
    )
    runner = asyncio.create_task(service.run(install_signal_handlers=False))
    await asyncio.wait_for(consumer.ready.wait(), 30)
    checks = await service.readiness()
    assert checks == {"database": True, "broker": True, "consumers": True}
    reader, writer = await asyncio.open_connection("127.0.0.1", settings.http_port)
    writer.write(b"GET /ready HTTP/1.1\r\n\r\n")
    assert (await reader.read()).startswith(b"HTTP/1.1 200")
    writer.close()
    ids = await produce(kafka_bootstrap, source, ledger_events(40))

    async def applied():  # type: ignore[no-untyped-def]
        return len(await effects(service.engine)) == 40

    await wait_for(applied)
    # idle, the running service (consumer, relay with its lock, probes) holds no transaction
    # open: one left open would keep vacuum from removing any dead row of the database
    await asyncio.sleep(1.5)
    async with service.engine.connect() as conn:
        lingering = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start < now() - interval '1 second'"
            )
        )
    assert lingering == 0
    service.stop()
    await asyncio.wait_for(runner, 30)
    # the outbox drained before the process ended, and the offsets were committed
    out = await read_topic(kafka_bootstrap, sink, expect=40)
    assert sorted(m.headers[0][1].decode() for m in out) == sorted(f"out-{i}" for i in ids)
    from aiokafka import AIOKafkaConsumer, TopicPartition

    check = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id="ledger", enable_auto_commit=False)
    await check.start()
    committed = [await check.committed(TopicPartition(source, p)) or 0 for p in (0, 1)]
    await check.stop()
    assert sum(committed) == 40


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_REVISION = """
from rcm.servicekit.db import create_kit_tables

revision = "{rev}"
down_revision = {down}


def upgrade() -> None:
    {body}
"""


async def test_readiness_waits_for_migrations_at_head(kafka_bootstrap, fresh_database, tmp_path) -> None:
    from rcm.servicekit.db import upgrade

    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "env.py").write_text("from rcm.servicekit.db import run_alembic_env\n\nrun_alembic_env()\n")
    (migrations / "versions" / "0001_kit.py").write_text(
        _REVISION.format(rev="0001", down=None, body="create_kit_tables()")
    )
    service = Service(settings_for(kafka_bootstrap, fresh_database), migrations=migrations)
    try:
        checks = await service.readiness()
        assert checks["database"] and checks["broker"]
        assert checks["migrations"] is False  # a new database: nothing applied yet
        await upgrade(fresh_database, migrations)
        assert (await service.readiness())["migrations"] is True
        # a newer build brings a revision the database has not seen: not ready until it is applied
        (migrations / "versions" / "0002_more.py").write_text(
            _REVISION.format(rev="0002", down='"0001"', body="pass")
        )
        assert (await service.readiness())["migrations"] is False
        await upgrade(fresh_database, migrations)
        assert (await service.readiness())["migrations"] is True
    finally:
        await service.engine.dispose()


async def test_a_faststream_subscriber_continues_the_runtimes_trace(kafka_bootstrap, kafka_topics) -> None:
    """make_broker()'s subscribers read the same traceparent header the runtime writes."""
    from aiokafka import AIOKafkaProducer

    from rcm.servicekit.kafka import make_broker

    topic = await kafka_topics(partitions=1)
    settings = settings_for(kafka_bootstrap, "postgresql+psycopg://unused@127.0.0.1:1/unused")
    broker = make_broker(settings)
    seen: asyncio.Queue[tuple[int, int]] = asyncio.Queue()

    @broker.subscriber(topic, group_id=f"fs-{settings.service_name}", auto_offset_reset="earliest")
    async def on_record(body: dict[str, int]) -> None:
        ctx = trace.get_current_span().get_span_context()
        await seen.put((body["n"], ctx.trace_id))

    _exporter.clear()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    with trace.get_tracer("test").start_as_current_span("claim-submitted publish") as parent:
        headers: list[tuple[str, bytes]] = [("ce_id", b"evt-fs-1"), ("content-type", b"application/json")]
        inject_context(headers)
        await producer.send_and_wait(topic, b'{"n": 5}', key=b"pat-0001", headers=headers)
    await producer.stop()
    await broker.start()
    try:
        n, trace_id = await asyncio.wait_for(seen.get(), 30)
    finally:
        await broker.stop()
    assert n == 5
    assert trace_id == parent.get_span_context().trace_id
    consumer_spans = [
        s
        for s in _exporter.get_finished_spans()
        if s.kind == trace.SpanKind.CONSUMER and s.context.trace_id == trace_id
    ]
    assert consumer_spans and consumer_spans[0].parent is not None


@pytest.mark.parametrize(
    ("protocol", "mechanism"),
    [("SASL_SSL", "SCRAM-SHA-512"), ("SASL_PLAINTEXT", "PLAIN"), ("SSL", None), ("PLAINTEXT", None)],
)
def test_the_faststream_broker_connects_with_the_services_tls_and_sasl(
    protocol: str, mechanism: str | None
) -> None:
    from faststream.kafka.security import parse_security

    from rcm.servicekit.kafka import make_broker
    from rcm.servicekit.settings import KafkaSecurity, ServiceSettings

    security = KafkaSecurity(
        security_protocol=protocol,  # type: ignore[arg-type]
        sasl_mechanism=mechanism,  # type: ignore[arg-type]
        sasl_username="svc-claims" if mechanism else None,
        sasl_password="s3cret" if mechanism else None,  # type: ignore[arg-type]
    )
    broker = make_broker(ServiceSettings(kafka_security=security))
    used = parse_security(broker.specification.security)
    expected = security.client_kwargs()
    if protocol == "PLAINTEXT":
        assert used == {}
        return
    assert used["security_protocol"] == expected["security_protocol"]
    assert (used["ssl_context"] is not None) == ("ssl_context" in expected)
    assert used.get("sasl_mechanism") == expected.get("sasl_mechanism")
    assert used.get("sasl_plain_username") == expected.get("sasl_plain_username")
    assert used.get("sasl_plain_password") == expected.get("sasl_plain_password")
