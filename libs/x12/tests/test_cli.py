from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rcm.x12.cli import app

from .conftest import DATA

pytestmark = pytest.mark.unit

runner = CliRunner()
CLEAN = str(DATA / "835" / "azoner-pyx12__835_mult_loops.txt")
BROKEN = str(DATA / "835" / "albmarin-badX12__errors_error_validation.edi")


def test_validate_exit_codes() -> None:
    assert runner.invoke(app, ["validate", CLEAN]).exit_code == 0
    assert runner.invoke(app, ["validate", CLEAN, BROKEN]).exit_code == 1
    assert runner.invoke(app, ["validate", "/no/such/file"]).exit_code == 2


def test_validate_json_lists_sets_and_errors() -> None:
    result = runner.invoke(app, ["validate", "--json", BROKEN])
    report = json.loads(result.stdout)
    tx = report[0]["transactions"][0]
    assert (tx["id"], tx["version"]) == ("835", "005010X221A1")
    assert {"code", "position", "loop", "element", "message"} <= set(tx["errors"][0])


def test_ack_prints_a_999() -> None:
    result = runner.invoke(app, ["ack", CLEAN])
    assert result.exit_code == 0
    assert "ST*999*0001*005010X231A1~" in result.stdout
