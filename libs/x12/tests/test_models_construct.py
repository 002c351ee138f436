"""Reading makes every typed model exactly as pydantic's validation would.

Reading decodes elements to their types and builds the models without validating the
values again; for every model in every sample, validating the fields it was given must
give an equal model with the same fields set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from rcm.x12.convert import read_interchanges
from rcm.x12.errors import X12Error

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
TYPES = ["270", "271", "276", "277", "277CA", "278", "835", "837P", "999", "TA1"]
SAMPLES = sorted(p for t in TYPES for p in (DATA / t).iterdir() if p.is_file())


def _models(value: object) -> Iterator[BaseModel]:
    if isinstance(value, BaseModel):
        yield value
        for name in type(value).model_fields:
            yield from _models(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _models(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _models(item)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_model_read_is_what_validation_gives(path: Path) -> None:
    try:
        interchanges = read_interchanges(path.read_bytes())
    except X12Error:
        pytest.skip("the sample is unreadable (see test_models_roundtrip)")
    for interchange, _ in interchanges:
        for model in _models(interchange):
            given = {name: getattr(model, name) for name in model.model_fields_set}
            validated = type(model).model_validate(given)
            assert validated == model, type(model).__name__
            assert validated.model_fields_set == model.model_fields_set, type(model).__name__
            assert list(validated.__dict__) == list(model.__dict__), type(model).__name__
