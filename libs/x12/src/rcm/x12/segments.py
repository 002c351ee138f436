"""The shared vocabulary of the engine: delimiters, segments and loops.

Everything else in ``rcm.x12`` (the tokenizer, the implementation-guide schemas,
the typed transaction models and the builders) speaks in these three types.

A ``Segment`` keeps its elements as the raw strings between element separators;
components and repetitions are split on demand with the interchange's
``Delimiters``, so tokenizing stays close to a plain ``str.split``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Delimiters", "Loop", "Segment"]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four separators of an interchange (ISA16, ISA11 for 00501+, ISA header, terminator).

    ``repetition`` is '' when the interchange has none (versions before 00501, or
    an ISA11 that is a letter rather than a separator).
    """

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"


DEFAULT_DELIMITERS = Delimiters()


@dataclass(slots=True)
class Segment:
    """One segment: its id and its elements, ``elements[0]`` being element 01.

    ``position`` is the 1-based ordinal of the segment in its interchange
    (0 for segments that were built rather than read).
    """

    id: str
    elements: list[str] = field(default_factory=list)
    position: int = 0

    def get(self, index: int, component: int = 0, *, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
        """Element ``index`` (1-based, as in ``CLM05``), or one of its components (1-based); '' if absent."""
        if index < 1 or index > len(self.elements):
            return ""
        value = self.elements[index - 1]
        if component:
            parts = value.split(delimiters.component)
            return parts[component - 1] if component <= len(parts) else ""
        return value

    def components(self, index: int, *, delimiters: Delimiters = DEFAULT_DELIMITERS) -> list[str]:
        value = self.get(index)
        return value.split(delimiters.component) if value else []

    def repeats(self, index: int, *, delimiters: Delimiters = DEFAULT_DELIMITERS) -> list[str]:
        value = self.get(index)
        if not value:
            return []
        return value.split(delimiters.repetition) if delimiters.repetition else [value]

    def to_x12(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
        """The segment as text with trailing empty elements dropped and its terminator."""
        elements = list(self.elements)
        while elements and elements[-1] == "":
            elements.pop()
        if not elements:
            return self.id + delimiters.segment
        return delimiters.element.join([self.id, *elements]) + delimiters.segment


@dataclass(slots=True)
class Loop:
    """A loop of an implementation guide: its own segments, then its child loops, in order.

    ``id`` is the guide's loop id (``"2300"``, ``"2010AA"``); the transaction set
    itself is the loop ``"ST"`` whose segments are the header (ST, BHT, BPR...).
    """

    id: str
    segments: list[Segment] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)

    def first(self, segment_id: str, qualifier: str | None = None) -> Segment | None:
        """The first own segment with this id (and element 01 equal to ``qualifier`` when given)."""
        for seg in self.segments:
            if seg.id == segment_id and (qualifier is None or seg.get(1) == qualifier):
                return seg
        return None

    def all(self, segment_id: str, qualifier: str | None = None) -> list[Segment]:
        return [
            s for s in self.segments if s.id == segment_id and (qualifier is None or s.get(1) == qualifier)
        ]

    def children(self, loop_id: str) -> list[Loop]:
        return [child for child in self.loops if child.id == loop_id]

    def walk(self) -> Iterator[Segment]:
        """Every segment of the loop and its descendants, in document order."""
        yield from self.segments
        for child in self.loops:
            yield from child.walk()
