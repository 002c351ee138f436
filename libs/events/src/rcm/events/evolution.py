"""Schema evolution: committed JSON-schema snapshots and the compatibility check.

Rules (see the package README):

* Within a version, changes are additive: a new **optional** field, a new enum value,
  a changed description or example. Consumers ignore fields they do not know.
* Removing or renaming a field, changing its type or constraints, making a field
  required, or adding a required field is breaking: it needs a new event version
  (a new type and topic), never an edit of the current one.

``libs/events/schemas/<name>.v<version>.json`` holds the snapshot of each event's
validation schema. :func:`check_snapshots` reports breaking differences;
:func:`write_snapshots` (``rcm events schemas --update``) records additive changes and
refuses breaking ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rcm.events.catalog import CATALOG, EventSpec

__all__ = [
    "SCHEMA_DIR",
    "breaking_changes",
    "check_snapshots",
    "current_schema",
    "snapshot_path",
    "write_snapshots",
]

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"
"""Directory of the committed snapshots (``libs/events/schemas``)."""

_DOC_KEYS = frozenset({"title", "description", "examples", "default"})
_STRUCTURAL = frozenset(
    {
        "properties",
        "required",
        "enum",
        "anyOf",
        "oneOf",
        "allOf",
        "items",
        "additionalProperties",
        "$defs",
        "$ref",
    }
)

Schema = dict[str, Any]


def current_schema(spec: EventSpec) -> Schema:
    """The JSON schema consumers validate ``spec``'s events against."""
    return spec.model.model_json_schema(mode="validation")


def snapshot_path(spec: EventSpec, directory: Path = SCHEMA_DIR) -> Path:
    """Where the snapshot of ``spec`` lives."""
    return directory / f"{spec.name}.v{spec.version}.json"


def _dump(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _resolve(node: Schema, root: Schema) -> Schema:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = root.get("$defs", {})[name]
    return node


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every change from ``old`` to ``new`` that breaks a reader or a replay; empty if additive."""
    return _compare(old, new, old, new, "$", set())


def _compare(
    old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str, seen: set[str]
) -> list[str]:
    marker = f"{path}|{old.get('$ref')}|{new.get('$ref')}"
    if marker in seen:
        return []
    seen.add(marker)
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []

    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    for name, sub in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: field removed or renamed")
        else:
            problems += _compare(sub, new_props[name], old_root, new_root, f"{path}.{name}", seen)
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(new_required - old_required):
        what = "became required" if name in old_props else "new required field"
        problems.append(f"{path}.{name}: {what}")

    if "enum" in old or "enum" in new:
        if "enum" not in old or "enum" not in new:
            problems.append(f"{path}: enum added or removed")
        else:
            removed = [value for value in old["enum"] if value not in new["enum"]]
            if removed:
                problems.append(f"{path}: enum values removed: {removed}")

    for keyword in ("anyOf", "oneOf", "allOf"):
        old_options, new_options = old.get(keyword), new.get(keyword)
        if old_options is None and new_options is None:
            continue
        if old_options is None or new_options is None or len(old_options) != len(new_options):
            problems.append(f"{path}: type changed ({keyword})")
            continue
        for index, (a, b) in enumerate(zip(old_options, new_options, strict=True)):
            problems += _compare(a, b, old_root, new_root, f"{path}<{keyword}{index}>", seen)

    for keyword in ("items", "additionalProperties"):
        old_sub, new_sub = old.get(keyword), new.get(keyword)
        if isinstance(old_sub, dict) and isinstance(new_sub, dict):
            problems += _compare(old_sub, new_sub, old_root, new_root, f"{path}[]", seen)
        elif old_sub != new_sub:
            problems.append(f"{path}: {keyword} changed")

    for keyword in sorted((old.keys() | new.keys()) - _DOC_KEYS - _STRUCTURAL):
        if old.get(keyword) != new.get(keyword):
            problems.append(f"{path}: {keyword} changed from {old.get(keyword)!r} to {new.get(keyword)!r}")
    return problems


def check_snapshots(directory: Path = SCHEMA_DIR) -> dict[str, list[str]]:
    """Problems per snapshot file: breaking changes, missing snapshots, orphaned snapshots."""
    problems: dict[str, list[str]] = {}
    expected = set()
    for spec in CATALOG:
        path = snapshot_path(spec, directory)
        expected.add(path.name)
        if not path.exists():
            problems[path.name] = ["no snapshot; run `rcm events schemas --update`"]
            continue
        found = breaking_changes(json.loads(path.read_text()), current_schema(spec))
        if found:
            problems[path.name] = found
        elif path.read_text() != _dump(current_schema(spec)):
            problems[path.name] = ["additive change not recorded; run `rcm events schemas --update`"]
    for path in sorted(directory.glob("*.json")):
        if path.name not in expected:
            problems[path.name] = ["snapshot of an event no longer in the catalog (removal is breaking)"]
    return problems


def write_snapshots(directory: Path = SCHEMA_DIR) -> dict[str, list[str]]:
    """Record the current schemas; breaking ones are not written and are returned instead."""
    directory.mkdir(parents=True, exist_ok=True)
    refused: dict[str, list[str]] = {}
    for spec in CATALOG:
        path = snapshot_path(spec, directory)
        schema = current_schema(spec)
        if path.exists():
            found = breaking_changes(json.loads(path.read_text()), schema)
            if found:
                refused[path.name] = found
                continue
        path.write_text(_dump(schema))
    return refused
