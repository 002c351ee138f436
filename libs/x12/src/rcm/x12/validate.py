"""Element-level validation of a segment against its place in a guide.

``check_segment`` returns ``ElementIssue`` tuples (IK403 code, element,
component, repetition, message, and the element whose presence triggered a
conditional rule); the reader turns them into findings with the segment's
context. The segment's X12 syntax notes (``SYNTAX``: paired, required,
conditional, exclusion, list conditional) are checked here: a missing element a
note requires is IK403 2, an element a note excludes is IK403 10. Situational
rules that depend on other elements (DTP03 in the format DTP02 names, DMG02
after DMG01) live here too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from rcm.x12.findings import ElementError, Finding
from rcm.x12.schema.elements import SYNTAX, ElementSpec, SyntaxNote
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import Source

__all__ = [
    "ElementIssue",
    "QuickCheck",
    "check_segment",
    "quick_check",
    "valid_date",
    "valid_time",
    "validate",
]

_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DIGITS = frozenset("0123456789")


QuickCheck = Callable[[list[str], str, str, str], bool]


class ElementIssue(NamedTuple):
    code: str
    element: int
    component: int
    repetition: int
    message: str
    trigger: int = 0  # the element whose presence made this one required or excluded


@lru_cache(maxsize=4096)  # dates repeat throughout a file
def valid_date(value: str) -> bool:
    """CCYYMMDD (or YYMMDD) that names a real calendar day."""
    if not (value.isascii() and value.isdigit()) or len(value) not in (6, 8):
        return False
    year = int(value[:-4]) if len(value) == 8 else 2000 + int(value[:2])
    month, day = int(value[-4:-2]), int(value[-2:])
    if not 1 <= month <= 12 or day < 1 or day > _DAYS[month - 1]:
        return False
    return not (month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)))


def valid_time(value: str) -> bool:
    """HHMM, HHMMSS or HHMMSSd..d on a 24-hour clock."""
    if not (value.isascii() and value.isdigit()) or len(value) not in (4, 6, 7, 8):
        return False
    if int(value[:2]) > 23 or int(value[2:4]) > 59:
        return False
    return len(value) == 4 or int(value[4:6]) <= 59


def _number_ok(value: str, decimal: bool) -> tuple[bool, int]:
    """(well formed, significant length) of an N0/N2 or R value."""
    digits = value[1:] if value[:1] == "-" else value
    if decimal and "." in digits:
        whole, _, frac = digits.partition(".")
        ok = bool(whole or frac) and set(whole) <= _DIGITS and set(frac) <= _DIGITS
        return ok, len(whole) + len(frac)
    return bool(digits) and set(digits) <= _DIGITS, len(digits)


def _check_value(value: str, spec: ElementSpec) -> tuple[str, str] | None:
    kind = spec.type
    if spec.codes is not None:
        if value not in spec.codes:
            return ElementError.INVALID_CODE, "invalid code value"
        return None
    if kind == "AN" or kind == "ID":
        size = len(value)
    elif kind == "DT":
        return (
            None
            if valid_date(value) and len(value) >= spec.min
            else (ElementError.INVALID_DATE, "invalid date")
        )
    elif kind == "TM":
        return None if valid_time(value) else (ElementError.INVALID_TIME, "invalid time")
    else:
        ok, size = _number_ok(value, kind == "R")
        if not ok:
            return ElementError.INVALID_CHARACTER, "invalid number"
        if spec.money and len(value.partition(".")[2]) > 2:
            return ElementError.PATTERN_MISMATCH, "monetary amount with more than 2 decimal places"
    if size < spec.min:
        return ElementError.TOO_SHORT, f"shorter than {spec.min}"
    if size > spec.max:
        return ElementError.TOO_LONG, f"longer than {spec.max}"
    if kind == "AN" and not value.isprintable():
        return ElementError.INVALID_CHARACTER, "control character in data"
    return None


def _check_element(value: str, spec: ElementSpec, index: int, d: Delimiters, out: list[ElementIssue]) -> None:
    """Repetitions, components and values of one present element.

    A separator is never data (X12.6): a repetition separator in an element that does not
    repeat is a repetition too many (IK403 12), a component separator in a simple element a
    component too many (IK403 13), as 005010X231A1 defines those codes; the builder refuses to
    write such values, so the reader does not take them either.
    """
    reps = [value]
    if d.repetition and d.repetition in value:
        if spec.repeat > 1:
            reps = value.split(d.repetition)
            if len(reps) > spec.repeat:
                out.append(
                    ElementIssue(ElementError.TOO_MANY_REPETITIONS, index, 0, 0, "too many repetitions")
                )
                reps = reps[: spec.repeat]
        else:
            out.append(
                ElementIssue(
                    ElementError.TOO_MANY_REPETITIONS,
                    index,
                    0,
                    0,
                    "repetition separator in an element that does not repeat",
                )
            )
            reps = value.split(d.repetition)[:1]
    for r, rep in enumerate(reps, 1):
        rep_no = r if len(reps) > 1 else 0
        if not spec.components:
            if d.component in rep:
                out.append(
                    ElementIssue(
                        ElementError.TOO_MANY_COMPONENTS,
                        index,
                        0,
                        rep_no,
                        "component separator in a simple element",
                    )
                )
                rep = rep.split(d.component, 1)[0]
                if not rep:
                    continue
            problem = _check_value(rep, spec)
            if problem:
                out.append(ElementIssue(problem[0], index, 0, rep_no, problem[1]))
            continue
        parts = rep.split(d.component)
        if len(parts) > len(spec.components):
            out.append(
                ElementIssue(ElementError.TOO_MANY_COMPONENTS, index, 0, rep_no, "too many components")
            )
        for c, comp_spec in enumerate(spec.components, 1):
            part = parts[c - 1] if c <= len(parts) else ""
            if not part:
                if comp_spec.required:
                    out.append(
                        ElementIssue(
                            ElementError.REQUIRED_MISSING, index, c, rep_no, "required component missing"
                        )
                    )
                continue
            problem = _check_value(part, comp_spec)
            if problem:
                out.append(ElementIssue(problem[0], index, c, rep_no, problem[1]))


def _date_in_format(fmt: str, value: str) -> bool:
    if fmt == "D8":
        return len(value) == 8 and valid_date(value)
    if fmt == "RD8":
        start, sep, end = value.partition("-")
        return bool(sep) and len(start) == 8 and len(end) == 8 and valid_date(start) and valid_date(end)
    if fmt == "DT":
        return len(value) == 12 and valid_date(value[:8]) and valid_time(value[8:])
    return True


def _check_syntax(
    seg_id: str, elements: list[str], notes: tuple[SyntaxNote, ...], d: Delimiters, out: list[ElementIssue]
) -> None:
    separators = d.component + d.repetition
    count = len(elements)
    flagged: set[int] | None = None
    for note in notes:
        kind, names = note.kind, note.elements
        # present: not empty, and not only component or repetition separators
        have = [e for e in names if e <= count and elements[e - 1].strip(separators)]
        if kind == "P":
            if not have or len(have) == len(names):
                continue
            code, missing, trigger, what = (
                ElementError.CONDITIONAL_MISSING,
                names,
                have[0],
                "paired element missing",
            )
        elif kind == "R":
            if have:
                continue
            code, missing, trigger, what = ElementError.CONDITIONAL_MISSING, names[:1], 0, "one is required"
        elif kind == "C":
            if names[0] not in have or len(have) == len(names):
                continue
            code, missing, trigger, what = (
                ElementError.CONDITIONAL_MISSING,
                names[1:],
                names[0],
                "conditional element missing",
            )
        elif kind == "L":
            if names[0] not in have or len(have) > 1:
                continue
            code, missing, trigger, what = (
                ElementError.CONDITIONAL_MISSING,
                names[1:2],
                names[0],
                "one more is required",
            )
        elif kind == "E":
            if len(have) < 2:
                continue
            code, missing, trigger, what = (
                ElementError.EXCLUSION_VIOLATED,
                tuple(have[1:]),
                have[0],
                "only one may be present",
            )
        else:
            continue
        if flagged is None:
            flagged = {issue.element for issue in out}
        for e in missing:
            if (kind == "E" or e not in have) and e not in flagged:
                flagged.add(e)
                out.append(ElementIssue(code, e, 0, 0, f"{seg_id} syntax {note}: {what}", trigger))


def check_segment(seg: Segment, specs: tuple[ElementSpec, ...], d: Delimiters) -> list[ElementIssue]:
    """Element problems of ``seg`` against the element specs of its place."""
    if quick_check(specs, seg.id)(seg.elements, d.component, d.repetition, d.component + d.repetition):
        return []
    return _find_issues(seg, specs, d)


def quick_check(specs: tuple[ElementSpec, ...], segment_id: str) -> QuickCheck:
    """Whether a segment with this id is valid against ``specs``, as a predicate
    ``(elements, component separator, repetition separator, both) -> bool``.

    True means ``check_segment`` finds nothing; False that it may find something (ask it).
    """
    entry = _PASSES.get(id(specs))
    if entry is None or entry[0] is not specs or entry[1] != segment_id:
        entry = _remember_pass(specs, segment_id)
    return entry[2]


def _find_issues(seg: Segment, specs: tuple[ElementSpec, ...], d: Delimiters) -> list[ElementIssue]:
    out: list[ElementIssue] = []
    elements = seg.elements
    count = len(elements)
    if count > len(specs) and any(elements[len(specs) :]):
        out.append(ElementIssue(ElementError.TOO_MANY_ELEMENTS, len(specs) + 1, 0, 0, "too many elements"))
    for i, spec in enumerate(specs):
        value = elements[i] if i < count else ""
        if not value:
            if spec.required:
                out.append(
                    ElementIssue(ElementError.REQUIRED_MISSING, i + 1, 0, 0, "required element missing")
                )
            continue
        if spec.not_used:
            out.append(ElementIssue(ElementError.NOT_USED_PRESENT, i + 1, 0, 0, "element not used here"))
            continue
        _check_element(value, spec, i + 1, d, out)
    sid = seg.id
    notes = SYNTAX.get(sid)
    if notes:
        _check_syntax(sid, elements, notes, d, out)
    if sid == "DTP" and count >= 3 and elements[2] and not _date_in_format(elements[1], elements[2]):
        out.append(ElementIssue(ElementError.INVALID_DATE, 3, 0, 0, f"not a valid {elements[1]} date"))
    elif sid == "DMG" and count >= 2 and elements[1] and not _date_in_format(elements[0], elements[1]):
        out.append(ElementIssue(ElementError.INVALID_DATE, 2, 0, 0, f"not a valid {elements[0]} date"))
    return out


# ----------------------------------------------------------------- the common case, compiled
#
# Nearly every segment of a real file is valid, so each place's specs get a predicate,
# generated once as Python source, that says whether ``_find_issues`` would find nothing.
# It applies every check ``_find_issues`` applies (element count, required, not used,
# codes, types, lengths, repetitions, components, syntax notes, DTP/DMG dates) inline, and
# may only err towards "look closer": whenever it answers False (a problem, or a form it
# leaves to the full check such as a repeated element), ``_find_issues`` runs as before
# and reports exactly what it always did.

# id(specs) -> (specs, segment id, predicate); holding the specs keeps their id unique
_PASSES: dict[int, tuple[tuple[ElementSpec, ...], str, QuickCheck]] = {}
_MAX_PASSES = 4096
_COMPILE_AFTER = 64  # uses of a place before its check is compiled


def _remember_pass(
    specs: tuple[ElementSpec, ...], sid: str
) -> tuple[tuple[ElementSpec, ...], str, QuickCheck]:
    """A place's check: "look closer" for its first uses, compiled once the place proves busy
    (compiling costs about as much as the full check of a few hundred segments)."""
    if len(_PASSES) >= _MAX_PASSES:
        _PASSES.clear()
    uses = 0

    def cold(elements: list[str], component: str, repetition: str, separators: str) -> bool:
        nonlocal uses
        uses += 1
        if uses == _COMPILE_AFTER:
            _PASSES[id(specs)] = (specs, sid, _compile_pass(specs, sid))
        return False

    entry = (specs, sid, cold)
    _PASSES[id(specs)] = entry
    return entry


def _compile_pass(specs: tuple[ElementSpec, ...], sid: str) -> QuickCheck:
    """The predicate ``(elements, component, repetition, component + repetition) -> all valid``."""
    namespace: dict[str, Any] = {
        "valid_date": valid_date,
        "valid_time": valid_time,
        "in_format": _date_in_format,
    }
    lines = ["def passes(e, comp, rep, seps):", "    n = len(e)"]
    total = len(specs)
    lines.append(f"    if n > {total} and any(e[{total}:]): return False")
    needed = max((i + 1 for i, spec in enumerate(specs) if spec.required), default=0)
    if needed:
        lines.append(f"    if n < {needed}: return False")
    for note_line in _note_lines(SYNTAX.get(sid, ())):
        lines.append("    " + note_line)
    if sid == "DTP":
        lines.append("    if n >= 3 and e[2] and not in_format(e[1], e[2]): return False")
    elif sid == "DMG":
        lines.append("    if n >= 2 and e[1] and not in_format(e[0], e[1]): return False")
    for i, spec in enumerate(specs):
        if i >= needed:
            lines.append(f"    if n == {i}: return True")
        lines.append(f"    v = e[{i}]")
        body = _element_lines(spec, "v", namespace, f"e{i}")
        if spec.required:
            lines.append("    if not v: return False")
            lines.extend("    " + line for line in body)
        elif body:
            lines.append("    if v:")
            lines.extend("        " + line for line in body)
    lines.append("    return True")
    exec("\n".join(lines), namespace)  # the source is built above from the guide's own specs
    predicate: QuickCheck = namespace["passes"]
    return predicate


def _note_lines(notes: tuple[SyntaxNote, ...]) -> list[str]:
    lines: list[str] = []
    seen: set[int] = set()
    for note in notes:
        for e in note.elements:
            if e not in seen:
                seen.add(e)
                lines.append(f"h{e} = n >= {e} and bool(e[{e - 1}].strip(seps))")
    for note in notes:
        have = [f"h{e}" for e in note.elements]
        first, rest = have[0], have[1:]
        if note.kind == "P":
            lines.append(f"if ({' or '.join(have)}) and not ({' and '.join(have)}): return False")
        elif note.kind == "R":
            lines.append(f"if not ({' or '.join(have)}): return False")
        elif note.kind == "C" and rest:
            lines.append(f"if {first} and not ({' and '.join(rest)}): return False")
        elif note.kind == "L" and rest:
            lines.append(f"if {first} and not ({' or '.join(rest)}): return False")
        elif note.kind == "E":
            lines.append(f"if ({' + '.join(have)}) >= 2: return False")
    return lines


def _element_lines(spec: ElementSpec, var: str, namespace: dict[str, Any], name: str) -> list[str]:
    """Statements that return False unless the present value ``var`` passes ``_check_element``."""
    if spec.not_used:
        return ["return False"]
    # any repetition separator: a repeat to split (left to the full check) or one too many
    lines: list[str] = [f"if rep and rep in {var}: return False"]
    if not spec.components:
        return [*lines, f"if comp in {var}: return False", *_value_lines(spec, var, namespace, name)]
    parts = f"{name}p"
    count = len(spec.components)
    needed = max((c + 1 for c, comp in enumerate(spec.components) if comp.required), default=0)
    lines.append(f"{parts} = {var}.split(comp)")
    lines.append(f"m = len({parts})")
    lines.append(f"if m > {count}: return False")
    if needed:
        lines.append(f"if m < {needed}: return False")
    for c, comp_spec in enumerate(spec.components):
        part = f"{name}c{c}"
        body = _value_lines(comp_spec, part, namespace, part)
        if c < needed:
            lines.append(f"{part} = {parts}[{c}]")
            if comp_spec.required:
                lines.append(f"if not {part}: return False")
                lines.extend(body)
            elif body:
                lines.append(f"if {part}:")
                lines.extend("    " + line for line in body)
        else:
            lines.append(f"if m > {c}:")
            lines.append(f"    {part} = {parts}[{c}]")
            if body:
                lines.append(f"    if {part}:")
                lines.extend("        " + line for line in body)
    return lines


def _value_lines(spec: ElementSpec, var: str, namespace: dict[str, Any], name: str) -> list[str]:
    """Statements that return False unless the non-empty ``var`` passes ``_check_value``."""
    if spec.codes is not None:
        namespace[name + "codes"] = spec.codes
        return [f"if {var} not in {name}codes: return False"]
    kind, low, high = spec.type, spec.min, spec.max
    if kind in ("AN", "ID"):
        lines = [f"if not {low} <= len({var}) <= {high}: return False"]
        if kind == "AN":
            lines.append(f"if not {var}.isprintable(): return False")
        return lines
    if kind == "DT":
        return [f"if len({var}) < {low} or not valid_date({var}): return False"]
    if kind == "TM":
        return [f"if not valid_time({var}): return False"]
    digits = f"{name}d"
    lines = [f"{digits} = {var}[1:] if {var}[:1] == '-' else {var}"]
    if spec.money:
        lines.append(f"if len({var}.partition('.')[2]) > 2: return False")
    if kind == "R":
        lines.append(f"{digits} = {digits}.replace('.', '', 1)")
    lines.append(
        f"if not ({digits}.isascii() and {digits}.isdigit() and {low} <= len({digits}) <= {high}): return False"
    )
    return lines


def validate(source: Source) -> list[Finding]:
    """Every finding for an input: tokenizer, envelope, structure and elements."""
    from rcm.x12.reader import read

    return read(source).findings
