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


def test_exceptions_and_assigning_a_queued_claim_payment(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    unbalanced = tmp_path / "unbalanced.835"
    unbalanced.write_bytes(
        remit_835(
            [Clp("clm-0001", "1", "170.00", "110.00", "0", "ICN-1", [Cas("CO", "45", "60.00")])],
            amount="1.00",
        )
    )
    stray = tmp_path / "stray.835"
    stray.write_bytes(
        remit_835(
            [Clp("ACCT-1", "1", "170.00", "110.00", "0", "ICN-2", [Cas("CO", "45", "60.00")])], trace="EFT2"
        )
    )
    runner = CliRunner()
    flagged = runner.invoke(app, ["import", str(unbalanced)])
    assert flagged.exit_code == 1 and "flagged: unbalanced_payment" in flagged.output
    assert runner.invoke(app, ["import", str(stray)]).exit_code == 0

    listed = runner.invoke(app, ["exceptions"])
    assert listed.exit_code == 0
    assert "unbalanced_payment  unbalanced.835" in listed.output and "1 open exception(s)" in listed.output

    (queued,) = [line for line in runner.invoke(app, ["unmatched"]).output.splitlines() if " rmt-" in line]
    remit_id = next(word for word in queued.split() if word.startswith("rmt-"))
    refused = runner.invoke(app, ["assign", remit_id, "clm-unknown"])
    assert refused.exit_code == 2 and "no claim clm-unknown" in refused.output
