"""Thin adapters: an event in, the domain's decision, rows written and events published.

Projections: payer-updated, coverage-updated, patient-updated (state only), claim-created,
authorization-received, fee-schedule-updated (payer contracts), claim-acknowledged (an
earlier submission's acceptance proves timely filing). Denials: remit-received and rejected
claim-acknowledged open them; later remits and claim-status-changed resolve them; an
authorization recorded late sends the REF*G1 replacement a denial was waiting for; a
claim-correction-refused sends the denials waiting for that correction to a person.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from rcm.denials import store
from rcm.denials.batch import AckOnFile, BatchFacts, prepare
from rcm.denials.domain.deadlines import appeal_deadline
from rcm.denials.domain.denial import (
    FoundDenial,
    Level,
    Reason,
    adjudicated,
    denials_in_rejection,
    denials_in_remit,
    patient_cost_sharing,
)
from rcm.denials.domain.facts import ClaimFacts, CoverageOnFile, TriageContext
from rcm.denials.domain.playbook import Action, Fix, Playbook
from rcm.denials.domain.triage import Decision, triage
from rcm.denials.domain.underpayment import contracted_rate, underpayment
from rcm.denials.domain.visit import Visit, visit_of
from rcm.denials.metrics import DenialsMetrics
from rcm.events.models import (
    AckStatus,
    AdjustmentGroup,
    AuthorizationReceived,
    CheckTrigger,
    ClaimAcknowledged,
    ClaimChange,
    ClaimCorrectionRefused,
    ClaimCorrectionRequested,
    ClaimCreated,
    ClaimPaymentStatus,
    ClaimVoided,
    ClaimVoidRequested,
    ClaimWriteOffRequested,
    CorrectionRefusal,
    CoveragePriority,
    CoverageUpdated,
    DenialOpened,
    DenialOutcome,
    DenialResolved,
    DenialSource,
    DeniedReason,
    EligibilityChecked,
    EligibilityRecheckRequested,
    EligibilityStatus,
    FeeScheduleKind,
    FeeScheduleUpdated,
    LineAdjudication,
    PatientUpdated,
    PayerUpdated,
    RecheckReason,
    RemitReceived,
    SecondaryClaimRequested,
)
from rcm.servicekit import Delivered, Transaction, dispatch
from rcm.servicekit.consumer import BatchHandler

__all__ = ["DenialHandlers"]

log = logging.getLogger(__name__)

_ID_NAMESPACE = uuid.UUID("6f1d3c1e-2f57-4a8e-9b7e-5d0c8e2a9d41")
_CROSSOVER_STATUSES = {
    ClaimPaymentStatus.PROCESSED_PRIMARY_FORWARDED,
    ClaimPaymentStatus.PROCESSED_SECONDARY_FORWARDED,
    ClaimPaymentStatus.PROCESSED_TERTIARY_FORWARDED,
}
_CROSSOVER_RARCS = {"MA18", "N89"}
_QMB_RARCS = frozenset({"N781", "N782", "N783"})
"""Remarks that the patient is a Qualified Medicare Beneficiary: the remittance service keeps the
deductible, coinsurance and copay off the patient's balance; the state Medicaid program owes them."""
NEXT_PAYER_NOT_THE_PATIENTS = (
    "a next payer's claim: if the patient has no such coverage, the prior payer's patient share "
    "moved on to this payer is the patient's again (rcm remits to-patient with the prior payer's claim)"
)
_QMB_PROTECTED_CARCS = frozenset({"1", "2", "3"})
"""The PR reasons the QMB remarks protect: deductible, coinsurance, copay."""
_NEXT_PAYER = {
    CoveragePriority.PRIMARY: CoveragePriority.SECONDARY,
    CoveragePriority.SECONDARY: CoveragePriority.TERTIARY,
}


def _upsert(table: sa.Table, key: str, *, newer_only: bool = False) -> Any:
    """Insert, or overwrite every other column of the row with ``key``; with ``newer_only`` only
    when the incoming ``updated_at`` is not older than the row's. Built once: executed with a
    params dict it skips statement construction (the values are its parameters)."""
    stmt = pg_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name != key},
        where=table.c.updated_at <= stmt.excluded.updated_at if newer_only else None,
    )


# Statements built once (per-event statements, executed with a params dict).
_UPSERT_PAYER = _upsert(store.payer, "payer_id", newer_only=True)
_UPSERT_COVERAGE = _upsert(store.coverage, "coverage_id", newer_only=True)
_UPSERT_PATIENT_STATE = _upsert(store.patient_state, "patient_id")
_UPSERT_AUTHORIZATION = _upsert(store.authorization, "authorization_id")
# a fee schedule's rates are replaced (delete, then insert); a transaction replacing the same
# schedule at the same time has inserted rows this one's delete could not see: they are overwritten
_UPSERT_CONTRACT_RATE = (_rate := pg_insert(store.contract_rate)).on_conflict_do_update(
    index_elements=["fee_schedule_id", "position"],
    set_={c.name: _rate.excluded[c.name] for c in store.contract_rate.c if not c.primary_key},
)
_CLAIM_FIX = pg_insert(store.fix_attempt).on_conflict_do_nothing().returning(store.fix_attempt.c.fix_kind)
_OPEN_DENIAL = pg_insert(store.denial).on_conflict_do_nothing().returning(*store.denial.c)
_QUEUE_ITEM = pg_insert(store.work_item).on_conflict_do_nothing()
_d, _w = store.denial.c, store.work_item.c
_RESOLVE_DENIAL = (
    sa.update(store.denial)
    .where(_d.denial_id == sa.bindparam("p_denial_id"), _d.status == "open")
    .returning(_d.denial_id)
    .values(
        status="resolved",
        outcome=sa.bindparam("p_outcome"),
        recovered=sa.bindparam("p_recovered"),
        written_off=sa.bindparam("p_written_off"),
        resolved_at=sa.bindparam("p_now"),
    )
)
_CLOSE_DENIAL = (
    sa.update(store.denial)
    .where(_d.denial_id == sa.bindparam("p_denial_id"))
    .values(status="closed", resolved_at=sa.bindparam("p_now"))
)
_REDECIDE_DENIAL = (
    sa.update(store.denial)
    .where(_d.denial_id == sa.bindparam("p_denial_id"))
    .values(action=sa.bindparam("p_action"), why=sa.bindparam("p_why"))
)
_CLOSE_ITEMS = (
    sa.update(store.work_item)
    .where(_w.denial_id == sa.bindparam("p_denial_id"), _w.status != "closed")
    .values(status="closed", decision=sa.bindparam("p_decision"), closed_at=sa.bindparam("p_now"))
)
_CLOSE_OPEN_ITEMS = (
    sa.update(store.work_item)
    .where(_w.denial_id == sa.bindparam("p_denial_id"), _w.status == "open")
    .values(status="closed", decision=sa.bindparam("p_decision"), closed_at=sa.bindparam("p_now"))
)


def _close_open_items_of_kind(key: sa.ColumnElement[str], ids: str, kind: str) -> sa.Update:
    """Close the open work items of ``kind`` whose ``key`` is one of the ``ids`` parameter."""
    return (
        sa.update(store.work_item)
        .where(key == sa.any_(sa.bindparam(ids, type_=ARRAY(sa.Text))), _w.kind == kind, _w.status == "open")
        .values(status="closed", decision=sa.bindparam("p_decision"), closed_at=sa.bindparam("p_now"))
    )


_CLOSE_QMB_ITEMS = _close_open_items_of_kind(_w.item_id, "p_item_ids", "qmb_cost_sharing")
_wait = store.next_payer_wait.c
_WAITING_SHARES = (
    sa.select(_wait.remit_id, _wait.remit)
    .where(_wait.patient_id == sa.bindparam("p_patient_id"), _wait.reversed_by.is_(None))
    .order_by(_wait.waiting_since, _wait.remit_id)
)
_WAITS_OF_CLAIM = (
    sa.select(_wait.remit_id, _wait.remit, _wait.reversed_by)
    .where(_wait.claim_id == sa.bindparam("p_claim_id"))
    .order_by(_wait.waiting_since, _wait.remit_id)
)
_REVERSE_WAIT = (
    sa.update(store.next_payer_wait)
    .where(_wait.remit_id == sa.bindparam("p_remit_id"))
    .values(reversed_by=sa.bindparam("p_reversed_by"))
)
_STOP_WAITING = sa.delete(store.next_payer_wait).where(
    _wait.remit_id == sa.any_(sa.bindparam("p_remit_ids", type_=ARRAY(sa.Text)))
)
_CLOSE_REQUESTS = _close_open_items_of_kind(_w.claim_id, "p_claim_ids", "information_request")
_FIX_BY_REQUEST = sa.select(store.fix_attempt.c.root_claim_id, store.fix_attempt.c.denial_id).where(
    store.fix_attempt.c.request_id == sa.bindparam("p_request_id")
)
_ANSWER_ITEM = pg_insert(store.work_item).on_conflict_do_update(
    index_elements=[store.work_item.c.item_id],
    set_={
        "action": sa.text("excluded.action"),
        "reason": sa.text("excluded.reason"),
        "next_step": sa.text("excluded.next_step"),
        "evidence": sa.text("excluded.evidence"),
    },
    where=store.work_item.c.status == "open",
)
_REOPEN_ITEM = pg_insert(store.work_item).on_conflict_do_update(
    index_elements=[store.work_item.c.item_id],
    set_={
        "action": sa.text("excluded.action"),
        "reason": sa.text("excluded.reason"),
        "next_step": sa.text("excluded.next_step"),
        "evidence": sa.text("excluded.evidence"),
        "status": sa.text("excluded.status"),
        "decision": None,
        "closed_at": None,
    },
    where=store.work_item.c.status.in_(["open", "closed"]),
)
_CORRECTING = frozenset(
    {Action.RESUBMIT_REPLACEMENT.value, Action.RESUBMIT_ORIGINAL.value, Action.VOID.value}
)
"""The actions of a denial waiting for the claims service to send a corrected claim."""
_REFUSED_NEXT_STEP = {
    CorrectionRefusal.UNKNOWN_CLAIM: "The claims service does not know the claim: check it with `rcm claims show`, "
    "then correct it there (`rcm claims correct`).",
    CorrectionRefusal.UNKNOWN_PROVIDER: "The rendering provider asked for is not in the provider reference data: "
    "add them (NPI, taxonomy, licence, payer enrollment) or choose the right provider, then correct the claim.",
    CorrectionRefusal.NO_PRIOR_ADJUDICATION: "The claim carries no prior payer's adjudication to rebuild its COB "
    "loops from: check the primary payer's remit was received and matched, then bill this payer again with it.",
    CorrectionRefusal.NOT_BILLABLE: "Coded again, the session is not billable (see the reason): review the "
    "documentation and the payer's rules, then correct the claim by hand, void it or write the balance off.",
    CorrectionRefusal.WAITING_FOR_REFERENCE_DATA: "Coded again, the session lacks reference data (named in the "
    "reason): add it, then correct the claim.",
    CorrectionRefusal.UNSUPPORTED_CHANGE: "The claims service cannot make this change by itself: correct the "
    "claim by hand (`rcm claims correct`) or appeal.",
}
_WAITING_FOR_AUTHORIZATION = sa.select(store.denial).where(
    _d.patient_id == sa.bindparam("p_patient_id"),
    _d.payer_id == sa.bindparam("p_payer_id"),
    _d.status == "open",
    _d.action == Action.FIX_AUTH.value,
    _d.source == DenialSource.REMIT.value,
    _d.grp.is_not(None),
)


def opaque_id(prefix: str, *parts: object) -> str:
    """A deterministic opaque id: replays of the same input produce the same id."""
    digest = uuid.uuid5(_ID_NAMESPACE, "|".join(str(p) for p in parts)).hex[:24]
    return f"{prefix}-{digest}"


@dataclass(slots=True)
class _Source:
    """Where a batch of denials came from."""

    kind: DenialSource
    source_id: str
    claim_id: str
    patient_id: str
    payer_id: str
    payer_claim_number: str | None
    adjudicated_on: date
    remit_id: str | None = None


@dataclass
class DenialHandlers:
    """The service's event handlers around one playbook and one clock."""

    playbook: Playbook
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    metrics: DenialsMetrics = field(default_factory=DenialsMetrics)
    # corrections found while one remit or acknowledgment is worked, merged per claim and method:
    # a claim denied on two lines is corrected once, with both fixes
    _corrections: dict[tuple[str, str], tuple[ClaimCorrectionRequested, str]] | None = field(
        default=None, init=False
    )

    def _collect_corrections(self) -> None:
        self._corrections = {}

    def _publish_corrections(self, tx: Transaction, d: Delivered[Any]) -> None:
        pending, self._corrections = self._corrections or {}, None
        for request, event_id in pending.values():
            tx.publish(request, cause=d, event_id=event_id)

    def batch_handler(self) -> BatchHandler[Any]:
        """Each event by its handler, after one read of what the whole batch needs (``prepare``);
        then the writes held back for the batch."""
        handle = dispatch(
            {
                PayerUpdated: self.on_payer,
                CoverageUpdated: self.on_coverage,
                PatientUpdated: self.on_patient,
                ClaimCreated: self.on_claim_created,
                AuthorizationReceived: self.on_authorization,
                FeeScheduleUpdated: self.on_fee_schedule,
                ClaimAcknowledged: self.on_acknowledged,
                ClaimVoided: self.on_claim_voided,
                RemitReceived: self.on_remit,
                EligibilityChecked: self.on_eligibility,
                ClaimCorrectionRefused: self.on_correction_refused,
            },
            prepare=prepare,
        )

        async def apply(tx: Transaction, events: list[Delivered[Any]]) -> None:
            await handle(tx, events)
            facts = BatchFacts.of(tx)
            await facts.write()
            if states := facts.state_writes():
                await tx.conn.execute(_UPSERT_PATIENT_STATE, states)

        return apply

    # ------------------------------------------------------------------ projections
    async def on_payer(self, tx: Transaction, d: Delivered[PayerUpdated]) -> None:
        e = d.event
        values = {
            "payer_id": e.payer_id,
            "payer_type": e.payer_type.value,
            "rules": e.rules.model_dump(mode="json"),
            "deleted": e.deleted,
            "updated_at": e.updated_at,
        }
        await tx.conn.execute(_UPSERT_PAYER, values)
        BatchFacts.of(tx).forget_payer(e.payer_id)

    async def on_coverage(self, tx: Transaction, d: Delivered[CoverageUpdated]) -> None:
        e = d.event
        values = {
            "coverage_id": e.coverage_id,
            "patient_id": e.patient_id,
            "payer_id": e.payer_id,
            "priority": e.priority.value,
            "start_date": e.effective.start,
            "end_date": e.effective.end,
            "deleted": e.deleted,
            "updated_at": e.updated_at,
        }
        await tx.conn.execute(_UPSERT_COVERAGE, values)
        BatchFacts.of(tx).forget_coverage(e.patient_id, e.coverage_id)
        await self._bill_waiting_shares(tx, d)

    async def on_patient(self, tx: Transaction, d: Delivered[PatientUpdated]) -> None:
        """The patient's state (for the statistics), upserted once per batch: only this service's
        handlers read it, through the batch's facts."""
        e = d.event
        BatchFacts.of(tx).note_state(e.patient_id, e.address.state if e.address else None)

    async def on_claim_created(self, tx: Transaction, d: Delivered[ClaimCreated]) -> None:
        """The claim's projection, queued for the batch's one insert; a claim on file stays as it is."""
        e = d.event
        facts = BatchFacts.of(tx)
        if await facts.claim(e.claim_id) is not None:
            return
        root = e.claim_id
        if e.replaces_claim_id:
            replaced = await facts.claim(e.replaces_claim_id)
            root = replaced.root_claim_id if replaced is not None else e.replaces_claim_id
        lines = [
            {
                "line_key": ln.line_key,
                "procedure_code": ln.procedure_code,
                "modifiers": list(ln.modifiers),
                "place_of_service": ln.place_of_service,
                "service_date": ln.service_date.isoformat(),
                "units": ln.units,
                "charge": str(ln.charge),
                "rendering_provider_id": ln.rendering_provider_id,
            }
            for ln in e.lines
        ]
        row = {
            "claim_id": e.claim_id,
            "root_claim_id": root,
            "patient_id": e.patient_id,
            "payer_id": e.payer_id,
            "coverage_id": e.coverage_id,
            "rendering_provider_id": e.rendering_provider_id,
            "payer_responsibility": e.payer_responsibility.value,
            "authorization_number": e.authorization_number,
            "lines": lines,
            "created_at": e.created_at,
        }
        await facts.note_claim(row)
        facts.insert_later(store.claim, row)

    async def on_authorization(self, tx: Transaction, d: Delivered[AuthorizationReceived]) -> None:
        e = d.event
        end = e.valid.end
        if e.cancelled_on is not None:
            # the payer cancelled it: it covers no service on or after that date (before its start,
            # none at all), so no correction names it for one
            last = e.cancelled_on - timedelta(days=1)
            end = last if end is None else min(end, last)
        values = {
            "authorization_id": e.authorization_id,
            "patient_id": e.patient_id,
            "payer_id": e.payer_id,
            "auth_number": e.auth_number,
            "start_date": e.valid.start,
            "end_date": end,
            "procedure_codes": list(e.procedure_codes),
            "provider_id": e.provider_id,
        }
        await tx.conn.execute(_UPSERT_AUTHORIZATION, values)
        BatchFacts.of(tx).forget_authorization(e.patient_id, e.authorization_id)
        await self._work_denials_waiting_for(tx, d, e)

    async def _work_denials_waiting_for(
        self, tx: Transaction, d: Delivered[AuthorizationReceived], e: AuthorizationReceived
    ) -> None:
        """An authorization recorded after a claim was denied for lacking it (a retroactive grant).

        The denial was queued (fix_auth) because no authorization was on file then; triaged
        again now, the REF*G1 fix is determinable and the replacement goes out without a person.
        """
        rows = (
            await tx.conn.execute(
                _WAITING_FOR_AUTHORIZATION, {"p_patient_id": e.patient_id, "p_payer_id": e.payer_id}
            )
        ).all()
        self._collect_corrections()
        for row in rows:
            rule = self.playbook.rule_for(row.grp, row.carc, tuple(row.rarcs), row.payer_id)
            if rule is None or rule.fix is not Fix.AUTHORIZATION_NUMBER:
                continue
            ctx = await self._context(
                tx, claim_id=row.claim_id, patient_id=row.patient_id, payer_id=row.payer_id
            )
            line = ctx.claim.line(row.line_key, row.procedure_code) if ctx.claim else None
            denial = FoundDenial(
                level=Level(row.level),
                rule=rule,
                reasons=tuple(Reason(r["group"], r["carc"], Decimal(r["amount"])) for r in row.reasons),
                rarcs=tuple(row.rarcs),
                amount=row.amount,
                line_key=row.line_key,
                procedure_code=row.procedure_code,
                modifiers=tuple(row.modifiers),
                service_date=line.service_date if line else None,
            )
            decision = triage(denial, ctx, self.playbook, adjudicated_on=row.opened_at.date())
            if decision.action is not Action.RESUBMIT_REPLACEMENT or decision.fix_kind is None:
                continue
            request_id = opaque_id("req", row.denial_id, decision.action.value)
            root = ctx.claim.root_claim_id if ctx.claim else row.root_claim_id
            if not await self._claim_fix(tx, root, decision.fix_kind, row.denial_id, request_id):
                continue  # this fix was requested for the claim before: the queued item stays
            why = f"{decision.why}; authorization {e.auth_number} recorded after the denial"
            BatchFacts.of(tx).forget_denials(row.root_claim_id)
            await tx.conn.execute(
                _REDECIDE_DENIAL,
                {"p_denial_id": row.denial_id, "p_action": decision.action.value, "p_why": why},
            )
            await tx.conn.execute(
                _CLOSE_OPEN_ITEMS,
                {"p_denial_id": row.denial_id, "p_decision": decision.action.value, "p_now": self.now()},
            )
            source = _Source(
                kind=DenialSource(row.source),
                source_id=row.source_id,
                claim_id=row.claim_id,
                patient_id=row.patient_id,
                payer_id=row.payer_id,
                payer_claim_number=row.payer_claim_number,
                adjudicated_on=row.opened_at.date(),
            )
            await self._act(tx, d, source, denial, row.denial_id, request_id, decision, ctx, row=row)
        self._publish_corrections(tx, d)

    async def _claim_fix(
        self, tx: Transaction, root: str, fix_kind: str, denial_id: str, request_id: str
    ) -> bool:
        """Claim a fix for the chain: (root claim, fix kind) is unique, so the same fix is never
        requested twice. A fix the batch knows is on file is not tried again (rows never go)."""
        facts = BatchFacts.of(tx)
        if await facts.fix_requested(root, fix_kind):
            return False
        claimed = await tx.conn.scalar(
            _CLAIM_FIX,
            {"root_claim_id": root, "fix_kind": fix_kind, "denial_id": denial_id, "request_id": request_id},
        )
        facts.note_fix(root, fix_kind)
        return claimed is not None

    async def on_fee_schedule(self, tx: Transaction, d: Delivered[FeeScheduleUpdated]) -> None:
        e = d.event
        if e.kind is not FeeScheduleKind.PAYER_CONTRACT or e.payer_id is None:
            return
        BatchFacts.of(tx).forget_rates()
        await tx.conn.execute(
            sa.delete(store.contract_rate).where(store.contract_rate.c.fee_schedule_id == e.fee_schedule_id)
        )
        if e.deleted or not e.rates:
            return
        await tx.conn.execute(
            _UPSERT_CONTRACT_RATE,
            [
                {
                    "fee_schedule_id": e.fee_schedule_id,
                    "position": i,
                    "payer_id": e.payer_id,
                    "procedure_code": rate.procedure_code,
                    "modifiers": sorted(rate.modifiers),
                    "place_of_service": rate.place_of_service,
                    "amount": rate.amount,
                    "start_date": e.effective.start,
                    "end_date": e.effective.end,
                }
                for i, rate in enumerate(e.rates)
            ],
        )

    # ------------------------------------------------------------------ context
    async def _context(
        self, tx: Transaction, *, claim_id: str, patient_id: str, payer_id: str
    ) -> TriageContext:
        """What triage may look at, from the batch's facts (read for the whole batch up front)."""
        facts = BatchFacts.of(tx)
        claim = await facts.claim(claim_id)
        root = claim.root_claim_id if claim else claim_id
        return TriageContext(
            today=self.now().date(),
            claim=claim,
            payer=await facts.payer(payer_id),
            authorizations=await facts.authorizations(patient_id),
            coverages=await facts.coverages(patient_id),
            acceptances=await facts.acceptances(claim_id),
            fixes_tried=await facts.fixes_tried(root),
        )

    # ------------------------------------------------------------------ acknowledgments
    async def on_acknowledged(self, tx: Transaction, d: Delivered[ClaimAcknowledged]) -> None:
        e = d.event
        facts = BatchFacts.of(tx)
        on_file = await facts.acks(e.claim_id)
        if any(a.file_name == e.file_name for a in on_file):
            return  # the same acknowledgment file again
        on_file.append(AckOnFile(e.file_name, e.status.value, e.received_at.date()))
        facts.insert_later(
            store.acknowledgment,
            {
                "claim_id": e.claim_id,
                "file_name": e.file_name,
                "source": e.source.value,
                "status": e.status.value,
                "received_on": e.received_at.date(),
            },
        )
        claim = await facts.claim(e.claim_id)
        payer_id = claim.payer_id if claim else None
        charge = sum((ln.charge for ln in claim.lines), Decimal("0")) if claim else Decimal("0")
        if e.status is AckStatus.INFORMATION_REQUESTED:
            await self._queue_information_request(tx, e, payer_id, charge)
            return
        found = denials_in_rejection(e, self.playbook, payer_id, charge)
        if not found:
            return
        if payer_id is None:
            log.warning("denials: rejection for a claim not on file; opened under an unknown payer")
        ctx = await self._context(tx, claim_id=e.claim_id, patient_id=e.patient_id, payer_id=payer_id or "")
        source = _Source(
            kind=DenialSource.ACKNOWLEDGMENT,
            source_id=f"{e.claim_id}:{e.file_name}",
            claim_id=e.claim_id,
            patient_id=e.patient_id,
            payer_id=payer_id or "unknown",
            payer_claim_number=e.payer_claim_number,
            adjudicated_on=e.received_at.date(),
        )
        self._collect_corrections()
        for denial in found:
            if claim is not None and denial.line_key is not None:
                line = claim.line(denial.line_key)
                if line is not None:
                    denial = replace(
                        denial,
                        amount=line.charge,
                        procedure_code=line.procedure_code,
                        modifiers=line.modifiers,
                        service_date=line.service_date,
                    )
            decision = triage(
                denial, ctx, self.playbook, from_rejection=True, adjudicated_on=source.adjudicated_on
            )
            ctx = await self._open(tx, d, source, denial, decision, ctx)
        self._publish_corrections(tx, d)

    async def _queue_information_request(
        self, tx: Transaction, e: ClaimAcknowledged, payer_id: str | None, charge: Decimal
    ) -> None:
        """A payer's 277 asks for more before it adjudicates (category R): a person must send it
        (records, or a 275 naming the payer's claim number) within the payer's window, else the
        payer denies the claim for want of it. One work item per 277 that asks; the claim's
        adjudication or void closes it."""
        payer = await BatchFacts.of(tx).payer(payer_id) if payer_id else None
        days = self.playbook.information_request_days_for(payer.payer_type if payer else None)
        codes = [r.code for r in e.reasons] + [r.code for ln in e.lines for r in ln.reasons]
        asked = "; ".join(f"{r.code} ({r.description})" if r.description else r.code for r in e.reasons)
        evidence = {"source": f"277 {e.file_name}", "requested": ", ".join(codes) or "not stated"}
        if asked:
            evidence["what"] = asked[:500]
        if e.payer_claim_number:
            evidence["payer_claim_number"] = e.payer_claim_number
        await tx.conn.execute(
            _QUEUE_ITEM,
            {
                "item_id": opaque_id("wi", e.claim_id, e.file_name, "information"),
                "kind": "information_request",
                "denial_id": None,
                "claim_id": e.claim_id,
                "patient_id": e.patient_id,
                "payer_id": payer_id or "unknown",
                "action": Action.HUMAN_REVIEW.value,
                "reason": f"payer requests information before adjudicating ({', '.join(codes) or 'no code'})"[
                    :300
                ],
                "next_step": (
                    "Send the payer what it asks for (the records, or a 275 attachment naming its claim "
                    "number) before the deadline; the claim stays pended until the payer has it."
                ),
                "evidence": evidence,
                "amount": max(charge, Decimal("0")),
                "deadline": e.received_at.date() + timedelta(days=days),
                "status": "open",
                "appeal_level": None,
            },
        )
        log.info("denials: information request queued for a person (%d code(s))", len(codes))

    async def _close_information_requests(
        self, tx: Transaction, claim_ids: Iterable[str], decision: str
    ) -> None:
        """The open information requests of these claims, answered by the payer's adjudication (or
        moot after a void). Only claims a 277 asked about (on file in the batch) cost a statement."""
        facts = BatchFacts.of(tx)
        asked = [
            c
            for c in dict.fromkeys(claim_ids)
            if any(a.status == AckStatus.INFORMATION_REQUESTED.value for a in await facts.acks(c))
        ]
        if asked:
            await tx.conn.execute(
                _CLOSE_REQUESTS, {"p_claim_ids": asked, "p_decision": decision, "p_now": self.now()}
            )

    # ------------------------------------------------------------------ remits
    async def on_remit(self, tx: Transaction, d: Delivered[RemitReceived]) -> None:
        remit = d.event
        if not adjudicated(remit, self.playbook):
            # a reversal or a predetermination: nothing paid, denied or shared to act on, and no
            # adjudication to count in the denial rates (the claim's own remit counts once)
            if remit.status is ClaimPaymentStatus.REVERSAL:
                await self._stop_waiting_for_reversed(tx, remit)
            return
        today = self.now().date()
        facts = BatchFacts.of(tx)
        claim = await facts.claim(remit.claim_id)
        state = await facts.state(remit.patient_id)
        rows = [
            {
                "remit_id": remit.remit_id,
                "position": i,
                "claim_id": remit.claim_id,
                "payer_id": remit.payer_id,
                "procedure_code": ln.procedure_code,
                "modifiers": list(ln.modifiers),
                "rendering_provider_id": _rendering(claim, ln.line_key, ln.procedure_code),
                "state": state,
                "adjudicated_on": today,
                "charge": ln.charge,
            }
            for i, ln in enumerate(remit.lines)
        ] or [
            {
                "remit_id": remit.remit_id,
                "position": 0,
                "claim_id": remit.claim_id,
                "payer_id": remit.payer_id,
                "procedure_code": None,
                "modifiers": [],
                "rendering_provider_id": claim.rendering_provider_id if claim else None,
                "state": state,
                "adjudicated_on": today,
                "charge": remit.charge,
            }
        ]
        # the remit's adjudication rows are its claim: positions on file are not applied again
        on_file = await facts.adjudicated(remit.remit_id)
        fresh = [(position, row) for position, row in enumerate(rows) if position not in on_file]
        if not fresh:
            return  # this claim payment was applied before (a re-sent 835 with a new event id)
        for position, row in fresh:
            on_file.add(position)
            facts.insert_later(store.adjudication, row)
        # the payer adjudicated: a request for information about the claim (or one it replaced)
        # was answered
        chain = await facts.chain(claim.root_claim_id) if claim else {remit.claim_id}
        await self._close_information_requests(tx, [remit.claim_id, *sorted(chain)], "adjudicated")

        found = denials_in_remit(remit, self.playbook)
        await self._resolve_paid(tx, d, remit, claim, still_denied=found)
        ctx = await self._context(
            tx, claim_id=remit.claim_id, patient_id=remit.patient_id, payer_id=remit.payer_id
        )
        source = _Source(
            kind=DenialSource.REMIT,
            source_id=remit.remit_id,
            claim_id=remit.claim_id,
            patient_id=remit.patient_id,
            payer_id=remit.payer_id,
            payer_claim_number=remit.payer_claim_number,
            adjudicated_on=remit.payment_date,
            remit_id=remit.remit_id,
        )
        denied_lines = set()
        self._collect_corrections()
        # a denial of the whole claim that a person must work (CO-18 duplicate, an eligibility
        # question...) is not corrected away by a line's automatic replacement of the same claim
        held_by = next(
            (
                denial.label
                for denial in found
                if denial.level is Level.CLAIM
                and triage(denial, ctx, self.playbook, adjudicated_on=remit.payment_date).queued
            ),
            None,
        )
        for denial in found:
            if denial.line_index is not None:
                denied_lines.add(denial.line_index)
            decision = triage(denial, ctx, self.playbook, adjudicated_on=remit.payment_date)
            if held_by is not None and denial.level is Level.LINE and decision.action.value in _CORRECTING:
                decision = replace(
                    decision,
                    action=Action.HUMAN_REVIEW,
                    why=f"{decision.why}; the claim's own denial ({held_by}) goes to a person first: a "
                    "corrected claim now would be denied again for it",
                    changes=(),
                    fix_kind=None,
                    correction_method=None,
                )
            ctx = await self._open(tx, d, source, denial, decision, ctx)
        self._publish_corrections(tx, d)
        await self._bill_next_payer(tx, d, remit, ctx)
        await self._check_underpayments(tx, remit, ctx, denied_lines)

    async def _resolve_paid(
        self,
        tx: Transaction,
        d: Delivered[Any],
        remit: RemitReceived,
        claim: ClaimFacts | None,
        *,
        still_denied: list[FoundDenial],
    ) -> None:
        """Open denials of this claim (or the claim it replaced) that this remit now pays.

        Paid in full when the paying line (or claim) carries no denial any more; partly otherwise.
        """
        denied_keys = {(f.level, f.line_key or f.procedure_code) for f in still_denied}
        root = claim.root_claim_id if claim else remit.claim_id
        open_rows = await BatchFacts.of(tx).open_denials(root)
        for row in open_rows:
            if row.source_id == remit.remit_id:
                continue
            paid = Decimal("0")
            if row.level == Level.LINE.value:
                for ln in remit.lines:
                    same = (row.line_key is not None and ln.line_key == row.line_key) or (
                        row.line_key is None and ln.procedure_code == row.procedure_code
                    )
                    if same:
                        paid += ln.paid
                denied_again = (Level.LINE, row.line_key or row.procedure_code) in denied_keys
            else:
                paid = remit.paid
                denied_again = bool(still_denied)
            if paid <= 0:
                continue
            outcome = DenialOutcome.PARTIALLY_PAID if denied_again else DenialOutcome.PAID
            await self._resolve(tx, d, row, outcome, recovered=paid)

    async def _resolve(
        self,
        tx: Transaction,
        d: Delivered[Any] | None,
        row: Any,
        outcome: DenialOutcome,
        *,
        recovered: Decimal = Decimal("0"),
        written_off: Decimal = Decimal("0"),
    ) -> None:
        now = self.now()
        BatchFacts.of(tx).forget_denials(row.root_claim_id)
        resolved = await tx.conn.scalar(
            _RESOLVE_DENIAL,
            {
                "p_denial_id": row.denial_id,
                "p_outcome": outcome.value,
                "p_recovered": recovered,
                "p_written_off": written_off,
                "p_now": now,
            },
        )
        if resolved is None:
            return  # resolved meanwhile by another transaction (an overlapping batch): once is enough
        # counted once the batch commits: a batch retried after a rollback counts each denial once
        tx.after_commit(partial(self.metrics.closed, row.payer_id, outcome))
        await tx.conn.execute(
            _CLOSE_ITEMS, {"p_denial_id": row.denial_id, "p_decision": outcome.value, "p_now": now}
        )
        tx.publish(
            DenialResolved(
                denial_id=row.denial_id,
                claim_id=row.claim_id,
                patient_id=row.patient_id,
                outcome=outcome,
                recovered=recovered,
                written_off=written_off,
                resolved_at=now,
            ),
            cause=d,
            event_id=opaque_id("evt", row.denial_id, "resolved"),
        )

    # ------------------------------------------------------------------ one denial
    async def _open(
        self,
        tx: Transaction,
        d: Delivered[Any],
        source: _Source,
        denial: FoundDenial,
        decision: Decision,
        ctx: TriageContext,
    ) -> TriageContext:
        """Record the denial, publish denial-opened and act; returns the context with any fix claimed."""
        now = self.now()
        claim = ctx.claim
        position = denial.line_key or (str(denial.line_index) if denial.line_index is not None else "claim")
        denial_id = opaque_id("den", source.kind.value, source.source_id, denial.level.value, position)
        line = claim.line(denial.line_key, denial.procedure_code) if claim else None
        root = claim.root_claim_id if claim else source.claim_id

        # Claim the fix first: (claim, fix kind) is unique, so the same fix is never requested twice.
        request_id = opaque_id("req", denial_id, decision.action.value)
        if decision.fix_kind is not None:
            claimed = decision.fix_kind
            if not await self._claim_fix(tx, root, claimed, denial_id, request_id):
                decision = replace(
                    decision,
                    action=Action.HUMAN_REVIEW,
                    why=f"{decision.why}; the same fix was already requested for this claim",
                    fix_kind=None,
                )
            else:
                ctx = replace(ctx, fixes_tried=ctx.fixes_tried | {claimed})

        deciding = denial.deciding
        facts = BatchFacts.of(tx)
        values = {
            "denial_id": denial_id,
            "claim_id": source.claim_id,
            "root_claim_id": root,
            "patient_id": source.patient_id,
            "payer_id": source.payer_id,
            "source": source.kind.value,
            "source_id": source.source_id,
            "level": denial.level.value,
            "line_key": denial.line_key,
            "procedure_code": denial.procedure_code,
            "modifiers": list(denial.modifiers),
            "rendering_provider_id": (line.rendering_provider_id if line else None)
            or (claim.rendering_provider_id if claim else None),
            "state": await facts.state(source.patient_id),
            "grp": deciding.group if deciding else None,
            "carc": deciding.carc if deciding else None,
            "reasons": [{"group": r.group, "carc": r.carc, "amount": str(r.amount)} for r in denial.reasons],
            "rarcs": list(denial.rarcs),
            "rejection_codes": list(denial.rejection_codes),
            "payer_claim_number": source.payer_claim_number,
            "amount": denial.amount,
            "category": decision.category.value,
            "action": decision.action.value,
            "why": decision.why,
            "appeal_deadline": decision.appeal_deadline,
            "status": "open",
            "opened_at": now,
        }
        opened = (await tx.conn.execute(_OPEN_DENIAL, values)).first()
        if opened is None:
            return ctx  # already opened from this source: a replay changes nothing
        facts.forget_denials(root)
        tx.after_commit(partial(self.metrics.triaged, source.payer_id, denial, decision))
        tx.publish(
            DenialOpened(
                denial_id=denial_id,
                claim_id=source.claim_id,
                patient_id=source.patient_id,
                payer_id=source.payer_id,
                source=source.kind,
                remit_id=source.remit_id,
                category=decision.category.as_event,
                reasons=[
                    DeniedReason(
                        group=AdjustmentGroup(r.group),
                        carc=r.carc,
                        amount=r.amount,
                        line_key=denial.line_key,
                    )
                    for r in denial.reasons
                ],
                rarcs=list(denial.rarcs),
                rejection_codes=list(denial.rejection_codes),
                amount=max(denial.amount, Decimal("0")),
                action=decision.action,
                appeal_deadline=decision.appeal_deadline,
                opened_at=now,
            ),
            cause=d,
            event_id=opaque_id("evt", denial_id, "opened"),
        )
        await self._act(tx, d, source, denial, denial_id, request_id, decision, ctx, row=opened)
        return ctx

    async def _act(
        self,
        tx: Transaction,
        d: Delivered[Any],
        source: _Source,
        denial: FoundDenial,
        denial_id: str,
        request_id: str,
        decision: Decision,
        ctx: TriageContext,
        *,
        row: Any,
    ) -> None:
        """Carry out the decision on the denial ``row`` (as opened, or as read from the table)."""
        now = self.now()
        action = decision.action
        changes = [ClaimChange(action=c.action, line_key=c.line_key, value=c.value) for c in decision.changes]
        if action in (Action.RESUBMIT_REPLACEMENT, Action.RESUBMIT_ORIGINAL, Action.VOID) and changes:
            if action is Action.VOID and source.payer_claim_number:
                tx.publish(
                    ClaimVoidRequested(
                        request_id=opaque_id("req", denial_id, "void"),
                        claim_id=source.claim_id,
                        patient_id=source.patient_id,
                        payer_claim_number=source.payer_claim_number,
                        reason=f"{denial.label}: corrected as void and rebill",
                        denial_id=denial_id,
                        requested_at=now,
                    ),
                    cause=d,
                    event_id=opaque_id("evt", denial_id, "void"),
                )
            assert decision.correction_method is not None
            request = ClaimCorrectionRequested(
                request_id=request_id,
                claim_id=source.claim_id,
                patient_id=source.patient_id,
                method=decision.correction_method,
                changes=changes,
                payer_claim_number=source.payer_claim_number,
                denial_id=denial_id,
                requested_at=now,
            )
            if self._corrections is None:
                tx.publish(request, cause=d, event_id=opaque_id("evt", request_id))
                return
            key = (source.claim_id, decision.correction_method.value)
            earlier = self._corrections.get(key)
            if earlier is None:
                self._corrections[key] = (request, opaque_id("evt", request_id))
            else:
                merged = earlier[0].model_copy(update={"changes": [*earlier[0].changes, *changes]})
                self._corrections[key] = (merged, earlier[1])
            return
        if action is Action.WRITE_OFF:
            tx.publish(
                ClaimWriteOffRequested(
                    request_id=request_id,
                    claim_id=source.claim_id,
                    patient_id=source.patient_id,
                    amount=max(denial.amount, Decimal("0")),
                    reason=decision.write_off_reason or denial.label,
                    denial_id=denial_id,
                    requested_at=now,
                ),
                cause=d,
                event_id=opaque_id("evt", request_id),
            )
            await self._resolve(
                tx, d, row, DenialOutcome.WRITTEN_OFF, written_off=max(denial.amount, Decimal("0"))
            )
            return
        if action is Action.REVERIFY_ELIGIBILITY and ctx.claim is not None and decision.recheck_reason:
            service_date = denial.service_date or ctx.claim.first_service_date or ctx.today
            visit = _visit(ctx, service_date, line_key=denial.line_key, procedure_code=denial.procedure_code)
            tx.publish(
                EligibilityRecheckRequested(
                    request_id=request_id,
                    patient_id=source.patient_id,
                    coverage_id=ctx.claim.coverage_id,
                    service_date=service_date,
                    reason=decision.recheck_reason,
                    claim_id=source.claim_id,
                    denial_id=denial_id,
                    modality=visit.modality,
                    patient_at_home=visit.patient_at_home,
                    requested_at=now,
                ),
                cause=d,
                event_id=opaque_id("evt", request_id),
            )
            return
        if action is Action.TRANSFER_TO_PATIENT:
            # The PR amount is already on the patient's ledger (remittance posts it); this closes it.
            await self._resolve(tx, d, row, DenialOutcome.TRANSFERRED_TO_PATIENT)
            return
        if action in (Action.POST_ONLY, Action.BILL_SECONDARY):
            # billing the next payer is the remit's secondary claim request (``_bill_next_payer``)
            await tx.conn.execute(_CLOSE_DENIAL, {"p_denial_id": denial_id, "p_now": now})
            return
        await self._queue(tx, source, denial, denial_id, decision)

    async def _queue(
        self, tx: Transaction, source: _Source, denial: FoundDenial, denial_id: str, decision: Decision
    ) -> None:
        evidence = _denial_evidence(
            decision.evidence,
            payer_claim_number=source.payer_claim_number,
            line_key=denial.line_key,
            procedure_code=denial.procedure_code,
            modifiers=denial.modifiers,
        )
        evidence["source"] = f"{source.kind.value} {source.source_id}"
        await tx.conn.execute(
            _QUEUE_ITEM,
            _work_item(
                denial_id,
                claim_id=source.claim_id,
                patient_id=source.patient_id,
                payer_id=source.payer_id,
                action=decision.action,
                reason=decision.why,
                next_step=decision.next_step,
                evidence=evidence,
                amount=denial.amount,
                deadline=decision.deadline,
            ),
        )

    # ------------------------------------------------------------------ secondary payer
    async def _bill_next_payer(
        self,
        tx: Transaction,
        d: Delivered[Any],
        remit: RemitReceived,
        ctx: TriageContext,
        *,
        wait: bool = True,
    ) -> bool:
        """Cost sharing left after this payer goes to the next coverage, unless the payer crossed it
        over. With no next coverage on file it waits for one (``next_payer_wait``, unless ``wait``
        is false): patients tell the practice of a second plan late. True when the next payer was
        asked (or had been asked for this remit before)."""
        sharing = patient_cost_sharing(remit, self.playbook)
        claim = ctx.claim
        if sharing is None or claim is None:
            return False
        next_priority = _NEXT_PAYER.get(claim.payer_responsibility)
        crossed_over = (
            remit.status in _CROSSOVER_STATUSES
            or bool(_CROSSOVER_RARCS.intersection(remit.rarcs))
            or (ctx.payer is not None and ctx.payer.rules.forwards_crossover)
        )
        if crossed_over:
            return False
        coverage = ctx.next_coverage() if next_priority is not None else None
        if next_priority is None or coverage is None or coverage.payer_id == remit.payer_id:
            if next_priority is not None and wait:
                BatchFacts.of(tx).insert_later(
                    store.next_payer_wait,
                    {
                        "remit_id": remit.remit_id,
                        "claim_id": remit.claim_id,
                        "patient_id": remit.patient_id,
                        "remit": remit.model_dump(mode="json"),
                        "waiting_since": self.now(),
                    },
                )
            # no other payer: the cost sharing stays with the patient, as posted, unless the patient
            # is a QMB, whose Medicaid coverage is missing from file
            remarks = {*remit.rarcs, *(r for ln in remit.lines for r in ln.rarcs)}
            qmb = sorted(_QMB_RARCS & remarks)
            protected = sum(
                (
                    a.amount
                    for a in [*remit.claim_adjustments, *(a for ln in remit.lines for a in ln.adjustments)]
                    if a.group == "PR" and a.carc in _QMB_PROTECTED_CARCS
                ),
                Decimal("0"),
            )
            if qmb and protected > 0 and wait:
                await self._queue_qmb_cost_sharing(tx, remit, protected, qmb)
            return False
        lines = []
        for ln in remit.lines:
            billed = claim.line(ln.line_key, ln.procedure_code)
            if billed is None:
                continue
            lines.append(
                LineAdjudication(
                    line_key=billed.line_key,
                    procedure_code=ln.procedure_code,
                    modifiers=list(ln.modifiers),
                    units=ln.units_paid if ln.units_paid is not None else billed.units,
                    paid=ln.paid,
                    adjustments=list(ln.adjustments),
                    adjudicated_on=remit.payment_date,
                )
            )
        if not lines:
            return False
        request_id = opaque_id("req", remit.remit_id, "secondary")
        fix_kind = f"bill_{next_priority.value}"
        root = claim.root_claim_id
        if not await self._claim_fix(tx, root, fix_kind, remit.remit_id, request_id):
            # the next payer was billed from an earlier adjudication of this claim (or of the claim
            # it corrects): this remit adjudicates it again (a corrected or reprocessed claim, or a
            # split payment). Its lines go to the claims service too, once per remit, which brings
            # the next payer's claim up to date (or leaves it, when nothing changed).
            again = f"{fix_kind}@{remit.remit_id}"
            if not await self._claim_fix(tx, root, again, remit.remit_id, request_id):
                return True
        tx.publish(
            SecondaryClaimRequested(
                request_id=request_id,
                claim_id=remit.claim_id,
                patient_id=remit.patient_id,
                coverage_id=coverage.coverage_id,
                payer_id=coverage.payer_id,
                payer_responsibility=next_priority,
                prior_payer_id=remit.payer_id,
                prior_payer_claim_number=remit.payer_claim_number,
                prior_paid=remit.paid,
                patient_responsibility=max(remit.patient_responsibility, Decimal("0")),
                claim_adjustments=list(remit.claim_adjustments),
                lines=lines,
                remit_id=remit.remit_id,
                requested_at=self.now(),
            ),
            cause=d,
            event_id=opaque_id("evt", request_id),
        )
        return True

    async def _stop_waiting_for_reversed(self, tx: Transaction, reversal: RemitReceived) -> None:
        """The share the reversed remit left waiting for a next payer is no longer owed: the
        claim's waiting remit with the reversal's money (its payer claim number first, else the
        earliest) is marked reversed. A correction listed before the reversal in the 835, or
        another part of a split claim, keeps waiting; the same reversal delivered again marks
        nothing more."""
        await BatchFacts.of(tx).write()  # the waits the batch queued before it, among them
        rows = (await tx.conn.execute(_WAITS_OF_CLAIM, {"p_claim_id": reversal.claim_id})).all()
        if any(row.reversed_by == reversal.remit_id for row in rows):
            return

        def same_money(body: dict[str, Any]) -> bool:
            paid, charge = Decimal(str(body["paid"])), Decimal(str(body["charge"]))
            return abs(paid) == abs(reversal.paid) and abs(charge) == abs(reversal.charge)

        open_ = [row for row in rows if row.reversed_by is None and same_money(row.remit)]
        same_number = [r for r in open_ if r.remit.get("payer_claim_number") == reversal.payer_claim_number]
        for row in (same_number or open_)[:1]:
            await tx.conn.execute(
                _REVERSE_WAIT, {"p_remit_id": row.remit_id, "p_reversed_by": reversal.remit_id}
            )

    async def _bill_waiting_shares(self, tx: Transaction, d: Delivered[CoverageUpdated]) -> None:
        """A secondary (or tertiary) coverage came: the patient shares its priority's prior payers
        left waiting (``next_payer_wait``) for services in its dates are billed to it, each remit as
        if the coverage had been on file when it came. A QMB's cost sharing billed so to Medicaid
        closes the work item that asked a person to find that coverage."""
        e = d.event
        if e.deleted or e.priority is CoveragePriority.PRIMARY:
            return
        await BatchFacts.of(tx).write()  # the waits the batch queued before it, among them
        waiting = (await tx.conn.execute(_WAITING_SHARES, {"p_patient_id": e.patient_id})).all()
        billed = []
        checks: dict[date, tuple[str, Visit]] = {}
        for row in waiting:
            remit = RemitReceived.model_validate(row.remit)
            ctx = await self._context(
                tx, claim_id=remit.claim_id, patient_id=remit.patient_id, payer_id=remit.payer_id
            )
            coverage = ctx.next_coverage()
            if coverage is None or coverage.coverage_id != e.coverage_id or ctx.claim is None:
                continue  # another priority, or not in force on the claim's date of service
            if await self._bill_next_payer(tx, d, remit, ctx, wait=False):
                billed.append(row.remit_id)
                day = ctx.claim.first_service_date
                if day is not None:
                    checks.setdefault(day, (remit.claim_id, _visit(ctx, day)))
        for service_date, (claim_id, visit) in sorted(checks.items()):
            # nobody checked the new coverage on those dates (the eligibility service checks a
            # changed coverage for the next visit only): the claims to it wait for that answer
            request_id = opaque_id("req", e.coverage_id, service_date.isoformat(), "coverage-added")
            tx.publish(
                EligibilityRecheckRequested(
                    request_id=request_id,
                    patient_id=e.patient_id,
                    coverage_id=e.coverage_id,
                    service_date=service_date,
                    reason=RecheckReason.COVERAGE_ADDED,
                    claim_id=claim_id,
                    modality=visit.modality,
                    patient_at_home=visit.patient_at_home,
                    requested_at=self.now(),
                ),
                cause=d,
                event_id=opaque_id("evt", request_id),
            )
        if billed:
            log.info("%d waiting patient shares billed to a coverage added later", len(billed))
            await tx.conn.execute(_STOP_WAITING, {"p_remit_ids": billed})
            await tx.conn.execute(
                _CLOSE_QMB_ITEMS,
                {
                    "p_item_ids": [opaque_id("wi", remit_id, "qmb") for remit_id in billed],
                    "p_decision": "the Medicaid coverage came and was billed the cost sharing",
                    "p_now": self.now(),
                },
            )

    async def _queue_qmb_cost_sharing(
        self, tx: Transaction, remit: RemitReceived, amount: Decimal, remarks: list[str]
    ) -> None:
        """A person finds the QMB's Medicaid coverage: the cost sharing is never the patient's."""
        await tx.conn.execute(
            _QUEUE_ITEM,
            _work_item(
                None,
                kind="qmb_cost_sharing",
                item_id=opaque_id("wi", remit.remit_id, "qmb"),
                claim_id=remit.claim_id,
                patient_id=remit.patient_id,
                payer_id=remit.payer_id,
                action=Action.HUMAN_REVIEW,
                reason="the patient is a Qualified Medicare Beneficiary (N781-N783) and no "
                "Medicaid coverage is on file for the cost sharing",
                next_step="Add the patient's state Medicaid (QMB) coverage and bill it the deductible, "
                "coinsurance and copay; never the patient (refund what was collected). "
                "What Medicaid does not pay is written off.",
                evidence={
                    "rarcs": ", ".join(remarks),
                    "payer_claim_number": remit.payer_claim_number,
                    "source": f"remit {remit.remit_id}",
                },
                amount=amount,
                deadline=None,
            ),
        )

    # ------------------------------------------------------------------ underpayments
    async def _check_underpayments(
        self, tx: Transaction, remit: RemitReceived, ctx: TriageContext, denied_lines: set[int]
    ) -> None:
        codes = {ln.procedure_code for ln in remit.lines}
        if not codes:
            return
        rates = await BatchFacts.of(tx).rates(remit.payer_id, codes)
        if not rates:
            return
        for index, ln in enumerate(remit.lines):
            if index in denied_lines:
                continue
            billed = ctx.claim.line(ln.line_key, ln.procedure_code) if ctx.claim else None
            service_date = ln.service_date or (billed.service_date if billed else None)
            if service_date is None:
                continue
            rate = contracted_rate(
                rates,
                payer_id=remit.payer_id,
                procedure_code=ln.procedure_code,
                modifiers=tuple(ln.modifiers),
                service_date=service_date,
                place_of_service=billed.place_of_service if billed else None,
            )
            units = ln.units_paid or (billed.units if billed else 1)
            short = underpayment(rate, allowed=ln.allowed, units=units)
            if short is None:
                continue
            due = appeal_deadline(self.playbook, ctx.payer, remit.payment_date)
            await tx.conn.execute(
                _QUEUE_ITEM,
                {
                    "item_id": opaque_id("wi", remit.remit_id, "underpaid", index),
                    "kind": "underpayment",
                    "denial_id": None,
                    "claim_id": remit.claim_id,
                    "patient_id": remit.patient_id,
                    "payer_id": remit.payer_id,
                    "action": Action.APPEAL.value,
                    "reason": f"underpaid: allowed {short.allowed} < contracted {short.expected}",
                    "next_step": "Dispute the allowed amount with the payer, citing the contracted rate.",
                    "evidence": {
                        "procedure": " ".join([ln.procedure_code, *ln.modifiers]),
                        "line_key": ln.line_key or "",
                        "allowed": str(short.allowed),
                        "contracted": str(short.expected),
                        "shortfall": str(short.shortfall),
                        "payer_claim_number": remit.payer_claim_number,
                        "source": f"remit {remit.remit_id}",
                    },
                    "amount": short.shortfall,
                    "deadline": due,
                    "status": "open",
                    "appeal_level": 1,
                },
            )

    # ------------------------------------------------------------------ claim status
    async def on_eligibility(self, tx: Transaction, d: Delivered[EligibilityChecked]) -> None:
        """The answer to a re-check a denial asked for: its denials go to a person with what the
        payer said and what to do about it (a retry still to come is waited for)."""
        e = d.event
        if e.trigger is not CheckTrigger.RECHECK or e.request_id is None:
            return
        follow_up = e.aaa_follow_up.action if e.aaa_follow_up is not None else None
        if e.status is EligibilityStatus.ERROR and follow_up in ("retry", "wait"):
            return  # the eligibility service asks again by itself; that answer decides
        asked = (await tx.conn.execute(_FIX_BY_REQUEST, {"p_request_id": e.request_id})).first()
        if asked is None:
            return
        facts = BatchFacts.of(tx)
        waiting = [
            row
            for row in await facts.open_denials(asked.root_claim_id)
            if row.action == Action.REVERIFY_ELIGIBILITY.value
        ]
        if not waiting:
            return  # resolved meanwhile (paid on a replacement, voided...)
        coverages = await facts.coverages(e.patient_id)
        denied = await facts.claim(asked.root_claim_id)
        evidence = {"eligibility_check": e.check_id, "eligibility_status": e.status.value}
        if e.payer_trace_number:
            evidence["payer_trace_number"] = e.payer_trace_number
        if e.other_payer is not None:
            evidence["other_payer"] = e.other_payer.name
        facts.forget_denials(asked.root_claim_id)
        for row in waiting:
            # what the answer means depends on what each denial said: "active" contradicts a
            # coverage denial (CO-27), not a denial naming another payer or plan (CO-109, CO-24)
            action, next_step, why = recheck_answer(e, coverages, carc=row.carc)
            if (
                denied is not None
                and denied.payer_responsibility is not CoveragePriority.PRIMARY
                and e.status is not EligibilityStatus.ACTIVE
            ):
                why = f"{why}; {NEXT_PAYER_NOT_THE_PATIENTS}"
            await _redecide(
                tx, [row], _ANSWER_ITEM, action=action, why=why, next_step=next_step, evidence=evidence
            )

    async def on_correction_refused(self, tx: Transaction, d: Delivered[ClaimCorrectionRefused]) -> None:
        """A correction the claims service could not apply: nothing was sent, so the denials
        waiting for it (the one that asked, and the others of the claim merged into the same
        request) go to a person with the reason, instead of waiting for a claim that will not come."""
        e = d.event
        facts = BatchFacts.of(tx)
        asked = (await tx.conn.execute(_FIX_BY_REQUEST, {"p_request_id": e.request_id})).first()
        claim = await facts.claim(e.claim_id)
        root = asked.root_claim_id if asked else (claim.root_claim_id if claim else e.claim_id)
        waiting = [
            row
            for row in await facts.open_denials(root)
            if row.denial_id == e.denial_id or (row.claim_id == e.claim_id and row.action in _CORRECTING)
        ]
        if not waiting:
            return  # resolved meanwhile, or asked by a person (no denial waits)
        why = f"correction refused by the claims service ({e.reason.value}): {e.detail}"
        evidence = {"correction_request": e.request_id, "refusal": e.reason.value}
        if e.action is not None:
            evidence["change"] = e.action.value
        facts.forget_denials(root)
        await _redecide(
            tx,
            waiting,
            _REOPEN_ITEM,
            action=Action.HUMAN_REVIEW,
            why=why,
            next_step=_REFUSED_NEXT_STEP[e.reason],
            evidence=evidence,
        )
        log.info("correction refused (%s): %d denial(s) queued for a person", e.reason.value, len(waiting))

    async def on_claim_voided(self, tx: Transaction, d: Delivered[ClaimVoided]) -> None:
        """A void the service asked for completed: its open denials are resolved as voided."""
        e = d.event
        facts = BatchFacts.of(tx)
        await self._close_information_requests(tx, [e.claim_id], "voided")
        claim = await facts.claim(e.claim_id)
        for row in await facts.open_denials(claim.root_claim_id if claim else e.claim_id):
            if row.action == Action.VOID.value:
                await self._resolve(tx, d, row, DenialOutcome.VOIDED)


async def _redecide(
    tx: Transaction,
    waiting: Sequence[Any],
    item_statement: Any,
    *,
    action: Action,
    why: str,
    next_step: str,
    evidence: Mapping[str, str],
) -> None:
    """Decide the open denials ``waiting`` again (``action`` for ``why``) and write each one's work
    item with ``item_statement`` (an answer's or a reopening's upsert)."""
    for row in waiting:
        await tx.conn.execute(
            _REDECIDE_DENIAL, {"p_denial_id": row.denial_id, "p_action": action.value, "p_why": why}
        )
        await tx.conn.execute(
            item_statement,
            _work_item(
                row.denial_id,
                claim_id=row.claim_id,
                patient_id=row.patient_id,
                payer_id=row.payer_id,
                action=action,
                reason=why,
                next_step=next_step,
                evidence=_denial_evidence(
                    evidence,
                    payer_claim_number=row.payer_claim_number,
                    line_key=row.line_key,
                    procedure_code=row.procedure_code,
                    modifiers=row.modifiers,
                ),
                amount=row.amount,
                deadline=row.appeal_deadline,
            ),
        )


def _denial_evidence(
    base: Mapping[str, str],
    *,
    payer_claim_number: str | None,
    line_key: str | None,
    procedure_code: str | None,
    modifiers: Sequence[str],
) -> dict[str, str]:
    """A work item's evidence: ``base`` and the denied claim's number, line and procedure."""
    evidence = dict(base)
    if payer_claim_number:
        evidence["payer_claim_number"] = payer_claim_number
    if line_key:
        evidence["line_key"] = line_key
    if procedure_code:
        evidence["procedure"] = " ".join([procedure_code, *modifiers])
    return evidence


def _work_item(
    denial_id: str | None,
    *,
    claim_id: str,
    patient_id: str,
    payer_id: str,
    action: Action,
    reason: str,
    next_step: str,
    evidence: dict[str, str],
    amount: Decimal,
    deadline: date | None,
    kind: str = "denial",
    item_id: str | None = None,
) -> dict[str, Any]:
    """The open work item of a denial (one per denial: its id follows the denial's), or of
    another ``kind`` under its own ``item_id``."""
    return {
        "item_id": item_id or opaque_id("wi", denial_id),
        "kind": kind,
        "denial_id": denial_id,
        "claim_id": claim_id,
        "patient_id": patient_id,
        "payer_id": payer_id,
        "action": action.value,
        "reason": reason,
        "next_step": next_step,
        "evidence": evidence,
        "amount": max(amount, Decimal("0")),
        "deadline": deadline,
        "status": "open",
        "appeal_level": 1 if action is Action.APPEAL else None,
    }


_ACTIVE_CONTRADICTS = frozenset({"26", "27", "31", "32", "33", "177", "200"})
"""CARCs saying the patient had no coverage in force with this payer on the date of service
(before it began, after it ended, in a lapse; not an eligible member or dependent): the payer's own
271 answering "active" for that date contradicts them, and the claim is sent back for reprocessing
(an appeal). Any other denial that asked for a re-check (another payer first, CO-22/109; a managed
care plan, CO-24; a name or id mismatch, CO-140, CO-16/MA27; not this payer's claim, CLP02 23)
stands beside an active member: a person finds the payer responsible, or the data to correct."""


def recheck_answer(
    e: EligibilityChecked, coverages: Sequence[CoverageOnFile], *, carc: str | None
) -> tuple[Action, str, str]:
    """What a denial (deciding CARC ``carc``, None for a claim status or a rejection) that asked
    for a re-check becomes once the payer answered: the action, the next step for the person and
    why."""
    said = f"re-check {e.check_id}: the payer answered {e.status.value}"
    others = [c for c in coverages if c.coverage_id != e.coverage_id and c.active_on(e.service_date)]
    other = f" (on file: coverage {others[0].coverage_id} of {others[0].payer_id})" if others else ""
    if e.status is EligibilityStatus.ACTIVE:
        if e.other_payer is not None:
            return (
                Action.HUMAN_REVIEW,
                "The payer reports another payer "
                f"({e.other_payer.name}) for this "
                "patient: confirm which pays first, update the coverage order and bill that payer first.",
                f"{said}, naming another payer",
            )
        if carc not in _ACTIVE_CONTRADICTS:
            denial = f"CARC {carc}" if carc else "the denial"
            return (
                Action.HUMAN_REVIEW,
                "The payer's 271 shows the member active with it on the date of service, which does not "
                "answer this denial (another payer or plan responsible, a carve-out, the member's name or "
                "id on the claim): find the payer responsible and bill it, or correct the member data; "
                "ask this payer to reprocess only if it confirms it pays.",
                f"{said} on the date of service, which does not contradict {denial}",
            )
        return (
            Action.APPEAL,
            "The payer's own 271 shows the coverage active on the date of service: ask the payer to "
            "reprocess the claim citing that answer (its trace number is in the evidence); appeal if refused.",
            f"{said} on the date of service, contradicting the denial",
        )
    if e.status is EligibilityStatus.INACTIVE:
        return (
            Action.HUMAN_REVIEW,
            "Coverage was not active on the date of service: bill the patient's other coverage in force "
            f"that day{other}, or the patient, after confirming with them.",
            f"{said}: coverage inactive on the date of service",
        )
    if e.status is EligibilityStatus.NOT_FOUND:
        fields = ", ".join(e.aaa_follow_up.corrections) if e.aaa_follow_up else ""
        return (
            Action.HUMAN_REVIEW,
            "The payer cannot find the member: correct the coverage's member data"
            f"{' (' + fields + ')' if fields else ''} from the patient's card, then resubmit.",
            f"{said}: member not found",
        )
    return (
        Action.HUMAN_REVIEW,
        "The re-check got no answer from the payer: verify the coverage on the payer's portal or by "
        "phone, then resubmit, appeal or bill the patient as it shows.",
        f"{said}" + (f" ({e.aaa_follow_up.message})" if e.aaa_follow_up else ""),
    )


def _rendering(claim: ClaimFacts | None, line_key: str | None, procedure_code: str) -> str | None:
    if claim is None:
        return None
    line = claim.line(line_key, procedure_code)
    return (line.rendering_provider_id if line else None) or claim.rendering_provider_id


def _visit(
    ctx: TriageContext, service_date: date, *, line_key: str | None = None, procedure_code: str | None = None
) -> Visit:
    """How the visit a re-check is for was delivered (``visit_of``): the claim's line the denial
    names, else its lines of ``service_date``, read with the telehealth rules of the payer billed."""
    claim = ctx.claim
    if claim is None:
        return Visit()
    named = claim.line(line_key, procedure_code) if line_key or procedure_code else None
    lines = [named] if named is not None else [ln for ln in claim.lines if ln.service_date == service_date]
    return visit_of(lines, ctx.payer.rules.telehealth if ctx.payer is not None else None)
