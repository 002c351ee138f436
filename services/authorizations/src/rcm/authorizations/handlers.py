"""Thin adapters: an event in, the burn-down rules applied, rows written and events out.

Consumed: authorization-received, claim-created, claim-void-requested,
claim-status-changed (voided), session-voided, appointment-scheduled,
appointment-cancelled, payer-updated. Published (through the outbox, in the same
transaction): authorization-consumed, authorization-released, authorization-alert.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rcm.authorizations import store
from rcm.authorizations.batch import BatchView, Booking, Registered
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
    ClaimLine,
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


def _billed(row: sa.Row[Any], *, units: int | None = None) -> ServiceLine | None:
    """A billed line read back (``store.UNCOVERED_LINES_OF_PATIENT``, ``store.LINES_USING``) to
    burn again; None when its units are unknown (billed before revision 0004) and not given."""
    known = row.units if row.units is not None else units
    if known is None:
        return None
    return ServiceLine(
        line_key=row.line_key,
        claim_id=row.claim_id,
        session_id=row.session_id,
        patient_id=row.patient_id,
        payer_id=row.payer_id,
        coverage_id=row.coverage_id or "",
        procedure_code=row.procedure_code,
        units=known,
        service_date=row.service_date,
        provider_id=row.provider_id,
    )


def _diagnoses(claim: ClaimCreated, line: ClaimLine) -> tuple[str, ...]:
    """The claim's diagnoses the line points at, in pointer order (the line's primary first)."""
    return tuple(dict.fromkeys(claim.diagnoses[pointer - 1] for pointer in line.diagnosis_pointers))


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
            diagnoses=_diagnoses(claim, line),
        )
        for line in claim.lines
    ]


@dataclass(frozen=True, slots=True)
class Ledger:
    """The handlers of the service, with its policy and clock."""

    policy: AlertPolicy = field(default_factory=AlertPolicy)
    reserve_on_schedule: bool = True
    booking_grace_days: int = 14
    """A booking whose day is this many days past with no claim is dropped (:meth:`expire_bookings`)."""
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
        """Register (or amend) the authorization; then usage it no longer covers goes elsewhere
        (:meth:`_move_outside`) and billed lines it covers that nothing carried are taken
        (:meth:`_take_uncovered`)."""
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
        touched = await self._move_outside(tx, auth, cause=d)
        touched |= await self._take_excess(tx, auth, cause=d)
        touched |= await self._take_uncovered(tx, auth, cause=d)
        ledger = await view.by_ids(tx.conn, {auth.authorization_id, *touched})
        await self.raise_alerts(tx, ledger.values(), cause=d)

    async def _move_outside(self, tx: Transaction, auth: Authorization, *, cause: Delivered[Any]) -> set[str]:
        """Usage of dates the authorization no longer covers (cancelled, or its window moved)
        is given back, and the lines burn again: on another authorization covering them, else
        reported uncovered as a line billed without one. The ids of the authorizations used."""
        view = BatchView.of(tx)
        outside = [
            r
            for r in await view.lines_using(tx.conn, auth.authorization_id)
            if not auth.in_window(r.service_date)
        ]
        if not outside:
            return set()
        keys = [r.line_key for r in outside]
        await self._release(
            tx, store.usage.c.line_key.in_(keys), reason=ReleaseReason.AUTHORIZATION_AMENDED, cause=cause
        )
        lines = [line for r in outside if (line := _billed(r, units=r.used)) is not None]
        required = await self._required(tx, lines)
        return await self._burn(tx, lines, required=required, rebill=keys, cause=cause)

    async def _take_excess(self, tx: Transaction, auth: Authorization, *, cause: Delivered[Any]) -> set[str]:
        """Billed lines covered in part (their excess reported ``exhausted``) that the
        authorization covers take their excess from it, oldest first: on the authorization the
        line uses (extended or renewed), its usage grows by what is left there; a line on
        another one moves to this one when it carries the line whole (a line uses one
        authorization). Once: the excess taken is reported no more. The ids of the
        authorizations used."""
        view = BatchView.of(tx)
        touched: set[str] = set()
        now = self.clock()
        for row in await view.partly_covered_lines(tx.conn, auth.patient_id):
            line = _billed(row)
            if line is None or not (
                auth.billed_to(payer_id=line.payer_id, coverage_id=line.coverage_id)
                and auth.covers(code=line.procedure_code, day=line.service_date, provider_id=line.provider_id)
            ):
                continue
            held = (await view.by_ids(tx.conn, [auth.authorization_id]))[auth.authorization_id]
            if row.used_on == auth.authorization_id:
                more = min(row.excess, held.remaining)
                if more <= 0:
                    continue
                view.adjust(auth.authorization_id, used=more)
                after = (await view.by_ids(tx.conn, [auth.authorization_id]))[auth.authorization_id]
                await self._record_usage(tx, line, after, row.used + more, now, rebill=True)
                touched.add(auth.authorization_id)
                tx.publish(
                    AuthorizationConsumed(
                        authorization_id=auth.authorization_id,
                        patient_id=line.patient_id,
                        session_id=line.session_id,
                        procedure_code=line.procedure_code,
                        consumed=more,
                        authorized=after.authorized,
                        remaining=after.remaining,
                        valid_until=after.end,
                        consumed_at=now,
                    ),
                    cause=cause,
                )
                if more < row.excess:
                    short = Uncovered(AlertKind.EXHAUSTED, after)
                    await self._report_uncovered(
                        tx, line, short, now, quantity=row.excess - more, cause=cause
                    )
                else:
                    await view.clear_uncovered(tx.conn, line.line_key)
            elif held.remaining >= held.quantity_for(line.units):
                # the line moves whole: what it used on the other authorization goes back
                await self._release(
                    tx,
                    store.usage.c.line_key == line.line_key,
                    reason=ReleaseReason.SESSION_CORRECTED,
                    cause=cause,
                )
                touched.add(row.used_on)
                touched |= await self._burn(
                    tx,
                    [line],
                    required={line.line_key: True},
                    rebill=[line.line_key],
                    preferred_number=auth.auth_number,
                    cause=cause,
                )
        return touched

    async def _take_uncovered(
        self, tx: Transaction, auth: Authorization, *, cause: Delivered[Any]
    ) -> set[str]:
        """Billed lines left wholly uncovered that the authorization covers (a retro
        authorization, an extension) burn now, oldest first, within what the ledger has left;
        those still left uncovered stay reported. The ids of the authorizations used."""
        view = BatchView.of(tx)
        lines = [
            line
            for row in await view.uncovered_lines(tx.conn, auth.patient_id)
            if (line := _billed(row)) is not None
            and auth.billed_to(payer_id=line.payer_id, coverage_id=line.coverage_id)
            and auth.covers(code=line.procedure_code, day=line.service_date, provider_id=line.provider_id)
        ]
        if not lines:
            return set()
        counted = await view.usage_of(tx.conn, [line.line_key for line in lines])
        lines = [line for line in lines if not counted.get(line.line_key)]
        # they were reported because the payer requires an authorization for them
        return await self._burn(
            tx,
            lines,
            required=dict.fromkeys((line.line_key for line in lines), True),
            rebill=counted,
            cause=cause,
        )

    async def _required(self, tx: Transaction, lines: Sequence[ServiceLine]) -> dict[str, bool]:
        """Per line key: whether the payer needs an authorization for it (after N visits)."""
        view = BatchView.of(tx)
        required: dict[str, bool] = {}
        for line in lines:
            requirements = await view.payer_requirements(tx.conn, line.payer_id) or _default_requirements()
            visits = await view.prior_visits(
                tx.conn,
                patient_id=line.patient_id,
                payer_id=line.payer_id,
                year=line.service_date.year,
                excluding_session=line.session_id,
            )
            required[line.line_key] = requirements.requires(line.procedure_code, prior_visits=visits)
        return required

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
        if await view.is_superseded(tx.conn, claim.claim_id):
            return  # a late copy of a claim already voided or replaced uses nothing
        now = self.clock()
        lines = _lines(claim)
        keys = [line.line_key for line in lines]
        replaced = claim.replaces_claim_id
        if (
            claim.frequency_code is FrequencyCode.REPLACEMENT
            and replaced is not None
            and replaced != claim.claim_id
        ):
            await view.replace_claim(tx.conn, replaced, by=claim.claim_id, at=now)
            # the lines the replacement left out are billed no more: nothing takes them later
            await view.drop_lines(tx.conn, replaced, keeping=keys)
            await self._release(
                tx,
                (store.usage.c.claim_id == replaced) & store.usage.c.line_key.not_in(keys),
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
        first_billed = {line.session_id for line in lines} - view.sessions_billed_before(lines)
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
        await view.bill_lines(tx.conn, lines)
        if active:
            # counted once already: a replacement only takes the usage over
            await view.take_over(tx.conn, active, claim.claim_id)
        pending = [line for line in lines if line.line_key not in active]
        touched: set[str] = set()
        if pending:
            required = await self._required_on_claim(tx, claim, pending, visits)
            touched = await self._burn(
                tx,
                pending,
                required=required,
                rebill=existing,
                preferred_number=claim.authorization_number,
                cause=d,
            )
        for session_id in sorted(first_billed):
            # the appointment booked for the session is now billed: its booking is released,
            # whichever authorization it booked (the one the session burned first, if any)
            day = min(line.service_date for line in lines if line.session_id == session_id)
            burned = view.burned_by(session_id)
            await view.bill_booking(tx.conn, patient_id=claim.patient_id, day=day, at=now, burned=burned)
        if touched:
            ledger = await view.by_ids(tx.conn, touched)
            await self.raise_alerts(tx, ledger.values(), session_id=claim.lines[0].session_id, cause=d)

    async def _required_on_claim(
        self, tx: Transaction, claim: ClaimCreated, lines: Sequence[ServiceLine], visits: dict[str, int]
    ) -> dict[str, bool]:
        requirements = (
            await BatchView.of(tx).payer_requirements(tx.conn, claim.payer_id) or _default_requirements()
        )
        return {
            line.line_key: requirements.requires(line.procedure_code, prior_visits=visits[line.session_id])
            for line in lines
        }

    async def _burn(
        self,
        tx: Transaction,
        lines: Sequence[ServiceLine],
        *,
        required: dict[str, bool],
        rebill: Collection[str],
        preferred_number: str | None = None,
        cause: Delivered[Any],
    ) -> set[str]:
        """Burn one patient's lines down and record what each uses, or lacks: usage rows (an
        update for lines in ``rebill``, which have one released), authorization-consumed, lines
        uncovered or covered in part reported. The ids of the authorizations used."""
        if not lines:
            return set()
        view = BatchView.of(tx)
        now = self.clock()
        ledger = await view.ledger(tx.conn, lines[0].patient_id)
        counted = await view.counted_sessions(tx.conn, {line.session_id for line in lines})
        result = burn_down(
            lines, ledger, required=required, preferred_number=preferred_number, counted_sessions=counted
        )
        view.burned(result.authorizations.values())
        touched: set[str] = set()
        for line, outcome in result.outcomes:
            if isinstance(outcome, Consumed):
                auth = outcome.authorization
                await self._record_usage(
                    tx, line, auth, outcome.quantity, now, rebill=line.line_key in rebill
                )
                if outcome.quantity > 0:
                    touched.add(auth.authorization_id)
                    tx.publish(
                        AuthorizationConsumed(
                            authorization_id=auth.authorization_id,
                            patient_id=line.patient_id,
                            session_id=line.session_id,
                            procedure_code=line.procedure_code,
                            consumed=outcome.quantity,
                            authorized=auth.authorized,
                            remaining=outcome.remaining,  # after this line
                            valid_until=auth.end,
                            consumed_at=now,
                        ),
                        cause=cause,
                    )
                if outcome.excess:
                    # covered in part: the payer pays what is authorized and denies the rest
                    short = Uncovered(AlertKind.EXHAUSTED, result.authorizations[auth.authorization_id])
                    await self._report_uncovered(tx, line, short, now, quantity=outcome.excess, cause=cause)
                else:
                    await view.clear_uncovered(tx.conn, line.line_key)
            elif isinstance(outcome, Uncovered):
                await self._report_uncovered(tx, line, outcome, now, cause=cause)
        return touched

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
        # rebill: the line was given back (voided claim, authorization amended) and burns again
        await BatchView.of(tx).use(tx.conn, line.line_key, values, rebill=rebill)

    async def _report_uncovered(
        self,
        tx: Transaction,
        line: ServiceLine,
        outcome: Uncovered,
        now: datetime,
        *,
        quantity: int | None = None,
        cause: Delivered[Any],
    ) -> None:
        """Record the line uncovered (``quantity``: the units beyond what covered it in part)
        and alert once per kind."""
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
                "quantity": quantity,
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
        self,
        tx: Transaction,
        which: sa.ColumnElement[bool],
        *,
        reason: ReleaseReason,
        cause: Delivered[Any],
    ) -> None:
        """Give back the usage ``which`` selects, saying why (``reason``, also the rows')."""
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
        """Book a visit for the appointment. The same appointment scheduled again (rescheduled
        under its id) moves its booking to the new day and the authorization covering it, and
        one cancelled before books again; one whose visit was billed books nothing more."""
        e = d.event
        view = BatchView.of(tx)
        now = self.clock()
        day = e.start.date()
        held = await view.booking_of(tx.conn, e.appointment_id)
        if held is not None and (held.release_reason == store.BILLED or held.outdates(e.scheduled_at)):
            return  # billed, or a schedule re-sent or overtaken (rescheduled or cancelled since)
        current = held if held is not None and held.open else None
        ledger = await view.ledger(tx.conn, e.patient_id)
        if current is None and await view.billed_unbooked(tx.conn, e.patient_id, day) > 0:
            # a session of that day was billed before its schedule arrived: the visit is used,
            # nothing is booked (and neither this schedule nor a copy of it books later)
            booking = Booking(e.appointment_id, None, e.patient_id, day, 0, scheduled_at=e.scheduled_at)
            await view.billed_on_arrival(tx.conn, booking, at=now)
            return
        if current is not None and current.authorization_id in ledger:
            # the appointment's own booking does not stand in the way of where it moves
            ledger[current.authorization_id] = ledger[current.authorization_id].unreserve(current.quantity)
        auth = authorization_to_reserve(
            ledger.values(),
            patient_id=e.patient_id,
            day=day,
            provider_id=e.provider_id,
            expected_codes=e.expected_procedure_codes,
            authorization_id=e.authorization_id,
        )
        if current is not None and (current.authorization_id, current.service_date) == (
            auth.authorization_id if auth else None,
            day,
        ):
            return  # booked so already
        if auth is None:
            if current is not None:  # moved to a day no authorization covers
                await self._unbook(
                    tx, e.appointment_id, e.patient_id, reason=ReleaseReason.APPOINTMENT_CANCELLED, cause=d
                )
            return
        await view.book(
            tx.conn,
            Booking(
                e.appointment_id,
                auth.authorization_id,
                e.patient_id,
                day,
                quantity=1,
                scheduled_at=e.scheduled_at,
            ),
            at=now,
        )
        if (
            current is not None
            and current.authorization_id is not None
            and current.authorization_id != auth.authorization_id
        ):
            # moved to another authorization: the old one holds the visit no more
            await self._booking_released(
                tx,
                current.authorization_id,
                patient_id=e.patient_id,
                appointment_id=e.appointment_id,
                quantity=current.quantity,
                reason=ReleaseReason.APPOINTMENT_CANCELLED,
                cause=d,
            )
        booked = await view.by_ids(tx.conn, [auth.authorization_id])
        await self.raise_alerts(tx, booked.values(), cause=d)

    async def on_appointment_cancelled(self, tx: Transaction, d: Delivered[AppointmentCancelled]) -> None:
        e = d.event
        await self._unbook(
            tx,
            e.appointment_id,
            e.patient_id,
            reason=ReleaseReason.APPOINTMENT_CANCELLED,
            cancelled_at=e.cancelled_at,
            cause=d,
        )

    async def _unbook(
        self,
        tx: Transaction,
        appointment_id: str,
        patient_id: str,
        *,
        reason: ReleaseReason,
        cancelled_at: datetime | None = None,
        cause: Delivered[Any],
    ) -> None:
        """Release the appointment's open booking, if any (unless ``cancelled_at``, the
        scheduler's time of a cancellation, is older than its schedule), and say so. A
        cancellation (``cancelled_at``) that releases nothing is remembered: its schedule,
        arriving later, books nothing."""
        row = await BatchView.of(tx).cancel_booking(
            tx.conn,
            appointment_id,
            self.clock(),
            reason.value,
            cancelled_at=cancelled_at,
            patient_id=patient_id if cancelled_at is not None else None,
        )
        if row is None:
            return
        await self._booking_released(
            tx,
            row.authorization_id,
            patient_id=patient_id,
            appointment_id=appointment_id,
            quantity=row.quantity,
            reason=reason,
            cause=cause,
        )

    async def _booking_released(
        self,
        tx: Transaction,
        authorization_id: str,
        *,
        patient_id: str,
        appointment_id: str,
        quantity: int,
        reason: ReleaseReason,
        cause: Delivered[Any] | None,
    ) -> None:
        """Say that an appointment's booking holds the visit on the authorization no more."""
        ledger = await BatchView.of(tx).by_ids(tx.conn, [authorization_id])
        tx.publish(
            AuthorizationReleased(
                authorization_id=authorization_id,
                patient_id=patient_id,
                appointment_id=appointment_id,
                released=quantity,
                remaining=ledger[authorization_id].remaining,
                reason=reason,
                released_at=self.clock(),
            ),
            cause=cause,
        )

    async def expire_bookings(self, tx: Transaction, *, today: date | None = None) -> int:
        """Drop the bookings whose day is ``booking_grace_days`` past with no claim (a session
        voided before it was billed, a no-show nobody cancelled): they held a visit nobody will
        use. Run by the daily timer; the number dropped."""
        day = today or self.clock().date()
        rows = await BatchView.of(tx).expire_bookings(
            tx.conn, before=day - timedelta(days=self.booking_grace_days), at=self.clock()
        )
        for row in rows:
            await self._booking_released(
                tx,
                row.authorization_id,
                patient_id=row.patient_id,
                appointment_id=row.appointment_id,
                quantity=row.quantity,
                reason=ReleaseReason.BOOKING_EXPIRED,
                cause=None,
            )
        return len(rows)

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
