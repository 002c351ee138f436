"""`rcm remits import | unmatched | deposit | reassociation` against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcm.remittance.cli import app
from rcm.remittance.testing import Cas, Clp, remit_835


def test_import_queue_deposit_and_reassociation(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    era = tmp_path / "era.835"
    era.write_bytes(
        remit_835(
            [Clp("clm-9999", "1", "170.00", "110.00", "0", "ICN-1", [Cas("CO", "45", "60.00")])],
            trace="EFT777",
        )
    )
    runner = CliRunner()

    first = runner.invoke(app, ["import", str(era)])
    assert first.exit_code == 0, first.output
    assert "unmatched 1" in first.output
    assert "already received" in runner.invoke(app, ["import", str(era)]).output

    queue = runner.invoke(app, ["unmatched"])
    assert "claim" in queue.output and "no_claim" in queue.output and "1 unmatched item(s)" in queue.output

    assert (
        runner.invoke(app, ["deposit", "EFT777", "110.00", "2025-04-02"]).output.strip() == "deposit recorded"
    )
    assert runner.invoke(app, ["deposit", "EFT999", "50.00", "2025-04-02"]).exit_code == 0
    report = runner.invoke(app, ["reassociation"]).output
    assert "matched: 1" in report
    assert "deposit without 835: trace EFT999 amount 50.00" in report
