"""``rcm claims code``: a session file in, coded lines (or the reason it is not billable) out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcm.claims.cli import app

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).parent.parent / "examples"
runner = CliRunner()


def test_the_example_session_codes_with_the_example_payer_rules_and_fees() -> None:
    result = runner.invoke(
        app,
        [
            "code",
            str(EXAMPLES / "session-video-home.json"),
            "--payer-rules",
            str(EXAMPLES / "payer-rules-medicaid.json"),
            "--fee-schedule",
            str(EXAMPLES / "fee-schedule.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["billable"] is True
    first = body["lines"][0]
    assert (first["code"], first["modifiers"], first["place_of_service"], first["charge"]) == (
        "90837",
        ["AJ", "95"],
        "10",
        "160.00",
    )
    assert first["diagnosis_pointers"] == [1, 2]
    assert "CPT midpoint rule" in first["rule"]
    assert [line["code"] for line in body["lines"]] == ["90837", "90785"]


def test_a_short_session_prints_why_it_is_not_billable(tmp_path: Path) -> None:
    session = json.loads((EXAMPLES / "session-video-home.json").read_text())
    session["minutes"] = 12
    path = tmp_path / "short.json"
    path.write_text(json.dumps(session))
    result = runner.invoke(app, ["code", str(path)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["billable"] is False
    assert body["reason"] == "under_minimum_time"


def test_an_invalid_session_file_names_the_field_without_echoing_values(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"session_id": "s", "minutes": -1}))
    result = runner.invoke(app, ["code", str(path)])
    assert result.exit_code == 1
    assert "minutes" in result.output
    assert "patient_id" in result.output


@pytest.mark.parametrize(
    ("example", "credential", "codes"),
    [
        # a collaborative-care month's tally: 95 min in the episode's first month
        ("session-care-management-month.json", "MD", ["99492", "99494"]),
        # alcohol/substance screening and brief intervention, 22 min, commercial
        ("session-sbirt.json", "LCSW", ["99408"]),
    ],
)
def test_the_other_example_sessions_code_as_their_readme_says(
    example: str, credential: str, codes: list[str]
) -> None:
    result = runner.invoke(app, ["code", str(EXAMPLES / example), "--credential", credential])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["billable"] is True
    assert [line["code"] for line in body["lines"]] == codes
