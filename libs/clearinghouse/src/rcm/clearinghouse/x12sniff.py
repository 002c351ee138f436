"""Just enough X12 reading for a transport: the delimiters, the segments, the transaction kind.

The transports move bytes; they only look inside to name what they received
(999, 277CA, 835...) and to find AAA reject segments in a 271. Full reading,
validation and typed models live in ``rcm.x12``.
"""

from __future__ import annotations

from collections.abc import Iterator

from rcm.x12.schema import guide_for
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import Tokenizer

__all__ = [
    "IncompleteInterchange",
    "aaa_segments",
    "delimiters_of",
    "segments_of",
    "transaction_kind",
]


class IncompleteInterchange(ValueError):
    """The text starts like an interchange but does not end like one (an ISA without its IEA, or an
    IEA02 that is not its ISA13): a file still being written, or cut short."""


_KIND_BY_VERSION = {
    ("999", "005010X231A1"): "999",
    ("277", "005010X214"): "277CA",
    ("277", "005010X212"): "277",
    ("271", "005010X279A1"): "271",
    ("270", "005010X279A1"): "270",
    ("276", "005010X212"): "276",
    ("835", "005010X221A1"): "835",
    ("837", "005010X222A1"): "837P",
    ("837", "005010X222A2"): "837P",
    ("837", "005010X223A2"): "837I",
    ("837", "005010X223A3"): "837I",
}


def delimiters_of(text: str) -> Delimiters:
    """The delimiters declared by the ISA segment; ``ValueError`` if the text does not start with one.

    The ISA is read as the engine reads it, by counting its sixteen elements: a sender whose
    ISA fields are not padded to their fixed widths still declares its delimiters there, and the
    engine reads such a file (reporting the widths), so it is not malformed for a transport.
    """
    tokens = Tokenizer(text)
    first = next(iter(tokens), None)
    if first is None or first.id != "ISA" or tokens.delimiters is None:
        raise ValueError("no ISA segment")
    return tokens.delimiters


def segments_of(text: str) -> list[Segment]:
    """All segments of an interchange, ids and raw elements only."""
    delimiters = delimiters_of(text)
    text = text[text.find("ISA") :]
    if delimiters.segment == "\n":  # a line break ends the segments: CR LF, CR or LF alike
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    segments: list[Segment] = []
    for position, raw in enumerate(text.split(delimiters.segment), start=1):
        raw = raw.strip("\r\n\t ")
        if raw:
            parts = raw.split(delimiters.element)
            segments.append(Segment(parts[0], parts[1:], position))
    return segments


def _lazy_segments(text: str) -> Iterator[Segment]:
    """The segments of an interchange one at a time (a large file is not split all at once)."""
    delimiters = delimiters_of(text)
    start = text.find("ISA")
    terminator = delimiters.segment
    position = 0
    while start < len(text):
        end = text.find(terminator, start)
        if terminator == "\n":  # a line break ends the segments: CR LF, CR or LF alike
            cr = text.find("\r", start)
            if cr != -1 and (end == -1 or cr < end):
                end = cr
        if end == -1:
            end = len(text)
        raw = text[start:end].strip("\r\n\t ")
        start = end + 1
        if raw:
            position += 1
            parts = raw.split(delimiters.element)
            yield Segment(parts[0], parts[1:], position)


def _looks_started(text: str) -> bool:
    """Empty, or the beginning of an ISA: what a file being written looks like."""
    head = text.lstrip("\ufeff\r\n\t ")
    return not head or (len(head) < 106 and "ISA".startswith(head[:3]))


def transaction_kind(text: str) -> str:
    """'999', '277CA', '835', '271'... from ST01 and GS08/ST03; ``ValueError`` when unrecognisable,
    ``IncompleteInterchange`` (a ``ValueError``) when an ISA lacks its IEA (IEA02 = ISA13): the file
    may still be being written.

    Only the ids of the segments are looked at past the first transaction set's header."""
    try:
        segments = _lazy_segments(text)
        first = next(segments, None)
    except ValueError:
        if _looks_started(text):
            raise IncompleteInterchange("not a complete interchange (ISA...IEA)") from None
        raise
    if first is None or first.id != "ISA":
        raise ValueError("no ISA segment")
    open_control: str | None = first.get(13)
    gs: Segment | None = None
    st: Segment | None = None
    ta1 = False
    for segment in segments:
        if segment.id == "ISA":
            if open_control is not None:
                raise IncompleteInterchange("an ISA without its IEA")
            open_control = segment.get(13)
        elif segment.id == "IEA":
            if open_control is None or segment.get(2) != open_control:
                raise IncompleteInterchange("an IEA that does not close its ISA (IEA02 = ISA13)")
            open_control = None
        elif segment.id == "GS" and gs is None:
            gs = segment
        elif segment.id == "ST" and st is None:
            st = segment
        elif segment.id == "TA1":
            ta1 = True
    if open_control is not None:
        raise IncompleteInterchange("not a complete interchange (ISA...IEA)")
    if gs is None and ta1:
        return "TA1"
    if gs is None or st is None:
        raise ValueError("no functional group or transaction set")
    version = st.get(3) or gs.get(8)
    kind = _KIND_BY_VERSION.get((st.get(1), version))
    if kind is None and version.startswith("005010"):
        # a 5010 guide id the engine reads as another (005010X221 as X221A1, 005010X231 as
        # X231A1...) names the same kind: the file goes on to be read, not set aside as malformed
        guide = guide_for(st.get(1), version)
        kind = _KIND_BY_VERSION.get((st.get(1), guide.id)) if guide is not None else None
    if kind is None:
        raise ValueError(f"unsupported transaction {st.get(1)} {version}")
    return kind


def aaa_segments(text: str, *, benefit_loops: bool = False) -> list[Segment]:
    """The AAA (request validation) segments of a 271 or 277: those of the request's own loops,
    and with ``benefit_loops`` those inside a 271's 2110C/D benefit loops too (an AAA after an
    EB and before the next HL or member NM1 is the benefit's)."""
    found: list[Segment] = []
    in_benefit = False
    for segment in segments_of(text):
        if segment.id == "EB":
            in_benefit = True
        elif segment.id in ("HL", "ST", "SE") or (segment.id == "NM1" and segment.get(1) in ("IL", "03")):
            in_benefit = False
        elif segment.id == "AAA" and (benefit_loops or not in_benefit):
            found.append(segment)
    return found
