"""Tokenizer: text, bytes or a file object in, ``Segment`` objects out.

The delimiters come from each ISA: the element separator is the character after
``ISA``, the ISA is read by counting its 16 elements, ISA16 is the component
separator, the character after it the segment terminator, and ISA11 the
repetition separator from version 00501 on. CR/LF after terminators, a BOM,
indentation and stray text before an ISA are skipped; a newline or another
control character may itself be the terminator. A BIN segment's data (BIN02) is read by
its length (BIN01), not split at delimiters: binary data may hold any character.

Work is done on large slices with ``str.split``/``str.find``; a file object is
read in chunks, so memory is bounded by the chunk size plus one segment.
Problems (no ISA, a broken ISA, empty segments, trailing data) become
``Finding`` records in ``Tokenizer.findings``; the tokenizer never raises on
bad data. Data between or after interchanges that is not an interchange (a GS..GE
group after the IEA) is an error: it is not read, so it must not pass unnoticed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Collection, Iterator
from itertools import chain
from typing import IO

from rcm.x12.errors import X12Error
from rcm.x12.findings import Finding, FindingKind, InterchangeNote, SegmentError, Severity
from rcm.x12.segments import Delimiters, Segment

__all__ = ["CHUNK_SIZE", "Source", "Tokenizer", "decode", "iter_segments", "tokenize"]

Source = str | bytes | bytearray | memoryview | IO[str] | IO[bytes]

CHUNK_SIZE = 1 << 20
_MAX_ISA_LENGTH = 512  # a real ISA is 106 characters; padding varies, structure does not
_WHITESPACE = " \t\r\n\f\v\ufeff\x00"
_NEWLINES = "\r\n"
# an element separator after "ISA": not a letter, digit, space or line break
_ISA_AFTER = re.compile(r"[^A-Za-z0-9 \r\n]")
# terminator -> the pattern of a segment (after that terminator) that starts another ISA
_NEXT_ISA: dict[str, re.Pattern[str]] = {}


def _latin1_bytes(exc: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 read as Latin-1 (where ISO 8859-1 and Windows-1252 agree on
    letters), so a name written by an older system keeps its accented letters."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


_DECODE_ERRORS = "rcm-x12-latin1"
codecs.register_error(_DECODE_ERRORS, _latin1_bytes)


def decode(content: bytes | bytearray | memoryview) -> str:
    """X12 bytes as text: UTF-8, with any byte that is not UTF-8 read as Latin-1 (never an error)."""
    return bytes(content).decode("utf-8", _DECODE_ERRORS)


def _chunks(source: Source, chunk_size: int) -> Iterator[str]:
    if isinstance(source, str):
        yield source
        return
    if isinstance(source, bytes | bytearray | memoryview):
        yield decode(source)
        return
    read = getattr(source, "read", None)
    if read is None:
        raise X12Error(f"cannot read X12 from {type(source).__name__}")
    decoder = codecs.getincrementaldecoder("utf-8")(_DECODE_ERRORS)
    while True:
        try:
            block = read(chunk_size)
        except (OSError, ValueError) as exc:
            raise X12Error(f"cannot read the X12 input: {exc}") from exc
        if not block:
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
            return
        if isinstance(block, str):
            yield block
        else:
            yield decoder.decode(block)


class Tokenizer:
    """Iterate the segments of one input, interchange after interchange.

    ``delimiters`` are those of the interchange being read (set before its ISA
    segment is yielded); ``findings`` collects tokenizer-level problems. With
    ``segment_ids``, only the ISAs and the segments with those ids are yielded
    (positions still count every segment).
    """

    def __init__(
        self, source: Source, *, chunk_size: int = CHUNK_SIZE, segment_ids: Collection[str] | None = None
    ) -> None:
        self.delimiters: Delimiters | None = None
        self._only = frozenset(segment_ids) if segment_ids is not None else None
        self.findings: list[Finding] = []
        self.interchanges = 0
        self._chunks = _chunks(source, chunk_size)
        self._buf = ""
        self._start = 0
        self._eof = False
        self._pos = 0
        self._bin_from = 0  # no BIN segment starts before this offset of the buffer (searched)

    def __iter__(self) -> Iterator[Segment]:
        # Segments come in lists (an ISA, then the segments of each slice); chaining them in C
        # spares a generator step per segment.
        return chain.from_iterable(self._run())

    # ------------------------------------------------------------------ input
    def _more(self) -> bool:
        """Append the next chunk; False at end of input."""
        if self._eof:
            return False
        if self._start:
            self._buf = self._buf[self._start :]
            self._bin_from = max(0, self._bin_from - self._start)
            self._start = 0
        for chunk in self._chunks:
            if chunk:
                self._buf += chunk
                return True
        self._eof = True
        return False

    def _note(self, kind: FindingKind, code: str, message: str, severity: Severity = Severity.ERROR) -> None:
        self.findings.append(
            Finding(kind=kind, code=code, message=message, position=self._pos, severity=severity)
        )

    # ------------------------------------------------------------------ main loop
    def _run(self) -> Iterator[list[Segment]]:
        while True:
            header = self._seek_isa()
            if header is None:
                return
            isa, delimiters = header
            self.delimiters = delimiters
            self.interchanges += 1
            self._pos = 1
            isa.position = 1
            yield [isa]
            yield from self._body(delimiters)

    def _seek_isa(self) -> tuple[Segment, Delimiters] | None:
        while True:
            buf = self._buf
            idx = buf.find("ISA", self._start)
            while idx >= 0 and idx + 3 < len(buf) and (buf[idx + 3].isalnum() or buf[idx + 3] == " "):
                idx = buf.find("ISA", idx + 1)
            if idx < 0 or idx + 3 >= len(buf):
                if self._more():
                    continue
                rest = self._buf[self._start :].strip(_WHITESPACE)
                if rest and self.interchanges == 0:
                    self._note(
                        FindingKind.INTERCHANGE,
                        InterchangeNote.INVALID_CONTROL_STRUCTURE,
                        "no ISA segment: the input is not an X12 interchange",
                    )
                elif rest:
                    self._note(
                        FindingKind.INTERCHANGE,
                        InterchangeNote.INVALID_CONTENT,
                        "data after the last interchange was ignored",
                        _stray_severity(rest),
                    )
                elif self.interchanges == 0:
                    self._note(
                        FindingKind.INTERCHANGE, InterchangeNote.PREMATURE_END_OF_FILE, "the input is empty"
                    )
                return None
            stray = buf[self._start : idx].strip(_WHITESPACE)
            if stray:
                self._note(
                    FindingKind.INTERCHANGE,
                    InterchangeNote.INVALID_CONTENT,
                    "text before the ISA segment was ignored",
                    _stray_severity(stray) if self.interchanges else Severity.WARNING,
                )
            parsed = self._parse_isa(idx)
            if parsed == "more":
                if self._more():
                    continue
                parsed = self._parse_isa(self._start)  # the input ends here: look no further
            if parsed == "more":
                self._note(
                    FindingKind.INTERCHANGE,
                    InterchangeNote.PREMATURE_END_OF_FILE,
                    "the input ends inside the ISA segment",
                )
                self._start = len(self._buf)
                return None
            if isinstance(parsed, str):
                self._note(FindingKind.INTERCHANGE, parsed, "unreadable ISA segment skipped")
                self._start = idx + 3
                continue
            return parsed

    def _parse_isa(self, idx: int) -> tuple[Segment, Delimiters] | str:
        """The ISA at ``idx`` with its delimiters, "more" if incomplete, or a TA1 note code."""
        buf = self._buf
        self._start = idx
        sep = buf[idx + 3]
        if sep in _NEWLINES:
            return InterchangeNote.INVALID_ELEMENT_SEPARATOR
        p = idx + 3
        limit = idx + _MAX_ISA_LENGTH
        for _ in range(15):
            p = buf.find(sep, p + 1, limit)
            if p < 0:
                return (
                    "more"
                    if len(buf) < limit and not self._eof
                    else InterchangeNote.INVALID_CONTROL_STRUCTURE
                )
        elements = buf[idx + 4 : p].split(sep)
        # A line break inside the ISA means the interchange was cut into fixed-width records
        # (80 columns and the like); the breaks are not data, here and in the segments.
        wrapped = any("\n" in e or "\r" in e for e in elements)
        q = p + 1
        while q < len(buf) and buf[q] in _NEWLINES:
            q += 1
        if q + 1 >= len(buf):
            return "more"
        component = buf[q]
        t = q + 1  # where the segment terminator is
        if wrapped:
            elements = [e.replace("\r", "").replace("\n", "") for e in elements]
        if buf[t] in _NEWLINES:
            r = t
            while r < len(buf) and buf[r] in _NEWLINES:
                r += 1
            if r + 8 >= len(buf) and not self._eof:
                return "more"
            if r < len(buf) and _is_wrapped_terminator(buf, r, sep, component):
                t = r
        term = buf[t]
        if component.isalnum() or component == sep:
            return InterchangeNote.INVALID_COMPONENT_SEPARATOR
        if term.isalnum() or term in (sep, component, " "):
            return InterchangeNote.INVALID_SEGMENT_TERMINATOR
        elements.append(component)
        rep = elements[10]
        if elements[11] < "00501" or len(rep) != 1 or rep.isalnum():
            rep = ""
        elif rep in (sep, component, term):
            # read as if there were no repetition separator; a delimiter cannot serve twice
            self.findings.append(
                Finding(
                    kind=FindingKind.INTERCHANGE,
                    code=InterchangeNote.INVALID_CONTROL_STRUCTURE,
                    message="ISA11 repeats another delimiter: no repetition separator is used",
                    position=1,
                    segment_id="ISA",
                    element=11,
                    severity=Severity.WARNING,
                )
            )
            rep = ""
        self._start = t + 1
        if term in _NEWLINES:
            if term == "\r" and buf[t + 1 : t + 2] == "\n":
                self._start = t + 2  # CR LF ends the ISA: one terminator, not an empty segment
            term = "\n"
        return Segment("ISA", elements, 1), Delimiters(sep, component, rep, term)

    # ------------------------------------------------------------------ segments
    def _segment_starts_at(self, i: int, term: str) -> bool:
        buf = self._buf
        j = i - 1
        while j >= self._start and buf[j] in _WHITESPACE:
            if term == "\n" and buf[j] in _NEWLINES:
                return True
            j -= 1
        return j < self._start or buf[j] == term

    def _find_term(self, i: int, term: str) -> int:
        buf = self._buf
        if term != "\n":
            return buf.find(term, i)
        n = buf.find("\n", i)
        r = buf.find("\r", i)
        if n < 0:
            return r
        return n if r < 0 else min(n, r)

    def _rfind_term(self, term: str) -> int:
        buf = self._buf
        if term != "\n":
            return buf.rfind(term, self._start)
        # Line breaks at the end of the buffer stay for the next round: the LF of a CR LF or a
        # blank line before the next ISA may follow in the next chunk.
        end = len(buf)
        while end > self._start and buf[end - 1] in _WHITESPACE:
            end -= 1
        return max(buf.rfind("\n", self._start, end), buf.rfind("\r", self._start, end))

    def _next_isa(self, term: str, end: int) -> int:
        """Where a segment before ``end`` (-1: anywhere) starts another ISA, or -1."""
        buf = self._buf
        stop = len(buf) if end < 0 else end
        i = self._start
        while i < stop and buf[i] in _WHITESPACE:
            i += 1
        if i < stop and buf.startswith("ISA", i) and _ISA_AFTER.match(buf, i + 3):
            return i
        pattern = _NEXT_ISA.get(term)
        if pattern is None:
            ends = re.escape(_NEWLINES if term == "\n" else term)
            pattern = _NEXT_ISA[term] = re.compile(
                f"[{ends}][{re.escape(_WHITESPACE)}]*(ISA)(?=[^A-Za-z0-9 \r\n])"
            )
        found = pattern.search(buf, self._start, len(buf) if end < 0 else min(len(buf), end + 4))
        return found.start(1) if found is not None and found.start(1) < stop else -1

    def _body(self, d: Delimiters) -> Iterator[list[Segment]]:
        term = d.segment
        marker = "IEA" + d.element
        while True:
            buf = self._buf
            iea = buf.find(marker, self._start)
            while iea >= 0 and not self._segment_starts_at(iea, term):
                iea = buf.find(marker, iea + 1)
            isa = self._next_isa(term, iea)
            binary = self._find_bin(d, isa if isa >= 0 else iea)
            if binary >= 0:
                yield from self._binary(binary, d)
                continue
            if isa >= 0:
                # the interchange ends without its IEA; the next one brings its own delimiters
                region = buf[self._start : isa].rstrip(_WHITESPACE)
                if region.endswith(term):
                    region = region[:-1]
                if region.strip(_WHITESPACE):
                    yield self._split(region, d)
                self._start = isa
                return
            if iea >= 0:
                end = self._find_term(iea, term)
                if end < 0 and self._more():
                    continue
                if end < 0:
                    end = len(self._buf)
                yield self._split(self._buf[self._start : end], d)
                self._start = end + 1
                return
            cut = self._rfind_term(term)
            if cut >= 0 and term == "\n" and len(buf) - cut <= 8 and _may_open_isa(buf[cut + 1 :]):
                # The next chunk may complete an ISA: the line breaks before it go with it, as
                # when the whole input is at hand (a blank line there is no empty segment).
                while cut > self._start and buf[cut - 1] in _NEWLINES:
                    cut -= 1
                if cut > self._start:
                    yield self._split(buf[self._start : cut], d)
                    self._start = cut + 2 if buf.startswith("\r\n", cut) else cut + 1
            elif cut >= 0:
                yield self._split(buf[self._start : cut], d)
                self._start = cut + 1
            if not self._more():
                rest = self._buf[self._start :]
                if term == "\n":
                    rest = rest.rstrip(_NEWLINES)  # the last segment's own terminator
                if rest.strip(_WHITESPACE):
                    yield self._split(rest, d)
                self._start = len(self._buf)
                return

    def _find_bin(self, d: Delimiters, end: int) -> int:
        """Where a BIN segment starts before ``end`` (-1: anywhere in the buffer), or -1."""
        buf = self._buf
        marker = "BIN" + d.element
        stop = len(buf) if end < 0 else end
        i = buf.find(marker, max(self._start, self._bin_from), stop)
        while i >= 0 and not self._segment_starts_at(i, d.segment):
            i = buf.find(marker, i + 1, stop)
        if i < 0:
            self._bin_from = max(self._bin_from, stop - len(marker) + 1)  # a marker may straddle
        return i

    def _binary(self, at: int, d: Delimiters) -> Iterator[list[Segment]]:
        """The segments before the BIN segment at ``at``, then the BIN segment read by its length.

        A BIN whose length is not digits, or whose data is not followed by the terminator, is
        left to be split as any other segment (its element errors are then reported).
        """
        region = self._buf[self._start : at].rstrip(_WHITESPACE)
        if region.endswith(d.segment):
            region = region[:-1]
        if region.strip(_WHITESPACE):
            yield self._split(region, d)
        self._start = at
        parsed = self._parse_bin(d)
        while parsed == "more":
            parsed = self._parse_bin(d) if self._more() else None
        if parsed is None or isinstance(parsed, str):
            self._bin_from = self._start + 1
            return
        segment, end = parsed
        self._pos += 1
        segment.position = self._pos
        self._start = end
        if self._only is None or "BIN" in self._only:
            yield [segment]

    def _parse_bin(self, d: Delimiters) -> tuple[Segment, int] | str | None:
        """The BIN segment at the buffer's start and where the next segment starts; "more" if
        the input read so far ends inside it; None if it is not a BIN of that form."""
        buf = self._buf
        k = self._start + 4  # after "BIN" and the element separator
        e = buf.find(d.element, k, k + 16)
        if e < 0:
            return "more" if len(buf) < k + 16 and not self._eof else None
        length = buf[k:e]
        if not (length.isascii() and length.isdigit()):
            return None
        end = e + 1 + int(length)
        if end >= len(buf) or (buf[end] == "\r" and end + 1 == len(buf)):
            return "more" if not self._eof else None
        after = buf[end]
        if after != d.segment and not (d.segment == "\n" and after in _NEWLINES):
            return None
        nxt = end + 2 if buf.startswith("\r\n", end) and d.segment == "\n" else end + 1
        return Segment("BIN", [length, buf[e + 1 : end]], 0), nxt

    def _split(self, region: str, d: Delimiters) -> list[Segment]:
        term = d.segment
        if term == "\n":
            if "\r" in region:
                if region[-1] == "\r":
                    region = region[:-1]  # the CR of the CR LF the region was cut at
                region = region.replace("\r\n", "\n").replace("\r", "\n")
        else:
            if "\n" in region:
                region = region.replace("\n", "")
            if "\r" in region:
                region = region.replace("\r", "")
        sep = d.element
        pos = self._pos
        out: list[Segment] = []
        append = out.append
        only = self._only
        pieces = region.split(term)
        # The common case: no empty piece, none led by whitespace or a control character (the
        # smallest piece would show it) and no second ISA; then every piece is a segment.
        first = min(pieces)
        if (
            only is None
            and first
            and first[0] > " "
            and not region.startswith("ISA")
            and term + "ISA" not in region
        ):
            for piece in pieces:
                parts = piece.split(sep)
                pos += 1
                append(Segment(parts.pop(0), parts, pos))
            self._pos = pos
            return out
        for piece in pieces:
            if not piece or piece[0] <= " ":
                piece = piece.strip(_WHITESPACE)
                if not piece:
                    self._pos = pos
                    self._note(
                        FindingKind.SEGMENT,
                        SegmentError.UNRECOGNIZED,
                        f"empty segment after segment {pos}",
                        Severity.WARNING if term == "\n" else Severity.ERROR,
                    )
                    continue
            if only is not None:
                cut = piece.find(sep)
                sid = piece if cut < 0 else piece[:cut]
                if sid == "ISA":
                    pos = 0
                pos += 1
                if sid in only:
                    append(Segment(sid, piece.split(sep)[1:], pos))
                continue
            parts = piece.split(sep)
            sid = parts.pop(0)
            if sid == "ISA":
                pos = 0
            pos += 1
            append(Segment(sid, parts, pos))
        self._pos = pos
        return out


def _stray_severity(text: str) -> Severity:
    """Text after an interchange's IEA that is not part of another interchange is an error when it
    may be data (a GS..GE group, segments: a letter or a digit), so nothing is lost unreported;
    filler such as an end-of-file control character (Ctrl-Z) is only a warning."""
    return Severity.ERROR if any(c.isalnum() for c in text) else Severity.WARNING


def _may_open_isa(tail: str) -> bool:
    """Whether ``tail``, the end of the input read so far, may be the start of an ISA segment."""
    text = tail.rstrip(_WHITESPACE)
    return len(text) <= 3 and "ISA".startswith(text)


def _is_wrapped_terminator(buf: str, i: int, sep: str, component: str) -> bool:
    """Whether ``buf[i]``, after the line break that follows a wrapped ISA16, is its terminator.

    It is when it cannot be data (no letter, digit, space or delimiter) and the next
    segment id (possibly itself cut by a line break) follows it.
    """
    char = buf[i]
    if char.isalnum() or char in (sep, component, " ") or char in _NEWLINES:
        return False
    following = buf[i + 1 : i + 8].replace("\r", "").replace("\n", "")
    return following[:2] in ("GS", "TA", "IE") or following[:3] == "ISA"


def iter_segments(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Segment]:
    """Stream the segments of ``source`` (tokenizer findings are dropped; use ``Tokenizer`` to keep them)."""
    return iter(Tokenizer(source, chunk_size=chunk_size))


def tokenize(source: Source) -> list[Segment]:
    """All segments of ``source`` as a list."""
    return list(Tokenizer(source))
