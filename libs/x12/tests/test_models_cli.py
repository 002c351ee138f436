"""``rcm x12 to-json`` and ``rcm x12 from-json`` give back the file they started from."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcm.x12.cli import app

pytestmark = pytest.mark.unit

SAMPLE = Path(__file__).parent / "data" / "835" / "azoner-pyx12__835_mult_loops.txt"


def test_to_json_then_from_json_rebuilds_the_file(tmp_path: Path) -> None:
    runner = CliRunner()
    as_json = runner.invoke(app, ["to-json", str(SAMPLE)])
    assert as_json.exit_code == 0, as_json.output
    assert '"kind": "835"' in as_json.output
    model = tmp_path / "remit.json"
    model.write_text(as_json.output)
    rebuilt = runner.invoke(app, ["from-json", str(model), "--line-breaks"])
    assert rebuilt.exit_code == 0, rebuilt.output
    source = [s.strip() for s in SAMPLE.read_text().split("~") if s.strip()]
    assert [s.strip() for s in rebuilt.output.split("~") if s.strip()] == source


def test_from_json_refuses_json_that_is_not_a_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"header": {}}')
    result = CliRunner().invoke(app, ["from-json", str(bad)])
    assert result.exit_code == 1
