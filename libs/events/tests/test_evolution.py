"""Schema evolution: the committed snapshots hold, and breaking changes are caught."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from rcm.events.catalog import CATALOG
from rcm.events.evolution import (
    SCHEMA_DIR,
    breaking_changes,
    check_snapshots,
    current_schema,
    snapshot_path,
    write_snapshots,
)

pytestmark = pytest.mark.unit


def test_current_schemas_are_compatible_with_the_committed_snapshots() -> None:
    assert check_snapshots() == {}


def test_there_is_a_snapshot_for_every_event_and_no_other() -> None:
    assert {path.name for path in SCHEMA_DIR.glob("*.json")} == {snapshot_path(spec).name for spec in CATALOG}


class Kind(StrEnum):
    A = "a"
    B = "b"


class KindPlus(StrEnum):
    A = "a"
    B = "b"
    C = "c"


class Line(BaseModel):
    code: str
    units: int


class V1(BaseModel):
    claim_id: str
    amount: int
    note: str | None = None
    kind: Kind = Kind.A
    lines: list[Line] = Field(default_factory=list)


def _diff(new: type[BaseModel]) -> list[str]:
    return breaking_changes(V1.model_json_schema(), new.model_json_schema())


def test_an_unchanged_schema_has_no_breaking_changes() -> None:
    assert _diff(V1) == []


def test_a_new_optional_field_is_additive() -> None:
    class V1Plus(V1):
        payer_note: str | None = Field(default=None, description="added later")

    assert _diff(V1Plus) == []


def test_a_new_enum_value_is_additive() -> None:
    class V1Plus(BaseModel):
        claim_id: str
        amount: int
        note: str | None = None
        kind: KindPlus = KindPlus.A
        lines: list[Line] = Field(default_factory=list)

    assert _diff(V1Plus) == []


def test_a_removed_field_is_breaking() -> None:
    class Removed(BaseModel):
        claim_id: str
        amount: int
        kind: Kind = Kind.A
        lines: list[Line] = Field(default_factory=list)

    assert _diff(Removed) == ["$.note: field removed or renamed"]


def test_a_renamed_field_is_breaking() -> None:
    class Renamed(BaseModel):
        claim_id: str
        total: int
        note: str | None = None
        kind: Kind = Kind.A
        lines: list[Line] = Field(default_factory=list)

    assert _diff(Renamed) == ["$.amount: field removed or renamed", "$.total: new required field"]


def test_a_changed_type_is_breaking_even_deep_inside_a_list() -> None:
    class Line2(BaseModel):
        code: str
        units: str

    class Changed(BaseModel):
        claim_id: str
        amount: float
        note: str | None = None
        kind: Kind = Kind.A
        lines: list[Line2] = Field(default_factory=list)

    problems = _diff(Changed)
    assert "$.amount: type changed from 'integer' to 'number'" in problems
    assert "$.lines[].units: type changed from 'integer' to 'string'" in problems


def test_a_new_required_field_or_a_field_becoming_required_is_breaking() -> None:
    class Stricter(V1):
        payer_id: str

    class NoteRequired(BaseModel):
        claim_id: str
        amount: int
        note: str
        kind: Kind = Kind.A
        lines: list[Line] = Field(default_factory=list)

    assert _diff(Stricter) == ["$.payer_id: new required field"]
    assert "$.note: became required" in _diff(NoteRequired)


def test_a_removed_enum_value_is_breaking() -> None:
    class Narrower(StrEnum):
        A = "a"

    class V1Narrow(BaseModel):
        claim_id: str
        amount: int
        note: str | None = None
        kind: Narrower = Narrower.A
        lines: list[Line] = Field(default_factory=list)

    assert any("enum values removed: ['b']" in problem for problem in _diff(V1Narrow))


def test_update_records_additive_changes_and_refuses_breaking_ones(tmp_path: Path) -> None:
    assert write_snapshots(tmp_path) == {}
    assert check_snapshots(tmp_path) == {}
    spec = CATALOG[0]
    path = snapshot_path(spec, tmp_path)
    pristine = path.read_text()

    older = json.loads(pristine)  # the committed snapshot lacked a field that is now optional
    del older["properties"]["deleted"]
    path.write_text(json.dumps(older))
    assert check_snapshots(tmp_path) == {
        path.name: ["additive change not recorded; run `rcm events schemas --update`"]
    }
    assert write_snapshots(tmp_path) == {}
    assert path.read_text() == pristine

    newer = json.loads(pristine)  # the snapshot had a field the code no longer has
    newer["properties"]["legacy"] = {"type": "string"}
    path.write_text(json.dumps(newer))
    refused = write_snapshots(tmp_path)
    assert refused == {path.name: ["$.legacy: field removed or renamed"]}
    assert json.loads(path.read_text()) == newer


def test_a_missing_or_orphaned_snapshot_is_reported(tmp_path: Path) -> None:
    write_snapshots(tmp_path)
    snapshot_path(CATALOG[1], tmp_path).unlink()
    (tmp_path / "session-exploded.v1.json").write_text(json.dumps(current_schema(CATALOG[2])))
    problems = check_snapshots(tmp_path)
    assert set(problems) == {snapshot_path(CATALOG[1]).name, "session-exploded.v1.json"}
