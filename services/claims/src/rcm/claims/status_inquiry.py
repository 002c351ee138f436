"""Aged claims with no answer: a 276 over the CORE real-time transport, the 277 mapped to a state.

Only the 2200D claim statuses whose TRN*2 echoes our inquiry's trace (the 276's TRN02, the
claim key) are read; a 277 about another claim changes nothing. A payer that split our claim
(two payer claims, each with its ICN) or reports it more than once answers with several 2200D
under the same trace; every one is read, with every STC of it (STC01, STC10, STC11) and of its
2220D service lines. Each category is a part's state: F1 finalized/paid -> paid, F2
finalized/denied -> denied, P0-P5 pending and R0-R16 (the payer requests additional
information before it adjudicates) -> pended; A3/A6/A7/A8 (the payer rejected it, it
never entered adjudication) and A4/D0 (the payer has no record of it) -> rejected; anything
else (F0, F3, F4, E0...) none. The claim's state is the most actionable of its parts'
(``combined_state``):

1. a denied part: denied, or partially paid when another part is paid (a split half paid and
   half denied is not simply paid, and its denial is worked now, whatever still pends);
2. else a pending part: pended (a part paid while another pends is not settled; asked again);
3. else a paid part: paid;
4. else, only when no part entered adjudication, rejected: held with the statuses as hold
   reasons, as a rejecting 277CA leaves it, and when the payer has no record of it (A4/D0), to
   be sent again as an original. A rejected part beside an adjudicated one moves nothing:
   sending the whole claim again would duplicate the adjudicated part (its status stays in
   the answer).

A request for additional information (category R; what is asked in the status code, STC01-2,
STC10-2, STC11-2, and of whom in the entity code) is recorded on the claim's trail (the move to
pended, or an audit row when it is pended already) and published as a claim-acknowledged of
source ``277`` and status ``information_requested``, its reasons the requests (the lines' own
with their line keys, REF*FJ), so the denials service and a person's queue learn what to send.

An unreadable 277 (or one of another version than 005010) changes nothing but the time of the
last check. Every REF*1K payer claim control number is read; the claim keeps the first, when
it has none (it holds one). Pended claims are asked about again once as aged.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rcm.claims.acknowledgements import DATA_REJECTED_CATEGORIES
from rcm.claims.domain import ClaimDraft, ClaimState
from rcm.claims.domain.coverage import patient_is_the_subscriber
from rcm.claims.domain.errors import IllegalTransition
from rcm.claims.lifecycle import hold_rejected, move
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import claim, claim_audit, interchange_sequence, references
from rcm.claims.submission.x837 import payer_key_for
from rcm.clearinghouse import CoreRealtimeClient, TransportError
from rcm.events.models import (
    AckReason,
    AckSource,
    AckStatus,
    ClaimAcknowledged,
    HoldReason,
    HoldReasonCode,
    LineAcknowledgment,
)
from rcm.servicekit import Service, Transaction
from rcm.x12.build import serialize
from rcm.x12.convert import read_interchanges_leniently
from rcm.x12.errors import X12Error
from rcm.x12.models.claim_status import ClaimStatus, ClaimStatusResponse277
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.text import x12_text

__all__ = [
    "InquiryNotWritten",
    "StatusAnswer",
    "StatusInquiry",
    "answer_of_277",
    "build_276",
    "combined_state",
    "information_requested",
    "state_of_277",
]

log = logging.getLogger(__name__)


class InquiryNotWritten(X12Error):
    """A 276 that cannot be written as the guide wants it; ``reason`` names what is missing or
    wrong (never a value of it: no member data reaches a log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"276 not written: {reason}")
        self.reason = reason


# Maximum lengths of the 005010X212 elements written from free text (as the 837P's).
_NM103, _NM104, _NM105, _NM107 = 60, 35, 25, 10
_DELIMITERS = "*:^~"


def _isa_id(value: str, element: str) -> str:
    """ISA06/ISA08: at most 15 characters, padded with spaces to 15."""
    value = value.strip()
    if not value:
        raise InquiryNotWritten(f"{element} is empty")
    if len(value) > 15:
        raise InquiryNotWritten(f"{element} is longer than 15 characters")
    return value.ljust(15)


def _birth_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _dmg(person: Mapping[str, Any]) -> Segment | None:
    """DMG*D8 with the birth date and, when F or M, the gender (X212 allows no other code)."""
    born = _birth_date(person.get("birth_date"))
    if born is None:
        return None
    sex = person.get("sex")
    return Segment("DMG", ["D8", born.strftime("%Y%m%d"), *([sex] if sex in ("F", "M") else [])])


def _person_nm1(code: str, name: Mapping[str, Any], *, what: str, tail: list[str]) -> Segment:
    """NM1 of a person folded as the 837P folds it (``x12_text``); a missing last name is refused."""
    last = x12_text(name.get("last"), _NM103)
    if last is None:
        raise InquiryNotWritten(f"no last name of the {what}")
    elements = [
        code,
        "1",
        last,
        x12_text(name.get("first"), _NM104) or "",
        x12_text(name.get("middle"), _NM105) or "",
        "",
        x12_text(name.get("suffix"), _NM107) or "",
        *tail,
    ]
    while elements and elements[-1] == "":
        elements.pop()
    return Segment("NM1", elements)


def build_276(
    *,
    submitter_id: str,
    submitter_name: str,
    receiver_id: str,
    control: int,
    payer_id: str,
    payer_name: str,
    patient: Mapping[str, Any],
    coverage: Mapping[str, Any],
    draft: ClaimDraft,
    now: datetime,
    usage: str = "P",
    payer_claim_number: str | None = None,
) -> str:
    """A one-claim 276 (005010X212) asking about ``draft``, naming the subscriber and patient as the
    claim's 837P does: the subscriber (2000D/2100D NM1*IL with the member id; DMG when they are the
    patient) and, for a dependent's claim, the patient in 2000E/2100E (DMG, NM1*QC) with the claim
    status tracking (2200E) under it. A dependent with a member id of their own is the subscriber
    (2000D with their name, id and DMG, no 2000E: ``patient_is_the_subscriber``). ``patient`` and
    ``coverage`` are the bodies of the claim's patient and coverage on file. InquiryNotWritten when
    a value the payer needs to find the claim is missing (no placeholders are ever sent) or an
    envelope id cannot be written."""
    if usage not in ("P", "T"):
        raise InquiryNotWritten("ISA15 usage must be P or T")
    if not 0 < control < 10**9:
        raise InquiryNotWritten("interchange control number out of range")
    sender, receiver = _isa_id(submitter_id, "ISA06"), _isa_id(receiver_id, "ISA08")
    member_id = (coverage.get("member_id") or "").strip()
    if not member_id:
        raise InquiryNotWritten("no member id of the coverage (2100D NM109)")
    if not payer_id.strip():
        raise InquiryNotWritten("no electronic id of the payer (2100A NM109)")
    payer = x12_text(payer_name, _NM103)
    if payer is None:
        raise InquiryNotWritten("no name of the payer (2100A NM103)")
    billing = x12_text(draft.billing.name, _NM103)
    if billing is None:
        raise InquiryNotWritten("no name of the billing provider (2100C NM103)")
    submitter = x12_text(submitter_name, _NM103)
    if submitter is None:
        raise InquiryNotWritten("no submitter name (2100B NM103)")
    for value, element in (
        (member_id, "2100D NM109"),
        (payer_id, "2100A NM109"),
        (submitter_id, "2100B NM109"),
        (draft.billing.npi, "2100C NM109"),
        (draft.claim_key, "2200D TRN02"),
        (payer_claim_number or "", "2200D REF02"),
    ):
        if any(c in _DELIMITERS or not (" " <= c <= "~") for c in value):
            raise InquiryNotWritten(f"{element} has a character X12 cannot carry")
    dates = [line.date_of_service for line in draft.lines] or [draft.date_of_service]
    first, last = min(dates).strftime("%Y%m%d"), max(dates).strftime("%Y%m%d")
    tracking = [
        Segment("TRN", ["1", draft.claim_key]),
        *([Segment("REF", ["1K", payer_claim_number])] if payer_claim_number else []),
        Segment("REF", ["EJ", draft.claim_key]),
        Segment("AMT", ["T3", f"{draft.total_charge:.2f}"]),
        Segment("DTP", ["472", "RD8", f"{first}-{last}"]),
    ]
    patient_name = patient.get("name") or {}
    as_subscriber = patient_is_the_subscriber(
        coverage.get("relationship"), member_id_is_patients=bool(coverage.get("member_id_is_patients"))
    )
    if not as_subscriber:
        # the patient is a dependent known by the subscriber's id: the subscriber in 2000D, the
        # patient and the claim in 2000E
        subscriber_name = (coverage.get("subscriber") or {}).get("name") or {}
        patient_dmg = _dmg(patient)
        if patient_dmg is None:  # 2000E DMG is required
            raise InquiryNotWritten("no birth date of the dependent patient (2000E DMG02)")
        levels = [
            Segment("HL", ["4", "3", "22", "1"]),
            _person_nm1("IL", subscriber_name, what="subscriber", tail=["MI", member_id]),
            Segment("HL", ["5", "4", "23"]),
            patient_dmg,
            _person_nm1("QC", patient_name, what="patient", tail=[]),
            *tracking,
        ]
    else:
        # the patient is the subscriber, or a dependent with a member id of their own (005010X212
        # 2000E is sent only for a patient not identified by the subscriber's id): 2000D, no 2000E
        subscriber_dmg = _dmg(patient)  # 2000D DMG: the subscriber is the patient
        levels = [
            Segment("HL", ["4", "3", "22", "0"]),
            *([subscriber_dmg] if subscriber_dmg is not None else []),
            _person_nm1("IL", patient_name, what="subscriber", tail=["MI", member_id]),
            *tracking,
        ]
    body = [
        Segment("BHT", ["0010", "13", draft.claim_key, now.strftime("%Y%m%d"), now.strftime("%H%M")]),
        Segment("HL", ["1", "", "20", "1"]),
        Segment("NM1", ["PR", "2", payer, "", "", "", "", "PI", payer_id]),
        Segment("HL", ["2", "1", "21", "1"]),
        Segment("NM1", ["41", "2", submitter, "", "", "", "", "46", submitter_id.strip()]),
        Segment("HL", ["3", "2", "19", "1"]),
        Segment("NM1", ["1P", "2", billing, "", "", "", "", "XX", draft.billing.npi]),
        *levels,
    ]
    st = [Segment("ST", ["276", "0001", "005010X212"]), *body]
    st.append(Segment("SE", [str(len(st) + 1), "0001"]))
    stamp = now.strftime("%y%m%d"), now.strftime("%H%M")
    isa = Segment(
        "ISA",
        [
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            sender,
            "ZZ",
            receiver,
            stamp[0],
            stamp[1],
            "^",
            "00501",
            f"{control:09d}",
            "0",
            usage,
            ":",
        ],
    )
    gs = Segment(
        "GS",
        [
            "HR",
            sender.strip(),
            receiver.strip(),
            now.strftime("%Y%m%d"),
            stamp[1],
            str(control),
            "X",
            "005010X212",
        ],
    )
    segments = [isa, gs, *st, Segment("GE", ["1", str(control)]), Segment("IEA", ["1", f"{control:09d}"])]
    return serialize(segments, Delimiters()).decode()


_NOT_FOUND = frozenset({"A4", "D0"})
"""The payer has no such claim (A4 not found) or its search for it failed (D0)."""


_REQUESTS = {
    "R0": "the payer requests additional information (general request)",
    "R1": "the payer requests information about an entity (subscriber, patient, provider)",
    "R3": "the payer requests claim or line information that could be sent on a claim",
    "R4": "the payer requests supporting documentation (notes, certification, records)",
    "R5": "the payer requests more specific detail than the information it received",
    "R6": "the payer requests information for regulatory requirements",
    "R7": "the payer requests information confirming care is consistent with the plan's coverage policy",
    "R8": "the payer requests information confirming care is consistent with coverage exceptions",
    "R9": "the payer requests information to determine medical necessity",
    "R10": "the payer requests information to support a filed grievance or appeal",
    "R11": "the payer requests information for a pre-payment review of the claim",
    "R12": "the payer requests clarification or justification of the procedure code",
    "R13": "the documents sent are not readable: the payer requests them again",
    "R14": "the documents received are not what was requested",
    "R15": "the payer requests information for a workers' compensation coverage determination",
    "R16": "the payer requests information for an eligibility determination",
}
"""Claim status category codes R0-R16 (X12 external code list 507, paraphrased): the payer has
the claim and asks for more before it adjudicates; the status code says what, the entity of whom."""


def information_requested(category: str) -> bool:
    """Whether a claim status category is a request for additional information (R0-R16)."""
    return category.startswith("R") and category[1:].isdigit()


@dataclass(frozen=True, slots=True)
class InformationRequest:
    """One thing a 277 asks for: category:status[:entity] and, for a service line, its key."""

    status: str
    line_key: str | None = None

    @property
    def meaning(self) -> str:
        category = self.status.partition(":")[0]
        return _REQUESTS.get(category, "the payer requests additional information")


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """What a 277 says of the claim an inquiry asked about, over every 2200D echoing its trace."""

    statuses: tuple[str, ...]
    """Its claim-level statuses as category:code (STC01, STC10, STC11 of each STC), in file order."""
    payer_claim_number: str | None = None
    """REF*1K: the payer's claim control number (the first, when a split claim has several)."""
    payer_claim_numbers: tuple[str, ...] = ()
    """Every REF*1K, once each, in file order: one per part of a claim the payer split."""
    line_statuses: tuple[str, ...] = ()
    """The statuses of its 2220D service lines as category:code, in file order."""
    requests: tuple[InformationRequest, ...] = ()
    """Its requests for additional information (category R), claim and line level, in file order."""

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(s.partition(":")[0] for s in self.statuses)

    @property
    def state(self) -> ClaimState | None:
        """The claim state its claim and line statuses report, if any we act on (``combined_state``)."""
        return combined_state([*self.categories, *(s.partition(":")[0] for s in self.line_statuses)])

    @property
    def not_found(self) -> bool:
        """The payer has no record of the claim (or of a part of it) and no part entered adjudication."""
        return self.state is ClaimState.REJECTED and any(c in _NOT_FOUND for c in self.categories)


def _state_of(category: str) -> ClaimState | None:
    if category == "F1":
        return ClaimState.PAID
    if category == "F2":
        return ClaimState.DENIED
    if category.startswith("P") or information_requested(category):
        return ClaimState.PENDED
    if category in DATA_REJECTED_CATEGORIES or category in _NOT_FOUND:
        return ClaimState.REJECTED
    return None


def combined_state(categories: Iterable[str]) -> ClaimState | None:
    """The state of a claim whose parts (split claims, several STCs, service lines) report
    ``categories``: a denial first (partially paid beside a payment), then pending, then paid;
    rejected only when nothing entered adjudication; None when no category is one we act on."""
    states = {s for c in categories if (s := _state_of(c)) is not None}
    if ClaimState.DENIED in states:
        return ClaimState.PARTIALLY_PAID if ClaimState.PAID in states else ClaimState.DENIED
    for state in (ClaimState.PENDED, ClaimState.PAID, ClaimState.REJECTED):
        if state in states:
            return state
    return None


def answer_of_277(content: str, *, trace: str) -> StatusAnswer | None:
    """The answer of a 277 to the inquiry traced ``trace`` (every 2200D whose TRN*2 is it); None
    if it has none.

    Read leniently: a value that cannot be read (a malformed date in another claim's status)
    leaves that segment out, not the whole answer. X12Error when nothing can be read, or for a
    group of another version than 005010 (a 4010 277 is not read with the X212 rules)."""
    statuses: list[str] = []
    lines: list[str] = []
    numbers: list[str] = []
    requests: list[InformationRequest] = []
    found = False
    interchanges, _ = read_interchanges_leniently(content)
    for interchange, _ in interchanges:
        for group in interchange.groups:
            if not group.header.version.startswith("005010"):
                raise X12Error(f"277 group version {group.header.version or 'missing'} is not 005010X212")
            for tx in group.transactions:
                if not isinstance(tx, ClaimStatusResponse277):
                    continue
                for tracking in tx.trackings():
                    if tracking.claim_trace != trace:
                        continue
                    found = True
                    statuses += _composites(tracking.statuses)
                    lines += (s for service in tracking.services for s in _composites(service.statuses))
                    numbers += (r.value for r in tracking.references if r.qualifier == "1K" and r.value)
                    requests += (InformationRequest(s) for s in _requests(tracking.statuses))
                    for service in tracking.services:
                        key = next((r.value for r in service.references if r.qualifier == "FJ"), None)
                        requests += (InformationRequest(s, key) for s in _requests(service.statuses))
    if not found:
        return None
    distinct = tuple(dict.fromkeys(numbers))
    return StatusAnswer(
        statuses=tuple(statuses),
        payer_claim_number=distinct[0] if distinct else None,
        payer_claim_numbers=distinct,
        line_statuses=tuple(lines),
        requests=tuple(dict.fromkeys(requests)),
    )


def _rejected_part(answer: StatusAnswer | None) -> bool:
    statuses = (*answer.statuses, *answer.line_statuses) if answer is not None else ()
    return any(_state_of(s.partition(":")[0]) is ClaimState.REJECTED for s in statuses)


def _composites(stcs: list[ClaimStatus]) -> list[str]:
    return [f"{code.category}:{code.code or ''}" for stc in stcs for code in stc.statuses]


def _requests(stcs: list[ClaimStatus]) -> list[str]:
    """The category R composites as category:status[:entity] (the entity says of whom)."""
    return [
        f"{code.category}:{code.code or ''}" + (f":{code.entity}" if code.entity else "")
        for stc in stcs
        for code in stc.statuses
        if information_requested(code.category)
    ]


def state_of_277(content: str, *, trace: str) -> ClaimState | None:
    """The claim state a 277 reports for the inquiry traced ``trace``, if it reports one we act on."""
    answer = answer_of_277(content, trace=trace)
    return answer.state if answer is not None else None


class StatusInquiry:
    """Asks payers about aged claims (276 over CORE real time) and applies their answers (277).

    The 276 goes over the real-time route: its ISA06/ISA08 and GS02/GS03 are the ids of the CORE
    endpoint the payer is reached by (``core_endpoint(payer)``, as the 270's); ``submitter_id``
    and ``receiver_id`` are used only when the transport has no such settings. Each inquiry has an
    interchange control number of its own from the claims store's ``interchange_sequence`` (shared
    with the 837P batches). A claim whose inquiry cannot be written (no member id or electronic
    payer id on file, a patient without a name...) is not asked about: the reason is logged (no
    member data) and counted in ``skipped``, and the claim waits ``after`` before it is looked at
    again, so that it does not hold the others' turn."""

    def __init__(
        self,
        service: Service,
        *,
        submitter_id: str,
        receiver_id: str,
        after: timedelta,
        clearinghouse: str | None = None,
        submitter_name: str = "RCM PRACTICE",
        usage: str = "P",
        metrics: ClaimsMetrics | None = None,
    ) -> None:
        self.service = service
        self.metrics = metrics
        """Counts the inquiries by result (``rcm_claims_status_inquiries_total``), when given."""
        self.submitter_id = submitter_id
        self.receiver_id = receiver_id
        self.after = after
        self.clearinghouse = clearinghouse
        """The clearinghouse's name: a payer it knows under its own id is asked about by that id,
        as the 837P names it."""
        self.submitter_name = submitter_name
        """2100B NM103: the submitter name setting, as the 837P's 1000A."""
        self.usage = usage
        """ISA15: the interchange usage setting the 837P uses (P production, T test)."""
        self.skipped: Counter[str] = Counter()
        """Inquiries not sent, by reason (no member data in a reason)."""

    async def run_once(
        self, core: CoreRealtimeClient, *, now: datetime | None = None, limit: int = 20
    ) -> int:
        """Ask about up to ``limit`` claims submitted more than ``after`` ago and not asked about since
        (the number looked at, those skipped for missing reference data included)."""
        now = now or datetime.now(UTC)
        cutoff = now - self.after
        async with self.service.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(claim)
                    .where(
                        claim.c.state.in_(
                            [ClaimState.SUBMITTED.value, ClaimState.ACCEPTED.value, ClaimState.PENDED.value]
                        ),
                        claim.c.submitted_at < cutoff,
                        sa.or_(claim.c.status_checked_at.is_(None), claim.c.status_checked_at < cutoff),
                    )
                    .limit(limit)
                )
            ).all()
        for row in rows:
            await self._ask(core, row, now)
        return len(rows)

    def _route_ids(self, core: CoreRealtimeClient, payer: str) -> tuple[str, str]:
        """ISA06/ISA08 of the real-time route to ``payer``: its CORE endpoint's sender and receiver."""
        settings = getattr(core, "settings", None)
        if settings is None:
            return self.submitter_id, self.receiver_id
        endpoint = settings.core_endpoint(payer)
        return endpoint.sender_id, endpoint.receiver_id

    def _count(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.status_inquiries.labels(result=result).inc()

    async def _skip(self, row: Any, reason: str, now: datetime) -> None:
        self.skipped[reason] += 1
        self._count("skipped")
        log.warning("276 for claim %s not sent: %s", row.claim_id, reason)
        async with self.service.transaction() as tx:
            await tx.conn.execute(
                sa.update(claim).where(claim.c.claim_id == row.claim_id).values(status_checked_at=now)
            )

    async def _ask(self, core: CoreRealtimeClient, row: Any, now: datetime) -> None:
        async with self.service.engine.connect() as conn:
            payer = (await references(conn, "payer", ids=[row.payer_id]) or [{}])[0]
            coverage = (await references(conn, "coverage", ids=[row.coverage_id]) or [{}])[0]
            patient = (await references(conn, "patient", ids=[row.patient_id]) or [{}])[0]
        draft = ClaimDraft.model_validate(row.draft)
        electronic = payer_key_for(payer, self.clearinghouse)
        if not electronic:
            await self._skip(row, "no electronic id of the payer on file", now)
            return
        try:
            sender, receiver = self._route_ids(core, electronic)
        except LookupError:
            await self._skip(row, "no CORE endpoint for the payer", now)
            return
        async with self.service.engine.connect() as conn:
            control = int(await conn.scalar(sa.select(interchange_sequence.next_value())) or 0)
        try:
            x12 = build_276(
                submitter_id=sender,
                submitter_name=self.submitter_name,
                receiver_id=receiver,
                control=control,
                usage=self.usage,
                payer_id=electronic,
                payer_name=payer.get("name") or "",
                patient=patient,
                coverage=coverage,
                draft=draft,
                now=now,
                payer_claim_number=row.payer_claim_number,
            )
        except InquiryNotWritten as exc:
            await self._skip(row, exc.reason, now)
            return
        answer: StatusAnswer | None = None
        try:
            response = await core.claim_status(electronic, x12)
            answer = answer_of_277(response.payload, trace=draft.claim_key)
            if answer is None:
                log.warning("277 answered no claim status for the inquiry's trace; nothing applied")
        except TransportError as exc:
            log.warning("276 for a claim failed: %s", type(exc).__name__)
        except X12Error:  # its message may quote the payer's values: never logged
            log.warning("277 unreadable; nothing applied")
        self._count("answered" if answer is not None else "no_answer")
        reported = answer.state if answer is not None else None
        async with self.service.transaction() as tx:
            current = (
                await tx.conn.execute(
                    sa.select(claim).where(claim.c.claim_id == row.claim_id).with_for_update()
                )
            ).one()
            checked: dict[str, Any] = {"status_checked_at": now}
            if answer is not None and answer.payer_claim_number and not current.payer_claim_number:
                checked["payer_claim_number"] = answer.payer_claim_number
            await tx.conn.execute(sa.update(claim).where(claim.c.claim_id == row.claim_id).values(**checked))
            if answer is not None and answer.not_found:
                log.warning("277: payer has no record of claim %s; held to be sent again", row.claim_id)
            if answer is not None and len(answer.payer_claim_numbers) > 1:
                log.info(
                    "277: the payer split claim %s into %d claims",
                    row.claim_id,
                    len(answer.payer_claim_numbers),
                )
            if reported not in (None, ClaimState.REJECTED) and _rejected_part(answer):
                log.warning(
                    "277: part of claim %s rejected beside an adjudicated part; not held", row.claim_id
                )
            requests = answer.requests if answer is not None else ()
            why = "276/277 claim status inquiry"
            if requests:
                asked = ", ".join(r.status for r in requests)
                why = f"{why}: the payer requests additional information ({asked})"[:500]
            if reported is not None and reported.value != current.state:
                try:
                    await move(tx, current, reported, reason=why, at=now, status_checked_at=now)
                except IllegalTransition:
                    log.info("277 status %s not applicable from %s", reported.value, current.state)
                    return
                if reported is ClaimState.REJECTED and answer is not None:
                    await _hold_rejected(tx, row.claim_id, answer, now)
            elif requests:  # pended already: the request joins its trail
                tx.insert_later(
                    claim_audit,
                    {
                        "claim_id": current.claim_id,
                        "from_state": current.state,
                        "to_state": current.state,
                        "reason": why,
                        "actor": "claims",
                        "at": now,
                    },
                )
            if answer is not None and requests:
                log.info("277: the payer requests additional information for claim %s", row.claim_id)
                tx.publish(_information_requested(current, answer, draft, now))


def _information_requested(
    row: Any, answer: StatusAnswer, draft: ClaimDraft, now: datetime
) -> ClaimAcknowledged:
    """The 277's requests for additional information as a claim-acknowledged (source 277): the
    claim's own as its reasons, a line's (REF*FJ naming one of the claim's lines) as that line's."""
    ours = {line.line_key for line in draft.lines}
    claim_level = [r for r in answer.requests if r.line_key not in ours]
    by_line: dict[str, list[AckReason]] = {}
    for r in answer.requests:
        if r.line_key in ours:
            by_line.setdefault(r.line_key, []).append(AckReason(code=r.status[:30], description=r.meaning))
    return ClaimAcknowledged(
        claim_id=row.claim_id,
        patient_id=row.patient_id,
        source=AckSource.X277,
        status=AckStatus.INFORMATION_REQUESTED,
        reasons=[AckReason(code=r.status[:30], description=r.meaning) for r in claim_level],
        lines=[
            LineAcknowledgment(line_key=key, status=AckStatus.INFORMATION_REQUESTED, reasons=reasons)
            for key, reasons in by_line.items()
        ],
        payer_claim_number=row.payer_claim_number or answer.payer_claim_number,
        file_name=f"277-{row.claim_id}-{now:%Y%m%d%H%M%S}",
        received_at=now,
    )


async def _hold_rejected(tx: Transaction, claim_id: str, answer: StatusAnswer, now: datetime) -> None:
    """A claim the 277 reports rejected waits for a fix, as a rejecting acknowledgement leaves it."""
    holds = [
        HoldReason(code=HoldReasonCode.OTHER, message=f"277 claim status rejected: {s}")
        for s in (*answer.statuses, *answer.line_statuses)
        if s.partition(":")[0] in DATA_REJECTED_CATEGORIES
    ]
    if answer.not_found:
        holds += [
            HoldReason(
                code=HoldReasonCode.OTHER,
                message=f"277 the payer has no record of the claim: {s}; send it again as an original",
            )
            for s in answer.statuses
            if s.partition(":")[0] in _NOT_FOUND
        ]
    await hold_rejected(tx, claim_id, holds, at=now)
