"""Making model instances from values that reading has already typed.

Reading decodes every element to its field's type (str, int, Decimal, date, a nested
model), so running pydantic's validation on the result would only check again what the
decoder guarantees. ``Maker`` sets the fields directly, fills in defaults the way pydantic
does and still runs the model's validators. Whenever it cannot vouch for the result (a
required field missing, a validator failing or changing its input, a field constraint it
does not know), it hands the values to ``model_validate``, so the instance or the error is
exactly what pydantic gives.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache, partial
from typing import Any, Generic, TypeVar

from annotated_types import MinLen
from pydantic import BaseModel

__all__ = ["REQUIRED", "Maker"]

M = TypeVar("M", bound=BaseModel)

REQUIRED: Any = object()
"""The default of a field that has none."""

_COMPILE_AFTER = 32  # uses of a class's ``make`` before it is generated (compiling costs a few hundred)
_IMMUTABLE = frozenset({type(None), str, int, bool, float, bytes, Decimal, date})
_new = object.__new__
_set = object.__setattr__


class Maker(Generic[M]):
    """Instances of one model class from already typed values (see the module docstring).

    ``markers`` are the metadata types that only locate a field (they constrain nothing).
    ``template`` holds every field in field order with its default: the value itself when it
    is immutable, else REQUIRED (a required field, or one whose default ``factories`` make
    per instance).
    """

    def __init__(self, cls: type[M], markers: tuple[type, ...] = ()) -> None:
        self.cls = cls
        self.fast = _plain_model(cls)
        before, after = [], []
        for decorator in cls.__pydantic_decorators__.model_validators.values():
            func = decorator.func
            one_argument = len(inspect.signature(func).parameters) == 1
            if decorator.info.mode == "before" and one_argument and inspect.ismethod(func):
                before.append(func)
            elif decorator.info.mode == "after" and one_argument:
                after.append(func)
            else:
                self.fast = False
        self.before: tuple[Callable[[Any], Any], ...] = tuple(before)
        self.after: tuple[Callable[[Any], Any], ...] = tuple(after)
        self.template: dict[str, Any] = {}
        factories: list[tuple[str, Callable[[], Any]]] = []
        required: list[str] = []
        min_lengths: list[tuple[str, int]] = []
        self._plain: dict[str, tuple[type, ...] | None] = {}
        for name, info in cls.model_fields.items():
            for meta in info.metadata:
                if isinstance(meta, MinLen):
                    min_lengths.append((name, meta.min_length))
                elif not isinstance(meta, markers):
                    self.fast = False
            if info.alias is not None or info.validation_alias is not None:
                self.fast = False
            if info.default_factory is not None and _takes_data(info.default_factory):
                self.fast = False
            default, factory = _default(info)
            self.template[name] = default
            if factory is not None:
                factories.append((name, factory))
            elif default is REQUIRED:
                required.append(name)
            self._plain[name] = _plain_types(info.annotation)
        self.factories = tuple(factories)
        self.factory = dict(factories)
        self.required = tuple(required)
        self.min_lengths = tuple(min_lengths)
        # instances need no validator at all: ``finish`` only sets the fields
        self.plain = self.fast and not self.before and not self.after
        self._uses = 0

    def make(self, values: dict[str, Any]) -> M:
        """An instance from typed ``values`` (only fields; absent ones take their defaults)."""
        self._uses += 1
        if self._uses == _COMPILE_AFTER and self.fast:
            self.make = self._compiled_make()  # type: ignore[method-assign,assignment]
        if not self.fast:
            return self.cls.model_validate(values)
        data = self.template.copy()
        data.update(values)
        if len(data) != len(self.template):  # a name that is no field
            return self.cls.model_validate(values)
        for name, factory in self.factories:
            if name not in values:
                data[name] = factory()
        for name in self.required:
            if name not in values:
                return self.cls.model_validate(values)
        for name, min_length in self.min_lengths:
            if name in values and len(values[name]) < min_length:
                return self.cls.model_validate(values)
        return self.finish(data, set(values))

    def _compiled_make(self) -> Callable[[dict[str, Any]], M]:
        """``make`` as one generated function for this class: the defaults, factories, required
        and length checks written out per field, and the instance made inline when no
        validator runs before it (what ``finish`` does). Same results as ``make``."""
        namespace: dict[str, Any] = {
            "TEMPLATE": self.template,
            "SIZE": len(self.template),
            "VALIDATE": self.cls.model_validate,
        }
        lines = ["def make(values):", "    data = TEMPLATE.copy()", "    data.update(values)"]
        lines.append("    if len(data) != SIZE:")
        lines.append("        return VALIDATE(values)")
        for k, (name, factory) in enumerate(self.factories):
            fresh = {list: "[]", dict: "{}"}.get(factory)  # type: ignore[call-overload]
            if fresh is None:
                namespace[f"F{k}"] = factory
                fresh = f"F{k}()"
            lines.append(f"    if {name!r} not in values:")
            lines.append(f"        data[{name!r}] = {fresh}")
        for name in self.required:
            lines.append(f"    if {name!r} not in values:")
            lines.append("        return VALIDATE(values)")
        for name, min_length in self.min_lengths:
            lines.append(f"    if {name!r} in values and len(values[{name!r}]) < {min_length}:")
            lines.append("        return VALIDATE(values)")
        lines.append("    fields_set = set(values)")
        lines.extend(self.instance_source(namespace, "    "))
        exec("\n".join(lines), namespace)  # built above from the class's own fields
        made: Callable[[dict[str, Any]], M] = namespace["make"]
        return made

    def instance_source(self, namespace: dict[str, Any], indent: str) -> list[str]:
        """Generated lines that return the instance holding ``data`` with ``fields_set`` given,
        as ``finish`` makes it: made here and its after-validators run inline (pydantic's
        validation when one fails), or through ``finish`` when before-validators must run.
        Puts what the lines use in ``namespace``."""
        namespace.update(NEW=_new, SET=_set, CLS=self.cls, FINISH=self.finish, VALIDATE_GIVEN=self.validate)
        if not self.fast or self.before:
            return [f"{indent}return FINISH(data, fields_set)"]
        lines = [
            f"{indent}instance = NEW(CLS)",
            f"{indent}SET(instance, '__dict__', data)",
            f"{indent}SET(instance, '__pydantic_fields_set__', fields_set)",
            f"{indent}SET(instance, '__pydantic_extra__', None)",
            f"{indent}SET(instance, '__pydantic_private__', None)",
        ]
        if self.after:
            lines.append(f"{indent}try:")
            for k, validator in enumerate(self.after):
                namespace[f"A{k}"] = validator
                lines.append(f"{indent}    instance = A{k}(instance)")
            lines.append(f"{indent}except Exception:")
            lines.append(f"{indent}    return VALIDATE_GIVEN(data, fields_set)")
        lines.append(f"{indent}return instance")
        return lines

    def accepts(self, values: dict[str, Any]) -> bool:
        """Whether untyped ``values`` (from hooks) already have their fields' types."""
        for name, value in values.items():
            plain = self._plain.get(name)
            if plain is None or type(value) not in plain:
                return False
        return True

    def finish(self, data: dict[str, Any], fields_set: set[str]) -> M:
        """The instance holding ``data`` (every field, in field order, required ones given),
        ``fields_set`` being the fields that were given, once the validators pass."""
        if not self.fast or (self.before and not self._before_keeps(data, fields_set)):
            return self.validate(data, fields_set)
        instance: Any = _new(self.cls)
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

    def _before_keeps(self, data: dict[str, Any], fields_set: set[str]) -> bool:
        """Whether every before-validator hands the given values back as they are."""
        given = {name: value for name, value in data.items() if name in fields_set}
        for validator in self.before:
            probe = dict(given)
            try:
                if validator(probe) is not probe:
                    return False
            except Exception:
                return False
            if len(probe) != len(given) or any(probe.get(k, probe) is not v for k, v in given.items()):
                return False
        return True


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
        or cls.__new__ is not object.__new__
    )


@cache
def _takes_data(factory: Callable[..., Any]) -> bool:
    """Whether a default factory reads the other fields (pydantic works that out per call)."""
    if factory in (list, dict, set):
        return False
    try:
        return len(inspect.signature(factory).parameters) == 1
    except (TypeError, ValueError):
        return False


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
