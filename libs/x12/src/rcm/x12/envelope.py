"""Envelope validation: ISA/IEA, GS/GE and ST/SE.

``Envelope`` is fed every segment in order and tells the caller where the
segment belongs (``Place``); meanwhile it checks counts, control numbers, their
uniqueness and missing trailers. Truncated or garbled inputs produce findings,
never exceptions. ``check_envelope`` runs it alone over an input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from rcm.x12.findings import (
    Finding,
    FindingKind,
    GroupError,
    InterchangeNote,
    SetError,
    Severity,
)
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import Source, Tokenizer
from rcm.x12.validate import valid_date, valid_time

__all__ = ["Envelope", "GroupHeader", "InterchangeHeader", "Place", "SetHeader", "check_envelope"]

_CONTROL = re.compile(r"^[0-9]{9}\Z")
_QUALIFIERS = frozenset({"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"})
# ISA01 authorization information qualifiers: 00501 keeps 00 and 03 (TA105 010 otherwise)
_AUTHORIZATION_QUALIFIERS = frozenset({"00", "03"})
_OLDER_AUTHORIZATION_QUALIFIERS = frozenset({"00", "01", "02", "03", "04", "05", "06"})
# (index, fixed length) of the ISA elements whose width the standard fixes
_ISA_WIDTHS = ((1, 2), (2, 10), (3, 2), (4, 10), (5, 2), (6, 15), (7, 2), (8, 15), (9, 6), (10, 4))
# ST01 -> the GS01 functional identifier code (data element 479) of the group that carries it
_FUNCTIONAL_IDS = {
    "270": "HS",
    "271": "HB",
    "275": "PI",
    "276": "HR",
    "277": "HN",
    "278": "HI",
    "820": "RA",
    "824": "AG",
    "834": "BE",
    "835": "HP",
    "837": "HC",
    "997": "FA",
    "999": "FA",
}
_KNOWN_FUNCTIONAL_IDS = frozenset(_FUNCTIONAL_IDS.values())


class Place(Enum):
    """Where a segment sits in the envelope."""

    ISA = "ISA"
    IEA = "IEA"
    GS = "GS"
    GE = "GE"
    ST = "ST"
    SE = "SE"
    TA1 = "TA1"
    BODY = "BODY"  # inside a transaction set
    STRAY = "STRAY"  # outside any transaction set; already reported


@dataclass(frozen=True, slots=True)
class InterchangeHeader:
    """The ISA of an interchange."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    control_number: str
    version: str
    ack_requested: str
    usage: str
    delimiters: Delimiters

    @classmethod
    def from_segment(cls, isa: Segment, delimiters: Delimiters) -> InterchangeHeader:
        g = isa.get
        return cls(
            sender_qualifier=g(5),
            sender_id=g(6).strip(),
            receiver_qualifier=g(7),
            receiver_id=g(8).strip(),
            date=g(9),
            time=g(10),
            control_number=g(13),
            version=g(12),
            ack_requested=g(14),
            usage=g(15),
            delimiters=delimiters,
        )


@dataclass(frozen=True, slots=True)
class GroupHeader:
    """The GS of a functional group."""

    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    agency: str
    version: str

    @classmethod
    def from_segment(cls, gs: Segment) -> GroupHeader:
        g = gs.get
        return cls(g(1), g(2), g(3), g(4), g(5), g(6), g(7), g(8))


@dataclass(frozen=True, slots=True)
class SetHeader:
    """The ST of a transaction set; ``version`` is ST03, else the group's GS08."""

    id: str
    control_number: str
    version: str
    position: int


@dataclass(slots=True)
class _Interchange:
    header: InterchangeHeader
    groups: int = 0
    group_numbers: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)  # its interchange-level (TA1) findings


@dataclass(slots=True)
class _Group:
    header: GroupHeader
    sets: int = 0
    set_numbers: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)  # its group-level (AK9) findings


class Envelope:
    """Tracks interchange, group and set nesting over a segment stream.

    Besides ``findings`` (all of them, in order), ``interchange_findings`` and ``group_findings``
    are the TA1 and AK9 findings of the interchange and group opened last, one list per
    interchange or group as read: control numbers repeat (a duplicate ISA13, GS06 1 in every
    interchange), so an acknowledgement matches findings to what it answers by these lists.
    """

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.interchange: InterchangeHeader | None = None
        self.group: GroupHeader | None = None
        self.set: SetHeader | None = None
        self._ic: _Interchange | None = None
        self._grp: _Group | None = None
        self._interchange_numbers: set[str] = set()
        self.closed_by: Segment | None = None  # the GE that closed the last group, if one did
        self.interchange_findings: list[Finding] = []
        self.group_findings: list[Finding] = []

    # ------------------------------------------------------------------ reporting
    def _add(
        self,
        kind: FindingKind,
        code: str,
        message: str,
        seg: Segment | None = None,
        *,
        element: int = 0,
        severity: Severity = Severity.ERROR,
    ) -> None:
        st = self.set
        finding = Finding(
            kind=kind,
            code=code,
            message=message,
            position=seg.position if seg else 0,
            set_position=seg.position - st.position + 1 if seg and st else 0,
            segment_id=seg.id if seg else "",
            element=element,
            severity=severity,
            interchange=self.interchange.control_number if self.interchange else "",
            group=self.group.control_number if self.group else "",
            transaction=st.control_number if st else "",
        )
        self.findings.append(finding)
        if kind is FindingKind.INTERCHANGE and self._ic is not None:
            self._ic.findings.append(finding)
        elif kind is FindingKind.GROUP and self._grp is not None:
            self._grp.findings.append(finding)

    # ------------------------------------------------------------------ feeding
    def feed(self, seg: Segment, delimiters: Delimiters | None) -> Place:
        sid = seg.id
        if self.set is not None and sid not in ("SE", "ST", "GE", "GS", "IEA", "ISA"):
            return Place.BODY
        handler = _HANDLERS.get(sid)
        if handler is not None:
            return handler(self, seg, delimiters or Delimiters())
        if self.set is None:
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.INVALID_CONTENT,
                "segment outside a transaction set",
                seg,
            )
            return Place.STRAY
        return Place.BODY

    def finish(self, end: Segment | None = None) -> None:
        """End of input: report whatever is still open."""
        self._close_set(end, SetError.TRAILER_MISSING, "the input ends before the SE segment")
        self._close_group(end, "the input ends before the GE segment")
        if self._ic is not None:
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.PREMATURE_END_OF_FILE,
                "the input ends before the IEA segment",
                end,
            )
            self._ic = None
            self.interchange = None

    # ------------------------------------------------------------------ closing
    def _close_set(self, seg: Segment | None, code: str, message: str) -> None:
        if self.set is not None:
            self._add(FindingKind.TRANSACTION, code, message, seg)
            self.set = None

    def _close_group(self, seg: Segment | None, message: str) -> None:
        if self._grp is not None:
            self._add(FindingKind.GROUP, GroupError.TRAILER_MISSING, message, seg)
            self._grp = None
            self.group = None

    # ------------------------------------------------------------------ segments
    def _isa(self, seg: Segment, delimiters: Delimiters) -> Place:
        if self._ic is not None:
            self._close_set(seg, SetError.TRAILER_MISSING, "a new interchange starts before the SE segment")
            self._close_group(seg, "a new interchange starts before the GE segment")
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.PREMATURE_END_OF_FILE,
                "a new interchange starts before the IEA segment",
                seg,
            )
        header = InterchangeHeader.from_segment(seg, delimiters)
        self.interchange = header
        self._ic = _Interchange(header)
        self.interchange_findings = self._ic.findings
        self._check_isa(seg)
        if header.control_number in self._interchange_numbers:
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.DUPLICATE_CONTROL_NUMBER,
                "interchange control number repeats an earlier interchange",
                seg,
                element=13,
            )
        self._interchange_numbers.add(header.control_number)
        return Place.ISA

    def _check_isa(self, seg: Segment) -> None:
        note = InterchangeNote
        for index, width in _ISA_WIDTHS:
            if len(seg.get(index)) != width:
                self._add(
                    FindingKind.INTERCHANGE,
                    note.INVALID_CONTROL_STRUCTURE,
                    f"ISA{index:02d} must be {width} characters",
                    seg,
                    element=index,
                )
        # ISA01 and ISA03 as the 00501 control standard lists them; an earlier interchange version
        # (read with the 00501 rules, with a warning) keeps its own longer ISA01 list
        authorizations = (
            _AUTHORIZATION_QUALIFIERS if seg.get(12) >= "00501" else _OLDER_AUTHORIZATION_QUALIFIERS
        )
        checks = (
            (
                1,
                seg.get(1) in authorizations,
                note.INVALID_AUTHORIZATION_QUALIFIER,
                "invalid ISA01 qualifier",
            ),
            (3, seg.get(3) in ("00", "01"), note.INVALID_SECURITY_QUALIFIER, "invalid ISA03 qualifier"),
            (5, seg.get(5) in _QUALIFIERS, note.INVALID_SENDER_QUALIFIER, "invalid sender id qualifier"),
            (7, seg.get(7) in _QUALIFIERS, note.INVALID_RECEIVER_QUALIFIER, "invalid receiver id qualifier"),
            (9, _valid_yymmdd(seg.get(9)), note.INVALID_DATE, "invalid interchange date"),
            (10, _valid_hhmm(seg.get(10)), note.INVALID_TIME, "invalid interchange time"),
            (12, _digits(seg.get(12)) and len(seg.get(12)) == 5, note.INVALID_VERSION_ID, "invalid version"),
            (13, bool(_CONTROL.match(seg.get(13))), note.INVALID_CONTROL_NUMBER, "invalid control number"),
            (14, seg.get(14) in ("0", "1"), note.INVALID_ACK_REQUESTED, "invalid acknowledgment requested"),
            (15, seg.get(15) in ("P", "T"), note.INVALID_TEST_INDICATOR, "invalid usage indicator"),
        )
        for index, ok, code, message in checks:
            if not ok:
                self._add(FindingKind.INTERCHANGE, code, message, seg, element=index)
        if seg.get(12) and seg.get(12) != "00501":
            self._add(
                FindingKind.INTERCHANGE,
                note.VERSION_NOT_SUPPORTED,
                f"interchange version {seg.get(12)} is read with the 00501 rules",
                seg,
                element=12,
                severity=Severity.WARNING,
            )

    def _iea(self, seg: Segment, delimiters: Delimiters) -> Place:
        self._close_set(seg, SetError.TRAILER_MISSING, "the interchange ends before the SE segment")
        self._close_group(seg, "the interchange ends before the GE segment")
        ic = self._ic
        if ic is None:
            self._add(
                FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTROL_STRUCTURE, "IEA without an ISA", seg
            )
            return Place.IEA
        if not _same_number(seg.get(1), ic.groups):
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.INVALID_GROUP_COUNT,
                f"IEA01 says {seg.get(1) or 'nothing'} but the interchange has {ic.groups} groups",
                seg,
                element=1,
            )
        if seg.get(2) != ic.header.control_number:
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.CONTROL_NUMBER_MISMATCH,
                "IEA02 does not match ISA13",
                seg,
                element=2,
            )
        self._ic = None
        return Place.IEA

    def _ta1(self, seg: Segment, delimiters: Delimiters) -> Place:
        if self._ic is None or self._grp is not None:
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.INVALID_CONTROL_STRUCTURE,
                "TA1 outside an interchange header",
                seg,
            )
        note = seg.get(5)
        checks = (
            (1, bool(_CONTROL.match(seg.get(1))), "TA101 must be a nine-digit interchange control number"),
            (2, _valid_yymmdd(seg.get(2)), "invalid TA102 interchange date"),
            (3, _valid_hhmm(seg.get(3)), "invalid TA103 interchange time"),
            (4, seg.get(4) in ("A", "E", "R"), "TA104 must be A, E or R"),
            (5, len(note) == 3 and _digits(note) and int(note) <= 31, "missing or invalid TA105 note code"),
        )
        for index, ok, message in checks:
            if not ok:
                self._add(
                    FindingKind.INTERCHANGE,
                    InterchangeNote.INVALID_CONTROL_STRUCTURE,
                    message,
                    seg,
                    element=index,
                )
        if len(seg.elements) > 5:
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.INVALID_CONTROL_STRUCTURE,
                "TA1 has more than five elements",
                seg,
                element=6,
            )
        return Place.TA1

    def _gs(self, seg: Segment, delimiters: Delimiters) -> Place:
        self._close_set(seg, SetError.TRAILER_MISSING, "a new group starts before the SE segment")
        self._close_group(seg, "a new group starts before the GE segment")
        if self._ic is None:
            self._add(
                FindingKind.INTERCHANGE,
                InterchangeNote.INVALID_CONTROL_STRUCTURE,
                "GS outside an interchange",
                seg,
            )
        header = GroupHeader.from_segment(seg)
        self.group = header
        self._grp = _Group(header)
        self.group_findings = self._grp.findings
        self.closed_by = None
        if self._ic is not None:
            self._ic.groups += 1
            if header.control_number in self._ic.group_numbers:
                self._add(
                    FindingKind.GROUP,
                    GroupError.CONTROL_NUMBER_NOT_UNIQUE,
                    "group control number repeats within the interchange",
                    seg,
                    element=6,
                )
            self._ic.group_numbers.add(header.control_number)
        if not _digits(header.control_number) or len(header.control_number) > 9:
            self._add(FindingKind.GROUP, GroupError.CONTROL_NUMBER_SYNTAX, "invalid GS06", seg, element=6)
        if header.functional_id not in _KNOWN_FUNCTIONAL_IDS:
            self._add(
                FindingKind.GROUP,
                GroupError.NOT_SUPPORTED,
                "GS01 is not the functional identifier code of a supported transaction set",
                seg,
                element=1,
            )
        if not header.version.startswith("005010"):
            self._add(
                FindingKind.GROUP,
                GroupError.VERSION_NOT_SUPPORTED,
                f"group version {header.version or 'missing'} is not 005010",
                seg,
                element=8,
            )
        self._check_gs(seg)
        return Place.GS

    def _check_gs(self, seg: Segment) -> None:
        """GS02-GS05 and GS07 as every 5010 guide's envelope appendix has them: sender and receiver
        codes present (their 2-15 length is not held against a sender), GS04 a CCYYMMDD date,
        GS05 an HHMM[SS[D..]] time, GS07 X. AK905 has no code for them, so they are interchange
        content errors (TA105 024, "invalid GS segment")."""
        g = seg.get
        checks = (
            (2, bool(g(2).strip()), "GS02 (application sender's code) is missing"),
            (3, bool(g(3).strip()), "GS03 (application receiver's code) is missing"),
            (4, len(g(4)) == 8 and valid_date(g(4)), "GS04 must be a CCYYMMDD date"),
            (5, valid_time(g(5)), "GS05 must be an HHMM, HHMMSS or HHMMSSD.. time"),
            (7, g(7) == "X", "GS07 must be X (Accredited Standards Committee X12)"),
        )
        for index, ok, message in checks:
            if not ok:
                self._add(
                    FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTENT, message, seg, element=index
                )

    def _ge(self, seg: Segment, delimiters: Delimiters) -> Place:
        self._close_set(seg, SetError.TRAILER_MISSING, "the group ends before the SE segment")
        grp = self._grp
        if grp is None:
            self._add(
                FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTROL_STRUCTURE, "GE without a GS", seg
            )
            return Place.GE
        if not _same_number(seg.get(1), grp.sets):
            self._add(
                FindingKind.GROUP,
                GroupError.SET_COUNT_MISMATCH,
                f"GE01 says {seg.get(1) or 'nothing'} but the group has {grp.sets} transaction sets",
                seg,
                element=1,
            )
        if seg.get(2) != grp.header.control_number and not _same_control_number(
            seg.get(2), grp.header.control_number
        ):
            self._add(
                FindingKind.GROUP,
                GroupError.CONTROL_NUMBER_MISMATCH,
                "GE02 does not match GS06",
                seg,
                element=2,
            )
        self._grp = None
        self.closed_by = seg
        return Place.GE

    def _st(self, seg: Segment, delimiters: Delimiters) -> Place:
        self._close_set(seg, SetError.TRAILER_MISSING, "a new transaction set starts before the SE segment")
        version = seg.get(3) or (self.group.version if self.group else "")
        self.set = SetHeader(seg.get(1), seg.get(2), version, seg.position)
        grp = self._grp
        if grp is None:
            self._add(FindingKind.TRANSACTION, SetError.NOT_IN_GROUP, "ST outside a functional group", seg)
        else:
            grp.sets += 1
            if seg.get(2) in grp.set_numbers:
                self._add(
                    FindingKind.TRANSACTION,
                    SetError.CONTROL_NUMBER_NOT_UNIQUE,
                    "transaction set control number repeats within the group",
                    seg,
                    element=2,
                )
            grp.set_numbers.add(seg.get(2))
        group_version = grp.header.version if grp is not None else ""
        if seg.get(3) and group_version.startswith("005010") and seg.get(3) != group_version:
            # both name the implementation guide the set follows (each 5010 guide fixes the two
            # alike): a set of another guide than its group's cannot be read by the group's
            self._add(
                FindingKind.TRANSACTION,
                SetError.INVALID_CONVENTION_REFERENCE,
                f"ST03 {seg.get(3)} is not the group's implementation guide (GS08 {group_version})",
                seg,
                element=3,
            )
        expected = _FUNCTIONAL_IDS.get(seg.get(1))
        if grp is not None and expected and grp.header.functional_id in _KNOWN_FUNCTIONAL_IDS - {expected}:
            # common in practice (a 271 sent back in the 270's HS group); read all the same
            self._add(
                FindingKind.TRANSACTION,
                SetError.INVALID_SET_ID,
                f"a {seg.get(1)} belongs in a group with GS01 {expected}, not {grp.header.functional_id}",
                seg,
                element=1,
                severity=Severity.WARNING,
            )
        if not (len(seg.get(1)) == 3 and seg.get(1).isalnum()):
            self._add(
                FindingKind.TRANSACTION, SetError.INVALID_SET_ID, "missing or invalid ST01", seg, element=1
            )
        if not 4 <= len(seg.get(2)) <= 9:
            self._add(
                FindingKind.TRANSACTION,
                SetError.INVALID_CONTROL_NUMBER,
                "missing or invalid ST02",
                seg,
                element=2,
            )
        return Place.ST

    def _se(self, seg: Segment, delimiters: Delimiters) -> Place:
        st = self.set
        if st is None:
            self._add(
                FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTROL_STRUCTURE, "SE without an ST", seg
            )
            return Place.STRAY
        count = seg.position - st.position + 1
        if not _same_number(seg.get(1), count):
            self._add(
                FindingKind.TRANSACTION,
                SetError.SEGMENT_COUNT_MISMATCH,
                f"SE01 says {seg.get(1) or 'nothing'} but the transaction set has {count} segments",
                seg,
                element=1,
            )
        if seg.get(2) != st.control_number:
            self._add(
                FindingKind.TRANSACTION,
                SetError.CONTROL_NUMBER_MISMATCH,
                "SE02 does not match ST02",
                seg,
                element=2,
            )
        self.set = None
        return Place.SE


_HANDLERS = {
    "ISA": Envelope._isa,
    "IEA": Envelope._iea,
    "TA1": Envelope._ta1,
    "GS": Envelope._gs,
    "GE": Envelope._ge,
    "ST": Envelope._st,
    "SE": Envelope._se,
}


def _digits(value: str) -> bool:
    """Only the digits 0-9 (``str.isdigit`` also takes superscripts and other scripts' digits)."""
    return value.isascii() and value.isdigit()


def _same_number(value: str, count: int) -> bool:
    """Whether a count element (SE01, GE01, IEA01: N0, leading zeros allowed) states ``count``."""
    return _digits(value) and int(value) == count


def _same_control_number(value: str, control: str) -> bool:
    """GE02 against GS06: both N0, so "0001" and "1" are the same number."""
    return _digits(value) and _digits(control) and int(value) == int(control)


def _valid_yymmdd(value: str) -> bool:
    if len(value) != 6 or not _digits(value):
        return False
    month, day = int(value[2:4]), int(value[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def _valid_hhmm(value: str) -> bool:
    return len(value) == 4 and _digits(value) and int(value[:2]) < 24 and int(value[2:]) < 60


def check_envelope(source: Source) -> list[Finding]:
    """Envelope findings (and tokenizer findings) of an input, without reading transaction sets."""
    tokens = Tokenizer(source)
    envelope = Envelope()
    last: Segment | None = None
    for seg in tokens:
        envelope.feed(seg, tokens.delimiters)
        last = seg
    envelope.finish(last)
    return [*tokens.findings, *envelope.findings]
