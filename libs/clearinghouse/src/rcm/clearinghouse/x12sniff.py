"""Just enough X12 reading for a transport: the delimiters, the segments, the transaction kind.

The transports move bytes; they only look inside to name what they received
(999, 277CA, 835...) and to find AAA reject segments in a 271. Full reading,
validation and typed models live in ``rcm.x12``.
"""

from __future__ import annotations

from rcm.x12.schema import guide_for
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import Tokenizer

__all__ = ["aaa_segments", "delimiters_of", "segments_of", "transaction_kind"]

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


def transaction_kind(text: str) -> str:
    """'999', '277CA', '835', '271'... from ST01 and GS08/ST03; ``ValueError`` when unrecognisable."""
    segments = segments_of(text)
    ids = [s.id for s in segments]
    if ids[:1] != ["ISA"] or "IEA" not in ids:
        raise ValueError("not a complete interchange (ISA...IEA)")
    gs = next((s for s in segments if s.id == "GS"), None)
    if gs is None and "TA1" in ids:
        return "TA1"
    st = next((s for s in segments if s.id == "ST"), None)
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
