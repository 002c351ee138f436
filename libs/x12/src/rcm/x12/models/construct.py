"""Making model instances from values that reading has already typed.

Reading decodes every element to its field's type (str, int, Decimal, date, a nested
model), so running pydantic's validation on the result would only check again what the
decoder guarantees. ``Maker`` sets the fields directly, fills in defaults the way pydantic
does and still runs the model's after-validators. Whenever it cannot vouch for the result
(a required field missing, a validator failing, a model with before-validators or field
constraints it does not know), it hands the values to ``model_validate``, so the instance
or the error is exactly what pydantic gives.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, Generic, TypeVar

from annotated_types import MinLen
from pydantic import BaseModel

__all__ = ["REQUIRED", "Maker"]

M = TypeVar("M", bound=BaseModel)

REQUIRED: Any = object()
"""The default of a field that has none."""

_IMMUTABLE = frozenset({type(None), str, int, bool, float, bytes, Decimal, date})
_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    default: Any  # REQUIRED, or the value itself when ``factory`` is None
    factory: Callable[[], Any] | None
    min_length: int
    plain: tuple[type, ...] | None  # the types a value may have without conversion, when that is simple


class Maker(Generic[M]):
    """Instances of one model class from already typed values (see the module docstring).

    ``markers`` are the metadata types that only locate a field (they constrain nothing).
    """

    def __init__(self, cls: type[M], markers: tuple[type, ...] = ()) -> None:
        self.cls = cls
        self.fast = _plain_model(cls)
        self.after: tuple[Callable[[Any], Any], ...] = ()
        after = []
        for decorator in cls.__pydantic_decorators__.model_validators.values():
            func = decorator.func
            if decorator.info.mode != "after" or len(inspect.signature(func).parameters) != 1:
                self.fast = False
            else:
                after.append(func)
        self.after = tuple(after)
        fields = []
        for name, info in cls.model_fields.items():
            min_length = 0
            for meta in info.metadata:
                if isinstance(meta, MinLen):
                    min_length = meta.min_length
                elif not isinstance(meta, markers):
                    self.fast = False
            if (
                info.alias is not None
                or info.validation_alias is not None
                or info.default_factory_takes_validated_data
            ):
                self.fast = False
            fields.append(_Field(name, *_default(info), min_length, _plain_types(info.annotation)))
        self.fields = tuple(fields)
        self._plain = {field.name: field.plain for field in fields}

    def make(self, values: dict[str, Any]) -> M:
        """An instance from typed ``values`` (only fields; absent ones take their defaults)."""
        if not self.fast:
            return self.cls.model_validate(values)
        data: dict[str, Any] = {}
        given = 0
        for field in self.fields:
            name = field.name
            if name in values:
                value = values[name]
                if field.min_length and len(value) < field.min_length:
                    return self.cls.model_validate(values)
                given += 1
            elif field.factory is not None:
                value = field.factory()
            elif field.default is REQUIRED:
                return self.cls.model_validate(values)
            else:
                value = field.default
            data[name] = value
        if given != len(values):
            return self.cls.model_validate(values)
        return self.finish(data, set(values))

    def accepts(self, values: dict[str, Any]) -> bool:
        """Whether untyped ``values`` (from hooks) already have their fields' types."""
        for name, value in values.items():
            plain = self._plain.get(name)
            if plain is None or type(value) not in plain:
                return False
        return True

    def finish(self, data: dict[str, Any], fields_set: set[str]) -> M:
        """The instance holding ``data`` (every field, in field order), ``fields_set`` being the
        fields that were given, once the after-validators pass."""
        if not self.fast:
            return self.validate(data, fields_set)
        instance: Any = self.cls.__new__(self.cls)
        _set(instance, "__dict__", data)
        _set(instance, "__pydantic_fields_set__", fields_set)
        _set(instance, "__pydantic_extra__", None)
        _set(instance, "__pydantic_private__", None)
        if self.after:
            try:
                for validator in self.after:
                    instance = validator(instance)
            except Exception:
                return self.validate(data, fields_set)
        result: M = instance
        return result

    def validate(self, data: dict[str, Any], fields_set: set[str]) -> M:
        """What pydantic makes of the fields given (the instance, or its error)."""
        return self.cls.model_validate({name: value for name, value in data.items() if name in fields_set})


def _plain_model(cls: type[BaseModel]) -> bool:
    decorators = cls.__pydantic_decorators__
    return not (
        decorators.field_validators
        or decorators.validators
        or decorators.root_validators
        or cls.__pydantic_post_init__
        or cls.__private_attributes__
        or cls.__pydantic_root_model__
        or cls.model_config.get("extra") == "allow"
    )


def _default(info: Any) -> tuple[Any, Callable[[], Any] | None]:
    if info.default_factory is not None:
        return REQUIRED, info.default_factory
    if info.is_required():
        return REQUIRED, None
    default = info.default
    if type(default) in _IMMUTABLE:
        return default, None
    if type(default) is list and not default:
        return REQUIRED, list
    # pydantic copies other mutable defaults per instance
    return REQUIRED, partial(info.get_default, call_default_factory=True)


def _plain_types(annotation: Any) -> tuple[type, ...] | None:
    if annotation in (str, bool, int):
        return (annotation,)
    if annotation == str | None:
        return (str, type(None))
    return None
