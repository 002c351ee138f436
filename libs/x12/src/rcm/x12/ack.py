"""Acknowledgements: a 999 (005010X231A1) per inbound functional group and a TA1 for envelope errors.

``acknowledge`` takes what ``read`` returned and writes one interchange: a TA1
for every inbound interchange with interchange-level errors (or that asked for
one in ISA14), then one FA functional group with a 999 transaction set per
inbound group that was not rejected at the interchange level. The codes come
straight from the findings (see ``rcm.x12.findings``). ``acknowledgement`` returns
the same interchange with its typed models (``Acknowledgement``).

As 005010X231A1 describes: each IK4 gives the element's position (IK401, with the
component and repetition when the error is in one) and its data element
reference number (IK402); an element required or excluded by another element's
presence (an X12 syntax note) is followed by a ``CTX*SITUATIONAL TRIGGER`` naming
that element; and an error inside a business unit (an 837 claim, a 276/277 claim
status, a 270 subscriber...) carries a ``CTX`` naming the unit, e.g.
``CTX*CLM01:<patient control number>``, after its IK3.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rcm.x12.envelope import GroupHeader, InterchangeHeader
from rcm.x12.errors import X12Error
from rcm.x12.findings import Finding, FindingKind, InterchangeNote, SegmentError, SetError
from rcm.x12.reader import ReadResult, TransactionSet, read
from rcm.x12.schema import guide_for
from rcm.x12.schema.elements import element_ref
from rcm.x12.segments import Delimiters, Loop, Segment
from rcm.x12.tokenizer import Source

if TYPE_CHECKING:
    from rcm.x12.models.ack_999 import ImplementationAck999
    from rcm.x12.models.envelope import InterchangeAck
    from rcm.x12.models.interchange import Interchange

__all__ = ["Acknowledgement", "acknowledge", "acknowledgement", "build_999", "build_ta1"]

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


def _business_units(tx: TransactionSet) -> list[tuple[int, int, str]]:
    """(first, last set position, CTX01 value) of every business unit of a set (837 claims: CLM01...)."""
    guide = guide_for(tx.id, tx.version)
    if guide is None or not guide.business_units:
        return []
    start = tx.header.position - 1
    forbidden = set(ACK_DELIMITERS.element + ACK_DELIMITERS.component + ACK_DELIMITERS.repetition)
    forbidden.add(ACK_DELIMITERS.segment)
    units: list[tuple[int, int, str]] = []

    def walk(loop: Loop) -> None:
        unit = guide.business_unit(loop.id)
        if unit is not None:
            name, segment_id, element = unit
            seg = loop.first(segment_id)
            value = seg.get(element) if seg is not None else ""
            positions = [s.position for s in loop.walk()]
            if value and len(value) <= 35 and not set(value) & forbidden and positions:
                units.append(
                    (
                        min(positions) - start,
                        max(positions) - start,
                        f"{name}{ACK_DELIMITERS.component}{value}",
                    )
                )
        for child in loop.loops:
            walk(child)

    walk(tx.root)
    return units


def _unit_at(units: list[tuple[int, int, str]], position: int) -> str:
    """The innermost business unit holding a set position, or ''."""
    best = ""
    best_span = -1
    for first, last, context in units:
        if first <= position <= last and (best_span < 0 or last - first < best_span):
            best, best_span = context, last - first
    return best


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
    """The 2100 loops (IK3, business unit CTX, 2110 IK4 and CTX) for the segment and element findings of a set."""
    by_segment: dict[tuple[int, str], list[Finding]] = defaultdict(list)
    for f in tx.findings:
        if f.is_error and f.kind in (FindingKind.SEGMENT, FindingKind.ELEMENT):
            by_segment[(max(f.set_position, 1), f.segment_id or "ST")].append(f)
    units = _business_units(tx) if by_segment else []
    out: list[Segment] = []
    for (position, segment_id), found in sorted(by_segment.items()):
        seg_id = segment_id if segment_id.isalnum() and 2 <= len(segment_id) <= 3 else "ZZZ"
        unit = _unit_at(units, position)
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


def _set_response(tx: TransactionSet) -> tuple[list[Segment], bool]:
    """AK2 ... IK5 for one set, and whether it was accepted."""
    errors = tx.errors
    set_codes = {f.code for f in errors if f.kind is FindingKind.TRANSACTION}
    if any(f.kind in (FindingKind.SEGMENT, FindingKind.ELEMENT) for f in errors):
        set_codes.add(SetError.SEGMENTS_IN_ERROR)
    ak2 = [tx.id or "ZZZ", tx.control_number or "0000"]
    if tx.version:
        ak2.append(tx.version[:35])
    segments = [Segment("AK2", ak2), *_segment_loops(tx)]
    accepted = not errors
    codes = sorted(set_codes, key=lambda c: (len(c), c))[:5]
    segments.append(Segment("IK5", ["A" if accepted else "R", *codes]))
    return segments, accepted


def build_999(
    group: GroupHeader,
    transactions: list[TransactionSet],
    group_findings: list[Finding],
    *,
    control_number: str = "0001",
    included: str | None = None,
) -> list[Segment]:
    """The segments (ST to SE) of the 999 answering one functional group.

    ``included`` is the group's GE01 as written: AK902 repeats it (AK903 counts the sets
    received), so a count the sender got wrong shows; without a readable GE01 AK902 is the
    count received.
    """
    body: list[Segment] = [
        Segment("ST", ["999", control_number, "005010X231A1"]),
        Segment(
            "AK1", [group.functional_id or "HC", group.control_number or "0", group.version[:12] or "005010"]
        ),
    ]
    accepted = 0
    for tx in transactions:
        segments, ok = _set_response(tx)
        body.extend(segments)
        accepted += ok
    group_codes = sorted(
        {f.code for f in group_findings if f.kind is FindingKind.GROUP and f.is_error},
        key=lambda c: (len(c), c),
    )[:5]
    received = len(transactions)
    stated = str(received)
    if included and included.isascii() and included.isdigit() and len(included) <= 9:
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
            f"{control_number:09d}",
            "0",
            inbound.usage if inbound.usage in ("P", "T") else "P",
            ACK_DELIMITERS.component,
        ],
    )


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An acknowledgement interchange as X12 text and as typed models.

    ``interchange`` holds the TA1s (``acknowledgments``) and one FA group whose
    transactions are the 999s, so accept/reject per group (AK9) and per set (IK5)
    can be read without parsing ``text`` again.
    """

    text: str
    interchange: Interchange

    @property
    def ta1s(self) -> list[InterchangeAck]:
        return list(self.interchange.acknowledgments)

    @property
    def acks(self) -> list[ImplementationAck999]:
        """The 999s, one per acknowledged functional group, in inbound order."""
        from rcm.x12.models.ack_999 import ImplementationAck999

        return [
            tx
            for g in self.interchange.groups
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
    from rcm.x12.convert import read_interchange

    text = acknowledge(source, control_number=control_number, now=now)
    interchange, _ = read_interchange(text)
    return Acknowledgement(text, interchange)


def acknowledge(source: Source | ReadResult, *, control_number: int = 1, now: datetime | None = None) -> str:
    """The acknowledgement interchange (TA1 and/or 999s) for an inbound input, as X12 text.

    Raises ``X12Error`` when the input holds no interchange to acknowledge. ``acknowledgement``
    returns the same with its typed models.
    """
    result = source if isinstance(source, ReadResult) else read(source)
    if not result.interchanges:
        raise X12Error("nothing to acknowledge: the input has no readable ISA segment")
    when = now or datetime.now()
    inbound = result.interchanges[0]
    segments: list[Segment] = [_isa(inbound, control_number, when)]
    rejected: set[str] = set()
    for interchange in result.interchanges:
        findings = [f for f in result.findings if f.interchange == interchange.control_number]
        has_errors = any(f.kind is FindingKind.INTERCHANGE and f.is_error for f in findings)
        if has_errors or interchange.ack_requested == "1":
            ta1 = build_ta1(interchange, findings)
            segments.append(ta1)
            if ta1.get(4) == "R":
                rejected.add(interchange.control_number)
    sets: list[Segment] = []
    count = 0
    for index, group in enumerate(result.groups):
        # group control numbers repeat across interchanges (GS06 1 in each): a group's findings
        # are those of its own interchange
        holder = result.group_interchanges[index] if index < len(result.group_interchanges) else None
        txs = [tx for tx in result.transactions if tx.group is group]
        if holder is None and txs:
            holder = txs[0].interchange
        if holder is not None and holder.control_number in rejected:
            continue
        count += 1
        group_findings = [
            f
            for f in result.findings
            if f.kind is FindingKind.GROUP
            and f.group == group.control_number
            and (holder is None or f.interchange == holder.control_number)
        ]
        included = result.group_counts[index] if index < len(result.group_counts) else None
        sets.extend(build_999(group, txs, group_findings, control_number=f"{count:04d}", included=included))
    if sets:
        gs_control = str(control_number)
        segments.append(
            Segment(
                "GS",
                [
                    "FA",
                    result.groups[0].receiver or "RECEIVER",
                    result.groups[0].sender or "SENDER",
                    when.strftime("%Y%m%d"),
                    when.strftime("%H%M"),
                    gs_control,
                    "X",
                    "005010X231A1",
                ],
            )
        )
        segments.extend(sets)
        segments.append(Segment("GE", [str(count), gs_control]))
    segments.append(Segment("IEA", ["1" if sets else "0", f"{control_number:09d}"]))
    return "".join(_write(s) for s in segments)


def _write(seg: Segment) -> str:
    if seg.id == "ISA":
        return ACK_DELIMITERS.element.join(["ISA", *seg.elements]) + ACK_DELIMITERS.segment + "\n"
    return seg.to_x12(ACK_DELIMITERS) + "\n"
