"""The mapping between typed models and X12 segments and loops.

Segment models declare where each field lives with ``Annotated`` markers:

- ``El(n)``: element ``n`` (1-based, as in ``CLM05``); a field typed as a
  ``Composite`` reads the element's components.
- ``Comps(n, end)``: the components ``n..end`` of one element as a list (modifiers,
  diagnosis pointers).
- ``Reps(n)``: the repetitions of element ``n`` as a list (EB03 service types).
- ``Spread(start, end, width)``: items laid over consecutive elements, ``width``
  elements each (HI01-HI12, the CAS reason/amount/quantity triples, PLB pairs).

Loop models declare their segments with ``Seg(id, qualifier)`` and their child
loops with ``Child(loop_id)``. Reading keeps every segment and loop it does not
model in ``other_segments`` / ``other_loops`` with its position, and every
element a segment model does not declare in ``other_elements``, so that writing
a model read from a file gives back the same segments.
"""

from __future__ import annotations

import contextlib
import re
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rcm.x12.errors import X12Error
from rcm.x12.models.construct import REQUIRED, Maker
from rcm.x12.segments import DEFAULT_DELIMITERS, Delimiters, Loop, Segment

__all__ = [
    "Child",
    "Composite",
    "Comps",
    "El",
    "Group",
    "RawLoop",
    "RawSegment",
    "Reps",
    "Seg",
    "SegmentModel",
    "Spread",
    "Unread",
    "X12Loop",
    "X12Model",
    "format_date",
    "parse_date",
    "reading_leniently",
]


@dataclass(frozen=True, slots=True)
class Unread:
    """A segment or loop a lenient read left out because its values could not be read.

    ``error`` is the reader's message and may quote the element's value (a date of birth, a
    member id): show it to the person fixing the file, never log it or put it in an event.
    """

    loop: str
    """The loop it was in (or the loop left out, when ``segment`` is None)."""
    segment: str | None
    """The segment id left out; None when the whole child loop ``loop`` was left out."""
    position: int
    """The segment's place in its interchange, from 1 (a loop's: its first segment's); 0 when unknown."""
    error: str
    transaction: int = -1
    """Which transaction set of the file it was in, from 0 in file order (``read_interchanges_leniently``
    sets it; -1 when unknown or outside any set, a TA1 say)."""


def _where(segment: Segment, loop_id: str) -> str:
    """Where a segment is, for an error: its place in the interchange when the reader gave one."""
    at = f"segment {segment.position} " if segment.position else "segment "
    return f"{at}({segment.id}, loop {loop_id})"


_UNREAD: ContextVar[list[Unread] | None] = ContextVar("x12_unread", default=None)
_LEFT_OUT: Any = object()


@contextlib.contextmanager
def reading_leniently() -> Iterator[list[Unread]]:
    """Inside this block, loop models keep what they can read: a segment whose values cannot be
    read is kept as an unrecognised raw segment, and a child loop that cannot be made (its
    required segment was left out, say) as a raw loop; each is listed in the yielded list. A
    loop's own required parts still fail the read when missing. For answers where part of the
    content beats none (a 271's other benefits; a 999 or 277CA, whose reader sets aside the set or
    claim an unread part belongs to); never for money (835)."""
    unread: list[Unread] = []
    token = _UNREAD.set(unread)
    try:
        yield unread
    finally:
        _UNREAD.reset(token)


# ----------------------------------------------------------------- markers


@dataclass(frozen=True, slots=True)
class El:
    """Element ``index`` (1-based) of a segment, or component ``index`` inside a composite."""

    index: int
    max_len: int = 0
    min_len: int = 0


@dataclass(frozen=True, slots=True)
class Comps:
    """Components as a list: inside a composite, components ``index..end``; on a segment,
    components ``1..end`` of element ``index`` (``end`` 0 = to the last)."""

    index: int
    end: int = 0


@dataclass(frozen=True, slots=True)
class Reps:
    """The repetitions of element ``index`` as a list."""

    index: int


@dataclass(frozen=True, slots=True)
class Spread:
    """A list of items over elements ``start..end``, ``width`` consecutive elements each."""

    start: int
    end: int
    width: int = 1


Locator = El | Comps | Reps | Spread


@dataclass(frozen=True, slots=True)
class Seg:
    """A segment of a loop: its id and the accepted values of its element ``element``."""

    id: str
    qualifier: str | tuple[str, ...] | None = None
    element: int = 1
    trailer: bool = False

    def matches(self, segment: Segment) -> bool:
        if segment.id != self.id:
            return False
        if self.qualifier is None:
            return True
        value = segment.get(self.element)
        if isinstance(self.qualifier, str):
            return value == self.qualifier
        return value in self.qualifier


@dataclass(frozen=True, slots=True)
class Child:
    """A child loop by its implementation-guide id (or any of several ids, for generic loop models).

    ``first`` also requires the loop's first segment id (2110C is EQ in a 270, EB in a 271).
    """

    loop_id: str | tuple[str, ...]
    first: str | None = None

    def matches(self, loop: Loop) -> bool:
        if self.first is not None and not (loop.segments and loop.segments[0].id == self.first):
            return False
        return loop.id == self.loop_id if isinstance(self.loop_id, str) else loop.id in self.loop_id


# ----------------------------------------------------------------- values

_DATE = re.compile(r"^[0-9]{8}\Z")
_NUMBER = re.compile(r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)\Z")


# Dates and amounts repeat throughout a file; their values are immutable, so each distinct
# text is parsed once (a bounded cache: a hit costs a fraction of a parse).
@lru_cache(maxsize=4096)
def parse_date(text: str) -> date:
    """A CCYYMMDD date."""
    # The length and digit test is the pattern's common case, without the regex.
    if not (len(text) == 8 and text.isascii() and text.isdecimal()) and not _DATE.match(text):
        raise X12Error(f"{text!r} is not a CCYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise X12Error(f"{text!r} is not a valid date: {exc}") from None


def format_date(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


@lru_cache(maxsize=4096)
def _parse_decimal(text: str) -> Decimal:
    # Digits with at most one point are the pattern's common case, without the regex.
    if not (text.isascii() and text.replace(".", "", 1).isdecimal()) and not _NUMBER.match(text):
        raise X12Error(f"{text!r} is not a decimal number")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise X12Error(f"{text!r} is not a decimal number") from None


def _format_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise X12Error(f"{value} cannot be written as an X12 number")
    return format(value, "f")


# ----------------------------------------------------------------- base models


class X12Model(BaseModel):
    """Base of every typed X12 model: frozen, no unknown fields.

    Constructing a model with invalid values raises X12Error, like reading bad X12 does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise X12Error(f"{type(self).__name__}: {_first_error(exc)}") from None


class RawSegment(X12Model):
    """A segment the typed model does not cover, kept at its position in its loop.

    ``elements`` holds each element as its repetitions, each as its components, so that
    the segment can be written back with other delimiters.
    """

    id: str
    elements: list[list[list[str]]] = Field(default_factory=list)
    position: int = 0

    @classmethod
    def from_segment(cls, segment: Segment, delimiters: Delimiters, position: int = 0) -> RawSegment:
        elements = [
            [rep.split(delimiters.component) for rep in _split_repeats(element, delimiters) or [""]]
            for element in segment.elements
        ]
        result: RawSegment = _maker(cls).make({"id": segment.id, "elements": elements, "position": position})
        return result

    def to_segment(self, delimiters: Delimiters) -> Segment:
        elements = [
            delimiters.repetition.join(delimiters.component.join(comps) for comps in element)
            for element in self.elements
        ]
        return Segment(self.id, elements)


class RawLoop(X12Model):
    """A loop the typed model does not cover, kept whole at its position among its siblings."""

    id: str
    segments: list[RawSegment] = Field(default_factory=list)
    loops: list[RawLoop] = Field(default_factory=list)
    position: int = 0

    @classmethod
    def from_loop(cls, loop: Loop, delimiters: Delimiters, position: int = 0) -> RawLoop:
        values = {
            "id": loop.id,
            "segments": [RawSegment.from_segment(s, delimiters) for s in loop.segments],
            "loops": [RawLoop.from_loop(child, delimiters) for child in loop.loops],
            "position": position,
        }
        result: RawLoop = _maker(cls).make(values)
        return result

    def to_loop(self, delimiters: Delimiters) -> Loop:
        return Loop(
            self.id,
            [s.to_segment(delimiters) for s in self.segments],
            [child.to_loop(delimiters) for child in self.loops],
        )


# ----------------------------------------------------------------- field specs


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    name: str
    locator: Locator
    kind: Any  # str, int, Decimal, date or a Composite/Group subclass
    is_list: bool
    required: bool
    optional: bool


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The item type of an annotation and whether it is a list (Optional dropped)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported annotation {annotation!r}")
        return _unwrap(args[0])
    if origin is list:
        (item,) = typing.get_args(annotation)
        return item, True
    return annotation, False


def _complete(cls: type[BaseModel]) -> None:
    """Resolve forward references before a model's fields are read (the readings are cached)."""
    if not cls.__pydantic_complete__:
        cls.model_rebuild(raise_errors=True)


@cache
def _specs(cls: type[BaseModel]) -> tuple[_FieldSpec, ...]:
    _complete(cls)
    specs = []
    for name, info in cls.model_fields.items():
        locators = [m for m in info.metadata if isinstance(m, El | Comps | Reps | Spread)]
        if not locators:
            continue
        kind, is_list = _unwrap(info.annotation)
        optional = type(None) in typing.get_args(info.annotation)
        specs.append(_FieldSpec(name, locators[0], kind, is_list, info.is_required(), optional))
    return tuple(specs)


@cache  # owners are segment ids and element places: few, and asked for on every element written
def _label(owner: str, index: int) -> str:
    """The name of element ``index`` of ``owner``: ``CLP03``; ``SVC01-02`` for a component; and
    for an element of a repeated group (a CAS triple) its place in the segment: the group is
    labelled by :func:`_group_label` as ``CAS+4`` (its elements start after CAS04), so its second
    element is ``CAS06``."""
    if "+" in owner:
        segment, _, before = owner.partition("+")
        return f"{segment}{index + int(before):02d}"
    return f"{owner}{index:02d}"


def _group_label(owner: str, first: int) -> str:
    """The label of a repeated group whose first element is element ``first`` of ``owner``."""
    return f"{owner}+{first - 1}"


def _group_owner(where: str) -> str:
    """How a repeated group is named in messages about it as a whole: its first element."""
    return _label(where, 1) if "+" in where else where


# ----------------------------------------------------------------- reading plans

_UNSET: Any = object()
"""What a field reader returns when the slots leave the field to its default."""

# A field reader: (slots, delimiters, owner label such as "CLP" or "SVC01-") -> value or _UNSET.
_Reader = Callable[[Sequence[str], Delimiters, str], Any]
# A scalar parser: (text, delimiters, owner label, slot index) -> value; labels errors only on failure.
_Parser = Callable[[str, Delimiters, str, int], Any]


def _parse_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise X12Error(f"{text!r} is not a whole number")
    return int(text)


_CONVERTERS: dict[Any, Callable[[str], Any]] = {Decimal: _parse_decimal, date: parse_date, int: _parse_int}


def _scalar_parser(kind: Any) -> _Parser:
    if kind is str:
        return lambda text, delimiters, where, index: text
    convert = _CONVERTERS.get(kind)
    if convert is not None:

        def parse(text: str, delimiters: Delimiters, where: str, index: int) -> Any:
            try:
                return convert(text)
            except X12Error as exc:
                raise X12Error(f"{_label(where, index)}: {exc}") from None

        return parse
    if isinstance(kind, type) and issubclass(kind, Composite):
        composite = kind
        # the labels ("SV101", "SV101-") a composite's place gives, made once per place
        labels: dict[tuple[str, int], tuple[str, str]] = {}

        def parse_composite(text: str, delimiters: Delimiters, where: str, index: int) -> Any:
            label = labels.get((where, index))
            if label is None:
                place = _label(where, index)
                label = labels[(where, index)] = (place + "-", place)
            return _builder(composite)(text.split(delimiters.component), delimiters, label[0], label[1], 0)

        return parse_composite

    def unsupported(text: str, delimiters: Delimiters, where: str, index: int) -> Any:
        raise TypeError(f"unsupported field type {kind!r}")

    return unsupported


def _field_reader(spec: _FieldSpec, component_level: bool) -> _Reader:
    """How one field is read from the slots (element ``n`` is ``slots[n - 1]``)."""
    loc = spec.locator
    if isinstance(loc, Spread):
        return _spread_reader(loc, spec.kind)
    i = loc.index - 1
    if isinstance(loc, Comps):
        end = loc.end
        if component_level:

            def read_components(slots: Sequence[str], delimiters: Delimiters, where: str) -> Any:
                return _trim(list(slots[i : end or len(slots)]))

            return read_components

        def read_parts(slots: Sequence[str], delimiters: Delimiters, where: str) -> Any:
            text = slots[i] if i < len(slots) else ""
            parts = text.split(delimiters.component) if text else []
            return _trim(parts[: end or len(parts)])

        return read_parts
    parse = _scalar_parser(spec.kind)
    index = loc.index
    if isinstance(loc, Reps):

        def read_repeats(slots: Sequence[str], delimiters: Delimiters, where: str) -> Any:
            text = slots[i] if i < len(slots) else ""
            return [parse(r, delimiters, where, index) for r in _split_repeats(text, delimiters)]

        return read_repeats
    # Absent stays absent: None when the field is optional, else its default (a default is
    # for building, not for reading).
    empty = None if spec.optional else _UNSET
    if spec.kind is str:

        def read_text(slots: Sequence[str], delimiters: Delimiters, where: str) -> Any:
            return (slots[i] or empty) if i < len(slots) else empty

        return read_text

    convert = _CONVERTERS.get(spec.kind)
    if convert is not None:

        def read_converted(slots: Sequence[str], delimiters: Delimiters, where: str) -> Any:
            text = slots[i] if i < len(slots) else ""
            if not text:
                return empty
            try:
                return convert(text)
            except X12Error as exc:
                raise X12Error(f"{_label(where, index)}: {exc}") from None

        return read_converted

    def read_value(slots: Sequence[str], delimiters: Delimiters, where: str) -> Any:
        text = slots[i] if i < len(slots) else ""
        return parse(text, delimiters, where, index) if text else empty

    return read_value


def _spread_reader(loc: Spread, kind: Any) -> _Reader:
    start, end, width = loc.start, loc.end, loc.width
    group = kind if isinstance(kind, type) and issubclass(kind, Group) else None
    parse = _scalar_parser(kind)

    def read_spread(slots: Sequence[str], delimiters: Delimiters, where: str) -> Any:
        stop = min(end, len(slots))
        groups = [slots[i - 1 : i - 1 + width] for i in range(start, stop + 1, width)]
        while groups and not any(groups[-1]):
            groups.pop()
        if group is not None:
            return [
                group.decode(items, delimiters, _group_label(where, start + k * width))
                for k, items in enumerate(groups)
            ]
        return [parse(items[0], delimiters, where, start + k * width) for k, items in enumerate(groups)]

    return read_spread


# A located field: name, slot index, what an empty plain-text slot gives, its reader (None for
# plain text and for a scalar read with ``convert``), its default factory and its converter.
_Located = tuple[str, int, Any, _Reader | None, Callable[[], Any] | None, Callable[[str], Any] | None]
# The reading of one class from its slots: (slots, delimiters, label of the slots such as "CLP"
# or "SVC01-", owner and segment position for error messages) -> the instance.
_BuildSlots = Callable[[Sequence[str], Delimiters, str, str, int], Any]


@dataclass(frozen=True, slots=True)
class _SlotPlan:
    """How a model class reads its slots, worked out once per class.

    ``located`` holds each field a marker locates (see ``_Located``); ``unlocated`` has the
    other fields with their default factories (factory None: the default is in the maker's
    template). ``covered`` are the slots the markers locate; a segment keeps the others in
    ``other_elements`` (``keeps_other``).
    """

    located: tuple[_Located, ...]
    unlocated: tuple[tuple[str, Callable[[], Any] | None], ...]
    maker: Maker[Any]
    covered: frozenset[int]
    all_covered_up_to: int  # slots 1..n are all covered (0: not even slot 1)
    keeps_other: bool

    def build(
        self, slots: Sequence[str], delimiters: Delimiters, where: str, owner: str, position: int
    ) -> Any:
        """The instance the slots give (what ``_compile_build`` generates, interpreted)."""
        data = self.maker.template.copy()
        unset: list[str] = []
        n = len(slots)
        for name, i, empty, reader, factory, convert in self.located:
            if reader is not None:
                value = reader(slots, delimiters, where)
            elif i < n and slots[i]:
                value = slots[i]
                if convert is not None:
                    try:
                        value = convert(value)
                    except X12Error as exc:
                        raise X12Error(f"{_label(where, i + 1)}: {exc}") from None
            else:
                value = empty
            if value is not _UNSET:
                data[name] = value
                continue
            unset.append(name)
            if factory is not None:
                data[name] = factory()
        for name, factory in self.unlocated:
            unset.append(name)
            if factory is not None:
                data[name] = factory()
        if self.keeps_other and n > self.all_covered_up_to:
            other = {i: e for i, e in enumerate(slots, 1) if e and i not in self.covered}
            if other:
                data[_OTHER] = other
                unset.remove(_OTHER)
        try:
            fields_set = set(data)
            if unset:
                fields_set.difference_update(unset)
                for name in unset:
                    if data[name] is REQUIRED:
                        return self.maker.validate(data, fields_set)
            return self.maker.finish(data, fields_set)
        except (ValidationError, X12Error) as exc:
            at = f" (segment {position})" if position else ""
            raise X12Error(f"{owner}{at}: {_describe(exc)}") from None


# How each model class is read from its slots: interpreted from its plan for its first uses,
# then by a function generated for it (compiling costs about as much as a few hundred reads).
_BUILDERS: dict[type, _BuildSlots] = {}
_COMPILE_AFTER = 32


def _builder(cls: type[_Slotted]) -> _BuildSlots:
    build = _BUILDERS.get(cls)
    if build is None:
        build = _BUILDERS[cls] = _first_builder(cls)
    return build


def _first_builder(cls: type[_Slotted]) -> _BuildSlots:
    plan = _slot_plan(cls)
    uses = 0

    def build(slots: Sequence[str], delimiters: Delimiters, where: str, owner: str, position: int) -> Any:
        nonlocal uses
        uses += 1
        if uses == _COMPILE_AFTER:
            _BUILDERS[cls] = _compile_build(plan)
        return plan.build(slots, delimiters, where, owner, position)

    return build


_OTHER = "other_elements"


_MARKERS = (El, Comps, Reps, Spread, Seg, Child)


@cache
def _maker(cls: type[X12Model]) -> Maker[Any]:
    _complete(cls)
    return Maker(cls, _MARKERS)


_SLOT_PLANS: dict[type, _SlotPlan] = {}


def _slot_plan(cls: type[_Slotted]) -> _SlotPlan:
    plan = _SLOT_PLANS.get(cls)
    if plan is None:
        plan = _SLOT_PLANS[cls] = _new_slot_plan(cls)
    return plan


def _new_slot_plan(cls: type[_Slotted]) -> _SlotPlan:
    specs = {spec.name: spec for spec in _specs(cls)}
    maker = _maker(cls)
    located: list[_Located] = []
    unlocated = []
    for name in maker.template:
        factory = maker.factory.get(name)
        spec = specs.get(name)
        if spec is None:
            unlocated.append((name, factory))
            continue
        empty = None if spec.optional else _UNSET
        convert = _CONVERTERS.get(spec.kind) if spec.kind is not str else None
        if type(spec.locator) is El and not spec.is_list and (spec.kind is str or convert is not None):
            # plain text or a converted scalar: the generated read handles it inline
            located.append((name, spec.locator.index - 1, empty, None, factory, convert))
        else:
            located.append((name, 0, None, _field_reader(spec, cls._component_level), factory, None))
    covered: set[int] = set()
    for spec in specs.values():
        loc = spec.locator
        if isinstance(loc, Spread):
            covered.update(range(loc.start, loc.end + 1))
        else:
            covered.add(loc.index)
    up_to = 0
    while up_to + 1 in covered:
        up_to += 1
    keeps_other = _OTHER in cls.model_fields and _OTHER not in specs
    return _SlotPlan(tuple(located), tuple(unlocated), maker, frozenset(covered), up_to, keeps_other)


def _compile_build(plan: _SlotPlan) -> _BuildSlots:
    """One class's reading from its slots as a single generated function (no loop over fields).

    Per field it does what the field readers do: plain text is the slot or, when empty, None
    for an optional field and else the default; a converted scalar labels a failure with
    its element (``CLP03``); anything else goes through its reader. A field left to its
    default is not among the fields set. The instance is made here (as ``Maker.finish`` makes
    it, its after-validators run inline), by ``Maker.finish`` when the class has
    before-validators, or by pydantic's validation when a required field was left unset
    (which fields are required is known here, so that is decided without a loop).
    """
    located, unlocated, maker, up_to = plan.located, plan.unlocated, plan.maker, plan.all_covered_up_to
    namespace: dict[str, Any] = {
        "UNSET": _UNSET,
        "X12Error": X12Error,
        "label": _label,
        "COVERED": plan.covered,
    }
    lines = ["def build(slots, delimiters, where, owner, position):", "    n = len(slots)", "    unset = []"]
    names: list[str] = []
    may_miss = False  # some field is required: its absence sends the values to pydantic

    def default(k: int, name: str, factory: Callable[[], Any] | None, indent: str) -> list[str]:
        nonlocal may_miss
        if factory is not None:
            namespace[f"F{k}"] = factory
            return [f"{indent}f{k} = F{k}()"]
        namespace[f"T{k}"] = maker.template[name]
        if maker.template[name] is REQUIRED:
            may_miss = True
            return [f"{indent}f{k} = T{k}", f"{indent}missing = True"]
        return [f"{indent}f{k} = T{k}"]

    for k, (name, i, empty, reader, factory, convert) in enumerate(located):
        names.append(name)
        if reader is not None:
            namespace[f"R{k}"] = reader
            lines.append(f"    f{k} = R{k}(slots, delimiters, where)")
            lines.append(f"    if f{k} is UNSET:")
            lines.append(f"        unset.append({name!r})")
            lines.extend(default(k, name, factory, "        "))
            continue
        lines.append(f"    f{k} = slots[{i}] if n > {i} else ''")
        if convert is not None:
            namespace[f"C{k}"] = convert
            lines.append(f"    if f{k}:")
            lines.append("        try:")
            lines.append(f"            f{k} = C{k}(f{k})")
            lines.append("        except X12Error as exc:")
            lines.append(f"            raise X12Error(f'{{label(where, {i + 1})}}: {{exc}}') from None")
            lines.append("    else:")
        else:
            lines.append(f"    if not f{k}:")
        if empty is None:
            lines.append(f"        f{k} = None")
        else:
            lines.append(f"        unset.append({name!r})")
            lines.extend(default(k, name, factory, "        "))
    offset = len(located)
    for j, (name, factory) in enumerate(unlocated):
        names.append(name)
        lines.extend(default(offset + j, name, factory, "    "))
    if may_miss:
        lines.insert(3, "    missing = False")
    variable = {name: k for k, name in enumerate(names)}
    fields = ", ".join(f"{name!r}: f{variable[name]}" for name in maker.template)  # field order
    lines.append(f"    data = {{{fields}}}")
    # the fields given: every located one less those left to their default; never an unlocated one
    lines.append("    fields_set = GIVEN.copy()")
    lines.append("    if unset:")
    lines.append("        fields_set.difference_update(unset)")
    if plan.keeps_other:
        lines.append(f"    if n > {up_to}:")
        lines.append("        other = {i: e for i, e in enumerate(slots, 1) if e and i not in COVERED}")
        lines.append("        if other:")
        lines.append(f"            data[{_OTHER!r}] = other")
        lines.append(f"            fields_set.add({_OTHER!r})")
    # then the instance; a failure is labelled "owner (segment n): what" (no position: "owner: what")
    lines.append("    try:")
    if may_miss:
        lines.append("        if missing:")
        lines.append("            return VALIDATE(data, fields_set)")
    lines.extend(maker.instance_source(namespace, "        "))
    lines.append("    except (ValidationError, X12Error) as exc:")
    lines.append("        at = f' (segment {position})' if position else ''")
    lines.append("        raise X12Error(f'{owner}{at}: {describe(exc)}') from None")
    namespace.update(
        GIVEN=set(maker.template) - {name for name, _ in unlocated},
        VALIDATE=maker.validate,
        ValidationError=ValidationError,
        describe=_describe,
    )
    exec("\n".join(lines), namespace)  # the source is built above from the class's own fields
    build: _BuildSlots = namespace["build"]
    return build


def _encode_scalar(value: Any, delimiters: Delimiters, where: str) -> str:
    if type(value) is str:  # the common case first
        _check_text(value, delimiters, where)
        return value
    if isinstance(value, Composite):
        return delimiters.component.join(_trim(value.encode(delimiters, where)))
    if isinstance(value, bool):
        raise X12Error(f"{where}: booleans have no X12 form")
    if isinstance(value, Decimal):
        return _format_decimal(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        _check_text(value, delimiters, where)
        return value
    raise X12Error(f"{where}: cannot write {type(value).__name__}")


def _check_text(value: str, delimiters: Delimiters, where: str) -> None:
    """A value is written only in the X12 basic and extended character sets (printable ASCII) and
    without a delimiter of the interchange: a tab or line feed copied into an identifier would end
    the segment for a reader whose terminator has a line break after it, and a character beyond
    ASCII (an en dash pasted into an authorization number) is refused by clearinghouses."""
    if not (value.isascii() and value.isprintable()):
        bad = next(c for c in value if not (c.isascii() and c.isprintable()))
        # the position, not the value: identifiers are a patient's
        raise X12Error(
            f"{where}: character U+{ord(bad):04X} at position {value.index(bad) + 1} is outside "
            "the X12 character set (printable ASCII)"
        )
    for sep in (delimiters.element, delimiters.component, delimiters.repetition, delimiters.segment):
        if sep and sep in value:
            raise X12Error(f"{where}: the value contains the delimiter {sep!r}")


def _split_repeats(text: str, delimiters: Delimiters) -> list[str]:
    if not text:
        return []
    return text.split(delimiters.repetition) if delimiters.repetition else [text]


def _trim(values: list[str]) -> list[str]:
    while values and values[-1] == "":
        values.pop()
    return values


class _Slotted(X12Model):
    """A model laid over a list of slots (elements of a segment, or components of an element)."""

    _component_level: ClassVar[bool] = False

    def _encode_slots(self, delimiters: Delimiters, where: str) -> list[str]:
        slots: dict[int, str] = {}
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            loc = spec.locator
            if type(loc) is El:  # the common case first: one element, often absent
                if value is None or value == "":
                    if spec.required:
                        raise X12Error(f"{_label(where, loc.index)} ({spec.name}) is required")
                    continue
                label = _label(where, loc.index)
                text = _encode_scalar(value, delimiters, label)
                if loc.max_len and len(text) > loc.max_len:
                    raise X12Error(
                        f"{label} ({spec.name}) is {len(text)} characters long; at most {loc.max_len} allowed"
                    )
                if loc.min_len and len(text) < loc.min_len:
                    raise X12Error(f"{label} ({spec.name}) must have at least {loc.min_len} characters")
                slots[loc.index] = text
                continue
            if isinstance(loc, Spread):
                capacity = (loc.end - loc.start + 1) // loc.width
                if len(value) > capacity:
                    raise X12Error(f"{where}: at most {capacity} {spec.name} allowed, got {len(value)}")
                for offset, item in enumerate(value):
                    first = loc.start + offset * loc.width
                    if isinstance(item, Group):
                        for i, text in enumerate(item.encode(delimiters, _group_label(where, first))):
                            slots[first + i] = text
                    else:
                        slots[first] = _encode_scalar(item, delimiters, _label(where, first))
                continue
            label = _label(where, loc.index)
            if isinstance(loc, Comps):
                component_level = type(self)._component_level
                limit = (loc.end - (loc.index - 1 if component_level else 0)) if loc.end else 0
                if limit and len(value) > limit:
                    raise X12Error(f"{label} ({spec.name}): at most {limit} values allowed, got {len(value)}")
                for part in value:
                    _check_text(part, delimiters, label)
                if type(self)._component_level:
                    for i, part in enumerate(value):
                        slots[loc.index + i] = part
                else:
                    slots[loc.index] = delimiters.component.join(value)
                continue
            if isinstance(loc, Reps):
                if len(value) > 1 and not delimiters.repetition:
                    raise X12Error(f"{label} ({spec.name}): repeats need a repetition separator")
                if spec.kind is str:
                    for item in value:
                        _check_text_element(item, delimiters, label)
                        if delimiters.repetition and delimiters.repetition in item:
                            raise X12Error(f"{label}: {item!r} contains the repetition separator")
                    slots[loc.index] = delimiters.repetition.join(value)
                else:
                    slots[loc.index] = delimiters.repetition.join(
                        _encode_scalar(item, delimiters, label) for item in value
                    )
        size = max(slots, default=0)
        return [slots.get(i, "") for i in range(1, size + 1)]


class Composite(_Slotted):
    """A composite element; its fields' ``El(k)`` are component positions."""

    _component_level: ClassVar[bool] = True

    @classmethod
    def decode(cls, parts: Sequence[str], delimiters: Delimiters, where: str) -> Self:
        result: Self = _builder(cls)(parts, delimiters, where + "-", where, 0)
        return result

    def encode(self, delimiters: Delimiters, where: str) -> list[str]:
        return self._encode_slots(delimiters, where + "-")


class Group(_Slotted):
    """A run of consecutive elements repeated inside one segment (a CAS triple, a PLB pair)."""

    @classmethod
    def decode(cls, elements: Sequence[str], delimiters: Delimiters, where: str) -> Self:
        result: Self = _builder(cls)(elements, delimiters, where, _group_owner(where), 0)
        return result

    def encode(self, delimiters: Delimiters, where: str) -> list[str]:
        return self._encode_slots(delimiters, where)


def _describe(exc: ValidationError | X12Error) -> str:
    if isinstance(exc, X12Error):
        return str(exc).split(": ", 1)[-1]
    return _first_error(exc)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])


class SegmentModel(_Slotted):
    """A segment; ``segment_id`` is its id, elements it does not declare stay in ``other_elements``."""

    segment_id: ClassVar[str] = ""
    other_elements: dict[int, str] = Field(default_factory=dict)

    @classmethod
    def from_segment(cls, segment: Segment, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Self:
        if cls.segment_id and segment.id != cls.segment_id:
            raise X12Error(f"expected a {cls.segment_id} segment, got {segment.id}")
        where = segment.id
        result: Self = _builder(cls)(segment.elements, delimiters, where, where, segment.position)
        return result

    def to_segment(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Segment:
        elements = self._encode_slots(delimiters, self.segment_id)
        for index, text in self.other_elements.items():
            if index < 1:
                raise X12Error(f"{self.segment_id}: element index {index} is not positive")
            _check_text_element(text, delimiters, _label(self.segment_id, index))
            while len(elements) < index:
                elements.append("")
            elements[index - 1] = text
        return Segment(self.segment_id, elements)


def _check_text_element(value: str, delimiters: Delimiters, where: str) -> None:
    for sep in (delimiters.element, delimiters.segment):
        if sep in value:
            raise X12Error(f"{where}: the value contains the delimiter {sep!r}")


# ----------------------------------------------------------------- loops


@dataclass(frozen=True, slots=True)
class _LoopSpec:
    name: str
    marker: Seg | Child
    kind: type[SegmentModel] | type[X12Loop]
    is_list: bool
    required: bool


@cache
def _loop_specs(cls: type[X12Loop]) -> tuple[_LoopSpec, ...]:
    _complete(cls)
    specs = []
    for name, info in cls.model_fields.items():
        markers = [m for m in info.metadata if isinstance(m, Seg | Child)]
        if not markers:
            continue
        kind, is_list = _unwrap(info.annotation)
        specs.append(_LoopSpec(name, markers[0], kind, is_list, info.is_required()))
    return tuple(specs)


@dataclass(frozen=True, slots=True)
class _LoopPlan:
    """How a loop class maps its segments and child loops, worked out once per class.

    ``by_segment`` and ``by_loop`` list, by segment id and by loop id, the candidate fields
    in field order: marker, field name, whether it is a list, and how its model reads.
    """

    by_segment: dict[str, tuple[tuple[Seg, str, bool, Callable[[Segment, Delimiters], Any]], ...]]
    by_loop: dict[str, tuple[tuple[Child, str, bool, Callable[[Loop, Delimiters], Any]], ...]]
    required: tuple[_LoopSpec, ...]
    maker: Maker[Any]
    reads_structure: bool  # the class reads fields from its structural segments


_LOOP_PLANS: dict[type, _LoopPlan] = {}


def _loop_plan(cls: type[X12Loop]) -> _LoopPlan:
    plan = _LOOP_PLANS.get(cls)
    if plan is None:
        plan = _LOOP_PLANS[cls] = _new_loop_plan(cls)
    return plan


def _segment_reader(kind: type[SegmentModel], segment_id: str) -> Callable[[Segment, Delimiters], Any]:
    """How a loop reads the ``segment_id`` segments it has matched: straight through the class's
    builder (``from_segment`` less its id check, which the match already made), unless the
    class reads segments its own way or is for another id (then ``from_segment`` says so)."""
    custom = kind.from_segment.__func__ is not SegmentModel.from_segment.__func__  # type: ignore[attr-defined]
    if custom or (kind.segment_id and kind.segment_id != segment_id):
        return kind.from_segment
    builders = _BUILDERS

    def read(segment: Segment, delimiters: Delimiters) -> Any:
        build = builders.get(kind) or _builder(kind)
        where = segment.id
        return build(segment.elements, delimiters, where, where, segment.position)

    return read


def _new_loop_plan(cls: type[X12Loop]) -> _LoopPlan:
    by_segment: dict[str, list[tuple[Seg, str, bool, Callable[[Segment, Delimiters], Any]]]] = {}
    by_loop: dict[str, list[tuple[Child, str, bool, Callable[[Loop, Delimiters], Any]]]] = {}
    specs = _loop_specs(cls)
    for spec in specs:
        marker = spec.marker
        if isinstance(marker, Seg):
            segment_kind = typing.cast(type[SegmentModel], spec.kind)
            by_segment.setdefault(marker.id, []).append(
                (marker, spec.name, spec.is_list, _segment_reader(segment_kind, marker.id))
            )
        else:
            loop_kind = typing.cast(type[X12Loop], spec.kind)
            for loop_id in (marker.loop_id,) if isinstance(marker.loop_id, str) else marker.loop_id:
                by_loop.setdefault(loop_id, []).append((marker, spec.name, spec.is_list, loop_kind.from_loop))
    return _LoopPlan(
        {k: tuple(v) for k, v in by_segment.items()},
        {k: tuple(v) for k, v in by_loop.items()},
        tuple(spec for spec in specs if spec.required),
        _maker(cls),
        cls.read_structure.__func__ is not X12Loop.read_structure.__func__,  # type: ignore[attr-defined]
    )


class X12Loop(X12Model):
    """A loop of an implementation guide.

    ``hl_level`` marks a hierarchical loop: its HL segment is not stored, the builder
    numbers it; ``hl_child_code`` says whether HL04 is written. ``structural`` lists
    segment ids the loop writes itself (LX line numbers, HL) and skips when read.
    """

    loop_id: ClassVar[str] = ""
    hl_level: ClassVar[str] = ""
    hl_child_code: ClassVar[bool] = True

    other_segments: list[RawSegment] = Field(default_factory=list)
    other_loops: list[RawLoop] = Field(default_factory=list)

    # -------------------------------------------------------------- reading

    @classmethod
    def structural_segments(cls, loop: Loop) -> int:
        """How many leading segments of ``loop`` the builder writes itself (HL, LX)."""
        if cls.hl_level and loop.segments and loop.segments[0].id == "HL":
            return 1
        return 0

    @classmethod
    def from_loop(cls, loop: Loop, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Self:
        plan = _LOOP_PLANS.get(cls) or _loop_plan(cls)
        values: dict[str, Any] = {}
        other_segments: list[RawSegment] = []
        other_loops: list[RawLoop] = []
        skip = cls.structural_segments(loop)
        segments = loop.segments
        # Each segment and child loop goes to the first field that takes it (its qualifier or
        # first segment matches, and the field is a list or still empty).
        by_segment = plan.by_segment
        for position, segment in enumerate(segments[skip:] if skip else segments, skip):
            for marker, name, is_list, read_segment in by_segment.get(segment.id, ()):
                if (is_list or name not in values) and (marker.qualifier is None or marker.matches(segment)):
                    try:
                        item = read_segment(segment, delimiters)
                    except X12Error as exc:
                        if (unread := _UNREAD.get()) is None:
                            raise X12Error(f"{_where(segment, loop.id)}: {exc}") from None
                        unread.append(Unread(loop.id, segment.id, segment.position, str(exc)))
                        item = _LEFT_OUT
                    break
            else:
                item = _LEFT_OUT
            if item is _LEFT_OUT:
                other_segments.append(RawSegment.from_segment(segment, delimiters, position))
                continue
            if not is_list:
                values[name] = item
            elif name in values:
                values[name].append(item)
            else:
                values[name] = [item]
        by_loop = plan.by_loop
        for position, child in enumerate(loop.loops):
            for child_marker, name, is_list, read_loop in by_loop.get(child.id, ()):
                if (is_list or name not in values) and child_marker.matches(child):
                    try:
                        item = read_loop(child, delimiters)
                    except X12Error as exc:
                        if (unread := _UNREAD.get()) is None:
                            raise
                        first = child.segments[0].position if child.segments else 0
                        unread.append(Unread(child.id, None, first, str(exc)))
                        item = _LEFT_OUT
                    break
            else:
                item = _LEFT_OUT
            if item is _LEFT_OUT:
                other_loops.append(RawLoop.from_loop(child, delimiters, position))
                continue
            if not is_list:
                values[name] = item
            elif name in values:
                values[name].append(item)
            else:
                values[name] = [item]
        structure = cls.read_structure(loop, delimiters) if plan.reads_structure else None
        if structure:
            values.update(structure)
        if other_segments:
            values["other_segments"] = other_segments
        if other_loops:
            values["other_loops"] = other_loops
        for spec in plan.required:
            if spec.name not in values:
                what = spec.marker.id if isinstance(spec.marker, Seg) else f"loop {spec.marker.loop_id}"
                at = f" (from segment {segments[0].position})" if segments and segments[0].position else ""
                raise X12Error(f"loop {loop.id}{at}: required {what} ({spec.name}) is missing")
        try:
            if structure and not plan.maker.accepts(structure):
                return cls.model_validate(values)
            result: Self = plan.maker.make(values)
            return result
        except (ValidationError, X12Error) as exc:
            raise X12Error(f"loop {loop.id}: {_describe(exc)}") from None

    @classmethod
    def read_structure(cls, loop: Loop, delimiters: Delimiters) -> dict[str, Any]:
        """Field values a loop reads from its structural segments (overridden where needed)."""
        return {}

    # -------------------------------------------------------------- writing

    def structure(self, context: BuildContext) -> list[Segment]:
        """The leading segments the loop writes itself (HL by default)."""
        if not type(self).hl_level:
            return []
        return [context.hl_segment(self)]

    def to_loop(self, context: BuildContext | None = None) -> Loop:
        """This model as a loop tree, ready to be written."""
        context = context or BuildContext()
        segments = self.structure(context)
        trailers: list[Segment] = []
        loops: list[Loop] = []
        hl_index: int | None = None
        if type(self).hl_level:
            hl_index = context.enter(self)
        for spec in _loop_specs(type(self)):
            value = getattr(self, spec.name)
            items = value if spec.is_list else ([] if value is None else [value])
            if spec.required and not items:
                what = spec.marker.id if isinstance(spec.marker, Seg) else f"loop {spec.marker.loop_id}"
                raise X12Error(f"loop {type(self).loop_id}: {what} ({spec.name}) is required")
            for item in items:
                if isinstance(spec.marker, Seg):
                    seg = item.to_segment(context.delimiters)
                    (trailers if spec.marker.trailer else segments).append(seg)
                else:
                    loops.append(item.to_loop(context))
        for raw in sorted(self.other_segments, key=lambda r: r.position):
            segments.insert(min(raw.position, len(segments)), raw.to_segment(context.delimiters))
        for raw_loop in sorted(self.other_loops, key=lambda r: r.position):
            loops.insert(min(raw_loop.position, len(loops)), raw_loop.to_loop(context.delimiters))
        if hl_index is not None:
            context.leave(hl_index, self)
        return Loop(self.output_loop_id(), segments + trailers, loops)

    def output_loop_id(self) -> str:
        """The loop id written for this model (generic loop models keep the id they were read with)."""
        return type(self).loop_id


class BuildContext:
    """State shared while a transaction set is written: delimiters and HL numbering."""

    def __init__(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> None:
        self.delimiters = delimiters
        self._next_hl = 1
        self._stack: list[int] = []
        self._hl: dict[int, Segment] = {}
        self.counters: dict[str, int] = {}

    def next(self, counter: str) -> int:
        """The next value of a named counter (LX line numbers), starting at 1."""
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    def hl_segment(self, loop: X12Loop) -> Segment:
        number = self._next_hl
        self._next_hl += 1
        parent = str(self._stack[-1]) if self._stack else ""
        level = getattr(loop, "hl_level_code", None) or type(loop).hl_level
        seg = Segment("HL", [str(number), parent, level])
        if getattr(loop, "hl_child_code_written", type(loop).hl_child_code):
            seg.elements.append("0")
        self._hl[number] = seg
        return seg

    def enter(self, loop: X12Loop) -> int:
        number = self._next_hl - 1
        if self._stack:
            parent = self._hl[self._stack[-1]]
            if len(parent.elements) > 3:
                parent.elements[3] = "1"
        self._stack.append(number)
        return number

    def leave(self, number: int, loop: X12Loop) -> None:
        popped = self._stack.pop()
        if popped != number:  # pragma: no cover - guarded by to_loop's structure
            raise X12Error("HL numbering went out of step")


def iter_hl_loops(loop: Loop) -> Iterator[Loop]:
    """Every loop below ``loop`` that starts with an HL segment, in document order."""
    for child in loop.loops:
        if child.segments and child.segments[0].id == "HL":
            yield child
        yield from iter_hl_loops(child)


def nest_hl(root: Loop) -> Loop:
    """A copy of ``root`` whose HL loops are nested under their HL02 parent.

    Readers may lay the hierarchy out flat or nested; the typed models want each
    HL loop inside its parent, after its own non-HL child loops.
    """

    def strip(loop: Loop) -> Loop:
        return Loop(loop.id, list(loop.segments), [strip(c) for c in loop.loops if not _is_hl(c)])

    copies: dict[str, Loop] = {}
    top: list[Loop] = []
    for hl_loop in iter_hl_loops(root):
        copy = strip(hl_loop)
        number = hl_loop.segments[0].get(1)
        parent = hl_loop.segments[0].get(2)
        if number in copies:
            raise X12Error(f"HL01 {number!r} is used twice")
        copies[number] = copy
        if parent and parent in copies:
            copies[parent].loops.append(copy)
        elif parent:
            raise X12Error(f"HL {number!r} names parent {parent!r}, which does not precede it")
        else:
            top.append(copy)
    new_root = strip(root)
    new_root.loops.extend(top)
    return new_root


def _is_hl(loop: Loop) -> bool:
    return bool(loop.segments) and loop.segments[0].id == "HL"


class Transaction(X12Loop):
    """A transaction set: the ``ST`` loop. ST and SE are written by the builder.

    ``control_number`` is ST02 (SE02); ``version`` is ST03, the implementation guide
    (the 835 guide does not use ST03: its version lives in GS08 only).
    """

    loop_id: ClassVar[str] = "ST"
    transaction_code: ClassVar[str] = ""
    default_version: ClassVar[str] = ""
    st03_used: ClassVar[bool] = True

    control_number: str = "0001"
    version: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_version(cls, data: Any) -> Any:
        if isinstance(data, dict) and "version" not in data and cls.default_version and cls.st03_used:
            return {**data, "version": cls.default_version}
        return data

    @classmethod
    def structural_segments(cls, loop: Loop) -> int:
        return 1 if loop.segments and loop.segments[0].id == "ST" else 0

    @classmethod
    def from_loop(cls, loop: Loop, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Self:
        if not loop.segments or loop.segments[0].id != "ST":
            raise X12Error(
                f"a transaction set starts with ST, not {loop.segments[0].id if loop.segments else 'nothing'}"
            )
        st = loop.segments[0]
        if cls.transaction_code and st.get(1) != cls.transaction_code:
            raise X12Error(f"expected a {cls.transaction_code} transaction set, got ST01 {st.get(1)!r}")
        body = Loop(loop.id, [s for s in loop.segments if s.id != "SE"], loop.loops)
        return super().from_loop(cls.prepare(body), delimiters)

    @classmethod
    def prepare(cls, loop: Loop) -> Loop:
        """Reshape the reader's tree before mapping it (HL transactions nest their hierarchy)."""
        return loop

    @classmethod
    def read_structure(cls, loop: Loop, delimiters: Delimiters) -> dict[str, Any]:
        st = loop.segments[0]
        return {"control_number": st.get(2), "version": st.get(3) or None}

    def structure(self, context: BuildContext) -> list[Segment]:
        if not self.control_number or len(self.control_number) > 9 or len(self.control_number) < 4:
            raise X12Error(f"ST02 {self.control_number!r} must be 4 to 9 characters")
        return [
            Segment(
                "ST",
                [
                    type(self).transaction_code,
                    self.control_number,
                    self.version or "",
                ],
            )
        ]


class GenericLevel(X12Loop):
    """An HL loop model shared by several levels; it keeps its loop id and HL03/HL04 form."""

    hl_level: ClassVar[str] = "*"
    loop_name: str
    hl_level_code: str
    hl_child_code_written: bool = True

    @classmethod
    def read_structure(cls, loop: Loop, delimiters: Delimiters) -> dict[str, Any]:
        hl = loop.segments[0] if loop.segments and loop.segments[0].id == "HL" else Segment("HL")
        return {
            "loop_name": loop.id,
            "hl_level_code": hl.get(3),
            "hl_child_code_written": bool(hl.get(4)),
        }

    def output_loop_id(self) -> str:
        return self.loop_name


class GenericLoop(X12Loop):
    """A non-hierarchical loop model shared by several loop ids; it keeps the id it was read with."""

    loop_name: str

    @classmethod
    def read_structure(cls, loop: Loop, delimiters: Delimiters) -> dict[str, Any]:
        return {"loop_name": loop.id}

    def output_loop_id(self) -> str:
        return self.loop_name
