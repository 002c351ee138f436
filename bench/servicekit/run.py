"""Throughput of one handler on the real broker and database: one-by-one versus batched.

One-by-one is the naive design: a transaction and an offset commit per event
(batch_max_records=1). Batched is the runtime's default: up to 500 records per
transaction (inbox rows and outbox rows by executemany), offsets committed per
batch. Both apply the same handler (one state row and one outgoing event per
event) to the same pre-produced events, in one process, one after the other;
then the relay publishes the outbox of the batched run.

Then the relay's two ways with a sent row, in the same process: deleted at once (the default)
against marked sent and deleted by the purge later (``retention_hours`` above 0; the purge's
delete is counted). Each run commits rows in transactions of ``--relay-rows-per-pass`` and lets
the relay publish them after each commit, as a service's batches and the relay's wakes do, in
a fresh database; the runs alternate delete, mark, mark, delete.

Then what one statement costs the client: the same primary-key read of a small row, executed
``--statements`` times in one transaction on one connection, through SQLAlchemy Core (a cached
compiled statement, as the services run theirs) and through the driver alone (psycopg's async
connection underneath the same SQLAlchemy connection), alternating core, driver, driver, core.

    uv run python bench/servicekit/run.py [--events 20000] [--naive-events 3000]
        [--relay-rows 12000] [--relay-rows-per-pass 40] [--statements 5000]

Writes bench/results/servicekit.json and prints a table. Needs the local
infrastructure (deploy/local/up.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from rcm.servicekit.consumer import BatchConsumer
from rcm.servicekit.db import create_engine
from rcm.servicekit.kafka import ensure_topics, make_producer
from rcm.servicekit.messages import OutgoingMessage
from rcm.servicekit.outbox import OutboxRelay, write_outbox
from rcm.servicekit.testing import create_schema, decode, ledger_events, ledger_handler, produce, settings_for
from rcm.testing.infra import resolve_infrastructure

ROOT = Path(__file__).resolve().parents[2]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> float:
    """CPU seconds of another process (the broker), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _postgres_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _proc_cpu(int(entry.name))
            except OSError:
                continue
    return total


def _kafka_pid() -> int:
    pidfile = ROOT / ".local" / "kafka" / "kafka.pid"
    return int(pidfile.read_text()) if pidfile.exists() else 0


async def _run_mode(infra, url: str, count: int, batch: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    settings = settings_for(infra.kafka_bootstrap, url, batch_max_records=batch, batch_timeout_ms=20)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    sink = f"bench-out-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, {topic: {"partitions": 1}, sink: {"partitions": 1}})
    engine = create_engine(url)
    await create_schema(engine)
    await produce(infra.kafka_bootstrap, topic, ledger_events(count))
    consumer = BatchConsumer(
        name=settings.service_name,
        topics=[topic],
        handler=ledger_handler(emit_to=sink),
        decode=decode,
        engine=engine,
        settings=settings,
    )
    await ensure_topics(settings, {consumer.retry_topic: {}, consumer.dead_letter_topic: {}})
    stop = asyncio.Event()
    processed = consumer.metrics.events.labels(settings.service_name, topic, "processed")
    kafka_pid = _kafka_pid()
    task = asyncio.create_task(consumer.run(stop))
    await consumer.ready.wait()
    while processed._value.get() < 1:
        await asyncio.sleep(0.001)
    t0, c0, k0, p0 = time.perf_counter(), _cpu(), _proc_cpu(kafka_pid), _postgres_cpu()
    n0 = processed._value.get()
    while processed._value.get() < count:
        await asyncio.sleep(0.005)
    elapsed, cpu = time.perf_counter() - t0, _cpu() - c0
    kafka_cpu, pg_cpu = _proc_cpu(kafka_pid) - k0, _postgres_cpu() - p0
    done = count - n0
    stop.set()
    await task

    # the relay publishes what the handler wrote to the outbox
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(engine, producer, name=settings.service_name, batch_size=1000)
    r0, rc0 = time.perf_counter(), _cpu()
    published = await relay.publish_pending()
    relay_s, relay_cpu = time.perf_counter() - r0, _cpu() - rc0
    await producer.stop()
    await engine.dispose()
    return {
        "events": done,
        "events_per_s": round(done / elapsed, 1),
        "service_cpu_us_per_event": round(1e6 * cpu / done, 1),
        "postgres_cpu_us_per_event": round(1e6 * pg_cpu / done, 1),
        "broker_cpu_us_per_event": round(1e6 * kafka_cpu / done, 1),
        "relay_events_per_s": round(published / relay_s, 1) if published else 0.0,
        "relay_cpu_us_per_event": round(1e6 * relay_cpu / published, 1) if published else 0.0,
    }


async def _relay_mode(infra, url: str, rows: int, per_pass: int, *, keep: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Rows committed ``per_pass`` at a time, each commit followed by a relay pass; the relay's
    CPU and the database's while it runs (marking: with the purge of the marked rows after)."""
    settings = settings_for(infra.kafka_bootstrap, url)
    topic = f"bench-relay-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, {topic: {"partitions": 1}})
    engine = create_engine(url)
    await create_schema(engine)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(engine, producer, name=settings.service_name, retention_hours=1 if keep else 0)
    value = json.dumps({"claim_id": "c" * 36, "status": "submitted", "pad": "x" * 400}).encode()
    headers = [("ce_id", b"0" * 36), ("ce_type", b"rcm.claim-status-changed.v1"), ("ce_source", b"claims")]
    sent, relay_cpu, write_cpu = 0, 0.0, 0.0
    t0, p0 = time.perf_counter(), _postgres_cpu()
    while sent < rows:
        c0 = _cpu()
        async with engine.begin() as conn:
            await write_outbox(
                conn, [OutgoingMessage(topic=topic, key=b"k", value=value, headers=headers)] * per_pass
            )
        c1 = _cpu()
        sent += await relay.publish_pending()
        write_cpu, relay_cpu = write_cpu + c1 - c0, relay_cpu + _cpu() - c1
    if keep:  # what the purge does once the rows are past their retention
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "UPDATE kit_outbox SET created_at = created_at - interval '2 hours',"
                    " published_at = published_at - interval '2 hours'"
                )
            )
        c0, p_aged = _cpu(), _postgres_cpu()
        purged, _ = await relay.purge_expired()
        assert purged == sent, (purged, sent)
        relay_cpu += _cpu() - c0
        p0 += _postgres_cpu() - p_aged  # the ageing update is the benchmark's, not the relay's
    elapsed, pg_cpu = time.perf_counter() - t0, _postgres_cpu() - p0
    await producer.stop()
    await engine.dispose()
    return {
        "rows": sent,
        "relay_cpu_us_per_row": round(1e6 * relay_cpu / sent, 1),
        "postgres_cpu_us_per_row": round(1e6 * pg_cpu / sent, 1),
        "writer_cpu_us_per_row": round(1e6 * write_cpu / sent, 1),
        "seconds": round(elapsed, 2),
    }


_STATE = sa.table("bench_state", sa.column("id", sa.Text), sa.column("total", sa.Numeric))
_READ = sa.select(_STATE.c.total).where(_STATE.c.id == sa.bindparam("id"))


async def _statement_mode(url: str, count: int, *, core: bool) -> float:
    """Client CPU (µs) per execution of a primary-key read of one row, ``count`` times in one
    transaction: through SQLAlchemy Core, or through the driver under the same connection."""
    engine = create_engine(url)
    ids = [f"row-{i % 100}" for i in range(count)]
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("CREATE TABLE IF NOT EXISTS bench_state (id text PRIMARY KEY, total numeric)")
        )
        await conn.execute(
            sa.text(
                "INSERT INTO bench_state SELECT 'row-' || i, i FROM generate_series(0, 99) i ON CONFLICT DO NOTHING"
            )
        )
        raw = (await conn.get_raw_connection()).driver_connection
        sql = "SELECT bench_state.total FROM bench_state WHERE bench_state.id = %s"
        # warm both paths: the compiled cache, and psycopg's prepared statement
        for key in ids[:10]:
            await conn.execute(_READ, {"id": key})
            await (await raw.execute(sql, (key,))).fetchall()
        c0 = _cpu()
        if core:
            for key in ids:
                (await conn.execute(_READ, {"id": key})).scalar_one()
        else:
            for key in ids:
                (await (await raw.execute(sql, (key,))).fetchone())[0]  # type: ignore[index]
        cpu = _cpu() - c0
    await engine.dispose()
    return round(1e6 * cpu / count, 1)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20000, help="events for the batched run")
    parser.add_argument("--naive-events", type=int, default=3000, help="events for the one-by-one run")
    parser.add_argument("--relay-rows", type=int, default=12000, help="rows per relay run")
    parser.add_argument("--relay-rows-per-pass", type=int, default=40, help="rows committed per relay pass")
    parser.add_argument("--statements", type=int, default=5000, help="executions per statement-cost run")
    args = parser.parse_args()
    from contextlib import ExitStack

    with ExitStack() as stack:
        infra = resolve_infrastructure(ROOT, stack)
        results = {}
        for mode, count, batch in (("one_by_one", args.naive_events, 1), ("batched_500", args.events, 500)):
            with infra.fresh_database("bench") as url:
                results[mode] = await _run_mode(infra, url, count, batch)
        relay_runs: dict[str, list[dict[str, float]]] = {"delete": [], "mark": []}
        for mode in ("delete", "mark", "mark", "delete"):
            with infra.fresh_database("bench") as url:
                relay_runs[mode].append(
                    await _relay_mode(
                        infra, url, args.relay_rows, args.relay_rows_per_pass, keep=mode == "mark"
                    )
                )
        statement_runs: dict[str, list[float]] = {"core": [], "driver": []}
        with infra.fresh_database("bench") as url:
            for mode in ("core", "driver", "driver", "core"):
                statement_runs[mode].append(await _statement_mode(url, args.statements, core=mode == "core"))
    ratio = results["batched_500"]["events_per_s"] / results["one_by_one"]["events_per_s"]
    cpu_ratio = (
        results["one_by_one"]["service_cpu_us_per_event"] / results["batched_500"]["service_cpu_us_per_event"]
    )

    def relay_cost(mode: str) -> float:
        runs = relay_runs[mode]
        return sum(r["relay_cpu_us_per_row"] + r["postgres_cpu_us_per_row"] for r in runs) / len(runs)

    report = {
        "benchmark": "servicekit handler throughput: one event per transaction vs batches of 500",
        "command": "uv run python bench/servicekit/run.py",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "handler": "insert one state row + publish one event (outbox), per event",
        "results": results,
        "batched_vs_one_by_one_throughput": round(ratio, 1),
        "batched_vs_one_by_one_service_cpu": round(cpu_ratio, 1),
        "relay": {
            "rows_per_pass": args.relay_rows_per_pass,
            "runs": relay_runs,
            "mark_then_purge_vs_delete_cpu_per_row": round(relay_cost("mark") / relay_cost("delete"), 2),
        },
        "statement": {
            "what": "client CPU per execution of a primary-key read of one row, in one transaction",
            "executions_per_run": args.statements,
            "client_cpu_us": statement_runs,
            "core_vs_driver": round(sum(statement_runs["core"]) / sum(statement_runs["driver"]), 2),
        },
    }
    out = ROOT / "bench" / "results" / "servicekit.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{'mode':<14}{'events/s':>10}{'svc us/ev':>11}{'pg us/ev':>10}{'kafka us/ev':>12}{'relay ev/s':>12}"
    )
    for mode, r in results.items():
        print(
            f"{mode:<14}{r['events_per_s']:>10}{r['service_cpu_us_per_event']:>11}"
            f"{r['postgres_cpu_us_per_event']:>10}{r['broker_cpu_us_per_event']:>12}{r['relay_events_per_s']:>12}"
        )
    print(
        f"batched / one-by-one: {ratio:.1f}x throughput, {cpu_ratio:.1f}x less service CPU per event -> {out}"
    )
    for mode, runs in relay_runs.items():
        for r in runs:
            print(
                f"relay, sent rows {mode:<7} relay {r['relay_cpu_us_per_row']:>6} us/row"
                f"  postgres {r['postgres_cpu_us_per_row']:>6} us/row"
            )
    print(
        "relay CPU + database CPU per row, marked and purged / deleted at once: "
        f"{report['relay']['mark_then_purge_vs_delete_cpu_per_row']}"  # type: ignore[index]
    )
    print(
        f"one statement, client CPU: SQLAlchemy Core {statement_runs['core']} us, driver alone "
        f"{statement_runs['driver']} us: {report['statement']['core_vs_driver']}x"  # type: ignore[index]
    )


if __name__ == "__main__":
    asyncio.run(main())
