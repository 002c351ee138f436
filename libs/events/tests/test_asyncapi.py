"""The AsyncAPI document: generated from the code, committed, and kept in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcm.events.asyncapi import DOCUMENT_PATH, asyncapi_document, asyncapi_json
from rcm.events.catalog import CATALOG
from rcm.events.cli import app

pytestmark = pytest.mark.unit


def test_the_committed_document_matches_the_code() -> None:
    assert DOCUMENT_PATH.read_text() == asyncapi_json(), "run `rcm events asyncapi` and commit the result"


def test_every_topic_is_a_channel_with_its_payload_schema() -> None:
    document = json.loads(DOCUMENT_PATH.read_text())
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {spec.topic("") for spec in CATALOG}
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]
    for spec in CATALOG:
        message = messages[f"{spec.name}:Message"]
        assert message["payload"] == {"$ref": f"#/components/schemas/{spec.model.__name__}"}
        envelope = {"$ref": "#/components/schemas/CloudEventHeaders"}
        if spec.attributes:
            envelope_ref, extensions = message["headers"]["allOf"]
            assert envelope_ref == envelope
            assert set(extensions["properties"]) == {spec.attribute_header(f) for f in spec.attributes}
        else:
            assert message["headers"] == envelope
        assert message["bindings"]["kafka"]["key"]["description"] == f"The {spec.key} of the event."
        assert set(schemas[spec.model.__name__]["properties"]) == set(spec.model.model_fields)


def test_a_prefix_changes_the_addresses() -> None:
    document = asyncapi_document(prefix="staging")
    assert all(channel["address"].startswith("staging.") for channel in document["channels"].values())


def test_the_cli_checks_for_drift() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["asyncapi", "--check"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["schemas"])
    assert result.exit_code == 0, result.output


def test_the_cli_reports_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "asyncapi.json"
    stale.write_text("{}")
    result = CliRunner().invoke(app, ["asyncapi", "--check", "--output", str(stale)])
    assert result.exit_code == 1
    result = CliRunner().invoke(app, ["asyncapi", "--output", str(stale)])
    assert result.exit_code == 0
    assert stale.read_text() == asyncapi_json()
