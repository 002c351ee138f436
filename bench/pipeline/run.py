"""End-to-end pipeline benchmark: the five services, the sandbox, Kafka and PostgreSQL on this machine.

For each configuration (partitions per topic, replicas per service) it runs a practice
through the whole cycle and reports:

- sessions per second from the first session published to the last claim submitted;
- p50/p99 latency from session-completed to claim-submitted (this includes the 837
  batch cut-off, stated in the figures), the same without the cut-off (to the claim
  passing its edits, ready for a batch), and from 835 arrival to payment-posted;
- CPU seconds per 1,000 sessions for each service, the sandbox, the broker and PostgreSQL.

    uv run python bench/pipeline/run.py [--patients 400] [--days 14] [--matrix]

Without --matrix it runs one configuration (3 partitions, 1 replica). Figures go to
bench/results/pipeline.json (pipeline-matrix.json with --matrix). Needs the local infrastructure (deploy/local/up.sh).

Sustained mode offers sessions at a steady rate instead of all at once:

    uv run python bench/pipeline/run.py --sustained RATE [--duration 300] [--partitions 3] [--replicas 1]
        [--sample-every SECONDS] [--no-settle] [--idle SECONDS]

It generates a practice with at least RATE x duration sessions, publishes its reference
data, authorizations and the appointments of those sessions first (waiting, as the demo
does, for every service to read the reference data and for the appointments' eligibility
checks), then publishes the sessions in time order at RATE per second, in 0.2 s slices,
for ``duration`` seconds. Every few seconds of that window it reads each service's consumer
lag (end offset - committed offset over the topics its group reads) and the claims
submitted so far. It reports the offered and achieved rates (sessions on claims submitted
within the window, over the window and over its last half), each service's lag (max, at the
end, its slope over the last half), the verdict ``lag_bounded`` (see ``rcm.demo.lag``: no
group's lag grows over the last half by more than 1% of what arrives on its topics and
more than twice the slope's standard error, and none ends more than 10 s of arrivals
behind, at least 100 events), p50/p99 latency from session-completed to claim-submitted
for claims submitted in the window, CPU seconds per 1,000 sessions offered during the
window, and per service database the transactions per session (``pg_stat_database``) and,
when the server loads pg_stat_statements (``RCM_PG_STAT_STATEMENTS=1`` for
deploy/local/postgres.sh, on a fresh start), the statement executions per session. Then it
lets the cycle settle (unless --no-settle) and checks the invariants.

Before the window it waits until no consumer group is behind and all processes together use
less than ``QUIET_CPU_PER_S`` (the appointments' eligibility checks, including those the recheck
timer holds, authorization reservations and the rest are done; ``caught_up_before_window_s``), so
neither the idle reading nor the window carries that work. Then, nothing offered, it measures each
process's CPU for ``--idle`` seconds (20 by default; 0 skips it): the fixed cost of timers,
polls and heartbeats, paid whatever the load. The window's CPU less that idle rate over the
window's length is the **marginal** cost per 1,000 sessions, a lower bound of what one more
session costs (under load some polling gives way to work); the projection
``ceiling_sessions_per_s`` divides the cores left after the idle cost by the marginal cost
per session: the rate the machine could carry if the cost per session stayed as measured.
Figures go to bench/results/pipeline-sustained.json (written by this mode only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from statistics import quantiles

from rcm.demo.cli import REFERENCE_EVENTS, run_demo
from rcm.demo.invariants import violations
from rcm.demo.lag import GroupLag, LagSample, lag_bounded, lag_trends
from rcm.demo.ledger import CycleLedger
from rcm.demo.practice import Practice, Scale, generate_practice
from rcm.demo.run import SERVICES, Cycle, DemoSettings
from rcm.events import models as m
from rcm.testing.infra import resolve_infrastructure

ROOT = Path(__file__).resolve().parents[2]
BATCH_CUTOFF_S = 2.0
IDLE_S = 20.0
"""Sustained mode: seconds of CPU measured with nothing offered, before the window."""


def _session_latencies(
    ledger: CycleLedger,
    milestone_ms: dict[str, int],
    submitted_from_ms: int = 0,
    submitted_to_ms: int | None = None,
) -> list[float]:
    """Seconds from each original claim's (earliest) session-completed to ``milestone_ms`` of the
    claim, for claims submitted within the bounds."""
    out = []
    for c in ledger.originals():
        submitted = ledger.submitted_ms.get(c.claim_id)
        if submitted is None or c.claim_id not in milestone_ms or not c.session_ids:
            continue
        if submitted < submitted_from_ms or (submitted_to_ms is not None and submitted > submitted_to_ms):
            continue
        if not all(s in ledger.session_ms for s in c.session_ids):
            continue
        out.append((milestone_ms[c.claim_id] - min(ledger.session_ms[s] for s in c.session_ids)) / 1000)
    return sorted(out)


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else 0.0, "p99": values[0] if values else 0.0, "n": len(values)}
    cuts = quantiles(values, n=100)
    return {"p50": round(cuts[49], 3), "p99": round(cuts[98], 3), "n": len(values)}


def _proc_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds of a process; with ``children``, also of its children that have exited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        if children:
            ticks += int(fields[13]) + int(fields[14])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _broker_pid(bootstrap: str) -> int | None:
    """The local broker listening on ``bootstrap``'s port: a ``kafka.Kafka`` process whose
    properties file names it (deploy/local/kafka.sh's, started from this checkout or another)."""
    port = bootstrap.split(",")[0].rsplit(":", 1)[-1]
    listening = re.compile(rf"^listeners=.*:{re.escape(port)}(,|$)", re.MULTILINE)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if b"kafka.Kafka" not in args:
                continue
            properties = next((a for a in reversed(args) if a.endswith(b".properties")), None)
            if properties is not None and listening.search(Path(properties.decode()).read_text()):
                return int(entry.name)
        except (OSError, UnicodeDecodeError):
            continue
    return None


def _infra_cpu(bootstrap: str) -> dict[str, float]:
    broker = _broker_pid(bootstrap)
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    # a connection's backend that ended is counted in the postmaster's children
                    postgres += _proc_cpu(int(entry.name), children=True)
            except OSError:
                continue
    return {
        "kafka": _proc_cpu(broker) if broker is not None else 0.0,
        "postgres": postgres,
    }


async def run_config(infra, scale: Scale, partitions: int, replicas: int, work: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    settings = DemoSettings(
        kafka_bootstrap=infra.kafka_bootstrap,
        pg_url=infra.database_url_for("postgres"),
        work_dir=work,
        timeout_s=1500,
        database_suffix="_bench",
        partitions=partitions,
        batch_cutoff_s=BATCH_CUTOFF_S,
    )
    infra_before = _infra_cpu(settings.kafka_bootstrap)

    async def more_replicas(cycle: Cycle) -> None:
        for spec in SERVICES:
            for replica in range(1, replicas):
                cycle.start_service(spec, replica)

    started = time.perf_counter()
    cycle, settled = await run_demo(
        settings, scale, quiet=True, during=more_replicas if replicas > 1 else None
    )
    wall = time.perf_counter() - started
    infra_used = {k: v - infra_before[k] for k, v in _infra_cpu(settings.kafka_bootstrap).items()}
    ledger = cycle.ledger
    sessions = len(ledger.sessions)
    to_submit = _session_latencies(ledger, ledger.submitted_ms)
    to_ready = _session_latencies(ledger, ledger.ready_ms)
    to_post = [
        (ledger.posted_ms[r] - ledger.remit_arrived_ms[r]) / 1000
        for r in ledger.posted_ms
        if r in ledger.remit_arrived_ms
    ]
    first = min(ledger.session_ms.values(), default=0)
    last = max(ledger.submitted_ms.values(), default=first)
    span = max((last - first) / 1000, 1e-6)
    cpu = {name: round(1000 * used / max(sessions, 1), 2) for name, used in cycle.cpu_seconds_at_stop.items()}
    cpu.update({name: round(1000 * used / max(sessions, 1), 2) for name, used in infra_used.items()})
    return {
        "partitions": partitions,
        "replicas": replicas,
        "sessions": sessions,
        "claims_submitted": len(ledger.submitted_ms),
        "settled": settled,
        "invariants": violations(ledger) or "ok",
        "sessions_per_s_to_submission": round(len(to_submit) / span, 1),
        "wall_seconds": round(wall, 1),
        "latency_session_to_claim_submitted_s": _percentiles(to_submit),
        "latency_session_to_claim_ready_s": _percentiles(to_ready),
        "latency_835_arrival_to_payment_posted_s": _percentiles(sorted(to_post)),
        "batch_cutoff_s": BATCH_CUTOFF_S,
        "cpu_seconds_per_1000_sessions": cpu,
    }


SESSIONS_PER_PATIENT = 2.4
"""The generator's mean sessions per patient (1 to 4): a first guess of the practice to generate."""


def sustained_practice(sessions: int, days: int = 14) -> tuple[Practice, Scale]:
    """The smallest practice of the generator's shape (10 patients per clinician) with ``sessions`` sessions."""
    patients = max(20, math.ceil(sessions / SESSIONS_PER_PATIENT * 1.05))
    while True:
        scale = replace(Scale(), patients=patients, providers=max(12, patients // 10), days=days)
        practice = generate_practice(scale)
        if len(practice.sessions) >= sessions:
            return practice, scale
        patients = math.ceil(patients * 1.1)


async def sample_window(
    cycle: Cycle,
    probe: Callable[[], Awaitable[dict[str, GroupLag]]],
    duration_s: float,
    every_s: float,
) -> list[LagSample]:
    """Consumer lag and claims submitted, every ``every_s`` from now until ``duration_s`` from now."""
    started = time.monotonic()
    samples: list[LagSample] = []
    while True:
        groups = await probe()
        at = time.monotonic() - started
        samples.append(
            LagSample(at_s=round(at, 2), groups=groups, claims_submitted=len(cycle.ledger.submitted_ms))
        )
        if at >= duration_s:
            return samples
        cycle.check_alive()
        # the next tick of the schedule (a slow reading skips ticks rather than bunching samples)
        due = min((math.floor(at / every_s) + 1) * every_s, duration_s)
        await asyncio.sleep(max(0.0, started + due - time.monotonic()))


def _sessions_submitted(cycle: Cycle, sessions: set[str], from_ms: float, to_ms: float) -> int:
    """Offered sessions on original claims submitted within [from_ms, to_ms]."""
    ledger = cycle.ledger
    return sum(
        len(c.session_ids & sessions)
        for c in ledger.originals()
        if c.claim_id in ledger.submitted_ms and from_ms <= ledger.submitted_ms[c.claim_id] <= to_ms
    )


_BENCH_DATABASES = "SELECT datname FROM pg_database WHERE datname LIKE '%\\_bench'"


async def _database_counters(pg_url: str) -> dict[str, dict[str, int]]:
    """Per bench database: transactions committed or rolled back (``pg_stat_database``, always
    there) and statement executions (``pg_stat_statements``, counted when the server preloads it:
    ``RCM_PG_STAT_STATEMENTS=1 deploy/local/postgres.sh up`` on a fresh start)."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(pg_url)
    counters: dict[str, dict[str, int]] = {"transactions": {}}
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
            rows = await conn.execute(
                sa.text(
                    "SELECT datname, xact_commit + xact_rollback FROM pg_stat_database"
                    f" WHERE datname IN ({_BENCH_DATABASES})"
                )
            )
            counters["transactions"] = {name: int(n) for name, n in rows}
            loaded = await conn.scalar(
                sa.text(
                    "SELECT 1 FROM pg_settings WHERE name = 'shared_preload_libraries'"
                    " AND setting LIKE '%pg_stat_statements%'"
                )
            )
            if loaded:
                await conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                await conn.commit()
                rows = await conn.execute(
                    sa.text(
                        "SELECT d.datname, sum(s.calls) FROM pg_stat_statements s"
                        " JOIN pg_database d ON d.oid = s.dbid"
                        f" WHERE d.datname IN ({_BENCH_DATABASES}) GROUP BY d.datname"
                    )
                )
                counters["statement_executions"] = {name: int(n) for name, n in rows}
    finally:
        await engine.dispose()
    return counters


def _counter_change(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """What each counter added over the window, by database (``_bench`` cut from the names)."""
    return {
        kind: {db.removesuffix("_bench"): n - before.get(kind, {}).get(db, 0) for db, n in counts.items()}
        for kind, counts in after.items()
        if kind in before
    }


def _cpu_now(cycle: Cycle, bootstrap: str) -> dict[str, float]:
    """CPU seconds used so far by each process of the run, the broker and PostgreSQL."""
    return {**cycle.cpu_seconds(), **_infra_cpu(bootstrap)}


def _cpu_since(cycle: Cycle, bootstrap: str, before: dict[str, float]) -> dict[str, float]:
    return {name: used - before.get(name, 0.0) for name, used in _cpu_now(cycle, bootstrap).items()}


QUIET_CPU_PER_S = 0.4
"""All processes together below this many CPU-seconds per second: the work before the window is done
(idle is about 0.15; eligibility's recheck timer runs the checks it holds, scheduled or queued
behind a payer's rate limit, after its consumer has committed their events, so consumer lag alone
does not show them)."""


async def _until_settled_down(
    cycle: Cycle,
    bootstrap: str,
    probe: Callable[[], Awaitable[dict[str, GroupLag]]],
    *,
    limit_s: float = 900.0,
    every_s: float = 2.0,
) -> float:
    """Wait until no consumer group is behind and the processes' CPU is below ``QUIET_CPU_PER_S``
    on two readings in a row (what the appointments set off, in every service, is done); return
    the seconds waited; past ``limit_s`` go on anyway."""
    started = time.monotonic()
    clear = 0
    while clear < 2 and time.monotonic() - started < limit_s:
        before = _cpu_now(cycle, bootstrap)
        lags = await probe()
        await asyncio.sleep(every_s)
        busy = sum(_cpu_since(cycle, bootstrap, before).values()) / every_s
        clear = clear + 1 if busy < QUIET_CPU_PER_S and all(g.lag == 0 for g in lags.values()) else 0
    return time.monotonic() - started


async def _idle_cpu_per_s(cycle: Cycle, bootstrap: str, seconds: float) -> dict[str, float]:
    """Each process's CPU per second while nothing is offered (after a short wait for the work
    already in flight, the last relay passes and commits, to end)."""
    await asyncio.sleep(min(5.0, seconds / 4))
    before = _cpu_now(cycle, bootstrap)
    await asyncio.sleep(seconds)
    return {name: max(0.0, used) / seconds for name, used in _cpu_since(cycle, bootstrap, before).items()}


def _marginal(
    used: dict[str, float], idle_per_s: dict[str, float], duration_s: float, sessions: int
) -> dict[str, object]:
    """The window's CPU less the idle rate over its length, per 1,000 sessions, and the rate the
    machine's cores would carry at that cost per session (see the module's docstring)."""
    marginal = {
        name: max(0.0, spent - idle_per_s.get(name, 0.0) * duration_s) / max(sessions, 1)
        for name, spent in used.items()
    }
    per_session = sum(marginal.values())
    spare = (os.cpu_count() or 1) - sum(idle_per_s.values())
    return {
        "idle_cpu_seconds_per_s": {name: round(v, 4) for name, v in idle_per_s.items()},
        "marginal_cpu_seconds_per_1000_sessions": {name: round(1000 * v, 2) for name, v in marginal.items()},
        "ceiling_sessions_per_s": round(spare / per_session, 1) if per_session > 0 else None,
    }


async def run_sustained(  # type: ignore[no-untyped-def]
    infra,
    rate: float,
    duration_s: float,
    *,
    partitions: int,
    replicas: int,
    every_s: float,
    settle: bool,
    work: Path,
    cutoff_s: float = BATCH_CUTOFF_S,
    idle_s: float = IDLE_S,
) -> tuple[dict[str, object], list[LagSample], Scale]:
    wanted = math.ceil(rate * duration_s)
    practice, scale = sustained_practice(wanted)
    offered: list[m.SessionCompleted] = sorted(practice.sessions, key=lambda s: (s.end, s.session_id))[
        :wanted
    ]
    appointment_ids = {s.appointment_id for s in offered}
    appointments = [a for a in practice.appointments if getattr(a, "appointment_id", None) in appointment_ids]
    settings = DemoSettings(
        kafka_bootstrap=infra.kafka_bootstrap,
        pg_url=infra.database_url_for("postgres"),
        work_dir=work,
        timeout_s=1500,
        database_suffix="_bench",
        partitions=partitions,
        batch_cutoff_s=cutoff_s,
    )
    cycle = Cycle(settings, practice, log=lambda line: print(line, file=sys.stderr))

    def say(message: str) -> None:
        print(f"[sustained] {message}", file=sys.stderr, flush=True)

    observer: asyncio.Task[None] | None = None
    settled: bool | None = None
    try:
        await cycle.start(replicas=replicas)
        observer = asyncio.create_task(cycle.observe())
        say(f"practice {practice.counts()}; offering {len(offered)} sessions at {rate}/s for {duration_s} s")
        await cycle.publish(list(practice.reference))
        await cycle.publish(list(practice.authorizations))
        await cycle.wait_for_consumers(REFERENCE_EVENTS)
        await cycle.publish(appointments)
        await cycle.wait_for_eligibility(len(appointments))
        async with cycle.lag_probe() as probe:
            await probe()  # the first reading finds each group's coordinator: not part of the window
            caught_up_s = await _until_settled_down(cycle, settings.kafka_bootstrap, probe)
            say(
                f"every consumer group caught up and the processes quiet {caught_up_s:.0f} s after"
                " the appointments' eligibility answers"
            )
            idle = await _idle_cpu_per_s(cycle, settings.kafka_bootstrap, idle_s) if idle_s > 0 else None
            if idle is not None:
                say(f"idle: {sum(idle.values()):.3f} CPU-s per second over {idle_s:g} s")
            say("reference data read, appointments' eligibility checked; the window starts")
            cpu_before = _cpu_now(cycle, settings.kafka_bootstrap)
            db_before = await _database_counters(settings.pg_url)
            window_from_ms = time.time() * 1000
            sampler = asyncio.create_task(sample_window(cycle, probe, duration_s, every_s))
            publish_s = await cycle.publish_paced(offered, rate)
            samples = await sampler
        window_to_ms = window_from_ms + duration_s * 1000
        cpu_used = _cpu_since(cycle, settings.kafka_bootstrap, cpu_before)
        db_used = _counter_change(db_before, await _database_counters(settings.pg_url))
        say(f"window over: {len(cycle.ledger.submitted_ms)} claims submitted")

        ledger = cycle.ledger
        offered_ids = {s.session_id for s in offered}
        half_ms = window_from_ms + duration_s * 500
        whole = _sessions_submitted(cycle, offered_ids, window_from_ms, window_to_ms)
        last_half = _sessions_submitted(cycle, offered_ids, half_ms, window_to_ms)
        to_submit = _session_latencies(ledger, ledger.submitted_ms, window_from_ms, window_to_ms)
        to_ready = _session_latencies(ledger, ledger.ready_ms, window_from_ms, window_to_ms)
        trends = lag_trends(samples, offered_per_s=rate)
        window_sessions = max(len(offered), 1)
        result: dict[str, object] = {
            "mode": "sustained",
            "partitions": partitions,
            "replicas": replicas,
            "offered_sessions_per_s": rate,
            "duration_s": duration_s,
            "sessions_offered": len(offered),
            "publish_seconds": round(publish_s, 1),
            "achieved_sessions_per_s_to_submission": {
                "window": round(whole / duration_s, 2),
                "last_half": round(last_half / (duration_s / 2), 2),
            },
            "claims_submitted_in_window": sum(
                1 for ms in ledger.submitted_ms.values() if window_from_ms <= ms <= window_to_ms
            ),
            "lag_bounded": lag_bounded(trends),
            "lag_rule": "growing: slope over the last half > 1% of max(arrival rate, offered rate) "
            "and > 2 x its standard error; bounded: not growing and end lag <= max(100, 10 s x that rate)",
            "lag_events": {
                name: {
                    "max": t.max,
                    "end": t.end,
                    "slope_last_half_per_s": round(t.slope_per_s, 3),
                    "slope_error_per_s": round(t.slope_error_per_s, 3),
                    "arrival_per_s": round(t.arrival_per_s, 2),
                    "growth_limit_per_s": round(t.growth_limit_per_s, 3),
                    "end_bound": round(t.bound),
                    "bounded": t.bounded,
                }
                for name, t in trends.items()
            },
            "sample_every_s": every_s,
            "caught_up_before_window_s": round(caught_up_s, 1),
            "latency_session_to_claim_submitted_s": _percentiles(to_submit),
            "latency_session_to_claim_ready_s": _percentiles(to_ready),
            "batch_cutoff_s": cutoff_s,
            "cpu_seconds_per_1000_sessions": {
                name: round(1000 * used / window_sessions, 2) for name, used in cpu_used.items()
            },
            "database_per_session": {
                kind: {db: round(n / window_sessions, 2) for db, n in counts.items()}
                for kind, counts in db_used.items()
            },
        }
        if idle is not None:
            result.update(_marginal(cpu_used, idle, duration_s, window_sessions))
        if settle:
            await cycle.wait_for_submissions(len(offered))
            await cycle.publish(list(practice.late_authorizations))
            settled = await cycle.wait_settled()
            if practice.late_coverages:  # second plans reported after the first one paid
                await cycle.publish(list(practice.late_coverages))
                settled = await cycle.wait_settled() and settled
            result["settled"] = settled
            result["invariants"] = violations(ledger) or "ok"
        return result, samples, scale
    finally:
        cycle.stop_observing()
        if observer is not None:
            await asyncio.gather(observer, return_exceptions=True)
        cycle.stop()


async def sustained(args: argparse.Namespace) -> None:
    every_s = args.sample_every or max(1.0, min(5.0, args.duration / 20))
    with ExitStack() as stack:
        infra = resolve_infrastructure(ROOT, stack)
        work = ROOT / ".local" / "bench-pipeline" / f"sustained-p{args.partitions}r{args.replicas}"
        result, samples, scale = await run_sustained(
            infra,
            args.sustained,
            args.duration,
            partitions=args.partitions,
            replicas=args.replicas,
            every_s=every_s,
            settle=not args.no_settle,
            work=work,
            cutoff_s=args.cutoff,
            idle_s=args.idle,
        )
    print(json.dumps(result))
    command = (
        f"uv run python bench/pipeline/run.py --sustained {args.sustained:g} --duration {args.duration:g}"
    )
    if args.partitions != 3 or args.replicas != 1:
        command += f" --partitions {args.partitions} --replicas {args.replicas}"
    if args.cutoff != BATCH_CUTOFF_S:
        command += f" --cutoff {args.cutoff:g}"
    if args.idle != IDLE_S:
        command += f" --idle {args.idle:g}"
    out = ROOT / "bench" / "results" / "pipeline-sustained.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "end-to-end pipeline, sustained: sessions offered at a steady rate, consumer lag sampled",
                "command": command,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "scale": {"patients": scale.patients, "providers": scale.providers, "days": scale.days},
                "result": result,
                "samples": [
                    {
                        "at_s": s.at_s,
                        "claims_submitted": s.claims_submitted,
                        "lag": {name: g.lag for name, g in s.groups.items()},
                    }
                    for s in samples
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"-> {out}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--providers", type=int, default=40)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--matrix", action="store_true", help="1, 3 and 6 partitions; 1 and 2 replicas")
    parser.add_argument(
        "--sustained", type=float, metavar="RATE", help="offer RATE sessions per second (sustained mode)"
    )
    parser.add_argument("--duration", type=float, default=300.0, help="sustained window, seconds")
    parser.add_argument("--partitions", type=int, default=3, help="sustained mode: partitions per topic")
    parser.add_argument("--replicas", type=int, default=1, help="sustained mode: replicas per service")
    parser.add_argument("--sample-every", type=float, help="sustained mode: seconds between lag samples")
    parser.add_argument("--no-settle", action="store_true", help="sustained mode: stop after the window")
    parser.add_argument(
        "--idle",
        type=float,
        default=IDLE_S,
        help="sustained mode: seconds of CPU measured with nothing offered, before the window (0: skip)",
    )
    parser.add_argument(
        "--cutoff",
        type=float,
        default=BATCH_CUTOFF_S,
        help=f"sustained mode: 837P batch cut-off, seconds (default {BATCH_CUTOFF_S:g}; a file also closes at"
        " 100 claims)",
    )
    args = parser.parse_args()
    if args.sustained is not None:
        if args.matrix:
            parser.error("--sustained and --matrix do not combine")
        await sustained(args)
        return
    scale = replace(Scale(), patients=args.patients, providers=args.providers, days=args.days)
    configs = [(p, r) for p in (1, 3, 6) for r in (1, 2)] if args.matrix else [(3, 1)]
    results = []
    with ExitStack() as stack:
        infra = resolve_infrastructure(ROOT, stack)
        for partitions, replicas in configs:
            work = ROOT / ".local" / "bench-pipeline" / f"p{partitions}r{replicas}"
            result = await run_config(infra, scale, partitions, replicas, work)
            print(json.dumps(result))
            results.append(result)
    out = ROOT / "bench" / "results" / ("pipeline-matrix.json" if args.matrix else "pipeline.json")
    out.write_text(
        json.dumps(
            {
                "benchmark": "end-to-end pipeline: sessions through eligibility, claims, sandbox, remittance, denials",
                "command": "uv run python bench/pipeline/run.py" + (" --matrix" if args.matrix else ""),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "scale": {"patients": args.patients, "providers": args.providers, "days": args.days},
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"-> {out}")


if __name__ == "__main__":
    asyncio.run(main())
