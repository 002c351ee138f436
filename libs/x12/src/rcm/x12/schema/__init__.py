"""Implementation guides as data.

Each guide module (``x222a1``, ``x221a1``...) holds its loop structure as a small
indented text: one line per loop (``@2010AA R 1``) or segment
(``NM1 R 1 *01=85``), nested by indentation, in guide order. A segment line is

    ID USAGE MAX [*NN=codes] [NN=codes] [NN.C=codes] [NN!] [NN?] [NN-]

``USAGE`` is R (required) or S (situational), ``MAX`` a number or ``>1``; the
``*NN=`` token is the qualifier that identifies the segment (and, on a loop's
first segment, the loop: ``HL R 1 *03=22`` starts 2000B); ``NN=`` adds a code
list to element NN (``NN.C=`` to its component C), ``NN!`` makes it required,
``NN?`` optional and ``NN-`` marks it not used. Element types and lengths come from the shared
segment dictionary in ``elements``.

``guide_for`` resolves a transaction set to its guide, with fallbacks for
GS08/ST03 variants (X222 and X222A2 read as X222A1, X279 as X279A1, X231 as
X231A1, a bare 005010 by transaction set id).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache

from rcm.x12.errors import X12Error
from rcm.x12.schema.elements import SEGMENTS, ElementSpec

__all__ = [
    "HIPAA_NOT_USED",
    "ElementSpec",
    "Guide",
    "LoopSpec",
    "SegmentSpec",
    "Usage",
    "guide_for",
    "guide_ids",
    "load_guide",
    "parse_structure",
]

UNBOUNDED = 1 << 30


class Usage(StrEnum):
    REQUIRED = "R"
    SITUATIONAL = "S"
    NOT_USED = "N"


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A segment at one place of a guide."""

    id: str
    usage: Usage
    max_use: int
    elements: tuple[ElementSpec, ...]
    qualifier: tuple[int, int, frozenset[str]] | None = None  # element, component (0: whole), codes
    order: int = 0  # ordering rank in its loop: segments with the same id share one rank

    def matches(self, elements: list[str], component_separator: str) -> bool:
        if self.qualifier is None:
            return True
        index, component, codes = self.qualifier
        if index > len(elements):
            return False
        value = elements[index - 1]
        if component:
            parts = value.split(component_separator)
            value = parts[component - 1] if component <= len(parts) else ""
        return value in codes


@dataclass(slots=True)
class LoopSpec:
    """A loop of a guide: its items (segments and child loops) in guide order.

    The first item is the loop's first segment, which identifies the loop.
    """

    id: str
    usage: Usage
    max_repeat: int
    items: list[SegmentSpec | LoopSpec] = field(default_factory=list)
    order: int = 0
    # segment id -> indexes into ``items`` of own segments (not the first) and child loops
    by_segment: dict[str, list[int]] = field(default_factory=dict)
    required: tuple[int, ...] = ()  # indexes into ``items`` of the required segments and loops

    @property
    def trigger(self) -> SegmentSpec:
        first = self.items[0]
        assert isinstance(first, SegmentSpec)
        return first

    def loop(self, loop_id: str) -> LoopSpec | None:
        """The descendant loop with this id (first found, depth first)."""
        for item in self.items:
            if isinstance(item, LoopSpec):
                if item.id == loop_id:
                    return item
                found = item.loop(loop_id)
                if found is not None:
                    return found
        return None

    def _index(self) -> None:
        self.required = tuple(i for i, item in enumerate(self.items) if item.usage is Usage.REQUIRED)
        first_rank: dict[str, int] = {}
        for i, item in enumerate(self.items):
            key = item.id if isinstance(item, SegmentSpec) else item.trigger.id
            rank = first_rank.setdefault(key, i) if i else 0  # the first segment ranks alone
            if isinstance(item, SegmentSpec):
                self.items[i] = replace(item, order=rank)
                if i:
                    self.by_segment.setdefault(item.id, []).append(i)
            else:
                item.order = rank
                item._index()
                self.by_segment.setdefault(key, []).append(i)


@dataclass(frozen=True, slots=True)
class Guide:
    """One implementation guide: transaction set id, version and structure."""

    id: str  # e.g. "005010X222A1"
    transaction: str  # ST01, e.g. "837"
    name: str
    root: LoopSpec
    claim_loops: frozenset[str] = frozenset()  # loops the streaming reader yields one at a time
    # loop id -> (999 CTX01-1 business unit name, segment id, element) naming that loop's unit
    business_units: tuple[tuple[str, str, str, int], ...] = ()

    def business_unit(self, loop_id: str) -> tuple[str, str, int] | None:
        """The business unit a loop stands for in a 999 CTX (e.g. 837 2300: CLM01), or None."""
        for loop, name, segment_id, element in self.business_units:
            if loop == loop_id:
                return name, segment_id, element
        return None


def _parse_max(text: str) -> int:
    return UNBOUNDED if text.startswith(">") else int(text)


def _element_overrides(
    seg_id: str, tokens: list[str], not_used: frozenset[int] = frozenset()
) -> tuple[tuple[ElementSpec, ...], tuple[int, int, frozenset[str]] | None]:
    """The segment's elements as the line's tokens say; ``not_used`` (1-based) marks the others
    the line does not name."""
    base = SEGMENTS.get(seg_id)
    if base is None:
        raise X12Error(f"segment {seg_id} is not in the segment dictionary")
    elements = list(base)
    qualifier: tuple[int, int, frozenset[str]] | None = None
    named: set[int] = set()
    for token in tokens:
        is_qualifier = token.startswith("*")
        token = token.lstrip("*")
        named.add(int(token.partition("=")[0].partition(".")[0].rstrip("!?-")))
        if token[-1] in "!?-":
            idx = int(token[:-1]) - 1
            if token.endswith("!"):
                elements[idx] = replace(elements[idx], required=True)
            elif token.endswith("?"):
                elements[idx] = replace(elements[idx], required=False)
            else:
                elements[idx] = replace(elements[idx], not_used=True)
            continue
        where, _, codes_text = token.partition("=")
        codes = frozenset(codes_text.split(","))
        if "." in where:
            e_text, c_text = where.split(".")
            idx, comp = int(e_text) - 1, int(c_text) - 1
            comps = list(elements[idx].components)
            comps[comp] = replace(comps[comp], codes=codes)
            elements[idx] = replace(elements[idx], components=tuple(comps))
            if is_qualifier:
                qualifier = (idx + 1, comp + 1, codes)
            continue
        idx = int(where) - 1
        elements[idx] = replace(
            elements[idx], codes=codes, required=True if is_qualifier else elements[idx].required
        )
        if is_qualifier:
            qualifier = (idx + 1, 0, codes)
    for number in not_used - named:
        if number <= len(elements):
            elements[number - 1] = replace(elements[number - 1], not_used=True)
    return tuple(elements), qualifier


HIPAA_NOT_USED: tuple[str, ...] = (
    "NM1-10",
    "NM1-11",
    "NM1-12",
    "N4-05",
    "N4-06",
    "PER-09",
    "AMT-03",
    "QTY-04",
    "REF-03",
)
"""Elements the claim, remittance and claim-status guides (X222A1, X221A1, X212, X214) mark not used
wherever their segment appears: NM110-NM112 (entity relationship, second entity and name), N405-N406
(location qualifier and identifier; N407 is used), PER09 (contact inquiry reference), AMT03
(credit/debit flag), QTY04 (quantity composite) and REF03 (description). The eligibility and
service-review guides use some of them (REF03 of REF*18 names a plan), so they are not defaults there."""


def parse_structure(text: str, root_id: str = "ST", not_used: tuple[str, ...] = ()) -> LoopSpec:
    """Parse a guide structure text into its root loop; ``not_used`` (``"NM1-10"``...) marks elements
    not used wherever their segment appears, unless a segment's line names the element."""
    defaults: dict[str, set[int]] = {}
    for element in not_used:
        segment, _, number = element.partition("-")
        defaults.setdefault(segment, set()).add(int(number))
    root = LoopSpec(root_id, Usage.REQUIRED, 1)
    stack: list[tuple[int, LoopSpec]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        tokens = line.split()
        if tokens[0].startswith("@"):
            loop = LoopSpec(tokens[0][1:], Usage(tokens[1]), _parse_max(tokens[2]))
            parent.items.append(loop)
            stack.append((indent, loop))
            continue
        seg_id, usage, max_use = tokens[0], Usage(tokens[1]), _parse_max(tokens[2])
        elements, qualifier = _element_overrides(seg_id, tokens[3:], frozenset(defaults.get(seg_id, ())))
        parent.items.append(SegmentSpec(seg_id, usage, max_use, elements, qualifier))
    root._index()
    return root


# guide id -> module holding it
_MODULES = {
    "005010X222A1": "x222a1",
    "005010X221A1": "x221a1",
    "005010X279A1:270": "x279a1_270",
    "005010X279A1:271": "x279a1_271",
    "005010X212:276": "x212_276",
    "005010X212:277": "x212_277",
    "005010X214": "x214",
    "005010X231A1": "x231a1",
    "005010X217:278": "x217",
}

_OTHER_RELEASE = re.compile(r"^00(?!5010)[0-9]{4}")
"""A version of another X12 release than 005010 (004010X098A1, 003070, 006020...)."""

_FALLBACKS = {
    "005010X222": "005010X222A1",
    "005010X222A2": "005010X222A1",
    "005010X279": "005010X279A1",
    "005010X231": "005010X231A1",
    "005010X221": "005010X221A1",
    "005010X212A1": "005010X212",
    "005010X214A1": "005010X214",
    "005010X217A1": "005010X217",
}

_BY_TRANSACTION = {
    "837": "005010X222A1",
    "835": "005010X221A1",
    "270": "005010X279A1",
    "271": "005010X279A1",
    "276": "005010X212",
    "277": "005010X212",
    "999": "005010X231A1",
    "278": "005010X217",
}


def guide_ids() -> list[str]:
    return sorted(_MODULES)


@cache
def load_guide(key: str) -> Guide:
    """The guide stored under ``key`` (a guide id, plus ``:ST01`` where one id covers two sets)."""
    module_name = _MODULES.get(key)
    if module_name is None:
        raise X12Error(f"no implementation guide {key}")
    module = importlib.import_module(f"rcm.x12.schema.{module_name}")
    guide: Guide = module.GUIDE
    return guide


def guide_for(transaction: str, version: str) -> Guide | None:
    """The guide for a transaction set (ST01) of a version (ST03 or GS08), or None when unsupported.

    A set of another X12 release (004010X098A1, 006020...) has none: its segments and loops are
    not 5010's, and reading it with the 5010 guide would accept what no 5010 receiver takes."""
    version = version.strip()
    version = _FALLBACKS.get(version, version)
    if _OTHER_RELEASE.match(version):
        return None
    if version in ("005010", "") or not version.startswith("005010"):
        version = _BY_TRANSACTION.get(transaction, "")
    if transaction == "277" and version == "005010X214":
        return load_guide("005010X214")
    for key in (f"{version}:{transaction}", version):
        if key in _MODULES:
            guide = load_guide(key)
            if guide.transaction == transaction:
                return guide
    return None
