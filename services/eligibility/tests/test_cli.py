"""``rcm eligibility summarize`` and ``rcm eligibility check`` (against the sandbox's CORE endpoint)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from rcm.eligibility.app import MIGRATIONS
from rcm.eligibility.cli import _control_number_engine, app
from rcm.sandbox import start_sandbox
from rcm.sandbox.testing import core_password, sandbox_config, settings_for
from rcm.servicekit import upgrade

DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.mark.unit
def test_summarize_prints_the_benefit_summary() -> None:
    result = runner.invoke(
        app, ["summarize", str(DATA / "LinuxForHealth-x12__demo-file_demo.271"), "--date", "2006-05-01"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["status"] == "active" and summary["service_type_code"] == "MH"
    assert summary["in_network"]["copay"] == "10.00"


@pytest.mark.unit
def test_summarize_refuses_what_is_not_a_271(tmp_path: Path) -> None:
    bad = tmp_path / "bad.271"
    bad.write_text("not x12")
    result = runner.invoke(app, ["summarize", str(bad)])
    assert result.exit_code == 1


async def test_check_asks_the_configured_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_database: str
) -> None:
    # the one-off check takes its 270 control number from the service's database sequence
    await upgrade(fresh_database, MIGRATIONS)
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    async with start_sandbox(sandbox_config(tmp_path)) as sb:
        core = settings_for(sb).core
        assert core is not None
        config = {
            "submitter_id": "PRACTICE01",
            "core": {
                "url": core.url,
                "sender_id": core.sender_id,
                "receiver_id": core.receiver_id,
                "username": core.username,
            },
        }
        path = tmp_path / "clearinghouse.yaml"
        path.write_text(yaml.safe_dump(config))
        monkeypatch.setenv("RCM_CLEARINGHOUSE__CORE__PASSWORD", core_password(sb))
        args = [
            "check",
            "--clearinghouse", str(path),
            "--payer", "EVRGRN",
            "--member-id", "EVG100000001",
            "--first", "AVERY",
            "--last", "SAMPLE",
            "--dob", "1985-04-12",
            "--provider-npi", "1234567893",
            "--date", "2025-03-03",
        ]  # fmt: skip
        result = await asyncio.to_thread(runner.invoke, app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["summary"]["status"] == "active"
    assert body["summary"]["in_network"]["copay"] == "25.00"
    assert "drawn at random" not in result.stderr
    engine = create_async_engine(fresh_database)
    try:
        async with engine.connect() as conn:
            taken = await conn.scalar(sa.text("SELECT last_value FROM elig_interchange_control_block"))
            called = await conn.scalar(sa.text("SELECT is_called FROM elig_interchange_control_block"))
    finally:
        await engine.dispose()
    assert (taken, called) == (1, True)  # the CLI took block 1 (numbers 1000-1999)


@pytest.mark.unit
def test_check_without_a_database_says_its_control_number_is_drawn_at_random(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RCM_DATABASE_URL", raising=False)
    assert asyncio.run(_control_number_engine()) is None
    assert "drawn at random" in capsys.readouterr().err
