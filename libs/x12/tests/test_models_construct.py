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


def _readable(path: Path) -> bool:
    try:
        read_interchanges(path.read_bytes())
    except X12Error:
        return False  # the malformed samples: their errors are checked by test_models_roundtrip
    return True


READABLE = [p for p in SAMPLES if _readable(p)]


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


def test_every_transaction_type_has_readable_samples() -> None:
    assert {p.parent.name for p in READABLE} == set(TYPES)


@pytest.mark.parametrize("path", READABLE, ids=lambda p: p.name)
def test_every_model_read_is_what_validation_gives(path: Path) -> None:
    for interchange, _ in read_interchanges(path.read_bytes()):
        for model in _models(interchange):
            given = {name: getattr(model, name) for name in model.model_fields_set}
            validated = type(model).model_validate(given)
            assert validated == model, type(model).__name__
            assert validated.model_fields_set == model.model_fields_set, type(model).__name__
            assert list(validated.__dict__) == list(model.__dict__), type(model).__name__


def test_a_generated_make_gives_what_validation_gives() -> None:
    from decimal import Decimal

    from rcm.x12.models.common import ProcedureCode
    from rcm.x12.models.construct import Maker
    from rcm.x12.models.remit_835 import ServicePayment, ServicePaymentInfo

    service = ServicePaymentInfo(
        procedure=ProcedureCode(qualifier="HC", code="90837", modifiers=["95"]),
        charge=Decimal("150"),
        paid=Decimal("120"),
    )
    cases = [
        (ServicePayment, {"service": service}),
        (ProcedureCode, {"qualifier": "HC", "code": "90834", "modifiers": ["HO", "95"]}),
    ]
    for cls, values in cases:
        maker = Maker(cls)
        made = [maker.make(dict(values)) for _ in range(40)]  # generated after its first uses
        validated = cls.model_validate(values)
        assert made[0] == made[-1] == validated
        assert made[-1].model_fields_set == validated.model_fields_set
        assert made[-1] is not made[-2]
        if cls is ServicePayment:
            assert made[-1].adjustments is not made[-2].adjustments  # a fresh list each time
    # what the generated make refuses goes to pydantic, which says why
    maker = Maker(ProcedureCode)
    for _ in range(40):
        maker.make({"qualifier": "HC", "code": "90834"})
    with pytest.raises(X12Error, match="two characters"):
        maker.make({"qualifier": "HC", "code": "90834", "modifiers": ["HOX"]})
    with pytest.raises(X12Error, match="code"):
        maker.make({"qualifier": "HC"})
