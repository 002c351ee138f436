"""The whole cycle, end to end: a smaller month of the demo practice through the real services.

Kafka, PostgreSQL, the payer sandbox and the five services run as separate processes;
the test watches the topics like a dashboard would and checks the invariants.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from rcm.demo.cli import run_demo
from rcm.demo.invariants import violations
from rcm.demo.practice import Scale
from rcm.demo.run import DemoSettings
from rcm.testing import Infrastructure

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.kafka,
    pytest.mark.postgres,
    pytest.mark.timeout(600),
]


async def test_a_month_of_the_practice_runs_through_the_whole_cycle(
    infrastructure: Infrastructure, tmp_path: Path
) -> None:
    settings = DemoSettings(
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        pg_url=infrastructure.database_url_for("postgres"),
        work_dir=tmp_path,
        timeout_s=240,
        database_suffix="_e2e",
    )
    cycle, settled = await run_demo(settings, Scale.small(), quiet=True)
    assert violations(cycle.ledger) == []
    assert settled
    # the planted mistakes were found: a held claim per kind, automatic corrections, a secondary claim
    held = Counter(
        reason for c in cycle.ledger.claims.values() if c.status == "held" for reason in c.held_reasons
    )
    assert held["note_unsigned"] >= 1
    assert cycle.ledger.requests["correction"] >= 1
    assert any(c.responsibility == "secondary" for c in cycle.ledger.claims.values())
