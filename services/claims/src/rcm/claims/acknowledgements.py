"""999 and 277CA: reading them (pure) and applying them to claims.

A 999 accepts or rejects a whole transaction set: every claim of a rejected set is
rejected with the IK3/IK4/IK5 errors. An AK9 that rejects the functional group (R, M, W, X)
rejects every set of it, whatever their IK5s say (a set response set aside as unreadable too),
and when it names no set (no AK2 loop) the whole group is rejected. A 277CA STC accepts or
rejects each claim (and line); categories A3, A6, A7 and A8 reject. A claim-level STC that only
acknowledges receipt (A0 forwarded to another entity, A1 received; 005010X214 and the Claim Status
Category Code list) is no acceptance: the claim stays submitted, the receipt (and any REF*1K number)
goes on its trail, and it waits for the payer's verdict (a later 277CA A2 or rejection, a 277, the
835); only A2 (accepted into adjudication), A5 (split) and the like accept it. A 277CA may also reject
above the claims: the
whole batch (information source or receiver level) or one billing provider in it (NPI in
2100C), often without a claim-level loop for the claims it takes down; those claims are
found through the batch's BHT03, which the 277CA returns in 2200B TRN02. A rejected claim
goes back to held with the reasons. 835 files are the remittance service's: they are left
alone here.

Files are read leniently (``read_acknowledgment_file``): a value that cannot be read (a date
20250231, a too-long element, a bad code) sets aside only what it belongs to, a 999 set response,
a 277CA claim (its 2200D, or every claim of its patient level), a TA1; the rest of the file is
applied, and each part set aside is an ``UnreadPart``, recorded with the file (``rcm claims
acks``), counted and logged by its control numbers and position only. Still unreadable as a
whole (``<kind>_unreadable``): a broken envelope (ISA, GS, ST), a group of another version than
005010, a set's own required parts (AK1, AK9, BHT) and a 999 set response whose AK2 names no set.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rcm.claims.domain import ClaimState, FrequencyCode
from rcm.claims.lifecycle import hold_rejected, move, move_all
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.reads import BatchReads, moved_on, remember_session_states, session_state
from rcm.claims.store import batch, batch_claim, claim, claim_audit, record_file, unread_acknowledgment
from rcm.clearinghouse import ReceivedFile
from rcm.events.models import (
    AckReason,
    AckSource,
    AckStatus,
    ClaimAcknowledged,
    HoldReason,
    HoldReasonCode,
    LineAcknowledgment,
)
from rcm.servicekit import Service, Transaction, among
from rcm.x12 import decode
from rcm.x12.convert import read_interchanges_leniently
from rcm.x12.errors import X12Error
from rcm.x12.findings import INTERCHANGE_NOTE_TEXT
from rcm.x12.models.ack_999 import ImplementationAck999
from rcm.x12.models.base import Unread
from rcm.x12.models.claim_status import ClaimAcknowledgment277CA, ClaimStatusTracking, StatusLevel
from rcm.x12.models.envelope import InterchangeAck
from rcm.x12.models.interchange import Interchange
from rcm.x12.reader import read
from rcm.x12.segments import Delimiters, Loop

__all__ = [
    "DATA_REJECTED_CATEGORIES",
    "GROUP_CLAIMS",
    "RECEIPT_CATEGORIES",
    "REJECTING_CATEGORIES",
    "SET_CLAIMS",
    "UNREADABLE",
    "AckFile",
    "Acknowledgements",
    "ClaimVerdict",
    "LevelRejection",
    "Read277CA",
    "SetVerdict",
    "UnreadPart",
    "read_277ca",
    "read_277ca_file",
    "read_999",
    "read_acknowledgment_file",
    "read_ta1",
]

log = logging.getLogger(__name__)

UNREADABLE = "_unreadable"
"""Suffix of the kind an unreadable acknowledgment file is recorded under (``999_unreadable``)."""
DATA_REJECTED_CATEGORIES = frozenset({"A3", "A6", "A7", "A8"})
"""STC categories by which the payer rejects the claim's data: returned as unprocessable (A3),
rejected for missing, invalid or relational data (A6, A7, A8). A 276/277 status answer reads these
as the claim's rejection (its E categories speak of the inquiry, not the claim)."""
REJECTING_CATEGORIES = DATA_REJECTED_CATEGORIES | frozenset({"A4", "D0", "E0", "E1", "E2", "E3", "E4"})
"""277CA STC categories that say a claim or line is not in adjudication: returned as unprocessable
(A3), not found (A4), rejected for missing, invalid or relational data (A6, A7, A8), data search
unsuccessful (D0), or no response possible: the request's data in error, the payer's system down,
the information holder not responding, a correction or a trading-partner requirement (E0 to E4).
The claim must be sent again, so it goes back to held with the reasons. Accepted (A2, A5 split) and
the rest (pended, finalized...) leave it in adjudication; received only (A0, A1) leaves it submitted
(``RECEIPT_CATEGORIES``)."""
RECEIPT_CATEGORIES = frozenset({"A0", "A1"})
"""277CA STC categories that acknowledge a claim's receipt only: forwarded to another entity (A0)
or received (A1), not yet accepted into the adjudication system (A2). At claim level, alone, they
leave the claim submitted: the payer's verdict is still to come."""
_CLAIM_LEVELS = frozenset({"PT", "22", "23"})
_SOURCE, _RECEIVER, _PROVIDER = "20", "21", "19"


def _sent_claims(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The claims of the 837 batches ``where`` selects, in their current attempt, locked."""
    return (
        sa.select(claim)
        .join(batch_claim, batch_claim.c.claim_id == claim.c.claim_id)
        .join(batch, batch.c.batch_id == batch_claim.c.batch_id)
        .where(*where, batch_claim.c.attempt == claim.c.attempts)
        .with_for_update(of=claim)
    )


SET_CLAIMS = _sent_claims(
    batch.c.group_control_number == sa.bindparam("group"),
    batch_claim.c.transaction_set_control_number == sa.bindparam("set"),
)
"""The claims of one transaction set a 999 answers (by GS06 and ST02), in their current attempt, locked."""

GROUP_CLAIMS = _sent_claims(batch.c.group_control_number == sa.bindparam("group"))
"""The claims of every transaction set of one functional group (by GS06) a 999 rejects as a whole."""

_GROUP_REJECTED = frozenset({"R", "M", "W", "X"})
"""AK901 codes rejecting the functional group, and so every transaction set in it."""

INTERCHANGE_CLAIMS = _sent_claims(batch.c.interchange_control_number == sa.bindparam("interchange"))
"""The claims of one 837 interchange (by its ISA13) a TA1 rejects, in their current attempt, locked."""

BATCH_CLAIMS = (
    sa.select(
        claim.c.claim_id,
        claim.c.draft["billing"]["npi"].astext.label("billing_npi"),
        claim.c.draft["billing"]["tin"].astext.label("billing_tin"),
    )
    .join(batch_claim, batch_claim.c.claim_id == claim.c.claim_id)
    .where(batch_claim.c.batch_id == sa.bindparam("batch"), batch_claim.c.attempt == claim.c.attempts)
    .order_by(claim.c.claim_id)
)
"""The claims of one 837 batch (by its BHT03, our batch id) in their current attempt, with their billing
NPI and TIN."""


@dataclass(frozen=True, slots=True)
class SetVerdict:
    """A 999's verdict on one of our transaction sets (every set of the group when
    ``set_control_number`` is empty: an AK9 rejecting the group without naming its sets)."""

    group_control_number: str
    set_control_number: str
    status: AckStatus
    reasons: tuple[AckReason, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """A 277CA's verdict on one claim (CLM01 in TRN02), with its lines."""

    claim_id: str
    status: AckStatus
    reasons: tuple[AckReason, ...] = ()
    payer_claim_number: str | None = None
    lines: tuple[LineAcknowledgment, ...] = field(default=())
    adjudicated_number: str | None = None
    """The payer claim number of a part the payer took into adjudication (accepted, in a claim it
    split or not): the number the claim keeps. A rejected submission's number names nothing a
    later replacement or void could quote (REF*F8)."""
    batch_reference: str | None = None
    """The 837 batch the verdict answers (its BHT03, which the 277CA returns in 2200B TRN02), when
    the file says: a verdict on an earlier attempt of the claim is not applied to a later one."""
    received_only: bool = False
    """The claim's own statuses only acknowledge its receipt (``RECEIPT_CATEGORIES``), and nothing
    of it is rejected: not yet in adjudication, the claim stays submitted (``status`` is accepted
    for want of a better word in the event contract, and no claim-acknowledged is published)."""


@dataclass(frozen=True, slots=True)
class InterchangeVerdict:
    """A TA1 answering one of our interchanges: ISA13 (nine digits), A/E/R and the TA105 note."""

    interchange_control_number: str
    status: str
    note: str

    @property
    def rejected(self) -> bool:
        return self.status == "R"

    @property
    def reason(self) -> AckReason:
        text = INTERCHANGE_NOTE_TEXT.get(self.note, "interchange note")
        return AckReason(code=f"TA1:{self.note}", description=f"interchange rejected: {text}")


@dataclass(frozen=True, slots=True)
class UnreadPart:
    """A part of an acknowledgment file set aside because a value in it cannot be read: applied to
    no claim, the rest of the file is. ``what`` is ``set`` (a 999 set response; ``reference`` is
    GS06/ST02 of our set), ``claim`` (a 277CA claim; its CLM01, empty when its TRN02 cannot be
    read either), ``level`` (a 277CA level above the claims; its loop id: a rejection there may
    be missed, the claims beneath keep their own verdicts) or ``TA1`` (the ISA13 it answers).
    ``position`` is the segment's place in its interchange. Ids and positions only: the reader's
    message may quote PHI and is not kept."""

    what: str
    reference: str
    position: int

    def describe(self) -> str:
        return f"{self.what} {self.reference or '(unnamed)'} at segment {self.position}"


@dataclass(frozen=True, slots=True)
class AckFile:
    """An acknowledgment file read leniently: its interchanges and the parts set aside."""

    interchanges: list[Interchange]
    unread: list[UnreadPart] = field(default_factory=list)


_ACK_SETS = (ImplementationAck999, ClaimAcknowledgment277CA)
_SET_RESPONSE = "2000"
_CLAIM_LOOPS = frozenset({"2200D", "2200E"})
_PATIENT_LOOPS = frozenset({"2000D", "2000E"})


def read_acknowledgment_file(content: bytes | str) -> AckFile:
    """The file's interchanges, read leniently, with what was set aside (see the module's
    docstring); X12Error when the file cannot be read as a whole."""
    text = decode(content) if isinstance(content, bytes) else content
    found, unread = read_interchanges_leniently(text)
    interchanges = [interchange for interchange, _ in found]
    for interchange in interchanges:
        for group in interchange.groups:
            version = group.header.version
            if any(isinstance(t, _ACK_SETS) for t in group.transactions) and not version.startswith("005010"):
                # a 4010 acknowledgment is not read with the 5010 rules
                raise X12Error(f"acknowledgment group version {version[:12] or 'missing'} is not 005010")
    return AckFile(interchanges, _placed(text, interchanges, unread) if unread else [])


def _placed(text: str, interchanges: list[Interchange], unread: list[Unread]) -> list[UnreadPart]:
    """What each unread segment or loop belongs to, from the file's loops as the reader shaped them."""
    result = read(text)
    models = [t for i in interchanges for g in i.groups for t in g.transactions]
    parts: list[UnreadPart] = []
    if any(u.segment == "TA1" for u in unread):
        for segment, delimiters in result.headers:
            if segment.id != "TA1":
                continue
            try:
                InterchangeAck.from_segment(segment, delimiters or Delimiters())
            except X12Error:
                parts.append(UnreadPart("TA1", segment.get(1)[:9], segment.position))
    for u in unread:
        if u.segment == "TA1" or not 0 <= u.transaction < len(models):
            continue
        model, root = models[u.transaction], result.transactions[u.transaction].root
        if isinstance(model, ImplementationAck999):
            found = _holding(root, u.position, frozenset({_SET_RESPONSE}))
            ak2 = found.first("AK2") if found is not None else None
            if ak2 is None or not ak2.get(2):
                raise X12Error(
                    f"999 segment {u.position}: a set response that names no set cannot be set aside"
                )
            part = UnreadPart("set", f"{model.group.control_number}/{ak2.get(2)}", ak2.position)
            parts += [part] if part not in parts else []
        elif isinstance(model, ClaimAcknowledgment277CA):
            parts += (p for p in _unread_claims(root, u.position) if p not in parts)
    return parts


def _holding(loop: Loop, position: int, ids: frozenset[str]) -> Loop | None:
    """The innermost loop with one of ``ids`` holding the segment at ``position``."""
    for child in loop.loops:
        if any(s.position == position for s in child.walk()):
            return _holding(child, position, ids) or (child if child.id in ids else None)
    return None


def _claim_part(loop: Loop) -> UnreadPart:
    trn = loop.first("TRN")
    first = loop.segments[0].position if loop.segments else 0
    return UnreadPart("claim", trn.get(2)[:50] if trn is not None else "", first)


def _unread_claims(root: Loop, position: int) -> list[UnreadPart]:
    """The 277CA claims an unread segment at ``position`` belongs to: its 2200D, else every claim of
    its patient level; above the claims, the level itself."""
    tracking = _holding(root, position, _CLAIM_LOOPS)
    if tracking is not None:
        return [_claim_part(tracking)]
    patient = _holding(root, position, _PATIENT_LOOPS)
    if patient is not None:
        return [_claim_part(loop) for loop in _descendants(patient) if loop.id in _CLAIM_LOOPS]
    level = _holding(root, position, frozenset({"2000A", "2000B", "2000C"}))
    return [UnreadPart("level", level.id if level is not None else "header", position)]


def _descendants(loop: Loop) -> list[Loop]:
    found = []
    for child in loop.loops:
        found += [child, *_descendants(child)]
    return found


def _ack_file(content: bytes | str | list[Interchange] | AckFile) -> AckFile:
    if isinstance(content, AckFile):
        return content
    return AckFile(content) if isinstance(content, list) else read_acknowledgment_file(content)


def read_ta1(content: bytes | str | list[Interchange] | AckFile) -> list[InterchangeVerdict]:
    """Every TA1 of the file (alone in an interchange or ahead of a 999's group) that can be read;
    ``content`` may be the file already read."""
    interchanges = _ack_file(content).interchanges
    return [
        InterchangeVerdict(f"{ack.control_number:09d}", ack.status, ack.note_code)
        for interchange in interchanges
        for ack in interchange.acknowledgments
    ]


def read_999(content: bytes | str | list[Interchange] | AckFile) -> list[SetVerdict]:
    """Every AK2 set response of every 999 in the file, but those set aside as unreadable; a set
    of a group the AK9 rejects is rejected (with the AK9 codes), a set aside too, and such a group
    with no AK2 loop is one verdict, for all its sets (``set_control_number`` empty). ``content``
    may be the file already read."""
    verdicts = []
    file = _ack_file(content)
    aside = {p.reference for p in file.unread if p.what == "set"}
    for interchange in file.interchanges:
        for group in interchange.groups:
            for tx in group.transactions:
                if not isinstance(tx, ImplementationAck999):
                    continue
                group_rejected = tx.trailer.status in _GROUP_REJECTED
                group_reasons = [
                    AckReason(code=f"AK9:{c}", description=f"functional group error {c}")
                    for c in tx.trailer.error_codes
                    if c
                ]
                if group_rejected and not tx.sets:
                    verdicts.append(
                        SetVerdict(tx.group.control_number, "", AckStatus.REJECTED, tuple(group_reasons))
                    )
                for response in tx.sets:
                    if f"{tx.group.control_number}/{response.header.control_number}" in aside:
                        if group_rejected:
                            # unreadable as it is, the set is rejected with its group all the same
                            verdicts.append(
                                SetVerdict(
                                    tx.group.control_number,
                                    response.header.control_number,
                                    AckStatus.REJECTED,
                                    tuple(group_reasons),
                                )
                            )
                        continue
                    reasons: list[AckReason] = []
                    for seg in response.segment_errors:
                        note = seg.note
                        reasons.append(
                            AckReason(
                                code=f"IK3:{note.error_code}",
                                description=f"segment {note.segment} at position {note.position}: error {note.error_code}",
                            )
                        )
                        for element in seg.elements:
                            en = element.note
                            where = ":".join(en.position)
                            reasons.append(
                                AckReason(
                                    code=f"IK4:{en.error_code}",
                                    description=f"{note.segment} element {where}: error {en.error_code}",
                                )
                            )
                    reasons += [
                        AckReason(code=f"IK5:{c}", description=f"transaction set error {c}")
                        for c in response.trailer.error_codes
                    ]
                    status = {"A": AckStatus.ACCEPTED, "E": AckStatus.ACCEPTED_WITH_ERRORS}.get(
                        response.trailer.status, AckStatus.REJECTED
                    )
                    if group_rejected:
                        # the group is rejected as a whole: a set accepted on its own goes with it
                        status = AckStatus.REJECTED
                        reasons += group_reasons
                    verdicts.append(
                        SetVerdict(
                            group_control_number=tx.group.control_number,
                            set_control_number=response.header.control_number,
                            status=status,
                            reasons=tuple(reasons),
                        )
                    )
    return verdicts


def _status_reasons(statuses: list[Any]) -> tuple[bool, list[AckReason]]:
    rejected = False
    reasons = []
    for stc in statuses:
        for code in stc.statuses:
            text = ":".join(p for p in (code.category, code.code, code.entity) if p)
            rejected |= code.category in REJECTING_CATEGORIES
            reasons.append(AckReason(code=text[:30], description=stc.free_text))
    return rejected, reasons


def _claim_verdict(tracking: ClaimStatusTracking) -> ClaimVerdict | None:
    if tracking.trace is None or tracking.trace.trace_type != "2":
        return None
    rejected, reasons = _status_reasons(tracking.statuses)
    lines = []
    for service in tracking.services:
        key = next((r.value for r in service.references if r.qualifier == "FJ" and r.value), None)
        if key is None:
            continue
        line_rejected, line_reasons = _status_reasons(service.statuses)
        lines.append(
            LineAcknowledgment(
                line_key=key,
                status=AckStatus.REJECTED if line_rejected else AckStatus.ACCEPTED,
                reasons=line_reasons,
            )
        )
    if rejected:
        status = AckStatus.REJECTED
    elif any(line.status is AckStatus.REJECTED for line in lines):
        status = AckStatus.ACCEPTED_WITH_ERRORS
    else:
        status = AckStatus.ACCEPTED
    number = next((r.value for r in tracking.references if r.qualifier == "1K"), None)
    received_only = status is AckStatus.ACCEPTED and _receipt_only(tracking.statuses)
    return ClaimVerdict(
        claim_id=tracking.trace.reference,
        status=status,
        reasons=tuple(reasons),
        payer_claim_number=number,
        lines=tuple(lines),
        adjudicated_number=None if rejected or received_only else number,
        received_only=received_only,
    )


def _receipt_only(statuses: list[Any]) -> bool:
    """Whether every category of these STCs (STC01, STC10, STC11) acknowledges receipt only."""
    categories = [code.category for stc in statuses for code in stc.statuses]
    return bool(categories) and all(c in RECEIPT_CATEGORIES for c in categories)


@dataclass(frozen=True, slots=True)
class LevelRejection:
    """A 277CA's rejection above the claims: of the 837 batch whose BHT03 is ``batch_reference``
    (2200B TRN02), every claim (or, with ``billing_npi`` or else ``billing_tin``, every claim of
    that billing provider) that has no verdict of its own in the file (``named``) is rejected
    with ``reasons``. The 277CA names a billing provider by NPI (2100C NM108 XX) or by tax id
    (FI); a TIN is digits only."""

    batch_reference: str | None
    billing_npi: str | None
    reasons: tuple[AckReason, ...]
    named: frozenset[str] = frozenset()
    billing_tin: str | None = None


@dataclass(frozen=True, slots=True)
class Read277CA:
    """What a 277CA file says: its claim-level verdicts and its rejections above the claims."""

    verdicts: list[ClaimVerdict]
    rejections: list[LevelRejection]
    unread: list[UnreadPart] = field(default_factory=list)
    """Claims (and levels) set aside: no verdict of theirs is in ``verdicts``, and no rejection
    above them takes them down (their own verdict, unknown, would be the more specific)."""


def _level_trace(level: StatusLevel, trace_type: str) -> str | None:
    return next(
        (t.trace.reference for t in level.trackings if t.trace and t.trace.trace_type == trace_type),
        None,
    )


def _billing_id(level: StatusLevel, qualifier: str) -> str | None:
    """The billing provider's 2100C NM109 when NM108 is ``qualifier`` (XX NPI, FI tax id)."""
    return next(
        (
            p.name.identifier
            for p in level.parties
            if p.name.entity_code == "85" and p.name.id_qualifier == qualifier and p.name.identifier
        ),
        None,
    )


def _digits(value: str | None) -> str | None:
    """A tax id as digits only (ours may be written 12-3456789), None when there are none."""
    digits = "".join(c for c in value or "" if c.isdigit())
    return digits or None


def read_277ca_file(content: bytes | str | AckFile) -> Read277CA:
    """Every claim-level (patient or subscriber HL) verdict of every 277CA in the file, one per
    claim (several 2200D for one claim are merged, see ``_merged``), and every rejection at the
    information source, information receiver or billing provider level, with the claims named
    beneath it (a claim's own verdict is the more specific one). A claim with a value that cannot
    be read is set aside (``unread``), never given a verdict from what was left of it."""
    verdicts: list[ClaimVerdict] = []
    rejections: list[LevelRejection] = []

    def visit(level: StatusLevel, batch_reference: str | None, above: tuple[AckReason, ...]) -> set[str]:
        code = level.hl_level_code
        if code in _CLAIM_LEVELS:
            own = [
                replace(v, batch_reference=batch_reference)
                for t in level.trackings
                if (v := _claim_verdict(t)) is not None
            ]
            verdicts.extend(own)
            named = {v.claim_id for v in own}
        else:
            named = set()
        rejected, reasons = _status_reasons([s for t in level.trackings for s in t.statuses])
        if code == _RECEIVER:
            batch_reference = _level_trace(level, "2") or batch_reference
        reasons_here = tuple(r for r in reasons if r.code[:2] in REJECTING_CATEGORIES) if rejected else ()
        # a source rejection is applied at each receiver (batch) beneath it
        carried = above + reasons_here if code == _SOURCE else above
        for child in level.levels:
            named |= visit(child, batch_reference, carried)
        if code == _RECEIVER and (above or reasons_here):
            rejections.append(LevelRejection(batch_reference, None, above + reasons_here, frozenset(named)))
        elif code == _PROVIDER and reasons_here:
            rejections.append(
                LevelRejection(
                    batch_reference,
                    _billing_id(level, "XX"),
                    reasons_here,
                    frozenset(named),
                    billing_tin=_digits(_billing_id(level, "FI")),
                )
            )
        return named

    file = _ack_file(content)
    for interchange in file.interchanges:
        for group in interchange.groups:
            for tx in group.transactions:
                if isinstance(tx, ClaimAcknowledgment277CA):
                    for source in tx.sources:
                        visit(source, None, ())
    aside = frozenset(p.reference for p in file.unread if p.what == "claim")
    return Read277CA(
        _one_verdict_per_claim([v for v in verdicts if v.claim_id not in aside]),
        [replace(r, named=r.named | aside) for r in rejections],
        [p for p in file.unread if p.what in ("claim", "level")],
    )


def _one_verdict_per_claim(verdicts: list[ClaimVerdict]) -> list[ClaimVerdict]:
    """The verdicts of the file, one per claim, where it was first named (``_merged``)."""
    parts: dict[str, list[ClaimVerdict]] = {}
    for verdict in verdicts:
        parts.setdefault(verdict.claim_id, []).append(verdict)
    return [_merged(same) if len(same) > 1 else same[0] for same in parts.values()]


def _merged(parts: list[ClaimVerdict]) -> ClaimVerdict:
    """One verdict for a claim a 277CA names in several 2200D (a claim the payer split, or reported
    twice): the file is acknowledged once per claim downstream, so a part read alone would be lost.

    Every part rejected: rejected. A rejected part beside an accepted one whose 2220D lines name
    the services it takes (REF*FJ): accepted with errors, those lines rejected with the part's
    reasons (the accepted part is in adjudication; sending the whole claim again would duplicate
    it). A rejected part that names no line: rejected, held for a person (which services it
    takes cannot be told). A line named by several parts is rejected when any rejects it. The
    reasons are every part's, in file order; the payer claim number is the first (the event holds
    one)."""
    lines: dict[str, tuple[bool, list[AckReason]]] = {}
    unplaced = False
    for part in parts:
        part_rejected = part.status is AckStatus.REJECTED
        unplaced |= part_rejected and not part.lines
        for line in part.lines:
            rejected, said = lines.get(line.line_key, (False, []))
            own = list(part.reasons) + line.reasons if part_rejected else line.reasons
            lines[line.line_key] = (
                rejected or part_rejected or line.status is AckStatus.REJECTED,
                said + [r for r in own if r not in said],
            )
    merged_lines = tuple(
        LineAcknowledgment(
            line_key=key, status=AckStatus.REJECTED if rejected else AckStatus.ACCEPTED, reasons=said
        )
        for key, (rejected, said) in lines.items()
    )
    if all(p.status is AckStatus.REJECTED for p in parts) or unplaced:
        status = AckStatus.REJECTED
    elif any(line.status is AckStatus.REJECTED for line in merged_lines):
        status = AckStatus.ACCEPTED_WITH_ERRORS
    else:
        status = AckStatus.ACCEPTED
    reasons: list[AckReason] = []
    for part in parts:
        reasons += (r for r in part.reasons if r not in reasons)
    # received, not accepted, only while no part is in adjudication or rejected
    received_only = status is AckStatus.ACCEPTED and all(p.received_only for p in parts)
    return ClaimVerdict(
        claim_id=parts[0].claim_id,
        status=status,
        reasons=tuple(reasons),
        payer_claim_number=next((p.payer_claim_number for p in parts if p.payer_claim_number), None),
        lines=merged_lines,
        adjudicated_number=next((p.adjudicated_number for p in parts if p.adjudicated_number), None),
        batch_reference=parts[0].batch_reference,
        received_only=received_only,
    )


def read_277ca(content: bytes | str) -> list[ClaimVerdict]:
    """Every claim-level (patient or subscriber HL) verdict of every 277CA in the file."""
    return read_277ca_file(content).verdicts


class AcknowledgementTooEarly(Exception):
    """An acknowledgement arrived before its upload was recorded; the poll offers the file again."""


class Acknowledgements:
    """Applies received TA1, 999 and 277CA files to claims, once per file (ledgered in the same transaction)."""

    def __init__(
        self,
        service: Service,
        metrics: ClaimsMetrics,
        *,
        after: Callable[[Transaction, Any], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.metrics = metrics
        self.after = after
        """Called with each acknowledged claim's row, in the same transaction (voided sessions)."""

    async def handle(self, received: ReceivedFile) -> None:
        if received.kind not in ("999", "277CA", "TA1"):
            return  # 835s and others belong to other services
        try:
            file = read_acknowledgment_file(received.content)
            read = read_277ca_file(file) if received.kind == "277CA" else None
            interchanges = read_ta1(file)  # a 999's interchange may carry a TA1 too
            sets = read_999(file) if received.kind == "999" else []
        except X12Error as exc:
            await self._unreadable(received, exc)
            return
        aside = file.unread
        async with self.service.transaction() as tx:
            fresh = await record_file(
                tx.conn, name=received.name, sha256=received.sha256, size=received.size, kind=received.kind
            )
            if not fresh:
                return
            if aside:
                await self._set_aside(tx, received, aside)
            now = datetime.now(UTC)
            for interchange_verdict in interchanges:
                await self._apply_ta1(tx, interchange_verdict, received.name, now)
            for verdict in sets:
                await self._apply_999(tx, verdict, received.name, now)
            if read is not None:
                verdicts = read.verdicts + await self._rejected_above(tx, read)
                reads = tx.memo_of(BatchReads)
                verdicts = await self._current_attempts(tx, verdicts)
                await self._claims(tx, reads, [v.claim_id for v in verdicts])
                rest = await self._accept_all(tx, verdicts, received.name, now, reads)
                for claim_verdict in rest:
                    await self._apply_277ca(tx, claim_verdict, received.name, now, reads)

    async def _unreadable(self, received: ReceivedFile, exc: X12Error) -> None:
        """An acknowledgment the engine cannot read is recorded as such (``<kind>_unreadable``), so
        the poll does not offer it again every time, counted and logged: it names no claim we could
        act on, and a person asks the clearinghouse for it again (``rcm claims acks``)."""
        async with self.service.transaction() as tx:
            fresh = await record_file(
                tx.conn,
                name=received.name,
                sha256=received.sha256,
                size=received.size,
                kind=f"{received.kind}{UNREADABLE}",
            )
        if fresh:
            self.metrics.acknowledged.labels(source=received.kind, result="unreadable").inc()
            # the engine's message may quote the file's values: only its type goes to the log
            log.warning(
                "%s %s is unreadable (%s); recorded, not applied",
                received.kind,
                received.name,
                type(exc).__name__,
            )

    async def _set_aside(self, tx: Transaction, received: ReceivedFile, parts: list[UnreadPart]) -> None:
        """Parts of the file that cannot be read are recorded with it (``rcm claims acks`` lists them
        beside the unreadable files), counted and logged by control numbers and positions only (a
        claim by its position: the log is no place for what identifies a patient's claim)."""
        await tx.conn.execute(
            sa.insert(unread_acknowledgment),
            [
                {
                    "sha256": received.sha256,
                    "name": received.name,
                    "kind": received.kind,
                    "part": p.what,
                    "reference": p.reference,
                    "position": p.position,
                }
                for p in parts
            ],
        )
        self.metrics.acknowledged.labels(source=received.kind, result="part_unreadable").inc(len(parts))
        log.warning(
            "%s %s: %d part(s) unreadable, set aside, the rest applied: %s",
            received.kind,
            received.name,
            len(parts),
            ", ".join(
                f"{p.what} at segment {p.position}" if p.what == "claim" else p.describe() for p in parts
            ),
        )

    async def _rejected_above(self, tx: Transaction, read: Read277CA) -> list[ClaimVerdict]:
        """A rejection verdict for each claim a batch- or provider-level rejection takes down: the
        claims of that batch in their current attempt (and of that billing provider, by NPI or else
        TIN), not named by a verdict of their own anywhere in the file."""
        own = {v.claim_id for v in read.verdicts}
        found: list[ClaimVerdict] = []
        for rejection in read.rejections:
            if not rejection.batch_reference:
                log.warning("277CA rejects above the claims without naming the batch (2200B TRN02)")
                continue
            rows = (await tx.conn.execute(BATCH_CLAIMS, {"batch": rejection.batch_reference})).all()
            if not rows:
                log.warning("277CA rejects a batch we did not send")
            for row in rows:
                if row.claim_id in own or row.claim_id in rejection.named:
                    continue
                if rejection.billing_npi is not None and row.billing_npi != rejection.billing_npi:
                    continue
                # a provider named by its tax id only: its claims, not the whole batch's
                if (
                    rejection.billing_npi is None
                    and rejection.billing_tin is not None
                    and _digits(row.billing_tin) != rejection.billing_tin
                ):
                    continue
                own.add(row.claim_id)
                found.append(ClaimVerdict(row.claim_id, AckStatus.REJECTED, rejection.reasons))
        return found

    async def _apply_ta1(
        self, tx: Transaction, verdict: InterchangeVerdict, file_name: str, now: datetime
    ) -> None:
        """A TA1 that rejects our interchange rejects (and holds) every claim of it; one that
        accepts it, with or without errors, leaves them to the 999 and 277CA that follow."""
        if not verdict.rejected:
            return
        rows = (
            await tx.conn.execute(INTERCHANGE_CLAIMS, {"interchange": verdict.interchange_control_number})
        ).all()
        if not rows:
            log.warning("TA1 rejects an interchange we did not send")
            return
        await remember_session_states(tx, {row.session_id for row in rows})
        for row in rows:
            await self._acknowledge(
                tx, row, AckSource.TA1, AckStatus.REJECTED, [verdict.reason], [], None, file_name, now
            )

    async def _apply_999(self, tx: Transaction, verdict: SetVerdict, file_name: str, now: datetime) -> None:
        group = verdict.group_control_number.lstrip("0")
        if verdict.set_control_number:
            query = tx.conn.execute(SET_CLAIMS, {"group": group, "set": verdict.set_control_number})
        else:
            query = tx.conn.execute(GROUP_CLAIMS, {"group": group})
        rows = (await query).all()
        if not rows:
            # a group or set we never sent, or an earlier attempt's (its claims went out again since)
            self.metrics.acknowledged.labels(source=AckSource.X999.value, result="unmatched").inc()
            log.warning(
                "999 answers group %s set %s: no claim of ours is there in its current attempt",
                group,
                verdict.set_control_number or "(all)",
            )
            return
        await remember_session_states(tx, {row.session_id for row in rows})
        for row in rows:
            await self._acknowledge(
                tx, row, AckSource.X999, verdict.status, list(verdict.reasons), [], None, file_name, now
            )

    async def _current_attempts(self, tx: Transaction, verdicts: list[ClaimVerdict]) -> list[ClaimVerdict]:
        """The verdicts but those answering an earlier attempt of their claim: a 277CA naming, in
        2200B TRN02, a batch that carried an attempt before the claim's current one (a late answer
        to a submission rejected and sent again since) says nothing of the claim as it now is.
        CLM01 stays the same from one attempt to the next, so the batch tells them apart; a verdict
        naming no batch of ours (or none) is applied as it is."""
        pairs = {(v.claim_id, v.batch_reference) for v in verdicts if v.batch_reference}
        if not pairs:
            return verdicts
        earlier = sa.select(batch_claim.c.claim_id, batch_claim.c.batch_id).join(
            claim, claim.c.claim_id == batch_claim.c.claim_id
        )
        stale = {
            (r.claim_id, r.batch_id)
            for r in await tx.conn.execute(
                earlier.where(
                    among(batch_claim.c.claim_id, sorted({c for c, _ in pairs})),
                    among(batch_claim.c.batch_id, sorted({b for _, b in pairs})),
                    batch_claim.c.attempt < claim.c.attempts,
                )
            )
        }
        kept = [v for v in verdicts if (v.claim_id, v.batch_reference) not in stale]
        if len(kept) < len(verdicts):
            self.metrics.acknowledged.labels(source=AckSource.X277CA.value, result="earlier_attempt").inc(
                len(verdicts) - len(kept)
            )
            log.info(
                "277CA: %d verdict(s) answer an earlier attempt of their claim; not applied",
                len(verdicts) - len(kept),
            )
        return kept

    @staticmethod
    async def _claims(tx: Transaction, reads: BatchReads, claim_ids: list[str]) -> None:
        """The claims a 277CA names, locked, in one query (and their sessions' states, which the
        ``after`` step reads); each verdict takes its claim's row out of ``reads`` once."""
        wanted = sorted(set(claim_ids))
        if not wanted:
            return
        for r in await tx.conn.execute(
            sa.select(claim)
            .where(among(claim.c.claim_id, wanted))
            .order_by(claim.c.claim_id)
            .with_for_update()
        ):
            reads.claims[r.claim_id] = r
        await remember_session_states(tx, {r.session_id for r in reads.claims.values()})

    async def _accept_all(
        self, tx: Transaction, verdicts: list[ClaimVerdict], file_name: str, now: datetime, reads: BatchReads
    ) -> list[ClaimVerdict]:
        """Accept in one statement the submitted claims a 277CA accepts that nothing else in the
        file touches: named once, their session neither voided nor corrected since they were
        coded (so no follow-up takes back a claim); the other verdicts are returned, in order,
        for one at a time."""
        named = Counter(v.claim_id for v in verdicts)
        accepted: list[tuple[ClaimVerdict, Any]] = []
        rest: list[ClaimVerdict] = []
        for verdict in verdicts:
            row = reads.claims.get(verdict.claim_id)
            if (
                row is None
                or verdict.status is AckStatus.REJECTED
                or verdict.received_only
                or named[verdict.claim_id] > 1
                or ClaimState(row.state) is not ClaimState.SUBMITTED
            ):
                rest.append(verdict)
                continue
            if row.frequency_code != FrequencyCode.VOID.value:
                current = await session_state(tx, row.session_id)
                if current is not None and moved_on(row, *current):
                    rest.append(verdict)
                    continue
            accepted.append((verdict, reads.take_claim(verdict.claim_id)))
        if not accepted:
            return rest
        numbers = {v.claim_id: v.adjudicated_number for v, _ in accepted if v.adjudicated_number}
        columns: dict[str, Any] = {}
        if numbers:
            columns["payer_claim_number"] = sa.case(
                numbers, value=claim.c.claim_id, else_=claim.c.payer_claim_number
            )
        verdict_of = {v.claim_id: v for v, _ in accepted}

        def acknowledged(row: Any) -> None:
            verdict = verdict_of[row.claim_id]
            self._published(
                tx,
                row,
                AckSource.X277CA,
                verdict.status,
                list(verdict.reasons),
                list(verdict.lines),
                verdict.payer_claim_number,
                file_name,
                now,
            )

        await move_all(
            tx,
            [row for _, row in accepted],
            ClaimState.ACCEPTED,
            reason="277CA accepted",
            at=now,
            ahead=acknowledged,
            **columns,
        )
        if self.after is not None:
            for _, row in accepted:
                await self.after(tx, row)
        return rest

    async def _apply_277ca(
        self, tx: Transaction, verdict: ClaimVerdict, file_name: str, now: datetime, reads: BatchReads
    ) -> None:
        # taken once; a claim moved, updated or taken back meanwhile (an earlier verdict's
        # follow-up voiding its session's claims) has left the batch's reads and is read again
        row = reads.take_claim(verdict.claim_id)
        if row is None:  # not ours, or named a second time in the file: read as the first left it
            row = (
                await tx.conn.execute(sa.select(claim).where(claim.c.claim_id == verdict.claim_id))
            ).first()
        if row is None:
            log.warning("277CA names a claim we do not have")
            return
        await self._acknowledge(
            tx,
            row,
            AckSource.X277CA,
            verdict.status,
            list(verdict.reasons),
            list(verdict.lines),
            verdict.payer_claim_number,
            file_name,
            now,
            keep_number=verdict.adjudicated_number,
            received_only=verdict.received_only,
        )

    def _published(
        self,
        tx: Transaction,
        row: Any,
        source: AckSource,
        status: AckStatus,
        reasons: list[AckReason],
        lines: list[LineAcknowledgment],
        payer_claim_number: str | None,
        file_name: str,
        now: datetime,
    ) -> None:
        tx.publish(
            ClaimAcknowledged(
                claim_id=row.claim_id,
                patient_id=row.patient_id,
                source=source,
                status=status,
                reasons=reasons,
                lines=lines,
                payer_claim_number=payer_claim_number,
                file_name=file_name,
                received_at=now,
            )
        )
        self.metrics.acknowledged.labels(source=source.value, result=status.value).inc()

    async def _acknowledge(
        self,
        tx: Transaction,
        row: Any,
        source: AckSource,
        status: AckStatus,
        reasons: list[AckReason],
        lines: list[LineAcknowledgment],
        payer_claim_number: str | None,
        file_name: str,
        now: datetime,
        *,
        keep_number: str | None = None,
        received_only: bool = False,
    ) -> None:
        """Apply one verdict to a claim; ``keep_number`` is the payer claim number the claim keeps
        (a 277CA's number of a part in adjudication; ``payer_claim_number`` is what the file said,
        announced as is). A 277CA that only acknowledges receipt (``received_only``) is noted
        (``_note_receipt``)."""
        if ClaimState(row.state) is ClaimState.BATCHED:
            # the upload's own transaction has not committed yet: offer the file again next poll
            raise AcknowledgementTooEarly(row.claim_id)
        state = ClaimState(row.state)
        if state not in (ClaimState.SUBMITTED, ClaimState.ACCEPTED):
            # no longer in the payer's hands as sent (rejected already, held, paid, withdrawn): a
            # late or repeated answer changes nothing and is not announced (a rejection published
            # for a paid claim would open a denial on it)
            self.metrics.acknowledged.labels(source=source.value, result="not_in_flight").inc()
            log.info("%s answers a claim no longer in flight (%s); not applied", source.value, state.value)
            return
        if received_only:
            await self._note_receipt(tx, row, state, reasons, payer_claim_number, now)
            return
        self._published(tx, row, source, status, reasons, lines, payer_claim_number, file_name, now)
        updates: dict[str, Any] = {"payer_claim_number": keep_number} if keep_number else {}
        if status is AckStatus.REJECTED and not keep_number:
            # a number an earlier acknowledgement gave (a clearinghouse's, before the payer
            # rejected) names a submission no one adjudicates: a replacement must not quote it
            updates["payer_claim_number"] = None
        if status is AckStatus.REJECTED:
            holds = [
                HoldReason(
                    code=HoldReasonCode.OTHER,
                    message=f"{source.value} rejected: {r.code} {r.description or ''}".strip()[:300],
                )
                for r in reasons
            ] or [HoldReason(code=HoldReasonCode.OTHER, message=f"{source.value} rejected the claim")]
            await move(tx, row, ClaimState.REJECTED, reason=f"{source.value} rejected", at=now, **updates)
            row = await hold_rejected(tx, row.claim_id, holds, at=now)
            for h in holds:
                self.metrics.held.labels(reason=h.code.value).inc()
        elif source is AckSource.X277CA and state is ClaimState.SUBMITTED:
            await move(tx, row, ClaimState.ACCEPTED, reason="277CA accepted", at=now, **updates)
        elif updates:
            await tx.conn.execute(sa.update(claim).where(claim.c.claim_id == row.claim_id).values(**updates))
        if self.after is not None:
            await self.after(tx, row)

    async def _note_receipt(
        self,
        tx: Transaction,
        row: Any,
        state: ClaimState,
        reasons: list[AckReason],
        payer_claim_number: str | None,
        now: datetime,
    ) -> None:
        """A 277CA that only acknowledges the claim's receipt (A0, A1) moves nothing: the receipt
        joins the claim's trail (an audit row in its state) and a submitted claim keeps the REF*1K
        number given, which a 276 then quotes. No claim-acknowledged is published: it would read as
        an acceptance (first-pass acceptance counts A2, not a receipt). The claim stays where the
        status inquiry looks for claims with no verdict: its age still runs from its submission,
        so an A1 neither starts nor stops the wait for the payer's answer."""
        if state is ClaimState.SUBMITTED and payer_claim_number:
            await tx.conn.execute(
                sa.update(claim)
                .where(claim.c.claim_id == row.claim_id)
                .values(payer_claim_number=payer_claim_number)
            )
        codes = ", ".join(r.code for r in reasons)
        tx.insert_later(
            claim_audit,
            {
                "claim_id": row.claim_id,
                "from_state": state.value,
                "to_state": state.value,
                "reason": f"277CA received, not yet accepted into adjudication ({codes})"[:500],
                "actor": "claims",
                "at": now,
            },
        )
        self.metrics.acknowledged.labels(source=AckSource.X277CA.value, result="received").inc()
