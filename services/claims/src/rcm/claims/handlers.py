"""Thin adapters: event -> projections and domain calls -> claim rows, audit and published events.

One handler per event type (see :func:`ClaimsHandlers.dispatcher`). Reference and
eligibility/authorization events update projections and re-run the edits of the claims
they could have fixed; a session becomes a claim; remits move claims to payer outcomes
and start secondary claims; correction and void requests send frequency 7 and 8 claims.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.claims import adapters as ad
from rcm.claims.domain import (
    BilledService,
    ClaimDraft,
    ClaimState,
    Coverage,
    CoveragePriority,
    Finding,
    FrequencyCode,
    NoBillingEntity,
    NotBillable,
    PayerRules,
    Provider,
    ScrubContext,
    Session,
    build_claim,
    choose_billing_entity,
    claim_key,
    code_session,
    scrub,
)
from rcm.claims.domain.adjudication import (
    AdjudicatedLine,
    RemitPart,
    is_refusal,
    outcome,
    standing,
    totals,
    written_off,
)
from rcm.claims.domain.cob import (
    LineAdjustment,
    PriorAdjudication,
    PriorLine,
    adjudicated_again,
    crossed_over,
    lines_of_the_claim,
    next_coverage,
    next_payer_claim,
    with_telehealth_modifiers,
)
from rcm.claims.domain.corrections import (
    ClaimChange,
    Refusal,
    UnsupportedChange,
    Withdrawal,
    corresponding,
    payer_holds,
    recodes,
    rekeyed,
    rendered_line,
    rendering_change,
    replacement,
    withdrawal,
)
from rcm.claims.domain.edits.authorization import authorization_due
from rcm.claims.domain.errors import IllegalTransition
from rcm.claims.domain.state import ALLOWED_TRANSITIONS, FINALIZED_STATES, TERMINAL_STATES
from rcm.claims.lifecycle import (
    claim_later,
    defer_insert,
    flush_moves,
    flush_received,
    insert_deferred,
    move,
    move_later,
    moves_pending,
    receive_later,
    received_pending,
    record_created,
    update_claim,
)
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.reads import (
    BatchReads,
    forget_patient,
    forget_session_state,
    forget_session_states,
    moved_on,
    patient_authorizations,
    patient_coverages,
    patient_eligibility,
    patient_history,
    reads_of,
    session_answer,
    session_state,
)
from rcm.claims.remits import applied_parts, load_parts, record_part
from rcm.claims.store import (
    SharedReferences,
    auth_answer,
    authorization,
    claim,
    claim_audit,
    claim_line,
    correction_refusal,
    eligibility,
    pending_secondary_request,
    references,
    session,
    upsert_reference,
)
from rcm.events.models import (
    AlertKind,
    AuthorizationAlert,
    AuthorizationConsumed,
    AuthorizationReceived,
    AuthorizationReleased,
    ClaimChangeAction,
    ClaimCorrectionRefused,
    ClaimCorrectionRequested,
    ClaimCreated,
    ClaimHeld,
    ClaimLine,
    ClaimPaymentStatus,
    ClaimReleased,
    ClaimVoidRequested,
    ClaimWriteOffRequested,
    CorrectionMethod,
    CorrectionRefusal,
    CoverageChanged,
    CoverageUpdated,
    EligibilityChecked,
    FeeScheduleUpdated,
    HoldReason,
    HoldReasonCode,
    NotBilledReason,
    OrganizationUpdated,
    PatientUpdated,
    PayerUpdated,
    ProviderUpdated,
    RemitReceived,
    SecondaryClaimRequested,
    SessionCompleted,
    SessionCorrected,
    SessionNotBilled,
    SessionVoided,
)
from rcm.servicekit import Delivered, Transaction, dispatch
from rcm.servicekit.consumer import BatchHandler

__all__ = ["HOLD_REASON_BY_PREFIX", "ClaimsHandlers", "hold_reasons_of"]

log = logging.getLogger(__name__)

_H = HoldReasonCode
HOLD_REASON_BY_PREFIX: tuple[tuple[str, HoldReasonCode], ...] = (
    ("documentation.", _H.NOTE_UNSIGNED),
    ("rendering.not_licensed", _H.PROVIDER_NOT_LICENSED),
    ("rendering.", _H.PROVIDER_NOT_ENROLLED),
    ("supervising.", _H.SUPERVISOR_MISSING),
    ("coverage.", _H.COVERAGE_MISSING),
    ("eligibility.unchecked", _H.ELIGIBILITY_UNKNOWN),
    ("eligibility.not_covered", _H.SERVICE_NOT_COVERED),
    ("eligibility.carved_out", _H.BENEFIT_CARVED_OUT),
    ("eligibility.", _H.ELIGIBILITY_INACTIVE),
    ("diagnosis.", _H.DIAGNOSIS_INVALID),
    ("pos.", _H.MODIFIER_POLICY),
    ("telehealth.", _H.MODIFIER_POLICY),
    ("modifier.", _H.MODIFIER_POLICY),
    ("auth.", _H.AUTHORIZATION_MISSING),
    ("filing.", _H.TIMELY_FILING_RISK),
    ("bundling.", _H.NCCI_CONFLICT),
    ("add_on.", _H.CODE_NOT_BILLABLE),
    ("code.", _H.CODE_NOT_BILLABLE),
    ("units.", _H.CODE_NOT_BILLABLE),
    ("charge.", _H.FEE_MISSING),
)
"""Finding codes of the edits -> the hold reason codes of the claim-held event."""


def hold_reasons_of(draft: ClaimDraft, findings: Sequence[Finding]) -> list[HoldReason]:
    """Every hold finding as a claim-held reason (with the line key when the finding names a line)."""
    reasons = []
    for finding in findings:
        code = next((c for prefix, c in HOLD_REASON_BY_PREFIX if finding.code.startswith(prefix)), _H.OTHER)
        line = None
        if finding.field.startswith("lines[") and finding.field.endswith("]"):
            index = int(finding.field[6:-1])
            line = draft.lines[index].line_key if index < len(draft.lines) else None
        reasons.append(
            HoldReason(code=code, message=f"{finding.code}: {finding.message}"[:300], line_key=line)
        )
    return reasons


def _written_off(a: Any) -> bool:
    """A write-off owed by no one (``rcm.claims.domain.adjudication.written_off``: CO-45, CO-253...)."""
    return written_off(a.group.value, a.carc, a.amount)


def contract_write_off(e: RemitReceived) -> Decimal:
    """The remit's contractual write-off at claim and line level (CO-45 fee schedule, CO-253
    sequestration and the other contractual reasons of ``rcm.events.models.CONTRACTUAL_CARCS``):
    the part of the charge that neither the payer nor the patient owes."""
    adjustments = [*e.claim_adjustments, *(a for line in e.lines for a in line.adjustments)]
    return sum((a.amount for a in adjustments if _written_off(a)), Decimal(0))


def _denied_amount(adjustments: Iterable[Any]) -> Decimal:
    """What the payer refused (``rcm.claims.domain.adjudication.is_refusal``), as opposed to the
    contractual write-off and the patient's share."""
    return sum((a.amount for a in adjustments if is_refusal(a.group.value, a.carc, a.amount)), Decimal(0))


def remit_outcome(e: RemitReceived) -> ClaimState:
    """Where a claim stands after its remit, as the one part of its adjudication
    (``rcm.claims.domain.adjudication.outcome``).

    A claim the payer processed but paid nothing on because the patient owes it all
    (deductible, copay, coinsurance) is adjudicated and paid at zero, not denied;
    a line is denied only when the payer refused an amount beyond the contractual write-off
    (CO-45, CO-253 sequestration...: ``rcm.claims.domain.adjudication.written_off``).
    """
    return outcome((remit_part(e),)) or ClaimState.PENDED


def _line_keys(e: RemitReceived, draft: ClaimDraft | None) -> list[str]:
    """The claim's line key of each remit line: the one the payer echoed (REF*6R), else the
    first of the claim's lines not yet named with the same code, else one of its own."""
    keys: list[str] = []
    for i, line in enumerate(e.lines):
        if line.line_key:
            keys.append(line.line_key)
            continue
        claimed = draft.lines if draft is not None else ()
        same = (c.line_key for c in claimed if c.code == line.procedure_code and c.line_key not in keys)
        keys.append(next(same, f"{line.procedure_code}#{i + 1}"))
    return keys


def remit_part(e: RemitReceived, draft: ClaimDraft | None = None) -> RemitPart:
    """The remit as one part of the claim's adjudication (``rcm.claims.domain.adjudication``);
    ``draft``: the claim, whose line keys name the remit lines the payer did not key."""
    lines = tuple(
        AdjudicatedLine(
            line_key=key,
            paid=line.paid,
            patient_responsibility=sum(
                (a.amount for a in line.adjustments if a.group.value == "PR"), Decimal(0)
            ),
            contractual=sum((a.amount for a in line.adjustments if _written_off(a)), Decimal(0)),
            refused=_denied_amount(line.adjustments),
        )
        for key, line in zip(_line_keys(e, draft), e.lines, strict=True)
    )
    return RemitPart(
        remit_id=e.remit_id,
        status=e.status.value,
        payer_claim_number=e.payer_claim_number,
        paid=e.paid,
        patient_responsibility=e.patient_responsibility,
        contractual=contract_write_off(e),
        refused=_denied_amount(e.claim_adjustments),
        lines=lines,
    )


_INSERT_ELIGIBILITY = pg_insert(eligibility).on_conflict_do_nothing()

_SETTLED = TERMINAL_STATES | {ClaimState.WRITTEN_OFF}
"""States after which a voided or corrected session leaves a claim alone."""


def _carried(row: Any) -> PriorAdjudication | None:
    """The prior adjudication a claim carried (a next payer's claim): the payers before its own,
    which go on to the payer after it (a tertiary claim names them all)."""
    return PriorAdjudication.model_validate(row.cob) if row.cob else None


async def _next_payer_claimed(conn: AsyncConnection, row: Any) -> bool:
    """Whether a later payer's claim was made for the session of the claim ``row``."""
    later = sa.select(claim.c.claim_id).where(
        claim.c.session_id == row.session_id, claim.c.payer_order > row.payer_order
    )
    return await conn.scalar(later.limit(1)) is not None


async def _latest_claim(conn: AsyncConnection, session_id: str, payer_order: int, *, lock: bool) -> Any:
    """The latest revision of the session's claim to the payer of ``payer_order`` (a void
    included: the caller decides), locked when ``lock``; None when there is none."""
    query = (
        sa.select(claim)
        .where(claim.c.session_id == session_id, claim.c.payer_order == payer_order)
        .order_by(claim.c.revision.desc())
        .limit(1)
    )
    return (await conn.execute(query.with_for_update() if lock else query)).first()


_NOT_YET_SENT = frozenset({ClaimState.CREATED, ClaimState.HELD, ClaimState.READY, ClaimState.REJECTED})
"""States of a claim no payer has yet: a change to it is made in place."""

_PRIOR_PENDED = (
    "the prior payer's claim is pended (its adjudication reversed, or more information asked): "
    "this claim waits for its new adjudication"
)


def _held_for_prior(row: Any) -> bool:
    return any(h.get("message") == _PRIOR_PENDED for h in row.hold_reasons or [])


_REMIT_PAYER_ORDER = {
    ClaimPaymentStatus.PROCESSED_PRIMARY: 1,
    ClaimPaymentStatus.PROCESSED_PRIMARY_FORWARDED: 1,
    ClaimPaymentStatus.PROCESSED_SECONDARY: 2,
    ClaimPaymentStatus.PROCESSED_SECONDARY_FORWARDED: 2,
    ClaimPaymentStatus.PROCESSED_TERTIARY: 3,
    ClaimPaymentStatus.PROCESSED_TERTIARY_FORWARDED: 3,
}
"""Which payer in the coordination of benefits adjudicated, by CLP02 (none for 4, 22, 23, 25)."""

_REVERSIBLE = frozenset(
    {
        ClaimState.PAID,
        ClaimState.PARTIALLY_PAID,
        ClaimState.DENIED,
        ClaimState.WRITTEN_OFF,
        *FINALIZED_STATES,
    }
)
"""States whose adjudication a reversal (CLP02 22) takes back: the claim goes to pended."""


@dataclass(slots=True)
class Waiting:
    """The session cannot be claimed until reference data arrives."""

    reason: str


@dataclass(slots=True)
class Assembled:
    """A claim draft with what its edits look at."""

    draft: ClaimDraft
    rules: PayerRules
    providers: tuple[Provider, ...]
    coverages: tuple[Coverage, ...]
    history: tuple[BilledService, ...] = ()
    """The patient's other claimed services, as read for coding (the edits look at them too)."""
    authorizations: tuple[Any, ...] = ()
    """The patient's authorizations, as read for building the claim."""
    extra: dict[str, Any] = field(default_factory=dict)


def _line_rows(draft: ClaimDraft) -> list[dict[str, Any]]:
    """The draft's lines as claim_line rows."""
    return [
        {
            "claim_id": draft.claim_key,
            "line_number": line.line_number,
            "line_key": line.line_key,
            "procedure_code": line.code,
            "modifiers": list(line.modifiers),
            "units": line.units,
            "place_of_service": line.place_of_service,
            "charge": line.charge,
            "rule": line.rule,
        }
        for line in draft.lines
    ]


def _now() -> datetime:
    return datetime.now(UTC)


_EVENT_IDS = uuid.UUID("0b6c4f3e-8f0a-4d55-9a1c-2f7d3b9e6a10")


def _event_id(*parts: str) -> str:
    """A deterministic event id: publishing the same answer to the same request twice gives one id."""
    return f"evt-{uuid.uuid5(_EVENT_IDS, '|'.join(parts)).hex[:24]}"


def _not_billed(
    tx: Transaction, s: Session, result: NotBillable, *, cause: Delivered[Any] | None, session_revision: int
) -> None:
    """Tell the practice a session yields no claim, and why (once per revision of the session)."""
    tx.publish(
        SessionNotBilled(
            session_id=s.session_id,
            patient_id=s.patient_id,
            rendering_provider_id=s.rendering_provider_id,
            reason=NotBilledReason(result.reason.value),
            message=result.message[:300],
            decided_at=_now(),
        ),
        cause=cause,
        event_id=_event_id(s.session_id, "not-billed", str(session_revision)),
    )


_RECHECKS_PATIENT = (PatientUpdated, CoverageUpdated, CoverageChanged, EligibilityChecked)
"""Events that re-run the edits of one patient's waiting sessions and held claims, for which
the batch reads at its start which patients have any. (Authorization events re-check too, but
query each time: the authorization timer holds claims in transactions of its own, and an
authorization arriving in the same batch must find them.)"""


def _holds(bodies: list[dict[str, Any]], coverage_id: str) -> bool:
    return any(body.get("coverage_id") == coverage_id for body in bodies)


_SHARED_EVENTS = (OrganizationUpdated, ProviderUpdated, PayerUpdated, FeeScheduleUpdated)
"""Events that change the shared references (``SharedReferences``)."""

_ANSWERS = (AuthorizationConsumed, AuthorizationAlert)
"""The authorizations service's answers for a session. They change the patient's authorizations
(visits left) and the session's answer, nothing else the batch read for the patient; the batch's
read step reads for their patients and sessions what it reads for its sessions."""

_REWRITES_CLAIMS = (
    SessionVoided,
    SessionCorrected,
    ClaimCorrectionRequested,
    ClaimVoidRequested,
    ClaimWriteOffRequested,
    SecondaryClaimRequested,
)
"""Events that change sessions (and claims, through ``rcm.claims.lifecycle``, which drops the
batch's copy of each claim row it writes)."""


def _forgetting(handler: Any) -> Any:
    """``handler``, around which the batch's reads forget what the event may change: the event's
    patient and session before it runs, keeping only whether the patient has anything to re-check
    (the event's own writes before its re-check do not change that; a claim moved or a session
    set waiting forgets it). Nothing forgotten is read into the batch's rows again, so nothing
    needs forgetting after. A session-completed writes only the session and its claims, which
    forget their own rows."""

    async def run(tx: Transaction, d: Delivered[Any]) -> None:
        reads = reads_of(tx)
        event = d.event
        if not isinstance(event, SessionCompleted) or received_pending(tx, event.patient_id):
            await flush_received(tx)  # the batch's new sessions and claims, written first
        if not isinstance(event, RemitReceived):
            await flush_moves(tx)  # the claims remits moved earlier in the batch, written first
        if reads is None:
            await handler(tx, d)
            return
        if isinstance(event, _REWRITES_CLAIMS):
            # they take back, replace or re-code claims and sessions; every write of a claim row
            # goes through ``rcm.claims.lifecycle``, which drops the batch's copy of that claim (the
            # other claims the remits named stay read), but the sessions' states are read again
            forget_session_states(tx)
        if isinstance(event, SessionCompleted | RemitReceived):
            await handler(tx, d)  # their writes are claims and sessions: they forget for themselves
            return
        patient_id = getattr(event, "patient_id", None)
        session_id = getattr(event, "session_id", None)
        shared = isinstance(event, _SHARED_EVENTS)
        if isinstance(event, CoverageUpdated):
            # a coverage may move to another patient: its former holder's coverages change too
            for holder in [p for p, bodies in reads.coverages.items() if _holds(bodies, event.coverage_id)]:
                reads.forget(holder)
        if patient_id and isinstance(event, _ANSWERS):
            reads.authorizations.pop(patient_id, None)
        elif patient_id:
            quiet = patient_id in reads.quiet
            reads.forget(patient_id)
            if quiet:
                reads.quiet.add(patient_id)
        if session_id:
            reads.forget_session(session_id)
        if shared:
            reads.shared_synced = False
        await handler(tx, d)
        if shared:
            reads.shared_synced = False

    return run


class ClaimsHandlers:
    """The claims service's event handlers; ``dispatcher()`` is the consumer's batch handler."""

    def __init__(self, metrics: ClaimsMetrics, *, auth_wait: timedelta, submitter_id: str) -> None:
        self.metrics = metrics
        self.auth_wait = auth_wait
        self.submitter_id = submitter_id
        self.shared = SharedReferences()

    def dispatcher(self) -> BatchHandler[Any]:
        handlers: dict[type, Any] = {
            OrganizationUpdated: self.on_organization,
            PatientUpdated: self.on_patient,
            CoverageUpdated: self.on_coverage,
            ProviderUpdated: self.on_provider,
            PayerUpdated: self.on_payer,
            FeeScheduleUpdated: self.on_fee_schedule,
            EligibilityChecked: self.on_eligibility,
            AuthorizationReceived: self.on_authorization,
            AuthorizationConsumed: self.on_authorization_consumed,
            AuthorizationAlert: self.on_authorization_alert,
            AuthorizationReleased: self.on_authorization_released,
            CoverageChanged: self.on_coverage_changed,
            SessionCompleted: self.on_session,
            SessionCorrected: self.on_session_corrected,
            SessionVoided: self.on_session_voided,
            RemitReceived: self.on_remit,
            ClaimCorrectionRequested: self.on_correction,
            ClaimVoidRequested: self.on_void,
            ClaimWriteOffRequested: self.on_write_off,
            SecondaryClaimRequested: self.on_secondary_requested,
        }
        apply = dispatch({kind: _forgetting(h) for kind, h in handlers.items()}, prepare=self.prepare)

        async def handle(tx: Transaction, events: list[Delivered[Any]]) -> None:
            await apply(tx, events)
            await flush_received(tx)  # the batch's last new sessions and claims
            await flush_moves(tx)  # the batch's last remits' moves, one statement

        return handle

    async def prepare(self, tx: Transaction, events: list[Delivered[Any]]) -> None:
        """Read for the whole batch what its sessions' coding and its reference changes' re-checks
        read per patient (see ``rcm.claims.reads``)."""
        reads = tx.memo_of(BatchReads)
        sessions = [d.event for d in events if isinstance(d.event, (SessionCompleted, *_ANSWERS))]
        if sessions:
            await reads.load_sessions(
                tx.conn,
                [e.patient_id for e in sessions],
                [e.session_id for e in sessions if e.session_id is not None],
            )
        rechecked = [d.event.patient_id for d in events if isinstance(d.event, _RECHECKS_PATIENT)]
        if rechecked:
            await reads.load_quiet(tx.conn, rechecked)
        remits = [d.event for d in events if isinstance(d.event, RemitReceived)]
        if remits:
            await reads.load_remits(tx, [e.claim_id for e in remits], [e.patient_id for e in remits])
            await load_parts(tx, [e.claim_id for e in remits])

    # ------------------------------------------------------------------ reference projections

    async def _reference(
        self, tx: Transaction, d: Delivered[Any], kind: str, entity_id: str, *, patient_id: str | None = None
    ) -> None:
        event = d.event
        await upsert_reference(
            tx.conn,
            kind=kind,
            entity_id=entity_id,
            body=event.model_dump(mode="json"),
            updated_at=event.updated_at,
            deleted=event.deleted,
            patient_id=patient_id,
        )

    async def on_organization(self, tx: Transaction, d: Delivered[OrganizationUpdated]) -> None:
        await self._reference(tx, d, "organization", d.event.organization_id)
        await self.recheck(tx, d, where=claim.c.organization_id == d.event.organization_id)

    async def on_patient(self, tx: Transaction, d: Delivered[PatientUpdated]) -> None:
        await self._reference(tx, d, "patient", d.event.patient_id, patient_id=d.event.patient_id)
        await self.recheck(tx, d, patient_id=d.event.patient_id)

    async def on_coverage(self, tx: Transaction, d: Delivered[CoverageUpdated]) -> None:
        await self._reference(tx, d, "coverage", d.event.coverage_id, patient_id=d.event.patient_id)
        await self.recheck(tx, d, patient_id=d.event.patient_id)
        await self._pending_next_payers(tx, d.event, d)

    async def on_provider(self, tx: Transaction, d: Delivered[ProviderUpdated]) -> None:
        await self._reference(tx, d, "provider", d.event.provider_id)
        await self.recheck(tx, d, where=claim.c.rendering_provider_id == d.event.provider_id)

    async def on_payer(self, tx: Transaction, d: Delivered[PayerUpdated]) -> None:
        await self._reference(tx, d, "payer", d.event.payer_id)
        await self.recheck(tx, d, where=claim.c.payer_id == d.event.payer_id)

    async def on_fee_schedule(self, tx: Transaction, d: Delivered[FeeScheduleUpdated]) -> None:
        await self._reference(tx, d, "fee_schedule", d.event.fee_schedule_id)
        await self.recheck(tx, d, where=claim.c.organization_id == d.event.organization_id)

    async def on_coverage_changed(self, tx: Transaction, d: Delivered[CoverageChanged]) -> None:
        """Eligibility found the coverage differs from the one on file (terminated, another payer first...).

        The edits of the patient's held claims and of the coverage's claims not yet in a batch run
        again: a held claim may now pass, a ready one is held before it goes to a payer that would
        deny it. The eligibility-checked that found the change travels with it; whichever arrives
        second sees both.
        """
        e = d.event
        await self.recheck(tx, d, patient_id=e.patient_id, ready_coverage=e.coverage_id)

    async def on_eligibility(self, tx: Transaction, d: Delivered[EligibilityChecked]) -> None:
        e = d.event
        body = e.model_dump(mode="json")
        row = {"check_id": e.check_id, "patient_id": e.patient_id, "coverage_id": e.coverage_id, "body": body}
        reads = reads_of(tx)
        if reads is None:
            await tx.conn.execute(_INSERT_ELIGIBILITY, row)
        else:  # written with the batch, one statement; the batch's reads of the table see it
            tx.insert_later(_INSERT_ELIGIBILITY, row)
            reads.queued_eligibility.setdefault(e.patient_id, {})[e.check_id] = body
        await self.recheck(tx, d, patient_id=e.patient_id, ready_coverage=e.coverage_id)

    async def on_authorization(self, tx: Transaction, d: Delivered[AuthorizationReceived]) -> None:
        e = d.event
        stmt = pg_insert(authorization).values(
            authorization_id=e.authorization_id,
            patient_id=e.patient_id,
            body=e.model_dump(mode="json"),
            remaining=None,
        )
        await tx.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[authorization.c.authorization_id], set_={"body": stmt.excluded.body}
            )
        )
        await self.recheck(tx, d, patient_id=e.patient_id)

    async def on_authorization_consumed(self, tx: Transaction, d: Delivered[AuthorizationConsumed]) -> None:
        e = d.event
        await self._remaining(tx, e.authorization_id, e.remaining, e.consumed_at)
        await self._answer(
            tx, e.session_id, authorization_id=e.authorization_id, consumed=e.consumed, alert=None
        )
        await self._answered(tx, d, e.session_id)

    async def on_authorization_alert(self, tx: Transaction, d: Delivered[AuthorizationAlert]) -> None:
        e = d.event
        if e.session_id is None or e.kind not in (AlertKind.MISSING, AlertKind.EXHAUSTED, AlertKind.EXPIRED):
            return  # low/expiring alerts are for people; the claim is still covered
        await self._answer(
            tx, e.session_id, authorization_id=e.authorization_id, consumed=0, alert=e.kind.value
        )
        await self._answered(tx, d, e.session_id)

    async def on_authorization_released(self, tx: Transaction, d: Delivered[AuthorizationReleased]) -> None:
        """Visits given back (a voided or re-coded session, a denied claim): claims held for want of them may pass."""
        e = d.event
        await self._remaining(tx, e.authorization_id, e.remaining, e.released_at)
        if e.session_id is not None:
            # what the session itself used shrinks by what was given back
            await tx.conn.execute(
                sa.update(auth_answer)
                .where(
                    auth_answer.c.session_id == e.session_id,
                    auth_answer.c.authorization_id == e.authorization_id,
                )
                .values(consumed=sa.func.greatest(auth_answer.c.consumed - e.released, 0))
            )
        await self.recheck(tx, d, patient_id=e.patient_id)

    @staticmethod
    async def _remaining(tx: Transaction, authorization_id: str, remaining: int, as_of: datetime) -> None:
        """The visits left, as the authorizations service counted them at ``as_of``. Consumed
        and released counts travel on different topics, so one may arrive after a newer one:
        an older count never replaces a newer."""
        await tx.conn.execute(
            sa.update(authorization)
            .where(
                authorization.c.authorization_id == authorization_id,
                sa.or_(authorization.c.remaining_as_of.is_(None), authorization.c.remaining_as_of <= as_of),
            )
            .values(remaining=remaining, remaining_as_of=as_of)
        )

    async def _answer(
        self,
        tx: Transaction,
        session_id: str,
        *,
        authorization_id: str | None,
        consumed: int,
        alert: str | None,
    ) -> None:
        stmt = pg_insert(auth_answer).values(
            session_id=session_id,
            authorization_id=authorization_id,
            consumed=consumed,
            alert_kind=alert,
            answered_at=_now(),
        )
        stored = (
            await tx.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[auth_answer.c.session_id],
                    set_={
                        "authorization_id": stmt.excluded.authorization_id,
                        "consumed": stmt.excluded.consumed,
                        "alert_kind": stmt.excluded.alert_kind,
                        "answered_at": stmt.excluded.answered_at,
                    },
                ).returning(*auth_answer.c)
            )
        ).one()
        reads = reads_of(tx)
        if reads is not None:  # the batch's reads of the answer take the row as written
            reads.answers[session_id] = stored

    async def _answered(self, tx: Transaction, d: Delivered[Any], session_id: str) -> None:
        rows = (
            await tx.conn.execute(
                sa.select(claim)
                .where(
                    claim.c.session_id == session_id,
                    claim.c.state.in_([ClaimState.CREATED.value, ClaimState.HELD.value]),
                )
                .with_for_update()
            )
        ).all()
        for row in rows:
            await self.evaluate(tx, row, cause=d, reason="authorizations service answered")

    # ------------------------------------------------------------------ sessions

    async def on_session(self, tx: Transaction, d: Delivered[SessionCompleted]) -> None:
        await self.claim_session(tx, ad.session_of(d.event), cause=d, received=True)

    async def on_session_voided(self, tx: Transaction, d: Delivered[SessionVoided]) -> None:
        """A session recorded in error is not billed: its claims are taken back.

        A claim no payer has is voided here; one a payer has gets a void (frequency 8) with the
        payer's claim number; one in flight is taken back once its acknowledgement or remit names
        it. A voided session that was never received keeps a row, so a late session-completed
        (another topic) claims nothing.
        """
        e = d.event
        stmt = pg_insert(session).values(
            session_id=e.session_id,
            patient_id=e.patient_id,
            body={},
            status="voided",
            reason=(e.reason or "session voided")[:300],
            received_at=_now(),
        )
        await tx.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[session.c.session_id],
                set_={"status": stmt.excluded.status, "reason": stmt.excluded.reason},
            )
        )
        await self.reconcile(tx, e.session_id, cause=d)

    async def on_session_corrected(self, tx: Transaction, d: Delivered[SessionCorrected]) -> None:
        """The session's facts changed: its claim is coded again from them.

        No claim yet (waiting, not billable): the corrected session is claimed. A claim no payer
        has is voided and the session's new claim coded; one a payer has is replaced (frequency 7
        with REF*F8, or a void and a new original where the payer wants that); one in flight is
        replaced once its acknowledgement or remit names the payer's claim number. A correction
        of a voided session, or one no newer than the facts on file, changes nothing.
        """
        e = d.event
        corrected = ad.session_of(e)
        body = corrected.model_dump(mode="json")
        current = (
            await tx.conn.execute(
                sa.select(session.c.status, session.c.revision)
                .where(session.c.session_id == e.session_id)
                .with_for_update()
            )
        ).first()
        if current is None:  # the correction overtook the session itself (another topic)
            await tx.conn.execute(
                session.insert().values(
                    session_id=e.session_id,
                    patient_id=e.patient_id,
                    body=body,
                    status="received",
                    received_at=_now(),
                    revision=e.revision,
                )
            )
        elif current.status == "voided" or current.revision >= e.revision:
            log.info("session correction not applied: the session is %s", current.status)
            return
        else:
            await tx.conn.execute(
                sa.update(session)
                .where(session.c.session_id == e.session_id)
                .values(body=body, revision=e.revision)
            )
        if current is None or current.status != "claimed":
            await self.claim_session(tx, corrected, cause=d, session_revision=e.revision, revision=None)
            return
        await self.reconcile(tx, e.session_id, cause=d)

    # ------------------------------------------------------------------ voided and corrected sessions

    async def after_acknowledgement(self, tx: Transaction, row: Any) -> None:
        """An acknowledged claim whose session was voided or corrected meanwhile is taken back now;
        a next payer's claim the prior payer adjudicated again while it was on its way gets the
        replacement that was due (``_send_cob_due``)."""
        if row.frequency_code == FrequencyCode.VOID.value:
            return
        current = await session_state(tx, row.session_id)
        if current is not None and moved_on(row, *current):
            await self.reconcile(tx, row.session_id, cause=None)
        if row.cob_due is not None:
            await self._send_cob_due(tx, row.claim_id)

    async def _send_cob_due(self, tx: Transaction, claim_id: str) -> None:
        """The acknowledgement of a claim with a prior adjudication due: accepted with the payer's
        claim number, a replacement (7) carries it; rejected (a new submission will follow), the
        claim takes it in place; still waiting for its number (a 999 acceptance), it waits on."""
        if moves_pending(tx, claim_id):
            await flush_moves(tx)
        row = await self._row(tx.conn, claim_id)
        if row.cob_due is None:
            return
        state = ClaimState(row.state)
        why = "the prior payer adjudicated the claim again while it was on its way"
        if state in _NOT_YET_SENT:
            await update_claim(tx, claim_id, cob=row.cob_due, cob_due=None, updated_at=_now())
            return
        if state in (ClaimState.CORRECTED, ClaimState.VOIDED, ClaimState.WRITTEN_OFF):
            await update_claim(tx, claim_id, cob_due=None, updated_at=_now())  # nothing to replace
            return
        if row.payer_claim_number is None:
            return
        due = row.cob_due
        await update_claim(tx, claim_id, cob_due=None, updated_at=_now())
        await self._replace_with_cob(tx, claim_id, due, why=why, cause=None)

    async def _replace_with_cob(
        self, tx: Transaction, claim_id: str, cob: dict[str, Any], *, why: str, cause: Delivered[Any] | None
    ) -> None:
        """A replacement (7) of a next payer's claim at its payer, with 2320/2430 rebuilt from ``cob``."""
        await self.correct(
            tx,
            claim_id,
            changes=[ClaimChange(action="rebuild_cob")],
            method=CorrectionMethod.REPLACEMENT,
            payer_claim_number=None,
            cause=cause,
            actor="claims",
            why=why,
            cob=cob,
        )

    async def reconcile(self, tx: Transaction, session_id: str, *, cause: Delivered[Any] | None) -> None:
        """Bring the session's live claims in line with its voiding or with its latest correction.

        A voided session takes back every claim of the session (each payer's); a corrected one
        re-codes the primary payer's claim (the next payer's claim follows the new remit).
        """
        reads = reads_of(tx)
        if reads is not None:  # claims and sessions change here in more ways than one
            reads.claims.clear()
        forget_session_states(tx)
        current = (
            await tx.conn.execute(
                sa.select(session.c.status, session.c.revision, session.c.body).where(
                    session.c.session_id == session_id
                )
            )
        ).first()
        if current is None or (current.status != "voided" and current.revision == 0):
            return
        voided = current.status == "voided"
        query = sa.select(claim).where(
            claim.c.session_id == session_id,
            claim.c.frequency_code != FrequencyCode.VOID.value,
            claim.c.state.not_in([s.value for s in _SETTLED]),
        )
        if not voided:
            query = query.where(claim.c.payer_order == 1, claim.c.session_revision < current.revision)
        rows = (
            await tx.conn.execute(
                query.order_by(claim.c.payer_order.desc(), claim.c.revision).with_for_update()
            )
        ).all()
        for row in rows:
            if voided:
                await self._withdraw(tx, row, cause=cause, why="session voided")
            else:
                s = Session.model_validate(current.body)
                await self._recode(tx, row, s, session_revision=current.revision, cause=cause)

    async def _withdraw(self, tx: Transaction, row: Any, *, cause: Delivered[Any] | None, why: str) -> None:
        """Take back a claim whose session is not to be billed (see :class:`Withdrawal`)."""
        match withdrawal(ClaimState(row.state), row.frequency_code, row.payer_claim_number):
            case Withdrawal.CANCEL:
                await move(
                    tx, row, ClaimState.VOIDED, reason=f"{why}: never reached a payer", at=_now(), cause=cause
                )
            case Withdrawal.VOID:
                await self.correct(
                    tx,
                    row.claim_id,
                    changes=[],
                    method=None,
                    payer_claim_number=None,
                    cause=cause,
                    actor="claims",
                    why=why,
                )
            case Withdrawal.WAIT:
                log.info(
                    "claim %s is in flight: taken back once its acknowledgement or remit arrives", row.state
                )

    async def _recode(
        self, tx: Transaction, row: Any, s: Session, *, session_revision: int, cause: Delivered[Any] | None
    ) -> None:
        """Code the corrected session again: a new claim in place of ``row`` (see ``on_session_corrected``)."""
        state = ClaimState(row.state)
        at_payer = payer_holds(state, row.frequency_code)
        if withdrawal(state, row.frequency_code, row.payer_claim_number) is Withdrawal.WAIT:
            log.info("claim %s is in flight: re-coded once its acknowledgement or remit arrives", row.state)
            return
        built = await self.assemble(tx.conn, s, coverage_id=row.coverage_id)
        if isinstance(built, NotBillable):
            await tx.conn.execute(
                sa.update(session)
                .where(session.c.session_id == row.session_id)
                .values(status="not_billable", reason=built.message[:300])
            )
            _not_billed(tx, s, built, cause=cause, session_revision=session_revision)
            await self._withdraw(tx, row, cause=cause, why="corrected session not billable")
            return
        if isinstance(built, Waiting):
            if not at_payer:  # re-tried when the reference data arrives and the held claim is checked again
                reason = HoldReason(code=_H.OTHER, message=f"corrected session: {built.reason}"[:300])
                await self.hold(tx, row, [reason], cause=cause, reason="corrected session waits", at=_now())
            else:
                log.info("corrected session waits for reference data; the payer keeps the claim it has")
            return
        payer = (await references(tx.conn, "payer", ids=[row.payer_id]) or [{}])[0]
        if at_payer and (payer.get("rules") or {}).get("corrected_claim_method") == "void_and_rebill":
            await self._withdraw(tx, row, cause=cause, why="session corrected (void and rebill)")
            at_payer, superseded = False, True
        else:
            superseded = False
        revision = await self._next_revision(tx.conn, row)
        key = claim_key(row.session_id, payer_order=row.payer_order, revision=revision)
        draft = rekeyed(built.draft, key)
        # a replacement not sent yet (or rejected) never reached the payer: it is withdrawn here,
        # and the re-coded claim replaces the original the payer kept, under the REF*F8 it carried
        unsent = at_payer and ClaimState.CORRECTED not in ALLOWED_TRANSITIONS[state]
        if at_payer:
            number = (row.draft.get("payer_claim_number") if unsent else None) or row.payer_claim_number
            draft = draft.model_copy(
                update={"frequency_code": FrequencyCode.REPLACEMENT, "payer_claim_number": number}
            )
        now = _now()
        await tx.conn.execute(
            pg_insert(claim).values(
                **self._claim_columns(
                    draft,
                    now=now,
                    organization_id=row.organization_id,
                    revision=revision,
                    replaces=row.claim_id,
                    session_revision=session_revision,
                )
            )
        )
        await self._created(
            tx,
            draft,
            organization_id=row.organization_id,
            now=now,
            cause=cause,
            why="session-corrected",
            replaces=row.claim_id,
        )
        if not superseded:
            if at_payer and not unsent:
                target, why = ClaimState.CORRECTED, f"replaced by {key}"
            elif unsent:
                target, why = ClaimState.VOIDED, f"withdrawn before it was sent; {key} replaces the original"
            else:
                target, why = ClaimState.VOIDED, f"re-coded as {key}"
            await move(tx, row, target, reason=f"session corrected: {why}", at=now, cause=cause)
        await self.evaluate(
            tx,
            await self._row(tx.conn, key),
            cause=cause,
            reason="corrected session scrubbed",
            recode=False,
            assembled=dataclasses.replace(built, draft=draft),
        )

    async def claim_session(
        self,
        tx: Transaction,
        s: Session,
        *,
        cause: Delivered[Any] | None,
        session_revision: int = 0,
        revision: int | None = 0,
        received: bool = False,
    ) -> None:
        """Code the session and create its claim (``revision`` None: after the session's earlier claims).

        ``received``: the session has just arrived and has no row yet; it is written with the
        outcome of its coding, and a session received before (a redelivery) claims nothing.
        """
        assembled = await self.assemble(tx.conn, s, reads=reads_of(tx))
        if isinstance(assembled, Waiting | NotBillable):
            status = "not_billable" if isinstance(assembled, NotBillable) else "waiting"
            reason = assembled.message if isinstance(assembled, NotBillable) else assembled.reason
            if received:
                if await self._receive(tx, s, status=status, reason=reason[:300]) is None:
                    return
            else:
                await tx.conn.execute(
                    sa.update(session)
                    .where(session.c.session_id == s.session_id)
                    .values(status=status, reason=reason[:300])
                )
            forget_patient(tx, s.patient_id)
            forget_session_state(tx, s.session_id)
            log.info("session not claimed: %s", status)
            if isinstance(assembled, NotBillable):
                _not_billed(tx, s, assembled, cause=cause, session_revision=session_revision)
            return
        if revision is None:
            latest = await tx.conn.scalar(
                sa.select(sa.func.max(claim.c.revision)).where(
                    claim.c.session_id == s.session_id, claim.c.payer_order == 1
                )
            )
            revision = 0 if latest is None else latest + 1
        if revision:  # the session's earlier claims were voided: a new original under its own key
            key = claim_key(s.session_id, payer_order=assembled.draft.payer_order.rank, revision=revision)
            assembled = dataclasses.replace(assembled, draft=rekeyed(assembled.draft, key))
        draft = assembled.draft
        now = _now()
        if received:
            await self._claim_received(tx, s, assembled, cause=cause, now=now)
            return
        inserted = await tx.conn.execute(
            pg_insert(claim)
            .values(
                **self._claim_columns(
                    draft,
                    now=now,
                    organization_id=s.organization_id,
                    session_revision=session_revision,
                    revision=revision,
                )
            )
            .on_conflict_do_nothing()
            .returning(*claim.c)
        )
        revision_now = await tx.conn.scalar(
            sa.update(session)
            .where(session.c.session_id == s.session_id)
            .values(status="claimed", reason=None)
            .returning(session.c.revision)
        )
        forget_session_state(tx, s.session_id)
        row = inserted.first()
        if row is None:
            return  # the same claim key exists: a redelivered session
        await self._created(
            tx, draft, organization_id=s.organization_id, now=now, cause=cause, why="session-completed"
        )
        await self.evaluate(
            tx,
            row,
            cause=cause,
            reason="scrubbed after coding",
            assembled=assembled,
            session_state=None if revision_now is None else ("claimed", revision_now),
        )

    async def _claim_received(
        self,
        tx: Transaction,
        s: Session,
        assembled: Assembled,
        *,
        cause: Delivered[Any] | None,
        now: datetime,
    ) -> None:
        """Claim a session just received: its row, then its claim, written once each with their
        outcome (the claim's first evaluation moves the row before it is inserted)."""
        revision = await self._receive(tx, s, status="claimed", reason=None)
        if revision is None:
            return
        forget_session_state(tx, s.session_id)
        draft = assembled.draft
        row = defer_insert(
            tx, self._claim_columns(draft, now=now, organization_id=s.organization_id, session_revision=0)
        )
        forget_patient(tx, draft.patient_id)
        self._announce_created(
            tx, draft, organization_id=s.organization_id, now=now, cause=cause, why="session-completed"
        )
        await self.evaluate(
            tx,
            row,
            cause=cause,
            reason="scrubbed after coding",
            assembled=assembled,
            session_state=("claimed", revision),
        )
        if not claim_later(tx, s.session_id, draft.claim_key, _line_rows(draft)):
            await insert_deferred(tx, draft.claim_key)
            await self._write_lines(tx.conn, draft, fresh=True)
        forget_patient(tx, draft.patient_id)  # nothing read meanwhile may stand without the claim

    @staticmethod
    async def _receive(tx: Transaction, s: Session, *, status: str, reason: str | None) -> int | None:
        """Write a session just received with its status; its revision, or None when it was
        received before (a redelivered session-completed: no second claim). In a consumer batch
        whose reads know the session, a new one is queued and written with the batch's others."""
        row = {
            "session_id": s.session_id,
            "patient_id": s.patient_id,
            "body": s.model_dump(mode="json"),
            "status": status,
            "reason": reason,
            "received_at": _now(),
        }
        reads = reads_of(tx)
        if reads is not None and s.session_id in reads.on_file:
            if reads.on_file[s.session_id]:
                log.info("session already received; no second claim")
                return None
            reads.on_file[s.session_id] = True
            receive_later(tx, row)
            return 0  # the column's default
        revision = await tx.conn.scalar(
            pg_insert(session).values(**row).on_conflict_do_nothing().returning(session.c.revision)
        )
        if revision is None:
            log.info("session already received; no second claim")
        return revision

    def _claim_columns(
        self,
        draft: ClaimDraft,
        *,
        now: datetime,
        organization_id: str | None,
        revision: int = 0,
        replaces: str | None = None,
        cob: dict[str, Any] | None = None,
        session_revision: int = 0,
    ) -> dict[str, Any]:
        return {
            "claim_id": draft.claim_key,
            "session_id": draft.session_id,
            "patient_id": draft.patient_id,
            "organization_id": draft.billing.organization_id or organization_id,
            "rendering_provider_id": draft.rendering.provider_id,
            "coverage_id": draft.coverage_id,
            "payer_id": draft.payer_id,
            "payer_order": draft.payer_order.rank,
            "revision": revision,
            "session_revision": session_revision,
            "frequency_code": draft.frequency_code.value,
            "replaces_claim_id": replaces,
            "payer_claim_number": draft.payer_claim_number,
            "state": ClaimState.CREATED.value,
            "draft": draft.model_dump(mode="json"),
            "cob": cob,
            "total_charge": draft.total_charge,
            "submitter_id": self.submitter_id,
            "created_at": now,
            "updated_at": now,
        }

    async def _created(
        self,
        tx: Transaction,
        draft: ClaimDraft,
        *,
        organization_id: str | None,
        now: datetime,
        cause: Delivered[Any] | None,
        why: str,
        replaces: str | None = None,
    ) -> None:
        await self._write_lines(tx.conn, draft, fresh=True)
        forget_patient(tx, draft.patient_id)
        self._announce_created(
            tx, draft, organization_id=organization_id, now=now, cause=cause, why=why, replaces=replaces
        )

    def _announce_created(
        self,
        tx: Transaction,
        draft: ClaimDraft,
        *,
        organization_id: str | None,
        now: datetime,
        cause: Delivered[Any] | None,
        why: str,
        replaces: str | None = None,
    ) -> None:
        """The claim-created event, the created audit row and status event, the metric."""
        tx.publish(
            self._claim_created(draft, organization_id=organization_id, now=now, replaces=replaces),
            cause=cause,
        )
        record_created(
            tx, claim_id=draft.claim_key, patient_id=draft.patient_id, at=now, cause=cause, why=why
        )
        self.metrics.created.inc()

    async def _write_lines(self, conn: AsyncConnection, draft: ClaimDraft, *, fresh: bool = False) -> None:
        """The draft's lines in place of the claim's (``fresh``: a claim created in this transaction,
        which has none yet)."""
        if not fresh:
            await conn.execute(sa.delete(claim_line).where(claim_line.c.claim_id == draft.claim_key))
        await conn.execute(claim_line.insert(), _line_rows(draft))

    @staticmethod
    def _claim_created(
        draft: ClaimDraft, *, organization_id: str | None, now: datetime, replaces: str | None
    ) -> ClaimCreated:
        lines = [
            ClaimLine(
                line_key=line.line_key,
                session_id=draft.session_id,
                service_date=line.date_of_service,
                procedure_code=line.code,
                rendering_provider_id=line.rendering.provider_id if line.rendering else None,
                modifiers=list(line.modifiers),
                units=line.units,
                place_of_service=line.place_of_service,
                charge=line.charge or Decimal("0.00"),
                diagnosis_pointers=list(line.diagnosis_pointers),
                rule=line.rule[:80],
            )
            for line in draft.lines
        ]
        return ClaimCreated(
            claim_id=draft.claim_key,
            patient_id=draft.patient_id,
            organization_id=draft.billing.organization_id or organization_id or draft.billing.entity_id,
            rendering_provider_id=draft.rendering.provider_id,
            supervising_provider_id=draft.supervising.provider_id if draft.supervising else None,
            coverage_id=draft.coverage_id,
            payer_id=draft.payer_id,
            payer_responsibility=draft.payer_order.value,
            frequency_code=draft.frequency_code.value,
            replaces_claim_id=replaces,
            payer_claim_number=draft.payer_claim_number,
            diagnoses=list(draft.diagnoses),
            authorization_number=draft.prior_authorization_number,
            lines=lines,
            total_charge=sum((ln.charge for ln in lines), Decimal("0.00")),
            created_at=now,
        )

    # ------------------------------------------------------------------ assembling and scrubbing

    async def assemble(
        self,
        conn: AsyncConnection,
        s: Session,
        *,
        coverage_id: str | None = None,
        reads: BatchReads | None = None,
    ) -> Assembled | Waiting | NotBillable:
        """Code the session and build its claim from the projections (or say what is missing)."""
        day = s.date_of_service
        coverages = tuple(ad.coverage_of(b) for b in await patient_coverages(conn, reads, s.patient_id))
        if coverage_id is not None:
            billed = next((c for c in coverages if c.coverage_id == coverage_id), None)
        else:
            billed = next(
                (
                    c
                    for c in coverages
                    if c.priority is CoveragePriority.PRIMARY and c.effective.contains(day)
                ),
                None,
            ) or next((c for c in coverages if c.priority is CoveragePriority.PRIMARY), None)
        if billed is None:
            return Waiting("no primary coverage on file for the patient")
        shared = self.shared
        await self._sync_shared(conn, reads)
        if shared.get("payer", billed.payer_id) is None:
            return Waiting(f"payer {billed.payer_id} is not on file")
        rules = self._rules(billed.payer_id)
        providers = self._providers(s.rendering_provider_id, s.supervising_provider_id, day)
        if not providers:
            return Waiting(f"provider {s.rendering_provider_id} is not on file")
        rendering, supervisor = providers[0], (providers[1] if len(providers) > 1 else None)
        entities = shared.derived(
            "billing_entities", lambda: [ad.billing_entity_of(b) for b in shared.all("organization")]
        )
        billing = choose_billing_entity(
            entities,
            state=s.patient_location.state,
            payer_id=billed.payer_id,
            date_of_service=day,
            organization_id=s.organization_id,
        )
        if isinstance(billing, NoBillingEntity):
            return Waiting(billing.message)
        fees = shared.derived(
            ("fees", billing.organization_id, billed.payer_id, day),
            lambda: ad.fee_schedule_for(
                shared.all("fee_schedule"),
                organization_id=billing.organization_id,
                payer_id=billed.payer_id,
                day=day,
            ),
        )
        if fees is None:
            # a claim is never priced at zero: wait for the charge master (or the payer's contract)
            return Waiting(f"no fee schedule in force for {billing.organization_id} on {day}")
        history = await self._history(conn, s.patient_id, exclude_session=s.session_id, reads=reads)
        coded = code_session(
            s, credential=rendering.credential, rules=rules, fee_schedule=fees, same_day=history
        )
        if isinstance(coded, NotBillable):
            return coded
        auths = await self._authorizations(conn, s.patient_id, s.session_id, reads=reads)
        draft = build_claim(
            s,
            coded,
            coverage=billed,
            billing=billing,
            rendering=rendering,
            rules=rules,
            supervisor=supervisor,
            authorizations=auths,
        )
        return Assembled(
            draft=draft,
            rules=rules,
            providers=tuple(providers),
            coverages=coverages,
            history=tuple(history),
            authorizations=tuple(auths),
        )

    def _provider(self, provider_id: str) -> Provider | None:
        """A provider from the shared references (after ``self.shared.sync``)."""
        body = self.shared.get("provider", provider_id)
        if body is None:
            return None
        return self.shared.derived(("provider", provider_id), lambda: ad.provider_of(body))

    def _rules(self, payer_id: str) -> PayerRules:
        """The payer's rules from the shared references (defaults when unknown; after ``sync``)."""
        body = self.shared.get("payer", payer_id)
        return self.shared.derived(("rules", payer_id), lambda: ad.payer_rules_of(body))

    def _providers(self, rendering_id: str, supervisor_id: str | None, day: date) -> list[Provider]:
        rendering = self._provider(rendering_id)
        if rendering is None:
            return []
        wanted = supervisor_id or rendering.supervisor_on(day)
        found = [rendering]
        if wanted:
            sup = self._provider(wanted)
            if sup is not None:
                found.append(sup)
        return found

    async def _sync_shared(self, conn: AsyncConnection, reads: BatchReads | None) -> None:
        """The shared references, checked once per batch (again after an event changed them)."""
        # the copy is the process's: another transaction (the acknowledgement poller, a timer)
        # may have synced it since, without this transaction's own uncommitted writes
        if reads is not None and reads.shared_synced and reads.shared_reloads == self.shared.reloads:
            return
        await self.shared.sync(conn)
        if reads is not None:
            reads.shared_synced, reads.shared_reloads = True, self.shared.reloads

    async def _history(
        self,
        conn: AsyncConnection,
        patient_id: str,
        *,
        exclude_session: str,
        reads: BatchReads | None = None,
    ) -> list[BilledService]:
        dead = [ClaimState.VOIDED.value, ClaimState.CORRECTED.value]
        return [
            BilledService(
                claim_key=r.claim_id,
                patient_id=patient_id,
                rendering_provider_id=r.rendering_provider_id,
                date_of_service=r.draft["date_of_service"],
                code=r.procedure_code,
                modifiers=tuple(r.modifiers),
                units=r.units,
                voided=r.state in dead,
                replaced=r.state == ClaimState.CORRECTED.value,
                session_id=r.session_id,
                payer_id=r.payer_id,
            )
            for r in await patient_history(conn, reads, patient_id)
            if r.session_id != exclude_session
        ]

    async def _authorizations(
        self, conn: AsyncConnection, patient_id: str, session_id: str, *, reads: BatchReads | None = None
    ) -> list[Any]:
        answer = await session_answer(conn, reads, session_id)
        found = []
        for row in await patient_authorizations(conn, reads, patient_id):
            remaining = row.remaining
            if (
                answer is not None
                and answer.authorization_id == row.authorization_id
                and remaining is not None
            ):
                remaining += answer.consumed  # the visits this session used are its own
            if (granted := ad.authorization_of(row.body, remaining=remaining)) is not None:
                found.append(granted)
        return found

    async def _context(
        self,
        conn: AsyncConnection,
        draft: ClaimDraft,
        assembled: Assembled | None,
        *,
        reads: BatchReads | None = None,
    ) -> ScrubContext:
        if assembled is None:
            await self._sync_shared(conn, reads)
            rules = self._rules(draft.payer_id)
            providers = (
                tuple(
                    self._providers(
                        draft.rendering.provider_id,
                        draft.supervising.provider_id if draft.supervising else None,
                        draft.date_of_service,
                    )
                )
                + tuple(  # a line's own clinician (2420A) is checked as the claim's is
                    p for _, c in draft.renderers[1:] if (p := self._provider(c.provider_id)) is not None
                )
            )
            coverages = tuple(
                ad.coverage_of(b) for b in await patient_coverages(conn, reads, draft.patient_id)
            )
        else:
            rules, providers, coverages = assembled.rules, assembled.providers, assembled.coverages
        if assembled is not None:
            authorizations, history = assembled.authorizations, assembled.history
        else:
            authorizations = tuple(
                await self._authorizations(conn, draft.patient_id, draft.session_id, reads=reads)
            )
            history = tuple(
                await self._history(conn, draft.patient_id, exclude_session=draft.session_id, reads=reads)
            )
        checks = [
            ad.eligibility_of(body) for body in await patient_eligibility(conn, reads, draft.patient_id)
        ]
        allowance = any(
            (requirement := rules.auth_requirement(line.code)) is not None and requirement.after_visits > 0
            for line in draft.lines
        )
        return ScrubContext(
            today=_now().date(),
            rules=rules,
            providers=providers,
            coverages=coverages,
            eligibility=tuple(checks),
            authorizations=authorizations,
            history=history,
            prior_visits=await self._prior_visits(conn, draft) if allowance else 0,
            prior_payer_adjudicated=draft.payer_order is not CoveragePriority.PRIMARY,
        )

    @staticmethod
    async def _prior_visits(conn: AsyncConnection, draft: ClaimDraft) -> int:
        """The patient's other sessions billed to this payer in the calendar year of this one
        (as the authorizations service counts them for a payer's 'after N visits' rule)."""
        year = draft.date_of_service.year
        day = claim.c.draft["date_of_service"].astext
        count = await conn.scalar(
            sa.select(sa.func.count(sa.distinct(claim.c.session_id))).where(
                claim.c.patient_id == draft.patient_id,
                claim.c.payer_id == draft.payer_id,
                claim.c.session_id != draft.session_id,
                claim.c.frequency_code == "1",
                claim.c.state.not_in([ClaimState.VOIDED.value]),
                day >= f"{year:04d}-01-01",
                day <= f"{year:04d}-12-31",
            )
        )
        return int(count or 0)

    @staticmethod
    async def _row(conn: AsyncConnection, claim_id: str) -> Any:
        return (
            await conn.execute(sa.select(claim).where(claim.c.claim_id == claim_id).with_for_update())
        ).one()

    async def evaluate(
        self,
        tx: Transaction,
        row: Any,
        *,
        cause: Delivered[Any] | None,
        reason: str,
        recode: bool = True,
        assembled: Assembled | None = None,
        session_state: tuple[str, int] | None = None,
    ) -> None:
        """Run the edits on a created or held claim: wait for the authorization answer, hold, or ready it.

        ``assembled``: the claim was just coded in this transaction from the same projections,
        so it is not coded again. ``session_state``: the session's status and revision as this
        transaction just wrote them (with ``assembled``), so they are not read again.
        """
        now = _now()
        reads = reads_of(tx)
        current = None
        if row.frequency_code != FrequencyCode.VOID.value:
            if session_state is not None and assembled is not None:
                moved = moved_on(row, *session_state)
            else:
                current = (
                    await tx.conn.execute(
                        sa.select(session.c.body, session.c.status, session.c.revision).where(
                            session.c.session_id == row.session_id
                        )
                    )
                ).first()
                moved = current is not None and moved_on(row, current.status, current.revision)
            if moved:
                await self.reconcile(tx, row.session_id, cause=cause)
                return
        draft = assembled.draft if assembled is not None else ClaimDraft.model_validate(row.draft)
        original = row.frequency_code == "1" and row.payer_order == 1 and row.revision == 0
        if recode and original and assembled is None and current is not None:
            built = await self.assemble(
                tx.conn, Session.model_validate(current.body), coverage_id=row.coverage_id, reads=reads
            )
            if isinstance(built, Assembled):
                assembled, draft = built, built.draft
                coded = draft.model_dump(mode="json")
                if coded != row.draft:  # coded as before (the usual case): nothing to rewrite
                    await update_claim(tx, row.claim_id, draft=coded, total_charge=draft.total_charge)
                    await self._write_lines(tx.conn, draft)
                    forget_patient(tx, row.patient_id)
        context = await self._context(tx.conn, draft, assembled, reads=reads)
        if (cob := getattr(row, "cob", None)) is not None:  # a later payer's claim is sent with it
            context = context.model_copy(update={"prior": PriorAdjudication.model_validate(cob)})
        answer = await session_answer(tx.conn, reads, row.session_id)
        # the authorizations service answers only past the payer's visits allowed without one
        needs_auth = original and any(authorization_due(context, line.code) for line in draft.lines)
        state = ClaimState(row.state)
        if needs_auth and answer is None:
            if state is ClaimState.CREATED and row.awaiting_authorization_until is None:
                await update_claim(tx, row.claim_id, awaiting_authorization_until=now + self.auth_wait)
            return
        result = scrub(draft, context)
        reasons = hold_reasons_of(draft, result.holds)
        if row.payer_order > 1 and await self._prior_payer_pended(tx, row):
            reasons.append(HoldReason(code=_H.OTHER, message=_PRIOR_PENDED))
        if needs_auth and answer is not None and answer.alert_kind is not None:
            code = (
                _H.AUTHORIZATION_EXHAUSTED
                if answer.alert_kind == AlertKind.EXHAUSTED.value
                else _H.AUTHORIZATION_MISSING
            )
            reasons.append(
                HoldReason(code=code, message=f"authorizations service: {answer.alert_kind} authorization")
            )
        if reasons:
            await self.hold(tx, row, reasons, cause=cause, reason=reason, at=now)
            return
        # kept with the claim for a person to see (``rcm claims show``) and counted by code
        warnings = [{"code": w.code, "message": w.message, "fix": w.fix} for w in result.warnings]
        if warnings and state in (ClaimState.HELD, ClaimState.CREATED):
            warned = self.metrics.warned

            def count_warnings() -> None:
                for w in warnings:
                    warned.labels(reason=w["code"]).inc()

            tx.after_commit(count_warnings)
        if state is ClaimState.HELD:
            await move(
                tx,
                row,
                ClaimState.READY,
                reason=f"edits pass: {reason}",
                at=now,
                cause=cause,
                hold_reasons=[],
                scrub_warnings=warnings,
                ready_at=now,
                awaiting_authorization_until=None,
            )
            tx.publish(
                ClaimReleased(
                    claim_id=row.claim_id, patient_id=row.patient_id, released_by="claims", released_at=now
                ),
                cause=cause,
            )
            self.metrics.released.inc()
        elif state is ClaimState.CREATED:
            await move(
                tx,
                row,
                ClaimState.READY,
                reason="edits pass",
                at=now,
                cause=cause,
                scrub_warnings=warnings,
                ready_at=now,
                awaiting_authorization_until=None,
            )

    async def hold(
        self,
        tx: Transaction,
        row: Any,
        reasons: list[HoldReason],
        *,
        cause: Delivered[Any] | None,
        reason: str,
        at: datetime,
    ) -> None:
        """Hold the claim with every reason (a held claim whose reasons changed is published again)."""
        dumped = [r.model_dump(mode="json") for r in reasons]
        state = ClaimState(row.state)
        if state is ClaimState.HELD:
            if dumped == row.hold_reasons:
                return
            await update_claim(tx, row.claim_id, hold_reasons=dumped, updated_at=at)
        else:
            await move(
                tx,
                row,
                ClaimState.HELD,
                reason=f"held: {reasons[0].code.value}",
                at=at,
                cause=cause,
                hold_reasons=dumped,
                scrub_warnings=[],  # the reasons it is held for take their place
                awaiting_authorization_until=None,
            )
        for r in reasons:
            self.metrics.held.labels(reason=r.code.value).inc()
        tx.publish(
            ClaimHeld(claim_id=row.claim_id, patient_id=row.patient_id, reasons=reasons, held_at=at),
            cause=cause,
        )

    @staticmethod
    async def _prior_payer_pended(tx: Transaction, row: Any) -> bool:
        """The prior payer's claim of the session is pended: it reversed its adjudication (CLP02
        22) or asked for more before adjudicating again, so the figures this claim would carry
        are not final. (Only a later payer's claim asks: one indexed read.)"""
        await flush_moves(tx)  # the prior claim's own move in this batch counts
        prior = await _latest_claim(tx.conn, row.session_id, row.payer_order - 1, lock=False)
        return prior is not None and prior.state == ClaimState.PENDED.value

    async def _next_payer_after_reversal(
        self, tx: Transaction, row: Any, *, cause: Delivered[Any] | None
    ) -> None:
        """The claim ``row`` was just pended by its payer's reversal: a next payer's claim made
        from the reversed adjudication and not sent yet is evaluated again (and so held until
        the new adjudication arrives, see ``_prior_payer_pended``)."""
        head = await _latest_claim(tx.conn, row.session_id, row.payer_order + 1, lock=True)
        if (
            head is not None
            and head.frequency_code != FrequencyCode.VOID.value
            and ClaimState(head.state) in (ClaimState.READY, ClaimState.HELD)
        ):
            await self.evaluate(
                tx, head, cause=cause, reason="the prior payer reversed its adjudication", recode=False
            )

    async def recheck(
        self,
        tx: Transaction,
        d: Delivered[Any],
        *,
        patient_id: str | None = None,
        where: Any = None,
        ready_coverage: str | None = None,
    ) -> None:
        """Re-run the edits of held claims (and retry waiting sessions) that this change may have fixed.

        ``ready_coverage``: the patient's ready claims billed to that coverage are checked again
        too, since the change (an eligibility result) may break them before they are batched.
        """
        reads = reads_of(tx)
        if (
            patient_id is not None
            and reads is not None
            and isinstance(d.event, _RECHECKS_PATIENT)
            and patient_id in reads.quiet
        ):
            return  # the batch read that the patient has no waiting session and no held or ready claim
        waiting = sa.select(session.c.body, session.c.revision).where(session.c.status == "waiting")
        if patient_id is not None:
            waiting = waiting.where(session.c.patient_id == patient_id)
        for body, revision in (await tx.conn.execute(waiting.limit(500))).all():
            await self.claim_session(
                tx, Session.model_validate(body), cause=d, session_revision=revision, revision=None
            )
        affected = claim.c.state == ClaimState.HELD.value
        if ready_coverage is not None:
            affected = affected | (
                (claim.c.state == ClaimState.READY.value) & (claim.c.coverage_id == ready_coverage)
            )
        held = sa.select(claim).where(affected)
        held = held.where(claim.c.patient_id == patient_id) if patient_id is not None else held.where(where)
        for row in (await tx.conn.execute(held.with_for_update().limit(500))).all():
            await self.evaluate(tx, row, cause=d, reason=f"{type(d.event).__name__} re-ran the edits")

    async def authorization_timeouts(self, tx: Transaction) -> int:
        """Claims that waited too long for the authorizations service go to held."""
        now = _now()
        rows = (
            await tx.conn.execute(
                sa.select(claim)
                .where(claim.c.state == ClaimState.CREATED.value, claim.c.awaiting_authorization_until < now)
                .with_for_update(skip_locked=True)
                .limit(200)
            )
        ).all()
        for row in rows:
            reason = HoldReason(
                code=_H.AUTHORIZATION_MISSING, message="no answer from the authorizations service in time"
            )
            await self.hold(tx, row, [reason], cause=None, reason="authorization answer timed out", at=now)
        return len(rows)

    # ------------------------------------------------------------------ payer outcomes and COB

    async def on_remit(self, tx: Transaction, d: Delivered[RemitReceived]) -> None:
        e = d.event
        reads = reads_of(tx)
        if moves_pending(tx, e.claim_id):
            await flush_moves(tx)  # a second remit of a claim this batch moved: read it as written
        row = reads.take_claim(e.claim_id) if reads is not None else None
        if row is None:
            row = (
                await tx.conn.execute(
                    sa.select(claim).where(claim.c.claim_id == e.claim_id).with_for_update()
                )
            ).first()
        if row is None:
            log.warning("remit for an unknown claim")
            return
        now = _now()
        state = ClaimState(row.state)
        finalized = state in FINALIZED_STATES
        order = _REMIT_PAYER_ORDER.get(e.status)
        if order is not None and order > row.payer_order:
            # a later payer (the supplemental the prior payer forwarded this claim to) adjudicated
            # what was forwarded: noted, but it is not this claim's payer's outcome, and that
            # payer is the one a next payer's claim would go to
            await update_claim(tx, row.claim_id, remitted_at=now, updated_at=now)
            log.info("remit of payer order %d recorded on a claim of payer order %d", order, row.payer_order)
            return
        parts = await applied_parts(tx, row.claim_id)
        if any(p.remit_id == e.remit_id for p in parts):
            log.info("remit applied to its claim already: delivered again")
            return
        unkeyed = any(line.line_key is None for line in e.lines)  # named by the claim's lines
        part = remit_part(e, ClaimDraft.model_validate(row.draft) if unkeyed else None)
        record_part(tx, row.claim_id, part, payment_date=e.payment_date, at=now)
        adjudication = standing([*parts, part])
        paid, patient, contractual = totals(adjudication)
        money: dict[str, Any] = {
            "remit_paid": paid,
            "remit_patient_responsibility": patient,
            "remit_contractual": contractual,
        }
        if e.status is ClaimPaymentStatus.REVERSAL:
            if state in _REVERSIBLE:
                # the payer took back its adjudication (of the reversed remit's lines): the claim
                # is open (and not finalized) until the re-adjudication that follows carries the
                # new outcome; its figures are those of the parts that still stand
                await move(
                    tx,
                    row,
                    ClaimState.PENDED,
                    reason=f"{'reopened: ' if finalized else ''}remit-received CLP02 22 reverses the "
                    f"{state.value} claim",
                    at=now,
                    cause=d,
                    remitted_at=now,
                    **money,
                )
                await self._next_payer_after_reversal(tx, row, cause=d)
            else:  # pended already, superseded or not yet adjudicated here: the reversal is noted
                await update_claim(tx, row.claim_id, remitted_at=now, updated_at=now, **money)
            return
        # the claim's adjudication with this remit's lines in it: a part of a split claim adds
        # to the parts before it, a re-adjudication takes their place
        derived = outcome(adjudication)
        assert derived is not None  # the remit itself stands
        if state in (ClaimState.CORRECTED, ClaimState.VOIDED):
            # the correction overtook this remit (they travel on different topics): the claim
            # stays superseded, and its replacement carries the outcome from here on
            return
        forwarded = crossed_over(
            status=e.status.value, rarcs=e.rarcs, crossover_payer_name=e.crossover_payer_name
        )
        remitted: dict[str, Any] = {"remitted_at": now, "crossed_over": forwarded, **money}
        written_off = state is ClaimState.WRITTEN_OFF and derived is ClaimState.DENIED
        if written_off or state is derived:
            await update_claim(tx, row.claim_id, updated_at=now, **remitted)
            if written_off:
                return  # the denial's write-off overtook this remit; a payment would still move it
        else:
            why = f"remit-received CLP02 {e.status.value}"
            try:  # in a consumer batch the claim's row is written with the batch's other remits
                await (move_later if reads is not None else move)(
                    tx,
                    row,
                    derived,
                    reason=f"reopened: {why} after {state.value}" if finalized else why,
                    at=now,
                    cause=d,
                    payer_claim_number=e.payer_claim_number,
                    **remitted,
                )
            except IllegalTransition:  # raised before anything is written: the remit is noted
                await update_claim(tx, row.claim_id, updated_at=now, **remitted)
                log.warning("remit outcome %s not allowed from %s", derived.value, row.state)
                return
        current = await session_state(tx, row.session_id)
        if current is not None and moved_on(row, *current):
            # the session was voided or corrected while this claim was in flight: now that the
            # payer named its claim number, take it back; no next payer's claim follows it
            await flush_moves(tx)
            await self.reconcile(tx, row.session_id, cause=d)
            return
        if forwarded:
            return
        if e.patient_responsibility <= 0 and not (parts and await _next_payer_claimed(tx.conn, row)):
            return  # nothing for a next payer, and no claim made from an earlier part to bring up to date
        draft = ClaimDraft.model_validate(row.draft)
        bodies = await patient_coverages(tx.conn, reads, row.patient_id)
        coverages = [ad.coverage_of(b) for b in bodies]
        nxt = next_coverage(coverages, after=draft.payer_order, day=draft.date_of_service)
        if nxt is None:
            return
        await self._sync_shared(tx.conn, reads)
        payer = self.shared.get("payer", row.payer_id)
        if payer is not None and (payer.get("rules") or {}).get("forwards_crossover"):
            return
        billed = next((b for b in bodies if b.get("coverage_id") == row.coverage_id), None)
        prior = await self._prior(tx.conn, row, draft, e, payer=payer, coverage=billed)
        await flush_moves(tx)  # the next payer's claim is scrubbed against the patient's claims
        if e.patient_responsibility <= 0:
            # a later part or a re-adjudication that leaves the patient nothing makes no next
            # payer's claim, but one made from an earlier part takes it in
            await self._adjudicated_again(tx, next_payer_claim(draft, nxt), prior, cause=d)
            return
        await self.secondary(tx, row, draft, nxt, prior, cause=d)

    async def _prior(
        self,
        conn: AsyncConnection,
        row: Any,
        draft: ClaimDraft,
        e: RemitReceived,
        *,
        payer: dict[str, Any] | None = None,
        coverage: dict[str, Any] | None = None,
    ) -> PriorAdjudication:
        """What the prior payer decided, for the next payer's claim (``payer`` and ``coverage``:
        the prior payer's and the billed coverage's bodies when the caller has them)."""
        if payer is None:
            payer = (await references(conn, "payer", ids=[row.payer_id]) or [{}])[0]
        if coverage is None:
            coverage = (await references(conn, "coverage", ids=[row.coverage_id]) or [{}])[0]
        units = {line.line_key: line.units for line in draft.lines}
        # each remit line on the claim line it adjudicated (the key the payer echoed, else the
        # first line of its code), as on_remit reads them; the pieces of one line added up
        pieces = [
            PriorLine(
                line_key=key,
                procedure_code=remit.procedure_code,
                modifiers=tuple(remit.modifiers),
                units=remit.units_paid or units.get(key, 1),
                paid=remit.paid,
                adjustments=tuple(
                    LineAdjustment(group=a.group.value, carc=a.carc, amount=a.amount, quantity=a.quantity)
                    for a in remit.adjustments
                ),
                adjudicated_on=e.payment_date,
            )
            for key, remit in zip(_line_keys(e, draft), e.lines, strict=True)
        ]
        lines = lines_of_the_claim(draft, pieces)
        return PriorAdjudication(
            payer_id=row.payer_id,
            # empty when the record is gone: the 837P refuses to name the prior payer so
            electronic_payer_id=payer.get("electronic_payer_id", ""),
            payer_name=payer.get("name", ""),
            member_id=coverage.get("member_id", ""),
            payer_order=draft.payer_order,
            payer_claim_number=e.payer_claim_number,
            paid=e.paid,
            patient_responsibility=e.patient_responsibility,
            claim_adjustments=tuple(
                LineAdjustment(group=a.group.value, carc=a.carc, amount=a.amount, quantity=a.quantity)
                for a in e.claim_adjustments
            ),
            lines=tuple(lines),
            adjudicated_on=e.payment_date,
            coverage_id=row.coverage_id,
            remit_ids=(e.remit_id,),
            outpatient=ad.outpatient_of(e),
            prior_authorization_number=draft.prior_authorization_number,
        ).following(_carried(row))

    async def secondary(
        self,
        tx: Transaction,
        row: Any,
        draft: ClaimDraft,
        coverage: Coverage,
        prior: PriorAdjudication,
        *,
        cause: Delivered[Any] | None,
    ) -> None:
        """Create, scrub and (when clean) ready the claim to the next payer with the prior adjudication
        (and the next payer's own telehealth modifiers). ``row`` is the claim the prior payer
        adjudicated: when it was itself a next payer's claim, the adjudications it carried go on
        too (a tertiary claim names the primary and the secondary payer): ``prior`` carries them."""
        await self._sync_shared(tx.conn, reads_of(tx))
        cob_draft = with_telehealth_modifiers(
            next_payer_claim(draft, coverage),
            self._rules(coverage.payer_id).telehealth,
            self._rules(row.payer_id).telehealth,
        )
        now = _now()
        inserted = (
            await tx.conn.execute(
                pg_insert(claim)
                .values(
                    **self._claim_columns(
                        cob_draft,
                        now=now,
                        organization_id=row.organization_id,
                        cob=prior.model_dump(mode="json"),
                        session_revision=row.session_revision,
                    )
                )
                .on_conflict_do_nothing()
                .returning(*claim.c)
            )
        ).first()
        if inserted is None:  # made from an earlier adjudication: brought up to date with this one
            await self._adjudicated_again(tx, cob_draft, prior, cause=cause)
            return
        await self._created(
            tx,
            cob_draft,
            organization_id=row.organization_id,
            now=now,
            cause=cause,
            why=f"{prior.payer_order.value} payer adjudicated",
        )
        await self.evaluate(tx, inserted, cause=cause, reason="COB claim scrubbed")

    async def _adjudicated_again(
        self,
        tx: Transaction,
        cob_draft: ClaimDraft,
        prior: PriorAdjudication,
        *,
        cause: Delivered[Any] | None,
    ) -> None:
        """The prior payer adjudicated the claim again after the next payer's claim was made from
        an earlier adjudication (a corrected or reprocessed claim, the rest of a split payment):
        that claim gets the adjudication as it now stands (``adjudicated_again``).

        Not yet sent, it is scrubbed again with it (voided when nothing is left for its payer).
        At the payer, with its claim number, a
        replacement (7) goes out with its 2320/2430 rebuilt. On its way without a number yet, it
        keeps what it was sent with and the new adjudication waits on it (``cob_due``): the
        payer's acknowledgement sends the replacement (``after_acknowledgement``). A remit already
        applied, or the same figures again, change nothing.
        """
        head = await _latest_claim(tx.conn, cob_draft.session_id, cob_draft.payer_order.rank, lock=True)
        if head is None or head.cob is None or head.frequency_code == FrequencyCode.VOID.value:
            return
        # a replacement already due (adjudicated again while on its way) is what the claim will carry
        merged = adjudicated_again(PriorAdjudication.model_validate(head.cob_due or head.cob), prior)
        state = ClaimState(head.state)
        if merged is None and state is ClaimState.HELD and _held_for_prior(head):
            # re-adjudicated as it was after a reversal: the hold waiting for it goes
            await self.evaluate(
                tx, head, cause=cause, reason="the prior payer adjudicated the claim again", recode=False
            )
            return
        if merged is None or state in (ClaimState.CORRECTED, ClaimState.VOIDED, ClaimState.WRITTEN_OFF):
            return
        cob = merged.model_dump(mode="json")
        why = f"the {prior.payer_order.value} payer adjudicated the claim again"
        now = _now()
        if state in _NOT_YET_SENT and merged.patient_responsibility <= 0:
            await move(
                tx,
                head,
                ClaimState.VOIDED,
                reason=f"{why}: nothing is left for this payer",
                at=now,
                cause=cause,
            )
            return
        if state in _NOT_YET_SENT:
            await update_claim(tx, head.claim_id, cob=cob, updated_at=now)
            if state is not ClaimState.REJECTED:
                row = await self._row(tx.conn, head.claim_id)
                await self.evaluate(tx, row, cause=cause, reason=why, recode=False)
            return
        if head.payer_claim_number is None:
            log.info("prior payer adjudicated again while the next payer's claim is on its way")
            await update_claim(tx, head.claim_id, cob_due=cob, updated_at=now)
            await tx.conn.execute(
                sa.insert(claim_audit).values(
                    claim_id=head.claim_id,
                    from_state=state.value,
                    to_state=state.value,
                    reason=f"{why}: a replacement with the new adjudication goes out once the payer "
                    "acknowledges this claim",
                    actor="claims",
                    at=now,
                )
            )
            return
        await self._replace_with_cob(tx, head.claim_id, cob, why=why, cause=cause)

    async def on_secondary_requested(self, tx: Transaction, d: Delivered[SecondaryClaimRequested]) -> None:
        await self._bill_next_payer(tx, d.event, cause=d)

    async def _pending_next_payers(
        self, tx: Transaction, coverage: CoverageUpdated, cause: Delivered[Any]
    ) -> None:
        """Requests that waited for this coverage (``pending_secondary_request``) are billed now."""
        rows = (
            await tx.conn.execute(
                sa.delete(pending_secondary_request)
                .where(
                    pending_secondary_request.c.patient_id == coverage.patient_id,
                    pending_secondary_request.c.coverage_id == coverage.coverage_id,
                )
                .returning(pending_secondary_request.c.body)
            )
        ).all()
        for (body,) in rows:
            await self._bill_next_payer(tx, SecondaryClaimRequested.model_validate(body), cause=cause)

    async def _bill_next_payer(
        self, tx: Transaction, e: SecondaryClaimRequested, *, cause: Delivered[Any] | None
    ) -> None:
        row = (await tx.conn.execute(sa.select(claim).where(claim.c.claim_id == e.claim_id))).first()
        if row is None:
            return
        draft = ClaimDraft.model_validate(row.draft)
        coverages = [
            ad.coverage_of(b) for b in await references(tx.conn, "coverage", patient_id=row.patient_id)
        ]
        coverage = next((c for c in coverages if c.coverage_id == e.coverage_id), None)
        if coverage is None:
            # coverage-updated travels on another topic and may come after the request: it waits
            log.info("secondary claim requested for a coverage not on file yet: waits for it")
            await tx.conn.execute(
                pg_insert(pending_secondary_request)
                .values(
                    request_id=e.request_id,
                    patient_id=e.patient_id,
                    coverage_id=e.coverage_id,
                    body=e.model_dump(mode="json"),
                )
                .on_conflict_do_nothing()
            )
            return
        payer = (await references(tx.conn, "payer", ids=[e.prior_payer_id]) or [{}])[0]
        prior_cov = (await references(tx.conn, "coverage", ids=[row.coverage_id]) or [{}])[0]
        units = {line.line_key: line.units for line in draft.lines}
        pieces = [
            PriorLine(
                line_key=adj.line_key,
                procedure_code=adj.procedure_code,
                modifiers=tuple(adj.modifiers),
                units=adj.units or units.get(adj.line_key, 1),
                paid=adj.paid,
                adjudicated_on=adj.adjudicated_on,
                adjustments=tuple(
                    LineAdjustment(group=a.group.value, carc=a.carc, amount=a.amount, quantity=a.quantity)
                    for a in adj.adjustments
                ),
            )
            for adj in e.lines
        ]
        prior = PriorAdjudication(
            payer_id=e.prior_payer_id,
            # empty when the record is gone: the 837P refuses to name the prior payer so
            electronic_payer_id=payer.get("electronic_payer_id", ""),
            payer_name=payer.get("name", ""),
            member_id=prior_cov.get("member_id", ""),
            payer_order=draft.payer_order,
            payer_claim_number=e.prior_payer_claim_number,
            paid=e.prior_paid,
            patient_responsibility=e.patient_responsibility,
            claim_adjustments=tuple(
                LineAdjustment(group=a.group.value, carc=a.carc, amount=a.amount, quantity=a.quantity)
                for a in e.claim_adjustments
            ),
            lines=lines_of_the_claim(draft, pieces),
            adjudicated_on=max(adj.adjudicated_on for adj in e.lines),
            coverage_id=row.coverage_id,
            remit_ids=(e.remit_id,) if e.remit_id else (),
            prior_authorization_number=draft.prior_authorization_number,
        ).following(_carried(row))
        await self.secondary(tx, row, draft, coverage, prior, cause=cause)

    # ------------------------------------------------------------------ corrections and voids

    async def _next_revision(self, conn: AsyncConnection, row: Any) -> int:
        current = await conn.scalar(
            sa.select(sa.func.max(claim.c.revision)).where(
                claim.c.session_id == row.session_id, claim.c.payer_order == row.payer_order
            )
        )
        return int(current or 0) + 1

    async def on_correction(self, tx: Transaction, d: Delivered[ClaimCorrectionRequested]) -> None:
        """Send the corrected claim asked for, or refuse the request with its reason (see ``_refuse``)."""
        e = d.event
        changes = [ClaimChange(action=c.action.value, line_key=c.line_key, value=c.value) for c in e.changes]
        try:
            await self.correct(
                tx,
                e.claim_id,
                changes=changes,
                method=e.method,
                payer_claim_number=e.payer_claim_number,
                cause=d,
                actor="denials",
            )
        except UnsupportedChange as refused:
            await self._refuse(tx, d, refused)

    async def _refuse(
        self,
        tx: Transaction,
        d: Delivered[ClaimCorrectionRequested] | Delivered[ClaimVoidRequested],
        refused: UnsupportedChange,
    ) -> None:
        """Record the refusal of a correction request and publish claim-correction-refused, once per
        request (a request delivered again is refused again, silently): the denial it came from
        goes to a person instead of waiting for a claim that will not come."""
        e, now = d.event, _now()
        detail = str(refused)[:200]
        recorded = await tx.conn.scalar(
            pg_insert(correction_refusal)
            .values(
                request_id=e.request_id,
                claim_id=e.claim_id,
                denial_id=e.denial_id,
                reason=refused.refusal.value,
                action=refused.action,
                detail=detail,
                refused_at=now,
            )
            .on_conflict_do_nothing()
            .returning(correction_refusal.c.request_id)
        )
        if recorded is None:
            log.info("correction request refused before; not refused again")
            return
        log.warning("correction refused (%s): %s", refused.refusal.value, detail)
        actions = {a.value for a in ClaimChangeAction}
        tx.publish(
            ClaimCorrectionRefused(
                request_id=e.request_id,
                claim_id=e.claim_id,
                patient_id=e.patient_id,
                denial_id=e.denial_id,
                reason=CorrectionRefusal(refused.refusal.value),
                action=ClaimChangeAction(refused.action) if refused.action in actions else None,
                detail=detail,
                refused_at=now,
            ),
            cause=d,
            event_id=_event_id(e.request_id, "refused"),
        )

    async def on_void(self, tx: Transaction, d: Delivered[ClaimVoidRequested]) -> None:
        e = d.event
        try:
            await self.correct(
                tx,
                e.claim_id,
                changes=[],
                method=None,
                payer_claim_number=e.payer_claim_number,
                cause=d,
                actor="denials",
            )
        except UnsupportedChange as refused:
            await self._refuse(tx, d, refused)

    async def on_write_off(self, tx: Transaction, d: Delivered[ClaimWriteOffRequested]) -> None:
        """Close the payer's balance of a denied, partly paid, held or rejected claim.

        The request follows a remit the claim may not show yet (the remit and the request
        travel on different topics), so an accepted, submitted or pended claim is closed too;
        the remit's denial then leaves it written off.
        """
        e = d.event
        row = (
            await tx.conn.execute(sa.select(claim).where(claim.c.claim_id == e.claim_id).with_for_update())
        ).first()
        if row is None:
            log.warning("write-off requested for a claim this service does not know")
            return
        state = ClaimState(row.state)
        if state is ClaimState.WRITTEN_OFF:
            return  # asked again
        if ClaimState.WRITTEN_OFF not in ALLOWED_TRANSITIONS[state]:
            log.info("write-off not applied: the claim is %s", state.value)
            return
        await move(
            tx,
            row,
            ClaimState.WRITTEN_OFF,
            reason=f"write-off: {e.reason}",
            at=_now(),
            cause=d,
            actor="denials",
        )

    async def _recoded(
        self,
        tx: Transaction,
        row: Any,
        original: ClaimDraft,
        changes: Sequence[ClaimChange],
        *,
        claim_key: str,
    ) -> ClaimDraft:
        """The claim's session coded again from current reference data, for ``recode`` and for
        ``set_rendering_provider`` (by that provider, with the supervisor, licensure modifiers and
        prices their credential gives; on one line of several, that line only), under
        ``claim_key`` with the original's line keys where lines correspond; raises
        :class:`UnsupportedChange` when it cannot be."""
        change = rendering_change(original, changes)
        body = await tx.conn.scalar(sa.select(session.c.body).where(session.c.session_id == row.session_id))
        if body is None:
            action = "recode" if change is None else change.action
            raise UnsupportedChange(f"{action}: the claim's session is not on file", action=action)
        s = Session.model_validate(body)
        if change is None:
            return corresponding(original, await self._coded(tx, row, s, "recode"), claim_key=claim_key)
        provider_id = change.value or ""
        if not await references(tx.conn, "provider", ids=[provider_id]):
            raise UnsupportedChange(
                f"set_rendering_provider: provider {provider_id} is not on file",
                refusal=Refusal.UNKNOWN_PROVIDER,
                action=change.action,
            )
        # the session's supervisor supervised its clinician: the new one's is found by date
        by_them = s.model_copy(update={"rendering_provider_id": provider_id, "supervising_provider_id": None})
        recoded = corresponding(
            original, await self._coded(tx, row, by_them, change.action), claim_key=claim_key
        )
        if change.line_key is None or len(original.lines) == 1:
            return recoded
        base = original
        if any(c.action == "recode" for c in changes):
            base = corresponding(original, await self._coded(tx, row, s, "recode"), claim_key=claim_key)
        return rendered_line(base, recoded, change.line_key)

    async def _coded(self, tx: Transaction, row: Any, s: Session, action: str) -> ClaimDraft:
        """The draft of ``s`` coded for the claim's coverage, or the refusal of ``action``."""
        built = await self.assemble(tx.conn, s, coverage_id=row.coverage_id)
        if isinstance(built, NotBillable):
            raise UnsupportedChange(
                f"{action}: not billable ({built.reason.value}): {built.message}",
                refusal=Refusal.NOT_BILLABLE,
                action=action,
            )
        if isinstance(built, Waiting):
            raise UnsupportedChange(
                f"{action}: {built.reason}", refusal=Refusal.WAITING_FOR_REFERENCE_DATA, action=action
            )
        return built.draft

    async def correct(
        self,
        tx: Transaction,
        claim_id: str,
        *,
        changes: list[ClaimChange],
        method: CorrectionMethod | None,
        payer_claim_number: str | None,
        cause: Delivered[Any] | None,
        actor: str,
        why: str | None = None,
        cob: dict[str, Any] | None = None,
    ) -> str | None:
        """Send a replacement (7), a void (8, ``method`` None) or a new original of ``claim_id``; returns the new claim id.

        ``cob``: the prior payer's adjudication the new claim carries, when it is not the one the
        claim it corrects carries (the prior payer adjudicated the claim again).

        A void of a claim no payer has (never sent, or rejected) voids it here and sends nothing.
        A correction that cannot be applied raises :class:`UnsupportedChange` before anything is
        written (an unknown claim or provider, a COB rebuild without a prior adjudication, a
        recode with nothing billable...).
        """
        row = (
            await tx.conn.execute(sa.select(claim).where(claim.c.claim_id == claim_id).with_for_update())
        ).first()
        if row is None:
            raise UnsupportedChange(
                "the claim is not known to the claims service", refusal=Refusal.UNKNOWN_CLAIM
            )
        original = ClaimDraft.model_validate(row.draft)
        number = payer_claim_number or row.payer_claim_number
        if method is None and number is None:
            state = ClaimState(row.state)
            if withdrawal(state, row.frequency_code, None) is Withdrawal.CANCEL:
                await move(
                    tx,
                    row,
                    ClaimState.VOIDED,
                    reason="void: never reached a payer",
                    at=_now(),
                    cause=cause,
                    actor=actor,
                )
                return str(row.claim_id)
            log.warning(
                "void not sent: the claim is %s and the payer's claim number is not known", state.value
            )
            return None
        revision = await self._next_revision(tx.conn, row)
        key = claim_key(row.session_id, payer_order=row.payer_order, revision=revision)
        payer = (await references(tx.conn, "payer", ids=[row.payer_id]) or [{}])[0]
        configured = (payer.get("rules") or {}).get("corrected_claim_method", "replacement")
        if row.cob is None and any(c.action == "rebuild_cob" for c in changes):
            raise UnsupportedChange(
                "rebuild_cob: the claim carries no prior payer's adjudication",
                refusal=Refusal.NO_PRIOR_ADJUDICATION,
                action="rebuild_cob",
            )
        if method is not None and recodes(changes):
            original = await self._recoded(tx, row, original, changes, claim_key=key)
        if method is None:
            frequency = FrequencyCode.VOID
        elif method is CorrectionMethod.NEW_ORIGINAL or configured == "void_and_rebill" or number is None:
            frequency = FrequencyCode.ORIGINAL
        else:
            frequency = FrequencyCode.REPLACEMENT
        if frequency is FrequencyCode.ORIGINAL:
            draft = replacement(
                original,
                claim_key=key,
                frequency=FrequencyCode.REPLACEMENT,
                payer_claim_number=number or "-",
                changes=changes,
            )
            draft = draft.model_copy(
                update={"frequency_code": FrequencyCode.ORIGINAL, "payer_claim_number": None}
            )
        else:
            assert number is not None
            draft = replacement(
                original, claim_key=key, frequency=frequency, payer_claim_number=number, changes=changes
            )
        now = _now()
        await tx.conn.execute(
            pg_insert(claim).values(
                **self._claim_columns(
                    draft,
                    now=now,
                    organization_id=row.organization_id,
                    revision=revision,
                    replaces=row.claim_id,
                    cob=cob if cob is not None else row.cob,
                    session_revision=row.session_revision,
                )
            )
        )
        await self._created(
            tx,
            draft,
            organization_id=row.organization_id,
            now=now,
            cause=cause,
            why=why
            or ("claim-void-requested" if frequency is FrequencyCode.VOID else "claim-correction-requested"),
            replaces=row.claim_id,
        )
        new_row = await self._row(tx.conn, key)
        if frequency is not FrequencyCode.ORIGINAL:
            target = ClaimState.VOIDED if frequency is FrequencyCode.VOID else ClaimState.CORRECTED
            try:
                await move(
                    tx,
                    row,
                    target,
                    reason=f"{'void' if target is ClaimState.VOIDED else 'replacement'} {key} sent",
                    at=now,
                    actor=actor,
                    cause=cause,
                )
            except IllegalTransition:
                log.info("original stays %s while its %s goes out", row.state, target.value)
        await self.evaluate(tx, new_row, cause=cause, reason="correction scrubbed", recode=False)
        return key
