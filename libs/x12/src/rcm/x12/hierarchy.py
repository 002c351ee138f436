"""HL structure rules: numbering, parents, level codes and child codes.

Every guide with HL loops states the same four rules (837P 2000A-2000C, 277
2000A-2000E, 278 2000A-2000F...):

- HL01 numbers the levels 1..n in the order they occur (a break is reported
  once: the count resumes from the number found);
- HL02 names the enclosing level, an HL that came earlier and is still open
  (HLs form a depth-first tree), and is empty on a top level;
- HL03 is a level code the guide allows under the parent's level;
- HL04 is 1 when subordinate HLs follow and 0 when none do.

The allowed parent levels come from the guide's loop data (the ``*03=`` qualifier
of each HL loop and the HL loop that encloses it). ``Hierarchy`` checks one
transaction set holding only the open ancestor chain, so streaming memory stays
bounded. Its issues carry IK403 codes: ``I12`` (implementation pattern) for
numbering, parent and child-code breaks, ``7`` for a level code not allowed
where it occurs, ``1``/``I10`` for a missing or unexpected HL02.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcm.x12.findings import ElementError
from rcm.x12.schema import Guide, LoopSpec
from rcm.x12.segments import Segment
from rcm.x12.validate import ElementIssue

__all__ = ["HLIssue", "Hierarchy", "parent_levels"]

_TOP = ""  # the "parent level" of a top level


_PARENT_LEVELS: dict[tuple[str, str], dict[str, frozenset[str]]] = {}


def parent_levels(guide: Guide) -> dict[str, frozenset[str]]:
    """HL03 level code -> the level codes its parent may have ('' for a top level)."""
    key = (guide.id, guide.transaction)
    levels = _PARENT_LEVELS.get(key)
    if levels is None:
        levels = _PARENT_LEVELS[key] = _levels(guide.root)
    return levels


def _levels(root: LoopSpec) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}

    def walk(loop: LoopSpec, parents: frozenset[str]) -> None:
        for item in loop.items:
            if not isinstance(item, LoopSpec):
                continue
            trigger = item.trigger
            inner = parents
            if trigger.id == "HL" and trigger.qualifier is not None and trigger.qualifier[0] == 3:
                levels = trigger.qualifier[2]
                for level in levels:
                    out.setdefault(level, set()).update(parents)
                inner = levels
            walk(item, inner)

    walk(root, frozenset({_TOP}))
    return {level: frozenset(parents) for level, parents in out.items()}


@dataclass(frozen=True, slots=True)
class HLIssue:
    """An HL problem: the HL segment it is about, its loop, and the element issue."""

    segment: Segment
    loop_id: str
    issue: ElementIssue


@dataclass(slots=True)
class _Open:
    id: str
    level: str
    segment: Segment
    loop_id: str
    has_children: bool = False


def _issue(code: str, element: int, message: str) -> ElementIssue:
    return ElementIssue(code, element, 0, 0, message)


def _pattern(element: int, message: str) -> ElementIssue:
    return _issue(ElementError.PATTERN_MISMATCH, element, message)


class Hierarchy:
    """Checks the HL segments of one transaction set, in order."""

    def __init__(self, guide: Guide) -> None:
        self.parents = parent_levels(guide)
        self.last_id = 0
        self.open: list[_Open] = []

    def feed(self, seg: Segment, loop_id: str) -> list[HLIssue]:
        """The issues found on reaching this HL (on it, or on an earlier HL that now closes)."""
        out: list[HLIssue] = []
        hl_id, parent_id, level = seg.get(1), seg.get(2), seg.get(3)
        expected = self.last_id + 1
        if hl_id and hl_id != str(expected):
            out.append(HLIssue(seg, loop_id, _pattern(1, "HL01 is out of the 1..n sequence")))
        # one break is reported once: numbering resumes from the value found
        if hl_id:
            self.last_id = int(hl_id) if hl_id.isascii() and hl_id.isdigit() else expected
        allowed = self.parents.get(level)
        parent: _Open | None = None
        if not parent_id:
            self._close_to(0, out)
            if allowed is not None and _TOP not in allowed:
                out.append(
                    HLIssue(seg, loop_id, _issue(ElementError.REQUIRED_MISSING, 2, "HL02 parent missing"))
                )
        elif allowed is not None and allowed == {_TOP}:
            self._close_to(0, out)
            out.append(
                HLIssue(
                    seg, loop_id, _issue(ElementError.NOT_USED_PRESENT, 2, "HL02 not used on a top level")
                )
            )
        else:
            depth = next((i for i in range(len(self.open) - 1, -1, -1) if self.open[i].id == parent_id), -1)
            self._close_to(depth + 1, out)
            if depth < 0:
                out.append(HLIssue(seg, loop_id, _pattern(2, "HL02 does not name an enclosing earlier HL")))
            else:
                parent = self.open[depth]
                if not parent.has_children and parent.segment.get(4) == "0":
                    out.append(
                        HLIssue(
                            parent.segment,
                            parent.loop_id,
                            _pattern(4, "HL04 says no children but an HL follows"),
                        )
                    )
                parent.has_children = True
        if allowed is None:
            if level:
                out.append(
                    HLIssue(
                        seg, loop_id, _issue(ElementError.INVALID_CODE, 3, "HL03 level not in this guide")
                    )
                )
        elif parent is not None and parent.level not in allowed:
            out.append(
                HLIssue(
                    seg,
                    loop_id,
                    _issue(ElementError.INVALID_CODE, 3, "HL03 level not allowed under its parent"),
                )
            )
        self.open.append(_Open(hl_id, level, seg, loop_id))
        return out

    def finish(self) -> list[HLIssue]:
        """The issues of the levels still open at the end of the set."""
        out: list[HLIssue] = []
        self._close_to(0, out)
        return out

    def _close_to(self, depth: int, out: list[HLIssue]) -> None:
        while len(self.open) > depth:
            level = self.open.pop()
            if level.segment.get(4) == "1" and not level.has_children:
                out.append(
                    HLIssue(
                        level.segment, level.loop_id, _pattern(4, "HL04 says children follow but none do")
                    )
                )
