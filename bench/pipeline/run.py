"""End-to-end pipeline benchmark: the five services, the sandbox, Kafka and PostgreSQL on this machine.

For each configuration (partitions per topic, replicas per service) it runs a practice
through the whole cycle and reports:

- sessions per second from the first session published to the last claim submitted;
- p50/p99 latency from session-completed to claim-submitted (this includes the 837
  batch cut-off, stated in the figures) and from 835 arrival to payment-posted;
- CPU seconds per 1,000 sessions for each service, the sandbox, the broker and PostgreSQL.

    uv run python bench/pipeline/run.py [--patients 400] [--days 14] [--matrix]

Without --matrix it runs one configuration (3 partitions, 1 replica). Figures go to
bench/results/pipeline.json (pipeline-matrix.json with --matrix). Needs the local infrastructure (deploy/local/up.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from statistics import quantiles

from rcm.demo.cli import run_demo
from rcm.demo.invariants import violations
from rcm.demo.practice import Scale
from rcm.demo.run import SERVICES, Cycle, DemoSettings
from rcm.testing.infra import resolve_infrastructure

ROOT = Path(__file__).resolve().parents[2]
BATCH_CUTOFF_S = 2.0


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else 0.0, "p99": values[0] if values else 0.0, "n": len(values)}
    cuts = quantiles(values, n=100)
    return {"p50": round(cuts[49], 3), "p99": round(cuts[98], 3), "n": len(values)}


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _infra_cpu() -> dict[str, float]:
    kafka_pid = ROOT / ".local" / "kafka" / "kafka.pid"
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    postgres += _proc_cpu(int(entry.name))
            except OSError:
                continue
    return {
        "kafka": _proc_cpu(int(kafka_pid.read_text())) if kafka_pid.exists() else 0.0,
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
    infra_before = _infra_cpu()

    async def more_replicas(cycle: Cycle) -> None:
        for spec in SERVICES:
            for k in range(1, replicas):
                cycle._spawn(f"{spec.name}-{k}", spec.command, cycle.service_env(spec))

    started = time.perf_counter()
    cycle, settled = await run_demo(
        settings, scale, quiet=True, during=more_replicas if replicas > 1 else None
    )
    wall = time.perf_counter() - started
    infra_used = {k: v - infra_before[k] for k, v in _infra_cpu().items()}
    ledger = cycle.ledger
    sessions = len(ledger.sessions)
    to_submit = [
        (ledger.submitted_ms[c.claim_id] - min(ledger.session_ms.get(s, 0) for s in c.session_ids)) / 1000
        for c in ledger.originals()
        if c.claim_id in ledger.submitted_ms and all(s in ledger.session_ms for s in c.session_ids)
    ]
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
        "latency_session_to_claim_submitted_s": _percentiles(sorted(to_submit)),
        "latency_835_arrival_to_payment_posted_s": _percentiles(sorted(to_post)),
        "batch_cutoff_s": BATCH_CUTOFF_S,
        "cpu_seconds_per_1000_sessions": cpu,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--providers", type=int, default=40)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--matrix", action="store_true", help="1, 3 and 6 partitions; 1 and 2 replicas")
    args = parser.parse_args()
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
