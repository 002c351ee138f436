"""Thin adapters: an event in, the burn-down rules applied, rows written and events out.

Consumed: authorization-received, claim-created, claim-void-requested,
claim-status-changed (voided), session-voided, appointment-scheduled,
appointment-cancelled, payer-updated. Published (through the outbox, in the same
transaction): authorization-consumed, authorization-released, authorization-alert.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rcm.authorizations import store
from rcm.authorizations.batch import BatchView, Registered
from rcm.authorizations.domain import (
    AlertPolicy,
    Authorization,
    AuthRequirements,
    Consumed,
    ServiceLine,
    Uncovered,
    alerts_due,
    authorization_to_reserve,
    burn_down,
    conditions,
)
from rcm.events.models import (
    AlertKind,
    AppointmentCancelled,
    AppointmentScheduled,
    AuthorizationAlert,
    AuthorizationConsumed,
    AuthorizationReceived,
    AuthorizationReleased,
    ClaimCreated,
    ClaimVoided,
    ClaimVoidRequested,
    FrequencyCode,
    PayerBillingRules,
    PayerUpdated,
    ReleaseReason,
    SessionVoided,
)
from rcm.servicekit import BatchHandler, Delivered, Transaction, dispatch

__all__ = ["Ledger", "alert_id"]

Clock = Callable[[], datetime]
_ALERTS = uuid.UUID("8f1f7a52-3c59-4f57-9b0e-6a0c3a1d2e41")


def alert_id(authorization_id: str, kind: AlertKind | str) -> str:
    """A stable id for the one alert of a kind on an authorization (or on a line)."""
    return f"alert-{uuid.uuid5(_ALERTS, f'{authorization_id}:{kind}').hex}"


def _default_requirements() -> AuthRequirements:
    """Conservative national default until the payer's rules arrive: psychological testing."""
    return AuthRequirements({r.procedure_code: r.after_visits for r in PayerBillingRules().auth_requirements})


def last_day(e: AuthorizationReceived) -> date | None:
    """The last date of service ``e`` covers: its window's end, or the day before the payer
    cancelled it (before its first day when cancelled before it began: it covers no day)."""
    if e.cancelled_on is None:
        return e.valid.end
    before = e.cancelled_on - timedelta(days=1)
    return before if e.valid.end is None else min(e.valid.end, before)


def _extended(before: Registered, amended: AuthorizationReceived) -> bool:
    """True when a newer version of an authorization grants more or runs longer."""
    if amended.received_at < before.received_at:
        return False
    old_end, new_end = before.valid_end, last_day(amended)
    later = old_end is not None and (new_end is None or new_end > old_end)
    return bool(amended.authorized > before.authorized or later)


def _lines(claim: ClaimCreated) -> list[ServiceLine]:
    return [
        ServiceLine(
            line_key=line.line_key,
            claim_id=claim.claim_id,
            session_id=line.session_id,
            patient_id=claim.patient_id,
            payer_id=claim.payer_id,
            coverage_id=claim.coverage_id,
            procedure_code=line.procedure_code,
            units=line.units,
            service_date=line.service_date,
            provider_id=line.rendering_provider_id or claim.rendering_provider_id,
        )
        for line in claim.lines
    ]


@dataclass(frozen=True, slots=True)
class Ledger:
    """The handlers of the service, with its policy and clock."""

    policy: AlertPolicy = field(default_factory=AlertPolicy)
    reserve_on_schedule: bool = True
    clock: Clock = lambda: datetime.now(UTC)

    def handlers(self) -> dict[type, Callable[[Transaction, Delivered[Any]], Any]]:
        return {
            AuthorizationReceived: self.on_authorization_received,
            ClaimCreated: self.on_claim_created,
            ClaimVoidRequested: self.on_claim_void_requested,
            ClaimVoided: self.on_claim_voided,
            SessionVoided: self.on_session_voided,
            AppointmentScheduled: self.on_appointment_scheduled,
            AppointmentCancelled: self.on_appointment_cancelled,
            PayerUpdated: self.on_payer_updated,
        }

    async def prepare(self, tx: Transaction, events: list[Delivered[Any]]) -> None:
        """Read what the batch's events need, one query per table, before they apply."""
        view = BatchView.start(tx)
        await view.load(tx.conn, [d.event for d in events], appointments=self.reserve_on_schedule)

    def batch_handler(self) -> BatchHandler[Any]:
        """The consumer's handler: the batch read at once, its events applied in order, the rows
        they queued written last (one statement per table)."""
        apply = dispatch(self.handlers(), prepare=self.prepare)

        async def handle(tx: Transaction, events: list[Delivered[Any]]) -> None:
            await apply(tx, events)
            await BatchView.of(tx).flush(tx.conn)

        return handle

    # ------------------------------------------------------------------ registering
    async def on_authorization_received(self, tx: Transaction, d: Delivered[AuthorizationReceived]) -> None:
        e = d.event
        view = BatchView.of(tx)
        before = await view.registration(tx.conn, e.authorization_id)
        auth = await view.register(
            tx.conn,
            {
                "authorization_id": e.authorization_id,
                "patient_id": e.patient_id,
                "coverage_id": e.coverage_id,
                "payer_id": e.payer_id,
                "auth_number": e.auth_number,
                "unit": e.unit.value,
                "authorized": e.authorized,
                "valid_start": e.valid.start,
                "valid_end": last_day(e),
                "procedure_codes": list(e.procedure_codes),
                "provider_id": e.provider_id,
                "received_at": e.received_at,
            },
        )
        if before is not None and _extended(before, e):
            # More visits or a later end (an extension or renewal): warnings whose condition no
            # longer holds are armed again, so the extended authorization cannot run out unnoticed.
            holds = [k.value for k in conditions(auth, today=self.clock().date(), policy=self.policy)]
            await tx.conn.execute(
                sa.delete(store.alert).where(
                    store.alert.c.authorization_id == e.authorization_id, store.alert.c.kind.not_in(holds)
                )
            )
            view.alerts_kept(e.authorization_id, holds)
        await self.raise_alerts(tx, [auth], cause=d)

    async def on_payer_updated(self, tx: Transaction, d: Delivered[PayerUpdated]) -> None:
        e = d.event
        await tx.conn.execute(
            store.UPSERT_PAYER_RULES,
            {
                "payer_id": e.payer_id,
                "auth_requirements": [r.model_dump(mode="json") for r in e.rules.auth_requirements],
                "deleted": e.deleted,
                "updated_at": e.updated_at,
            },
        )
        BatchView.of(tx).payer_changed(e.payer_id)

    # ------------------------------------------------------------------ burn-down
    async def on_claim_created(self, tx: Transaction, d: Delivered[ClaimCreated]) -> None:
        claim = d.event
        if claim.frequency_code is FrequencyCode.VOID:
            if claim.replaces_claim_id is not None:
                await self.release_claim(tx, claim.replaces_claim_id, cause=d)
            return
        view = BatchView.of(tx)
        if await view.is_voided(tx.conn, claim.claim_id):
            return  # a late copy of a claim already voided uses nothing
        now = self.clock()
        lines = _lines(claim)
        keys = [line.line_key for line in lines]
        if claim.frequency_code is FrequencyCode.REPLACEMENT and claim.replaces_claim_id is not None:
            await self._release(
                tx,
                (store.usage.c.claim_id == claim.replaces_claim_id) & store.usage.c.line_key.not_in(keys),
                reason=ReleaseReason.SESSION_CORRECTED,
                cause=d,
            )
        visits = {
            line.session_id: await view.prior_visits(
                tx.conn,
                patient_id=claim.patient_id,
                payer_id=claim.payer_id,
                year=line.service_date.year,
                excluding_session=line.session_id,
            )
            for line in lines
        }
        await view.bill_lines(tx.conn, lines)
        existing = await view.usage_of(tx.conn, keys)
        active = [key for key, counted in existing.items() if counted]
        if active:
            await view.ledger(tx.conn, claim.patient_id)
            changed = view.changed([line for line in lines if line.line_key in active])
            if changed:
                # a corrected line (other units, code or date): what it used goes back and it
                # burns again as billed now, so the ledger counts the corrected line once
                await self._release(
                    tx,
                    store.usage.c.line_key.in_(changed),
                    reason=ReleaseReason.SESSION_CORRECTED,
                    cause=d,
                )
                active = [key for key in active if key not in changed]
        if active:
            # counted once already: a replacement only takes the usage over
            await view.take_over(tx.conn, active, claim.claim_id)
        pending = [line for line in lines if line.line_key not in active]
        if not pending:
            return
        requirements = await view.payer_requirements(tx.conn, claim.payer_id) or _default_requirements()
        required = {
            line.line_key: requirements.requires(line.procedure_code, prior_visits=visits[line.session_id])
            for line in pending
        }
        ledger = await view.ledger(tx.conn, claim.patient_id)
        counted = await view.counted_sessions(tx.conn, {line.session_id for line in pending})
        result = burn_down(
            pending,
            ledger,
            required=required,
            preferred_number=claim.authorization_number,
            counted_sessions=counted,
        )
        view.burned(result.authorizations.values())
        touched: dict[str, Authorization] = {}
        for line, outcome in result.outcomes:
            if isinstance(outcome, Consumed):
                auth = outcome.authorization
                await self._record_usage(
                    tx, line, auth, outcome.quantity, now, rebill=line.line_key in existing
                )
                if outcome.quantity > 0:
                    touched[auth.authorization_id] = result.authorizations[auth.authorization_id]
                    tx.publish(
                        AuthorizationConsumed(
                            authorization_id=auth.authorization_id,
                            patient_id=line.patient_id,
                            session_id=line.session_id,
                            procedure_code=line.procedure_code,
                            consumed=outcome.quantity,
                            authorized=auth.authorized,
                            remaining=result.authorizations[auth.authorization_id].remaining,
                            valid_until=auth.end,
                            consumed_at=now,
                        ),
                        cause=d,
                    )
            elif isinstance(outcome, Uncovered):
                await self._report_uncovered(tx, line, outcome, now, cause=d)
        await self.raise_alerts(tx, touched.values(), session_id=claim.lines[0].session_id, cause=d)

    async def _record_usage(
        self,
        tx: Transaction,
        line: ServiceLine,
        auth: Authorization,
        quantity: int,
        now: datetime,
        *,
        rebill: bool,
    ) -> None:
        view = BatchView.of(tx)
        values = {
            "authorization_id": auth.authorization_id,
            "patient_id": line.patient_id,
            "claim_id": line.claim_id,
            "session_id": line.session_id,
            "procedure_code": line.procedure_code,
            "service_date": line.service_date,
            "quantity": quantity,
            "consumed_at": now,
            "released_at": None,
            "release_reason": None,
        }
        # rebill: the line was given back (voided claim) and is billed again
        await view.use(tx.conn, line.line_key, values, rebill=rebill)
        await view.clear_uncovered(tx.conn, line.line_key)
        # the visit booked for this day is now billed: the booking turns into the usage
        await view.bill_booking(tx.conn, auth.authorization_id, line.service_date, now)

    async def _report_uncovered(
        self, tx: Transaction, line: ServiceLine, outcome: Uncovered, now: datetime, *, cause: Delivered[Any]
    ) -> None:
        auth = outcome.authorization
        inserted = await BatchView.of(tx).report_uncovered(
            tx.conn,
            {
                "line_key": line.line_key,
                "claim_id": line.claim_id,
                "session_id": line.session_id,
                "patient_id": line.patient_id,
                "procedure_code": line.procedure_code,
                "kind": outcome.kind.value,
                "authorization_id": auth.authorization_id if auth else None,
                "recorded_at": now,
            },
        )
        if not inserted:
            return
        tx.publish(
            AuthorizationAlert(
                alert_id=alert_id(f"line:{line.line_key}", outcome.kind),
                kind=outcome.kind,
                patient_id=line.patient_id,
                payer_id=auth.payer_id if auth else line.payer_id,
                authorization_id=auth.authorization_id if auth else None,
                session_id=line.session_id,
                procedure_code=line.procedure_code,
                remaining=auth.remaining if auth else None,
                valid_until=auth.end if auth else None,
                raised_at=now,
            ),
            cause=cause,
        )

    # ------------------------------------------------------------------ giving back
    async def on_claim_void_requested(self, tx: Transaction, d: Delivered[ClaimVoidRequested]) -> None:
        await self.release_claim(tx, d.event.claim_id, cause=d)

    async def on_claim_voided(self, tx: Transaction, d: Delivered[ClaimVoided]) -> None:
        await self.release_claim(tx, d.event.claim_id, cause=d)

    async def on_session_voided(self, tx: Transaction, d: Delivered[SessionVoided]) -> None:
        await BatchView.of(tx).void_session(tx.conn, d.event.session_id)
        await self._release(
            tx, store.usage.c.session_id == d.event.session_id, reason=ReleaseReason.SESSION_VOIDED, cause=d
        )

    async def release_claim(self, tx: Transaction, claim_id: str, *, cause: Delivered[Any]) -> None:
        """Give back what a voided claim used; a late copy of it will not use it again."""
        await BatchView.of(tx).void_claim(tx.conn, claim_id, self.clock())
        # ReleaseReason has no 'claim voided'; a voided claim means its session is not billed.
        await self._release(
            tx, store.usage.c.claim_id == claim_id, reason=ReleaseReason.SESSION_VOIDED, cause=cause
        )

    async def _release(
        self, tx: Transaction, which: sa.ColumnElement[bool], *, reason: ReleaseReason, cause: Delivered[Any]
    ) -> None:
        now = self.clock()
        view = BatchView.of(tx)
        rows = await view.release(tx.conn, which, at=now, reason=reason.value)
        given: dict[tuple[str, str, str], int] = defaultdict(int)
        for row in rows:
            given[(row.authorization_id, row.patient_id, row.session_id)] += row.quantity
        if not given:
            return
        ledger = await view.by_ids(tx.conn, {k[0] for k in given})
        for (auth_id, patient_id, session_id), quantity in given.items():
            if quantity == 0:
                continue
            tx.publish(
                AuthorizationReleased(
                    authorization_id=auth_id,
                    patient_id=patient_id,
                    session_id=session_id,
                    released=quantity,
                    remaining=ledger[auth_id].remaining,
                    reason=reason,
                    released_at=now,
                ),
                cause=cause,
            )

    # ------------------------------------------------------------------ appointments
    async def on_appointment_scheduled(self, tx: Transaction, d: Delivered[AppointmentScheduled]) -> None:
        if not self.reserve_on_schedule:
            return
        e = d.event
        view = BatchView.of(tx)
        ledger = await view.ledger(tx.conn, e.patient_id)
        auth = authorization_to_reserve(
            ledger.values(),
            patient_id=e.patient_id,
            day=e.start.date(),
            provider_id=e.provider_id,
            expected_codes=e.expected_procedure_codes,
            authorization_id=e.authorization_id,
        )
        if auth is None:
            return
        booked = await view.book(
            tx.conn,
            {
                "appointment_id": e.appointment_id,
                "authorization_id": auth.authorization_id,
                "patient_id": e.patient_id,
                "service_date": e.start.date(),
                "quantity": 1,
                "reserved_at": self.clock(),
            },
        )
        if booked:
            await self.raise_alerts(tx, [auth.reserve(1)], cause=d)

    async def on_appointment_cancelled(self, tx: Transaction, d: Delivered[AppointmentCancelled]) -> None:
        e = d.event
        now = self.clock()
        view = BatchView.of(tx)
        reason = ReleaseReason.APPOINTMENT_CANCELLED
        row = await view.cancel_booking(tx.conn, e.appointment_id, now, reason.value)
        if row is None:
            return
        ledger = await view.by_ids(tx.conn, [row.authorization_id])
        tx.publish(
            AuthorizationReleased(
                authorization_id=row.authorization_id,
                patient_id=e.patient_id,
                appointment_id=e.appointment_id,
                released=row.quantity,
                remaining=ledger[row.authorization_id].remaining,
                reason=reason,
                released_at=now,
            ),
            cause=d,
        )

    # ------------------------------------------------------------------ alerts
    async def raise_alerts(
        self,
        tx: Transaction,
        authorizations: Iterable[Authorization],
        *,
        session_id: str | None = None,
        cause: Delivered[Any] | None = None,
        today: date | None = None,
    ) -> int:
        """Raise the alerts now due on these authorizations, each at most once (a unique row)."""
        auths = {a.authorization_id: a for a in authorizations}
        if not auths:
            return 0
        now = self.clock()
        day = today or now.date()
        view = BatchView.of(tx)
        raised = await view.raised_alerts(tx.conn, auths.keys())
        due = [
            (auth, kind)
            for auth in auths.values()
            for kind in alerts_due(
                auth, today=day, policy=self.policy, raised=raised.get(auth.authorization_id, ())
            )
        ]
        if not due:
            return 0
        inserted = (
            await tx.conn.execute(
                store.INSERT_ALERT,
                [
                    {
                        "alert_id": alert_id(auth.authorization_id, kind),
                        "authorization_id": auth.authorization_id,
                        "kind": kind.value,
                        "patient_id": auth.patient_id,
                        "raised_at": now,
                    }
                    for auth, kind in due
                ],
            )
        ).scalars()
        new = set(inserted)
        for auth, kind in due:  # raised now, or by another transaction meanwhile
            view.alerts_raised(auth.authorization_id, [kind.value])
        for auth, kind in due:
            if alert_id(auth.authorization_id, kind) not in new:
                continue
            tx.publish(
                AuthorizationAlert(
                    alert_id=alert_id(auth.authorization_id, kind),
                    kind=kind,
                    patient_id=auth.patient_id,
                    payer_id=auth.payer_id,
                    authorization_id=auth.authorization_id,
                    session_id=session_id,
                    remaining=auth.unbooked,
                    valid_until=auth.end,
                    raised_at=now,
                ),
                cause=cause,
            )
        return len(new)

    async def check_expiry(self, tx: Transaction, *, today: date | None = None) -> int:
        """The daily look at every authorization not yet reported expired: expiring and expired alerts."""
        day = today or self.clock().date()
        ledger = await store.load_ledger(tx.conn, not_alerted=AlertKind.EXPIRED.value)
        return await self.raise_alerts(tx, ledger.values(), today=day)
