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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rcm.claims.acknowledgements import DATA_REJECTED_CATEGORIES
from rcm.claims.domain import ClaimDraft, ClaimState
from rcm.claims.domain.errors import IllegalTransition
from rcm.claims.lifecycle import hold_rejected, move
from rcm.claims.store import claim, claim_audit, references
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

__all__ = [
    "StatusAnswer",
    "StatusInquiry",
    "answer_of_277",
    "build_276",
    "combined_state",
    "information_requested",
    "state_of_277",
]

log = logging.getLogger(__name__)


def build_276(
    *,
    submitter_id: str,
    receiver_id: str,
    control: int,
    payer_id: str,
    payer_name: str,
    provider_npi: str,
    member_id: str,
    draft: ClaimDraft,
    now: datetime,
) -> str:
    """A one-claim 276 (005010X212) asking about ``draft``."""
    day = draft.date_of_service.strftime("%Y%m%d")
    body = [
        Segment("BHT", ["0010", "13", draft.claim_key, now.strftime("%Y%m%d"), now.strftime("%H%M")]),
        Segment("HL", ["1", "", "20", "1"]),
        Segment("NM1", ["PR", "2", payer_name.upper()[:60], "", "", "", "", "PI", payer_id]),
        Segment("HL", ["2", "1", "21", "1"]),
        Segment("NM1", ["41", "2", "SUBMITTER", "", "", "", "", "46", submitter_id]),
        Segment("HL", ["3", "2", "19", "1"]),
        Segment("NM1", ["1P", "2", draft.billing.name.upper()[:60], "", "", "", "", "XX", draft.billing.npi]),
        Segment("HL", ["4", "3", "22", "0"]),
        Segment("NM1", ["IL", "1", "MEMBER", "", "", "", "", "MI", member_id]),
        Segment("TRN", ["1", draft.claim_key]),
        Segment("REF", ["EJ", draft.claim_key]),
        Segment("AMT", ["T3", f"{draft.total_charge:.2f}"]),
        Segment("DTP", ["472", "RD8", f"{day}-{day}"]),
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
            submitter_id.ljust(15),
            "ZZ",
            receiver_id.ljust(15),
            stamp[0],
            stamp[1],
            "^",
            "00501",
            f"{control:09d}",
            "0",
            "P",
            ":",
        ],
    )
    gs = Segment(
        "GS",
        ["HR", submitter_id, receiver_id, now.strftime("%Y%m%d"), stamp[1], str(control), "X", "005010X212"],
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
    def __init__(
        self,
        service: Service,
        *,
        submitter_id: str,
        receiver_id: str,
        after: timedelta,
        clearinghouse: str | None = None,
    ) -> None:
        self.service = service
        self.submitter_id = submitter_id
        self.receiver_id = receiver_id
        self.after = after
        self.clearinghouse = clearinghouse
        """The clearinghouse's name: a payer it knows under its own id is asked about by that id,
        as the 837P names it."""

    async def run_once(
        self, core: CoreRealtimeClient, *, now: datetime | None = None, limit: int = 20
    ) -> int:
        """Ask about up to ``limit`` claims submitted more than ``after`` ago and not asked about since."""
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

    async def _ask(self, core: CoreRealtimeClient, row: Any, now: datetime) -> None:
        async with self.service.engine.connect() as conn:
            payer = (await references(conn, "payer", ids=[row.payer_id]) or [{}])[0]
            coverage = (await references(conn, "coverage", ids=[row.coverage_id]) or [{}])[0]
        draft = ClaimDraft.model_validate(row.draft)
        electronic = payer_key_for(payer, self.clearinghouse) or row.payer_id
        x12 = build_276(
            submitter_id=self.submitter_id,
            receiver_id=self.receiver_id,
            control=int(now.timestamp()) % 10**9,
            payer_id=electronic,
            payer_name=payer.get("name", "PAYER"),
            provider_npi=draft.billing.npi,
            member_id=coverage.get("member_id", "UNKNOWN"),
            draft=draft,
            now=now,
        )
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
