"""Acknowledgements: a 999 (005010X231A1) per inbound functional group and a TA1 for envelope errors.

``acknowledge`` takes what ``read`` returned and writes one acknowledgement
interchange per inbound interchange, addressed back to its sender (ISA05/06 and
GS02 of the answer are the inbound ISA07/08 and GS03): its TA1 when it has
interchange-level errors (or asked for one in ISA14), then a 999 transaction set
per inbound group that was not rejected at the interchange level, in FA groups that
never mix senders. Findings are matched to what they answer by place (the n-th
interchange, the n-th group), never by control number, which may repeat. The codes
come straight from the findings (see ``rcm.x12.findings``). ``acknowledgement``
returns the same with its typed models (``Acknowledgement``).

As 005010X231A1 describes: each IK4 gives the element's position (IK401, with the
component and repetition when the error is in one) and its data element
reference number (IK402); an element required or excluded by another element's
presence (an X12 syntax note) is followed by a ``CTX*SITUATIONAL TRIGGER`` naming
that element; and an error inside a business unit (an 837 claim, a 276/277 claim
status, a 270 subscriber...) carries a ``CTX`` naming the unit, e.g.
``CTX*CLM01:<patient control number>``, after its IK3.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from itertools import groupby
from typing import TYPE_CHECKING

from rcm.x12.envelope import GroupHeader, InterchangeHeader
from rcm.x12.errors import X12Error
from rcm.x12.findings import Finding, FindingKind, InterchangeNote, SegmentError, SetError, Severity
from rcm.x12.reader import ReadResult, TransactionSet, read
from rcm.x12.schema import SegmentSpec, guide_for, load_guide
from rcm.x12.schema.elements import element_ref
from rcm.x12.segments import Delimiters, Loop, Segment
from rcm.x12.tokenizer import Source

if TYPE_CHECKING:
    from rcm.x12.models.ack_999 import ImplementationAck999
    from rcm.x12.models.envelope import InterchangeAck
    from rcm.x12.models.interchange import Interchange

__all__ = ["Acknowledgement", "acknowledge", "acknowledgement", "answerable", "build_999", "build_ta1"]

ACK_DELIMITERS = Delimiters("*", ":", "^", "~")
# TA1 notes that mean the interchange could not be processed at all
_FATAL_NOTES = frozenset(
    {
        InterchangeNote.INVALID_CONTROL_STRUCTURE,
        InterchangeNote.INVALID_SEGMENT_TERMINATOR,
        InterchangeNote.INVALID_ELEMENT_SEPARATOR,
        InterchangeNote.INVALID_COMPONENT_SEPARATOR,
        InterchangeNote.PREMATURE_END_OF_FILE,
    }
)
_MAX_IK4_PER_IK3 = 99
_TRIGGER = "SITUATIONAL TRIGGER"  # CTX01-1 of a segment or element context
_MAX_UNIT_ID = 35  # CTX01-2 (data element 1029) is AN 1/35
_MAX_AK902 = 999_999  # AK902 (data element 97) is N0 1/6
# the TA1 note of an interchange holding a group no 999 can answer (see ``answerable``)
_UNANSWERED_GROUP = Finding(
    kind=FindingKind.INTERCHANGE,
    code=InterchangeNote.INVALID_CONTENT,
    message="a functional group whose GS01 a 999 cannot repeat is answered by the TA1 alone",
    severity=Severity.ERROR,
)


def build_ta1(interchange: InterchangeHeader, findings: list[Finding]) -> Segment:
    """The TA1 answering one interchange, from its interchange-level findings."""
    errors = [f for f in findings if f.kind is FindingKind.INTERCHANGE and f.is_error]
    if not errors:
        return Segment(
            "TA1",
            [interchange.control_number, interchange.date, interchange.time, "A", InterchangeNote.NO_ERROR],
        )
    fatal = [f for f in errors if f.code in _FATAL_NOTES]
    first = (fatal or errors)[0]
    status = "R" if fatal else "E"
    return Segment(
        "TA1", [interchange.control_number, interchange.date, interchange.time, status, first.code]
    )


@dataclass(slots=True)
class _Units:
    """The business units of a set (837 claims: CLM01...) by their first set position.

    Units nest (a 270 dependent inside its subscriber) but never overlap otherwise, so the
    innermost unit holding a position is the last one starting at or before it, or one of
    its enclosing units: a bisect and a short walk up, not a scan of every unit per error.
    """

    firsts: list[int] = field(default_factory=list)
    lasts: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)  # index of the enclosing unit, -1 for none
    contexts: list[str] = field(default_factory=list)

    def at(self, position: int) -> str:
        """The CTX01 value of the innermost business unit holding a set position, or ''."""
        i = bisect_right(self.firsts, position) - 1
        while i >= 0 and self.lasts[i] < position:
            i = self.parents[i]
        return self.contexts[i] if i >= 0 else ""


def _business_units(tx: TransactionSet) -> _Units:
    """The business units of a set, named as a 999 CTX01 does (``CLM01:<patient control number>``).

    A value longer than CTX01-2 allows (AN 1/35) is cut to its first 35 characters, as X12 RFI
    2293 advises for a longer patient control number, so the unit is still named; one holding
    a delimiter of the acknowledgement is left out (it would break the 999).
    """
    units = _Units()
    guide = guide_for(tx.id, tx.version)
    if guide is None or not guide.business_units:
        return units
    start = tx.header.position - 1
    forbidden = set(ACK_DELIMITERS.element + ACK_DELIMITERS.component + ACK_DELIMITERS.repetition)
    forbidden.add(ACK_DELIMITERS.segment)

    def walk(loop: Loop, parent: int) -> None:
        unit = guide.business_unit(loop.id)
        if unit is not None:
            name, segment_id, element = unit
            seg = loop.first(segment_id)
            value = (seg.get(element) if seg is not None else "")[:_MAX_UNIT_ID]
            positions = [s.position for s in loop.walk()]
            if value and value.isprintable() and not set(value) & forbidden and positions:
                # loops are walked in document order, so first positions come sorted
                units.firsts.append(min(positions) - start)
                units.lasts.append(max(positions) - start)
                units.parents.append(parent)
                units.contexts.append(f"{name}{ACK_DELIMITERS.component}{value}")
                parent = len(units.firsts) - 1
        for child in loop.loops:
            walk(child, parent)

    walk(tx.root, -1)
    return units


def _position(f: Finding, *, element: int, component: int = 0, repetition: int = 0) -> str:
    """An IK401/CTX05 position: element, then component and repetition when they apply."""
    where = [str(max(element, 1))]
    if component or repetition:
        where.append(str(component) if component else "")
    if repetition:
        where.append(str(repetition))
    return ACK_DELIMITERS.component.join(where)


def _element_loop(f: Finding, segment_id: str, position: int) -> list[Segment]:
    """IK4 with its element context: the element that triggered a conditional rule (2110 CTX)."""
    out = [
        Segment(
            "IK4",
            [
                _position(f, element=f.element, component=f.component, repetition=f.repetition),
                f.element_ref,
                f.code,
            ],
        )
    ]
    if f.trigger_element:
        out.append(
            Segment(
                "CTX",
                [
                    _TRIGGER,
                    segment_id,
                    str(position),
                    "",
                    str(f.trigger_element),
                    element_ref(segment_id, f.trigger_element),
                ],
            )
        )
    return out


def _segment_loops(tx: TransactionSet) -> list[Segment]:
    """The 2100 loops (IK3, business unit CTX, 2110 IK4 and CTX) for the segment and element findings of a set.

    The business unit named is the one holding the segment in error, or, for a missing segment
    or loop, the one holding the loop that lacks it (``Finding.loop_position``): its IK302 is
    the segment after the place it was expected, which may be the next claim's.
    """
    by_segment: dict[tuple[int, str, int], list[Finding]] = defaultdict(list)
    for f in tx.findings:
        if f.is_error and f.kind in (FindingKind.SEGMENT, FindingKind.ELEMENT):
            by_segment[(max(f.set_position, 1), f.segment_id, f.loop_position)].append(f)
    units = _business_units(tx) if by_segment else _Units()
    out: list[Segment] = []
    for (position, segment_id, loop_position), found in sorted(by_segment.items()):
        # an empty segment has no id; IK301 is required, so it is named as an unknown one
        seg_id = segment_id if segment_id.isalnum() and 2 <= len(segment_id) <= 3 else "ZZZ"
        unit = units.at(loop_position or position)
        context = [Segment("CTX", [unit])] if unit else []
        codes = sorted(
            {f.code for f in found if f.kind is FindingKind.SEGMENT} - {SegmentError.HAS_ELEMENT_ERRORS}
        )
        for code in codes:
            out.extend([Segment("IK3", [seg_id, str(position), "", code]), *context])
        elements = [f for f in found if f.kind is FindingKind.ELEMENT]
        if elements:
            out.extend(
                [Segment("IK3", [seg_id, str(position), "", SegmentError.HAS_ELEMENT_ERRORS]), *context]
            )
            for f in elements[:_MAX_IK4_PER_IK3]:
                out.extend(_element_loop(f, seg_id, position))
    return out


def _echo(value: str, max_length: int) -> str:
    """An inbound value as a 999 element may repeat it: cut to ``max_length``, and '' when it holds
    a delimiter of the acknowledgement or a control character (it would break the 999)."""
    value = value[:max_length]
    if not value.isprintable() or any(d in value for d in _ACK_SEPARATORS):
        return ""
    return value


_ACK_SEPARATORS = (
    ACK_DELIMITERS.element,
    ACK_DELIMITERS.component,
    ACK_DELIMITERS.repetition,
    ACK_DELIMITERS.segment,
)


@cache
def _codes_999() -> tuple[frozenset[str], frozenset[str]]:
    """The GS01 codes AK101 and the ST01 codes AK201 may carry, from the 999 guide itself."""
    root = load_guide("005010X231A1").root
    ak1 = root.items[1]
    response = root.loop("2000")
    assert isinstance(ak1, SegmentSpec)
    assert response is not None
    return ak1.elements[0].codes or frozenset(), response.trigger.elements[0].codes or frozenset()


_SET_OF_GROUP = {"HS": "270", "HB": "271", "HR": "276", "HN": "277", "HI": "278", "HP": "835", "HC": "837"}
"""The one HIPAA transaction set a group of each GS01 carries (an AK201 for a set whose ST01 a
999 cannot repeat)."""


def answerable(group: GroupHeader) -> bool:
    """Whether a 999 can answer the group: 005010X231A1 lists the GS01 codes AK101 may repeat.

    ``acknowledge`` answers any other group (GS01 missing, mistyped, another standard's) in the
    interchange's TA1 alone (TA105 024, invalid interchange content)."""
    return group.functional_id in _codes_999()[0]


def _acknowledges(group: GroupHeader, txs: list[TransactionSet]) -> bool:
    """Whether a group holds acknowledgements (GS01 FA, or only 999/997 sets): X12 acknowledges no
    acknowledgement, so ``acknowledge`` writes no 999 for it (its interchange may still get a TA1,
    as ISA14 asks or for interchange errors)."""
    return group.functional_id == "FA" or (bool(txs) and all(tx.id in ("997", "999") for tx in txs))


def _set_response(tx: TransactionSet, functional_id: str) -> tuple[list[Segment], bool]:
    """AK2 ... IK5 for one set, and whether it was accepted; no segments when AK201 cannot be written.

    AK2 repeats ST01 and ST02 (AK201 one of the 999's ST01 codes, AK202 AN 4/9): an ST01 the 999
    cannot repeat is answered as the set its group carries, with the set's own errors (IK502 1 or
    6); an ST02 outside 4/9 (IK502 7) is padded with zeros or cut.
    """
    errors = tx.errors
    set_codes = {f.code for f in errors if f.kind is FindingKind.TRANSACTION}
    if any(f.kind in (FindingKind.SEGMENT, FindingKind.ELEMENT) for f in errors):
        set_codes.add(SetError.SEGMENTS_IN_ERROR)
    accepted = not errors
    set_id = tx.id if tx.id in _codes_999()[1] else _SET_OF_GROUP.get(functional_id, "")
    if not set_id:
        return [], False
    control = _echo(tx.control_number, 9).rjust(4, "0")
    ak2 = [set_id, control]
    version = _echo(tx.version, 35)
    if version:
        ak2.append(version)
    segments = [Segment("AK2", ak2), *_segment_loops(tx)]
    codes = sorted(set_codes, key=lambda c: (len(c), c))[:5]
    segments.append(Segment("IK5", ["A" if accepted else "R", *codes]))
    return segments, accepted


def _group_control(value: str) -> str:
    """AK102 (N0 1/9) for a GS06: as written when it can be; a longer number (AK905 6) by its
    last nine digits; anything else 0."""
    if not (value.isascii() and value.isdigit()):
        return "0"
    if len(value) <= 9:
        return value
    return str(int(value[-9:]))


def build_999(
    group: GroupHeader,
    transactions: list[TransactionSet],
    group_findings: list[Finding],
    *,
    control_number: str = "0001",
    included: str | None = None,
) -> list[Segment]:
    """The segments (ST to SE) of the 999 answering one functional group (see ``answerable``).

    ``included`` is the group's GE01 as written: AK902 repeats it (AK903 counts the sets
    received), so a count the sender got wrong shows; without a readable GE01 (or one longer than
    AK902's N0 1/6) AK902 is the count received. Values repeated from the group (GS06, GS08, ST02, ST03) are written only
    as far as the 999's own elements allow, so the 999 is always valid.
    """
    functional_id = group.functional_id if answerable(group) else "HC"
    body: list[Segment] = [
        Segment("ST", ["999", control_number, "005010X231A1"]),
        Segment(
            "AK1",
            [functional_id, _group_control(group.control_number), _echo(group.version, 12) or "005010"],
        ),
    ]
    accepted = 0
    for tx in transactions:
        segments, ok = _set_response(tx, functional_id)
        body.extend(segments)
        accepted += ok
    group_codes = sorted(
        {f.code for f in group_findings if f.kind is FindingKind.GROUP and f.is_error},
        key=lambda c: (len(c), c),
    )[:5]
    received = len(transactions)
    stated = str(received)
    if included and included.isascii() and included.isdigit() and int(included) <= _MAX_AK902:
        stated = str(int(included))
    if accepted == received and not group_codes:
        status = "A"
    elif accepted and not group_codes:
        status = "P"
    else:
        status = "R"
    body.append(Segment("AK9", [status, stated, str(received), str(accepted), *group_codes]))
    body.append(Segment("SE", [str(len(body) + 1), control_number]))
    return body


def _isa(inbound: InterchangeHeader, control_number: int, now: datetime) -> Segment:
    return Segment(
        "ISA",
        [
            "00",
            " " * 10,
            "00",
            " " * 10,
            inbound.receiver_qualifier or "ZZ",
            inbound.receiver_id[:15].ljust(15),
            inbound.sender_qualifier or "ZZ",
            inbound.sender_id[:15].ljust(15),
            now.strftime("%y%m%d"),
            now.strftime("%H%M"),
            ACK_DELIMITERS.repetition,
            "00501",
            f"{control_number % 1_000_000_000:09d}",
            "0",
            inbound.usage if inbound.usage in ("P", "T") else "P",
            ACK_DELIMITERS.component,
        ],
    )


@dataclass(slots=True)
class _Answer:
    """What answers one inbound interchange: its TA1 findings and its groups, in order."""

    header: InterchangeHeader
    findings: list[Finding]
    # (group, its sets, its AK9 findings, its GE01 as written)
    groups: list[tuple[GroupHeader, list[TransactionSet], list[Finding], str | None]] = field(
        default_factory=list
    )


def _answers(result: ReadResult) -> list[_Answer]:
    """The findings and groups of each inbound interchange, matched by place.

    A ``ReadResult`` from ``read`` lists them per interchange and per group; one assembled by
    hand may not, and then they are matched by control number as a last resort.
    """
    interchanges = result.interchanges
    by_place = len(result.interchange_findings) == len(interchanges)
    answers = [
        _Answer(
            header,
            list(result.interchange_findings[k])
            if by_place
            else [f for f in result.findings if f.interchange == header.control_number],
        )
        for k, header in enumerate(interchanges)
    ]
    place = {id(header): k for k, header in enumerate(interchanges)}
    groups_by_place = len(result.group_findings) == len(result.groups)
    sets: dict[int, list[TransactionSet]] = defaultdict(list)
    for tx in result.transactions:
        if tx.group is not None:
            sets[id(tx.group)].append(tx)
    for index, group in enumerate(result.groups):
        txs = sets.get(id(group), [])
        holder = result.group_interchanges[index] if index < len(result.group_interchanges) else None
        if holder is None and txs:
            holder = txs[0].interchange
        k = place.get(id(holder), 0) if holder is not None else 0
        if groups_by_place:
            group_findings = [f for f in result.group_findings[index] if f.kind is FindingKind.GROUP]
        else:
            group_findings = [
                f
                for f in result.findings
                if f.kind is FindingKind.GROUP
                and f.group == group.control_number
                and (holder is None or f.interchange == holder.control_number)
            ]
        included = result.group_counts[index] if index < len(result.group_counts) else None
        answers[k].groups.append((group, txs, group_findings, included))
    return answers


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Acknowledgement interchanges as X12 text and as typed models.

    Each interchange (one per inbound interchange answered; ``interchange`` is the first)
    holds its TA1 (``acknowledgments``) and FA groups whose transactions are the 999s, so
    accept/reject per group (AK9) and per set (IK5) can be read without parsing ``text`` again.
    """

    text: str
    interchange: Interchange
    interchanges: tuple[Interchange, ...] = ()  # every interchange of ``text`` (``interchange`` first)

    def _all(self) -> tuple[Interchange, ...]:
        return self.interchanges or (self.interchange,)

    @property
    def ta1s(self) -> list[InterchangeAck]:
        return [ta1 for interchange in self._all() for ta1 in interchange.acknowledgments]

    @property
    def acks(self) -> list[ImplementationAck999]:
        """The 999s, one per acknowledged functional group, in inbound order."""
        from rcm.x12.models.ack_999 import ImplementationAck999

        return [
            tx
            for interchange in self._all()
            for g in interchange.groups
            for tx in g.transactions
            if isinstance(tx, ImplementationAck999)
        ]

    @property
    def accepted(self) -> bool:
        """True when no TA1 rejects an interchange and every group and set was accepted (AK9/IK5 A)."""
        return all(t.status != "R" for t in self.ta1s) and all(
            ack.trailer.status == "A" and all(s.trailer.status == "A" for s in ack.sets) for ack in self.acks
        )


def acknowledgement(
    source: Source | ReadResult, *, control_number: int = 1, now: datetime | None = None
) -> Acknowledgement:
    """The acknowledgement (TA1 and/or 999s) for an inbound input, as text and typed models.

    Raises ``X12Error`` when the input holds no interchange to acknowledge.
    """
    from rcm.x12.convert import read_interchanges

    text = acknowledge(source, control_number=control_number, now=now)
    interchanges = tuple(interchange for interchange, _ in read_interchanges(text))
    return Acknowledgement(text, interchanges[0], interchanges)


def acknowledge(source: Source | ReadResult, *, control_number: int = 1, now: datetime | None = None) -> str:
    """The acknowledgement interchanges (TA1 and/or 999s) for an inbound input, as X12 text.

    One interchange answers each inbound interchange that needs an answer, addressed back to its
    sender: its TA1 (interchange errors, or ISA14 1), then its groups' 999s in FA groups, a new
    one whenever the inbound GS02/GS03 pair changes. A group of acknowledgements (GS01 FA: 999s,
    997s) gets no 999: acknowledgements are not acknowledged. ISA13 and GS06 are numbered from
    ``control_number`` on, one per interchange and per group written. An input needing no
    answer still gets one empty interchange, to its first sender.

    Raises ``X12Error`` when the input holds no interchange to acknowledge. ``acknowledgement``
    returns the same with its typed models.
    """
    result = source if isinstance(source, ReadResult) else read(source)
    if not result.interchanges:
        raise X12Error("nothing to acknowledge: the input has no readable ISA segment")
    when = now or datetime.now()
    out: list[Segment] = []
    isa_number = gs_number = control_number
    st_number = 0
    for answer in _answers(result):
        findings = answer.findings
        # acknowledgements (999/997 in FA groups) are never acknowledged: no 999 answers them
        inbound = [g for g in answer.groups if not _acknowledges(g[0], g[1])]
        answered = [g for g in inbound if answerable(g[0])]
        if len(answered) < len(inbound) and not any(
            f.code == InterchangeNote.INVALID_CONTENT and f.is_error for f in findings
        ):
            findings = [*findings, _UNANSWERED_GROUP]
        body: list[Segment] = []
        has_errors = any(f.kind is FindingKind.INTERCHANGE and f.is_error for f in findings)
        if has_errors or answer.header.ack_requested == "1":
            ta1 = build_ta1(answer.header, findings)
            body.append(ta1)
            if ta1.get(4) == "R":
                answered = []
        groups = 0
        for (receiver, sender), run in groupby(answered, key=lambda g: (g[0].receiver, g[0].sender)):
            sets: list[Segment] = []
            for group, txs, group_findings, included in run:
                st_number += 1
                sets.extend(
                    build_999(
                        group, txs, group_findings, control_number=f"{st_number:04d}", included=included
                    )
                )
            gs_control = str(gs_number % 1_000_000_000)
            body.append(
                Segment(
                    "GS",
                    [
                        "FA",
                        _echo(receiver, 15) if len(_echo(receiver, 15)) >= 2 else "RECEIVER",
                        _echo(sender, 15) if len(_echo(sender, 15)) >= 2 else "SENDER",
                        when.strftime("%Y%m%d"),
                        when.strftime("%H%M"),
                        gs_control,
                        "X",
                        "005010X231A1",
                    ],
                )
            )
            body.extend(sets)
            body.append(Segment("GE", [str(sum(s.id == "ST" for s in sets)), gs_control]))
            gs_number += 1
            groups += 1
        if not body:
            continue
        out.append(_isa(answer.header, isa_number, when))
        out.extend(body)
        out.append(Segment("IEA", [str(groups), f"{isa_number % 1_000_000_000:09d}"]))
        isa_number += 1
    if not out:
        out = [
            _isa(result.interchanges[0], control_number, when),
            Segment("IEA", ["0", f"{control_number % 1_000_000_000:09d}"]),
        ]
    return "".join(_write(s) for s in out)


def _write(seg: Segment) -> str:
    if seg.id == "ISA":
        return ACK_DELIMITERS.element.join(["ISA", *seg.elements]) + ACK_DELIMITERS.segment + "\n"
    return seg.to_x12(ACK_DELIMITERS) + "\n"
