"""The cycle survives what production does to it: processes killed, the broker restarted, a flaky payer.

During a run, each service is killed with SIGKILL once and started again, the Kafka
broker is restarted once, and the payer sandbox drops SFTP and HTTP connections and
delivers every 835 twice. Afterwards the same invariants hold as in a quiet run:
nothing lost, nothing posted twice, money balanced to the cent.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from rcm.demo.cli import run_demo
from rcm.demo.invariants import violations
from rcm.demo.practice import Scale
from rcm.demo.run import SERVICES, Cycle, DemoSettings, drop_databases
from rcm.testing import Infrastructure

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.kafka,
    pytest.mark.postgres,
    pytest.mark.timeout(900),
]

ROOT = Path(__file__).resolve().parents[2]


def restart_broker(infrastructure: Infrastructure) -> None:
    if not infrastructure.source.startswith("local scripts"):
        pytest.fail(
            f"the broker restart needs the deploy/local broker; this run uses {infrastructure.source}"
        )
    for action in ("down", "up"):
        subprocess.run([str(ROOT / "deploy/local/kafka.sh"), action], check=True, timeout=180)


async def test_kills_a_broker_restart_and_a_flaky_payer_lose_nothing(
    infrastructure: Infrastructure, tmp_path: Path
) -> None:
    settings = DemoSettings(
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        pg_url=infrastructure.database_url_for("postgres"),
        work_dir=tmp_path,
        timeout_s=480,
        settle_quiet_s=15,  # reconnect back-offs after the broker restart can leave quiet gaps
        database_suffix=f"_faults_{os.getpid()}",
        sandbox_faults={"drop_sftp": 2, "drop_http": 2, "duplicate_remits": True},
    )

    async def havoc(cycle: Cycle) -> None:
        for spec in SERVICES:
            await asyncio.sleep(2)
            cycle.kill(spec.name)
            await asyncio.sleep(1)
            cycle.restart(spec.name)
        await asyncio.to_thread(restart_broker, infrastructure)

    try:
        cycle, settled = await run_demo(settings, Scale.small(), quiet=True, during=havoc)
    finally:
        drop_databases(settings)
    assert violations(cycle.ledger) == []
    assert settled
