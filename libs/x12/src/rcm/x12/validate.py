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

from typing import NamedTuple

from rcm.x12.findings import ElementError, Finding
from rcm.x12.schema.elements import SYNTAX, ElementSpec, SyntaxNote
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import Source

__all__ = ["ElementIssue", "check_segment", "valid_date", "valid_time", "validate"]

_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DIGITS = frozenset("0123456789")


class ElementIssue(NamedTuple):
    code: str
    element: int
    component: int
    repetition: int
    message: str
    trigger: int = 0  # the element whose presence made this one required or excluded


def valid_date(value: str) -> bool:
    """CCYYMMDD (or YYMMDD) that names a real calendar day."""
    if not value.isdigit() or len(value) not in (6, 8):
        return False
    year = int(value[:-4]) if len(value) == 8 else 2000 + int(value[:2])
    month, day = int(value[-4:-2]), int(value[-2:])
    if not 1 <= month <= 12 or day < 1 or day > _DAYS[month - 1]:
        return False
    return not (month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)))


def valid_time(value: str) -> bool:
    """HHMM, HHMMSS or HHMMSSd..d on a 24-hour clock."""
    if not value.isdigit() or len(value) not in (4, 6, 7, 8):
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
    if size < spec.min:
        return ElementError.TOO_SHORT, f"shorter than {spec.min}"
    if size > spec.max:
        return ElementError.TOO_LONG, f"longer than {spec.max}"
    if kind == "AN" and not value.isprintable():
        return ElementError.INVALID_CHARACTER, "control character in data"
    return None


def _check_element(value: str, spec: ElementSpec, index: int, d: Delimiters, out: list[ElementIssue]) -> None:
    reps = [value]
    if spec.repeat > 1 and d.repetition and d.repetition in value:
        reps = value.split(d.repetition)
        if len(reps) > spec.repeat:
            out.append(ElementIssue(ElementError.TOO_MANY_REPETITIONS, index, 0, 0, "too many repetitions"))
            reps = reps[: spec.repeat]
    for r, rep in enumerate(reps, 1):
        rep_no = r if len(reps) > 1 else 0
        if not spec.components:
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


def validate(source: Source) -> list[Finding]:
    """Every finding for an input: tokenizer, envelope, structure and elements."""
    from rcm.x12.reader import read

    return read(source).findings
