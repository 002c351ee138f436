"""A model class reads the same whether its reading is interpreted or generated.

Each class is read from its plan for its first uses and by a function generated for it
after that; both must give equal models (same values, same fields set) and the same
errors on every sample.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from rcm.x12.convert import read_interchanges, to_json
from rcm.x12.errors import X12Error
from rcm.x12.models import base

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
TYPES = ["270", "271", "276", "277", "277CA", "278", "835", "837P", "999", "TA1"]
SAMPLES = sorted(p for t in TYPES for p in (DATA / t).iterdir() if p.is_file())


def _read(path: Path, compile_after: int, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    monkeypatch.setattr(base, "_COMPILE_AFTER", compile_after)
    monkeypatch.setattr(base, "_BUILDERS", {})
    try:
        interchanges = read_interchanges(path.read_bytes())
    except X12Error as exc:
        return [f"error: {exc}"]
    return [
        (to_json(interchange), [m.model_fields_set for m in _models(interchange)])
        for interchange, _ in interchanges
    ]


def _models(value: object) -> list[BaseModel]:
    found: list[BaseModel] = []
    if isinstance(value, BaseModel):
        found.append(value)
        for name in type(value).model_fields:
            found.extend(_models(getattr(value, name)))
    elif isinstance(value, list | tuple):
        for item in value:
            found.extend(_models(item))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(_models(item))
    return found


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_generated_reading_gives_what_interpreted_reading_gives(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated = _read(path, 1, monkeypatch)
    interpreted = _read(path, 1 << 30, monkeypatch)
    assert generated == interpreted
