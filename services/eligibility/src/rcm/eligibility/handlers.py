"""Thin adapters: events in, checks run, results and follow-ups written in the batch's transaction.

One batch handler (not ``dispatch``) because the payer calls of a batch run together:
reference events are projected first, in order; the checks they and the appointments ask
for are then de-duplicated (same cache key in the batch, or a fresh result on file) and
sent concurrently, each payer under its own concurrency and rate limit, so one slow payer
does not hold the others' calls; a check whose payer has no room within ``payer_wait_s``
is queued for the re-check timer instead, so it does not hold the batch either.

Failure policy (see README): a payer that cannot answer after the transport's retries
(timeouts, 5xx, circuit open) is a *recorded result*, not an error of the handler:
eligibility-checked says ``error``, the check is scheduled again with a backoff, and the
batch commits. Raising would roll the whole batch back, other payers' answers included.
Missing reference data (an appointment before its patient or coverage) raises
``TransientError``: the record goes through the runtime's retry topic until the data is there.

A payer that could not answer (an outage, AAA 42/80 "try again") is asked again on the
``unavailable_retry_s`` backoff; each eligibility-checked says whether another attempt follows
(``verification`` retrying) or not: with the attempts used up it is ``unable_to_verify``, its
AAA follow-up ``stop``, never an inactive coverage. AAA reasons naming request data (72, 73, 58,
75...) are ``invalid_request_data`` with the fields named (``rejected_fields``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.eligibility import store
from rcm.eligibility.batch import Projections, References, Scheduled
from rcm.eligibility.checker import Checker, CheckOutcome
from rcm.eligibility.domain import (
    AaaAction,
    AaaDecision,
    BenefitSummary,
    InquiryRequest,
    Person,
    cache_key,
    detect_changes,
    fingerprint_of,
    first_visit_of_month,
    is_fresh,
    night_before,
    payer_identifier,
    telehealth_places,
)
from rcm.eligibility.domain.rejections import describe_reason
from rcm.eligibility.settings import EligibilityOptions, PayerPolicy
from rcm.events.models import (
    AaaFollowUp,
    AppointmentScheduled,
    CheckTrigger,
    CoverageChanged,
    CoverageUpdated,
    EligibilityChecked,
    EligibilityRecheckRequested,
    EligibilityStatus,
    OrganizationUpdated,
    PatientUpdated,
    PayerUpdated,
    ProviderUpdated,
    Relationship,
    Verification,
)
from rcm.events.models.common import CoveragePriority
from rcm.servicekit import Delivered, Transaction, TransientError, among

__all__ = ["CheckJob", "Eligibility"]

log = logging.getLogger(__name__)

_PRIORITY = {CoveragePriority.PRIMARY: 0, CoveragePriority.SECONDARY: 1, CoveragePriority.TERTIARY: 2}


@dataclass(frozen=True, slots=True)
class CheckJob:
    """One check to run: the coverage, the date of service and the 270 to send."""

    check_id: str
    patient_id: str
    coverage_id: str
    payer_id: str
    service_date: date
    request: InquiryRequest
    policy: PayerPolicy
    cache_key: str
    trigger: str
    bypass_cache: bool = False
    not_before: datetime | None = None
    attempt: int = 0
    appointment_id: str | None = None


def new_check_id() -> str:
    return f"elig-{uuid.uuid4().hex[:20]}"


def trace_originator(tin: str) -> str:
    """TRN03 of the 270's 2000C trace: "1" and the EIN (X279A1: 1 for an EIN, 9 for an id of the
    submitter's own); a TIN that is not 9 digits goes as the submitter's own id, "9" and it."""
    digits = tin.replace("-", "").strip()
    if len(digits) == 9 and digits.isdigit():
        return f"1{digits}"
    return f"9{digits}"[:10]


class Eligibility:
    """The service's use cases, shared by the consumer and the re-check timer."""

    def __init__(
        self,
        checker: Checker,
        options: EligibilityOptions,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.checker = checker
        self.options = options
        self.now = now
        #: Set when a check is queued behind a busy payer: the re-check timer looks again.
        self.wake = asyncio.Event()
        self._soonest: datetime | None = None

    # ------------------------------------------------------------------ consumer

    async def handle(self, tx: Transaction, events: Sequence[Delivered[Any]]) -> None:
        conn = tx.conn
        triggers = await _project_all(conn, events)
        refs = References()
        await refs.prepare(conn, [d.event for d in triggers])
        jobs: list[CheckJob] = []
        for d in triggers:
            jobs += await self._jobs_for(tx, d.event, refs)
        await self.run(tx, jobs)

    async def _jobs_for(self, tx: Transaction, event: Any, refs: References) -> list[CheckJob]:
        conn = tx.conn
        if isinstance(event, AppointmentScheduled):
            dos = event.start.date()
            coverages = await self._coverages_on(conn, event.patient_id, dos, refs)
            jobs = [
                await self._job(
                    conn,
                    refs,
                    coverage,
                    dos,
                    trigger="appointment",
                    organization_id=event.organization_id,
                    appointment_id=event.appointment_id,
                    places=telehealth_places(event.modality.value),
                )
                for coverage in coverages
            ]
            await self._schedule_night_before(tx, event, jobs, refs)
            return jobs
        if isinstance(event, CoverageUpdated):
            # A changed card matters for the next visit; without one there is nothing to
            # verify yet (and a replayed compacted topic must not set off a 270 per coverage).
            next_visit = await refs.next_visit(conn, event.patient_id, today=self.now().date())
            if next_visit is None or not event.effective.contains(next_visit):
                return []
            return [await self._job(conn, refs, event, next_visit, trigger="coverage_updated")]
        if isinstance(event, EligibilityRecheckRequested):
            coverage = await refs.get(conn, store.coverages, event.coverage_id, CoverageUpdated)
            if coverage is None:
                raise TransientError("coverage of the re-check request is not known yet")
            return [
                await self._job(
                    conn,
                    refs,
                    coverage,
                    event.service_date,
                    trigger=f"{_RECHECK}{event.reason.value}:{event.request_id}",
                    not_before=event.requested_at,
                    bypass_cache=True,  # asked to verify again: no earlier answer will do
                    places=telehealth_places(
                        event.modality.value if event.modality else None, at_home=event.patient_at_home
                    ),
                )
            ]
        return []

    # ------------------------------------------------------------------ building jobs

    async def _coverages_on(
        self, conn: AsyncConnection, patient_id: str, dos: date, refs: References
    ) -> list[CoverageUpdated]:
        known = await refs.coverages_of(conn, patient_id)
        if not known:
            raise TransientError("no coverage known yet for the patient")
        in_force = [c for c in known if c.effective.contains(dos)]
        return sorted(in_force, key=lambda c: _PRIORITY[c.priority])

    async def _job(
        self,
        conn: AsyncConnection,
        refs: References,
        coverage: CoverageUpdated,
        dos: date,
        *,
        trigger: str,
        organization_id: str | None = None,
        appointment_id: str | None = None,
        not_before: datetime | None = None,
        bypass_cache: bool = False,
        attempt: int = 0,
        places: tuple[str, ...] = (),
    ) -> CheckJob:
        patient = await refs.get(conn, store.patients, coverage.patient_id, PatientUpdated)
        payer = await refs.get(conn, store.payers, coverage.payer_id, PayerUpdated)
        if patient is None or payer is None:
            raise TransientError("patient or payer of the coverage is not known yet")
        organization = await refs.get(
            conn, store.organizations, organization_id or patient.organization_id, OrganizationUpdated
        )
        if organization is None:
            raise TransientError("organization of the patient is not known yet")
        payer_key = payer.clearinghouse_payer_ids.get(
            self.checker.clearinghouse.name, payer.electronic_payer_id
        )
        policy = self.options.policy(payer_key)
        patient_person = Person(
            first=patient.name.first,
            last=patient.name.last,
            birth_date=patient.birth_date,
            sex=patient.sex.value,
        )
        # a dependent with a member id of their own is the inquiry's subscriber (X279A1 1.4.2)
        dependent = (
            coverage.relationship is not Relationship.SELF
            and coverage.subscriber is not None
            and not coverage.member_id_is_patients
        )
        subscriber = patient_person
        if dependent and coverage.subscriber is not None:
            sub = coverage.subscriber
            subscriber = Person(
                first=sub.name.first,
                last=sub.name.last,
                birth_date=sub.birth_date,
                sex=sub.sex.value if sub.sex else None,
            )
        check_id = new_check_id()
        request = InquiryRequest(
            trace=check_id,
            payer_name=payer.name,
            payer_electronic_id=payer_key,
            provider_name=organization.legal_name,
            provider_npi=organization.group_npi,
            member_id=coverage.member_id,
            subscriber=subscriber,
            dependent=patient_person if dependent else None,
            service_date=dos,
            originator_id=trace_originator(organization.tin),
            service_types=policy.service_types,
            telehealth_places=places,
        )
        key = cache_key(
            patient_id=coverage.patient_id,
            payer_id=coverage.payer_id,
            service_date=dos,
            fingerprint=fingerprint_of(request),
        )
        return CheckJob(
            check_id=check_id,
            patient_id=coverage.patient_id,
            coverage_id=coverage.coverage_id,
            payer_id=coverage.payer_id,
            service_date=dos,
            request=request,
            policy=policy,
            cache_key=key,
            trigger=trigger,
            bypass_cache=bypass_cache,
            not_before=not_before,
            attempt=attempt,
            appointment_id=appointment_id,
        )

    async def _schedule_night_before(
        self, tx: Transaction, event: AppointmentScheduled, jobs: list[CheckJob], refs: References
    ) -> None:
        patient = await refs.get(tx.conn, store.patients, event.patient_id, PatientUpdated)
        zone = patient.time_zone if patient else None
        others = await refs.other_visits(tx.conn, event.patient_id, event.appointment_id)
        first = first_visit_of_month(event.start.date(), others)
        for job in jobs:
            if not (job.policy.recheck_every_visit or first):
                continue
            due = night_before(event.start, hour=job.policy.recheck_hour, zone=zone)
            if due <= self.now():
                continue  # booked for tomorrow: the check just made is the night-before one
            _schedule(
                tx,
                dedupe_key=f"{event.appointment_id}|{job.coverage_id}|night_before",
                job=job,
                reason="first_visit_of_month" if first else "night_before",
                due_at=due,
                bypass_cache=first,
                appointment_id=event.appointment_id,
            )

    # ------------------------------------------------------------------ running checks

    async def run(self, tx: Transaction, jobs: Sequence[CheckJob]) -> list[tuple[CheckJob, CheckOutcome]]:
        """Run the checks that need the payer, concurrently, and write their results.

        A check waits for its payer's turn (rate and concurrency limit) at most
        ``payer_wait_s``; one whose turn would come later is queued in the scheduled
        checks for when the payer should have room, in this transaction, and the batch
        goes on: a busy payer delays its own checks, not the other payers' in the batch.
        """
        conn = tx.conn
        self.checker.bind(conn.engine)  # its 270s' control numbers come from this database's sequence
        todo: dict[str, CheckJob] = {}
        now = self.now()
        window = timedelta(hours=self.options.cache_hours)
        answered = await _answered_at(conn, [j.cache_key for j in jobs if not j.bypass_cache])
        for job in jobs:
            if job.cache_key in todo:
                continue  # the same check twice in one batch
            checked_at = answered.get(job.cache_key)
            if not job.bypass_cache and _fresh(checked_at, job, now=now, window=window):
                continue
            todo[job.cache_key] = job
        done: list[tuple[CheckJob, CheckOutcome]] = []
        if todo:
            wait, answer = self.options.payer_wait_s, self.options.payer_answer_wait_s
            outcomes = await asyncio.gather(
                *(
                    self.checker.check(
                        j.request,
                        j.policy,
                        cache_key=j.cache_key,
                        wait_up_to=wait,
                        answer_within=answer,
                        fresh=j.bypass_cache,
                    )
                    for j in todo.values()
                )
            )
            results = list(zip(todo.values(), outcomes, strict=True))
            previous = await _Summaries.load(conn, [j.coverage_id for j, o in results if not o.deferred])
            for job, outcome in results:
                if outcome.deferred:
                    self._defer(tx, job, outcome, now)
                    continue
                await self._record(tx, job, outcome, previous)
                done.append((job, outcome))
        await Scheduled.of(tx).write(conn)
        return done

    def _defer(self, tx: Transaction, job: CheckJob, outcome: CheckOutcome, now: datetime) -> None:
        """Queue a check its payer had no room for, or has not answered yet: not an attempt, nothing published."""
        due = now + timedelta(seconds=max(outcome.retry_in, self.options.payer_wait_s))
        _schedule(
            tx,
            dedupe_key=f"{job.cache_key}|queued|{job.check_id}",
            job=job,
            reason="payer_busy" if outcome.failure == "PayerBusy" else "payer_slow",
            due_at=due,
            bypass_cache=job.bypass_cache,
            appointment_id=job.appointment_id,
        )
        log.info(
            "eligibility check %s for coverage %s: queued (%s)",
            job.check_id,
            job.coverage_id,
            outcome.failure,
        )
        # the timer looks once the queued row is committed: woken earlier, it would find
        # nothing due yet and sleep a whole poll interval
        tx.after_commit(lambda: self._queued(due))

    def _queued(self, due: datetime) -> None:
        """A check was queued for ``due``: the re-check timer wakes and looks again."""
        if self._soonest is None or due < self._soonest:
            self._soonest = due
        self.wake.set()

    def seconds_to_next_round(self, *, next_due: datetime | None, poll: float) -> float:
        """How long the re-check timer may sleep: until the poll interval, or the soonest due check."""
        now = self.now()
        if self._soonest is not None and self._soonest <= now:
            self._soonest = None
        soonest = min((d for d in (next_due, self._soonest) if d is not None), default=None)
        if soonest is None:
            return poll
        # a little pause even when something is due already (another replica may hold it)
        return min(poll, max((soonest - now).total_seconds(), 0.05))

    async def _record(
        self, tx: Transaction, job: CheckJob, outcome: CheckOutcome, previous_summaries: _Summaries
    ) -> None:
        conn = tx.conn
        now = self.now()
        summary = outcome.summary
        other_payer = summary.other_payer
        if other_payer is not None and summary.other_payer_identifier:
            matched = await conn.scalar(
                store.PAYER_BY_ELECTRONIC_ID, {"electronic_payer_id": summary.other_payer_identifier}
            )
            if matched is not None:
                other_payer = other_payer.model_copy(update={"payer_id": matched})
        carve_out = summary.carve_out
        if carve_out is not None and (identifier := payer_identifier(carve_out)):
            # the carve-out is often the other payer too: looked up once
            matched = (
                other_payer.payer_id
                if other_payer is not None and identifier == summary.other_payer_identifier
                else await conn.scalar(store.PAYER_BY_ELECTRONIC_ID, {"electronic_payer_id": identifier})
            )
            if matched is not None:
                carve_out = carve_out.model_copy(update={"payer_id": matched})
        previous = previous_summaries.latest(job.coverage_id)
        follows = self._next_attempt(job, outcome, now)
        verification = _verification(outcome, retrying=follows is not None)
        rejected = (
            list(outcome.decision.named)
            if outcome.decision is not None and verification is Verification.INVALID_REQUEST_DATA
            else []
        )
        # an audit row nothing in this transaction reads back: written with the batch's others
        dumped = summary.model_dump(mode="json")
        tx.insert_later(
            store.checks,
            {
                "check_id": job.check_id,
                "cache_key": job.cache_key,
                "patient_id": job.patient_id,
                "coverage_id": job.coverage_id,
                "payer_id": job.payer_id,
                "service_date": job.service_date,
                "status": summary.status.value,
                "trigger": job.trigger,
                "summary": dumped,
                "decision": _decision_json(outcome, verification, job.attempt + 1),
                "failure": outcome.failure,
                "raw_271": outcome.raw_271,
                "attempts": outcome.attempts,
                "checked_at": now,
            },
        )
        previous_summaries.recorded(job.coverage_id, summary.status, dumped, now)
        checked = EligibilityChecked(
            check_id=job.check_id,
            patient_id=job.patient_id,
            coverage_id=job.coverage_id,
            payer_id=job.payer_id,
            service_date=job.service_date,
            status=summary.status,
            plan_name=summary.plan_name,
            group_number=summary.group_number,
            plan_period=summary.plan_period,
            service_type_code=summary.service_type_code,
            in_network=summary.in_network,
            out_of_network=summary.out_of_network,
            visit_limit=summary.visit_limit,
            visits_remaining=summary.visits_remaining,
            telehealth=summary.telehealth,
            telehealth_covered=summary.telehealth_covered,
            telehealth_visit=bool(job.request.telehealth_places),
            benefits_place_of_service=summary.benefits_place,
            auth_required=summary.auth_required,
            other_payer=other_payer,
            covered=summary.covered,
            carve_out=carve_out,
            aaa_errors=summary.aaa_errors,
            aaa_follow_up=_follow_up(outcome, exhausted=follows is None, attempts=job.attempt + 1),
            verification=verification,
            rejected_fields=rejected,
            attempt=job.attempt + 1,
            payer_trace_number=summary.payer_trace_number,
            checked_at=now,
            trigger=trigger_of(job.trigger),
            request_id=request_of(job.trigger),
        )
        tx.publish(checked, event_id=job.check_id)
        for found in detect_changes(previous, summary):
            tx.publish(
                CoverageChanged(
                    patient_id=job.patient_id,
                    coverage_id=job.coverage_id,
                    payer_id=job.payer_id,
                    change=found.change,
                    effective_date=found.effective_date,
                    check_id=job.check_id,
                    detected_at=now,
                ),
                event_id=f"{job.check_id}:{found.change.value}",
            )
        log.info(
            "eligibility check %s for coverage %s: %s, %s, attempt %d%s",
            job.check_id,
            job.coverage_id,
            summary.status.value,
            verification.value,
            job.attempt + 1,
            f" ({outcome.failure})" if outcome.failure else "",
        )
        if follows is not None:
            self._follow_up(tx, job, *follows)

    def _next_attempt(
        self, job: CheckJob, outcome: CheckOutcome, now: datetime
    ) -> tuple[datetime, str] | None:
        """When and why the service asks again by itself, or None: an AAA wait (W/X, a date-window
        reason) after its days; an outage or an AAA "try again" (42, 80...) on the
        ``unavailable_retry_s`` backoff, bounded by its length."""
        if not outcome.retry_later:
            return None
        decision = outcome.decision
        if decision is not None and decision.action is AaaAction.WAIT and decision.wait is not None:
            return now + decision.wait, "aaa_wait"
        delays = self.options.unavailable_retry_s
        if job.attempt >= len(delays):
            return None  # the attempts are used up: unable to verify
        reason = "aaa_retry" if decision is not None else "payer_unavailable"
        return now + timedelta(seconds=delays[job.attempt]), reason

    def _follow_up(self, tx: Transaction, job: CheckJob, due: datetime, reason: str) -> None:
        _schedule(
            tx,
            dedupe_key=f"{job.coverage_id}|{job.service_date}|{reason}|{job.attempt + 1}|{job.check_id}",
            job=replace(job, attempt=job.attempt + 1),
            reason=reason,
            due_at=due,
            bypass_cache=True,
            appointment_id=job.appointment_id,
        )

    # ------------------------------------------------------------------ timer

    async def next_due(self, conn: AsyncConnection) -> datetime | None:
        """When the soonest scheduled check not yet run is due."""
        t = store.scheduled_checks
        value = await conn.scalar(sa.select(sa.func.min(t.c.due_at)).where(t.c.done_at.is_(None)))
        return value if isinstance(value, datetime) else None

    async def run_due(self, tx: Transaction, *, limit: int) -> int:
        """Run the scheduled checks that are due (night before, AAA waits, payer outages, busy payers)."""
        conn = tx.conn
        now = self.now()
        t = store.scheduled_checks
        rows = (
            await conn.execute(
                sa.select(t)
                .where(t.c.done_at.is_(None), t.c.due_at <= now)
                .order_by(t.c.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0
        await conn.execute(t.update().where(among(t.c.id, [r.id for r in rows])).values(done_at=now))
        refs = References()
        await refs.fetch(conn, coverage_ids=[r.coverage_id for r in rows])
        jobs: list[CheckJob] = []
        for row in rows:
            coverage = await refs.get(conn, store.coverages, row.coverage_id, CoverageUpdated)
            if coverage is None or coverage.deleted:
                continue
            organization_id: str | None = None
            places = tuple(p for p in (row.telehealth_places or "").split(",") if p)
            if row.appointment_id is not None:
                booked = (
                    await conn.execute(
                        sa.select(store.appointments.c.organization_id, store.appointments.c.modality).where(
                            store.appointments.c.appointment_id == row.appointment_id
                        )
                    )
                ).first()
                if booked is not None:
                    organization_id = booked.organization_id
                    if booked.modality is not None:  # as booked now (a visit moved to video...)
                        places = telehealth_places(booked.modality)
            try:
                jobs.append(
                    await self._job(
                        conn,
                        refs,
                        coverage,
                        row.service_date,
                        trigger=row.trigger or row.reason,
                        organization_id=organization_id,
                        appointment_id=row.appointment_id,
                        not_before=row.not_before,
                        bypass_cache=row.bypass_cache,
                        attempt=row.attempt,
                        places=places,
                    )
                )
            except TransientError:
                log.warning("scheduled re-check %s skipped: reference data missing", row.id)
        await self.run(tx, jobs)
        return len(rows)


# ------------------------------------------------------------------ helpers


async def _project_all(conn: AsyncConnection, events: Sequence[Delivered[Any]]) -> list[Delivered[Any]]:
    """Project the batch's reference data and appointments, one write per table; the events
    that ask for a check (built once everything is projected, as it reads what they wrote)."""
    projections = Projections()
    triggers: list[Delivered[Any]] = []
    for d in events:
        event = d.event
        if isinstance(event, PatientUpdated):
            projections.project(store.patients, event.patient_id, event, event.deleted, event.updated_at)
        elif isinstance(event, OrganizationUpdated):
            projections.project(
                store.organizations, event.organization_id, event, event.deleted, event.updated_at
            )
        elif isinstance(event, ProviderUpdated):
            projections.project(store.providers, event.provider_id, event, event.deleted, event.updated_at)
        elif isinstance(event, PayerUpdated):
            projections.project(store.payers, event.payer_id, event, event.deleted, event.updated_at)
        elif isinstance(event, CoverageUpdated):
            projections.project(
                store.coverages,
                event.coverage_id,
                event,
                event.deleted,
                event.updated_at,
                patient_id=event.patient_id,
                payer_id=event.payer_id,
            )
            if not event.deleted:
                triggers.append(d)
        elif isinstance(event, AppointmentScheduled):
            projections.book(event)
            triggers.append(d)
        elif isinstance(event, EligibilityRecheckRequested):
            triggers.append(d)
    await projections.write(conn)
    return triggers


async def _answered_at(conn: AsyncConnection, cache_keys: list[str]) -> dict[str, datetime]:
    """When each cache key was last answered (one statement for a batch's checks)."""
    if not cache_keys:
        return {}
    rows = await conn.execute(
        store.LATEST_RESULTS, {"cache_keys": sorted(set(cache_keys)), "error": EligibilityStatus.ERROR.value}
    )
    return {row.cache_key: row.checked_at for row in rows}


def _fresh(checked_at: datetime | None, job: CheckJob, *, now: datetime, window: timedelta) -> bool:
    """A result on file answers the check (recent enough, and not older than what asked for it)."""
    return isinstance(checked_at, datetime) and is_fresh(
        checked_at, now=now, window=window, not_before=job.not_before
    )


class _Summaries:
    """The last summary on file per coverage, read once for a run's checks and kept current as
    they are recorded (a coverage checked twice compares the second answer with the first)."""

    def __init__(self, latest: dict[str, tuple[datetime, dict[str, Any]]]) -> None:
        self._latest = latest

    @classmethod
    async def load(cls, conn: AsyncConnection, coverage_ids: list[str]) -> _Summaries:
        if not coverage_ids:
            return cls({})
        rows = await conn.execute(
            store.LATEST_SUMMARIES,
            {"coverage_ids": sorted(set(coverage_ids)), "error": EligibilityStatus.ERROR.value},
        )
        return cls({row.coverage_id: (row.checked_at, row.summary) for row in rows})

    def latest(self, coverage_id: str) -> BenefitSummary | None:
        held = self._latest.get(coverage_id)
        return BenefitSummary.model_validate(held[1]) if held is not None else None

    def recorded(
        self, coverage_id: str, status: EligibilityStatus, summary: dict[str, Any], at: datetime
    ) -> None:
        if status is EligibilityStatus.ERROR:
            return  # a failed check says nothing about the coverage
        held = self._latest.get(coverage_id)
        if held is None or held[0] <= at:
            self._latest[coverage_id] = (at, summary)


_RECHECK = "recheck:"
"""A re-check's trigger: ``recheck:<reason>:<request id>`` (kept through retries)."""

_TRIGGERS = {
    "appointment": CheckTrigger.APPOINTMENT,
    "coverage_updated": CheckTrigger.COVERAGE_UPDATED,
    "night_before": CheckTrigger.SCHEDULED,
    "first_visit_of_month": CheckTrigger.SCHEDULED,
    "aaa_wait": CheckTrigger.RETRY,
    "aaa_retry": CheckTrigger.RETRY,
    "payer_unavailable": CheckTrigger.RETRY,
}


def trigger_of(trigger: str) -> CheckTrigger | None:
    """The event's account of what asked for a check, from the job's trigger."""
    if trigger.startswith(_RECHECK):
        return CheckTrigger.RECHECK
    return _TRIGGERS.get(trigger)


def request_of(trigger: str) -> str | None:
    """The re-check request a check answers, from its trigger (None for any other check)."""
    if not trigger.startswith(_RECHECK):
        return None
    request_id = trigger[len(_RECHECK) :].partition(":")[2]
    return request_id or None


def _schedule(
    tx: Transaction,
    *,
    dedupe_key: str,
    job: CheckJob,
    reason: str,
    due_at: datetime,
    bypass_cache: bool,
    appointment_id: str | None = None,
) -> None:
    Scheduled.of(tx).add(
        {
            "dedupe_key": dedupe_key,
            "patient_id": job.patient_id,
            "coverage_id": job.coverage_id,
            "service_date": job.service_date,
            "appointment_id": appointment_id,
            "reason": reason,
            "bypass_cache": bypass_cache,
            "attempt": job.attempt,
            "due_at": due_at,
            # a queued check keeps what asked for it; a retried re-check keeps its request
            "trigger": job.trigger
            if reason in ("payer_busy", "payer_slow") or job.trigger.startswith(_RECHECK)
            else None,
            "not_before": job.not_before,
            "telehealth_places": ",".join(job.request.telehealth_places) or None,
        }
    )


def _verification(outcome: CheckOutcome, *, retrying: bool) -> Verification:
    """How far a check got: answered (active or inactive), the service asking again, the request's
    data rejected (the fields named), or no answer to be had by itself (never inactive)."""
    if outcome.summary.status in (EligibilityStatus.ACTIVE, EligibilityStatus.INACTIVE):
        return Verification.ANSWERED
    if retrying:
        return Verification.RETRYING
    decision = outcome.decision
    if outcome.summary.status is EligibilityStatus.NOT_FOUND or (
        decision is not None and (decision.action is AaaAction.CORRECT or decision.named)
    ):
        return Verification.INVALID_REQUEST_DATA
    return Verification.UNABLE_TO_VERIFY


def _used_up(decision: AaaDecision, *, exhausted: bool) -> bool:
    """A "try again" the service will not try again: its attempts are used up."""
    return exhausted and decision.action is AaaAction.RETRY


def _follow_up(outcome: CheckOutcome, *, exhausted: bool = False, attempts: int = 1) -> AaaFollowUp | None:
    """The event's account of what to do about the 271's AAA rejections; a "try again" whose
    attempts are used up is ``stop`` (the service does not resubmit it by itself), so that no
    consumer waits for an answer that will not come."""
    decision = outcome.decision
    if decision is None:
        return None
    if _used_up(decision, exhausted=exhausted):
        return AaaFollowUp(action="stop", message=_unable_message(decision, attempts)[:300])
    return AaaFollowUp(
        action=decision.action.value,
        wait_days=decision.wait.days if decision.wait else None,
        corrections=list(decision.corrections),
        message=decision.message[:300],
    )


def _unable_message(decision: AaaDecision, attempts: int) -> str:
    reasons = "; ".join(describe_reason(r) for r in decision.reasons)
    return (
        f"unable to verify: the payer could not answer in {attempts} attempt(s) ({reasons}); no further "
        "automatic checks: verify on the payer's portal or by phone, or request a re-check"
    )


def _decision_json(outcome: CheckOutcome, verification: Verification, attempt: int) -> dict[str, Any] | None:
    decision = outcome.decision
    if decision is None:
        return None
    return {
        "action": decision.action.value,
        "wait_days": decision.wait.days if decision.wait else None,
        "corrections": list(decision.corrections),
        "reasons": list(decision.reasons),
        "named": list(decision.named),
        "message": decision.message,
        "verification": verification.value,
        "attempt": attempt,
    }
