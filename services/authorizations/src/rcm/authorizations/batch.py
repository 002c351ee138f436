"""What a batch's events read, fetched once for the whole batch and kept current as they apply.

Per-event SQL was most of the service's CPU: a claim read nine things before it wrote. Here
``BatchView.load`` reads, in one query per table, everything the batch's events name (their
patients' ledgers, the alerts raised on them, the open reservations, the usage and service
lines of their sessions and lines, the voided or replaced claims among them, their payers'
rules), and the handlers read from the view instead of the database.

Two rules keep it exact:

- every write a handler makes goes through the view, which applies it to what it holds, so
  a later event of the same batch sees what an earlier one did;
- what the view does not hold (a patient or a line the batch did not name, a payer updated
  meanwhile) is read from the database when asked for ("read-through"), after the writes
  still queued are flushed, and then kept like the rest.

Append-only writes (service lines, usage, replaced claims, reservations booked, moved or
billed) are queued and written with one executemany per table by :meth:`BatchView.flush`: at
the end of the batch, and before any statement that reads or changes those tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.authorizations import store
from rcm.authorizations.domain import Authorization, AuthorizationUnit, AuthRequirements, ServiceLine
from rcm.events.models import (
    AppointmentScheduled,
    AuthorizationReceived,
    ClaimCreated,
    FrequencyCode,
)
from rcm.servicekit import Transaction

__all__ = ["BatchView", "Booking", "Registered"]

_MEMO_KEY = "rcm.authorizations.batch-view"


class Registered(NamedTuple):
    """What decides whether an amended authorization extends the one registered."""

    authorized: int
    valid_end: date | None
    received_at: datetime


@dataclass(slots=True)
class _Usage:
    authorization_id: str
    session_id: str
    claim_id: str
    active: bool
    procedure_code: str = ""
    service_date: date | None = None
    quantity: int = 0


@dataclass(slots=True)
class _Line:
    claim_id: str
    session_id: str
    patient_id: str
    payer_id: str
    service_date: date
    voided: bool
    units: int | None = None
    """The units billed (None on lines billed before revision 0004)."""


@dataclass(frozen=True, slots=True)
class Booking:
    """An appointment's reservation: open, or released (billed, cancelled, expired). A released
    one may hold no authorization nor day (revision 0005): a cancellation that found no booking,
    or a schedule received after its visit was billed."""

    appointment_id: str
    authorization_id: str | None
    patient_id: str
    service_date: date | None
    quantity: int
    release_reason: str | None = None
    open: bool = True
    scheduled_at: datetime | None = None
    """The scheduler's time of the schedule booked (None on rows before revision 0004)."""
    cancelled_at: datetime | None = None
    """The scheduler's time of the cancellation that released it, if one did."""

    def released(self, reason: str, *, cancelled_at: datetime | None = None) -> Booking:
        return replace(
            self, open=False, release_reason=reason, cancelled_at=cancelled_at or self.cancelled_at
        )

    def outdates(self, scheduled_at: datetime) -> bool:
        """True when a schedule made at ``scheduled_at`` is older than this booking's schedule,
        or not newer than its cancellation: re-sent or stale, it changes nothing."""
        return (self.scheduled_at is not None and scheduled_at < self.scheduled_at) or (
            self.cancelled_at is not None and scheduled_at <= self.cancelled_at
        )


@dataclass(slots=True)
class BatchView:
    """The rows one transaction's events read, by key, with the writes not yet flushed.

    Each map says what it is complete for: ``patients`` (every authorization of the patient
    is in ``authorizations``), ``booked_for`` (every open reservation of the authorization is
    in ``bookings``), ``usage_keys``/``usage_sessions``, ``line_years`` ((patient, year): every
    line billed to the patient that year is in ``lines``); the other maps hold a key only when
    its answer is known. ``bookings`` holds open reservations by authorization, then
    appointment; ``appointments`` the reservation of an appointment, open or released (None:
    it has none); ``patient_lines`` the keys of ``lines`` by patient (a line's patient never
    changes); ``superseded`` whether a claim was voided or replaced. ``deferred`` is False for
    a view made outside a batch: its writes go out at once.
    """

    deferred: bool = False
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    registered: dict[str, Registered | None] = field(default_factory=dict)
    patients: set[str] = field(default_factory=set)
    raised: dict[str, set[str]] = field(default_factory=dict)
    bookings: dict[str, dict[str, Booking]] = field(default_factory=dict)
    booked_for: set[str] = field(default_factory=set)
    appointments: dict[str, Booking | None] = field(default_factory=dict)
    usage: dict[str, _Usage] = field(default_factory=dict)
    usage_keys: set[str] = field(default_factory=set)
    usage_sessions: set[str] = field(default_factory=set)
    lines: dict[str, _Line] = field(default_factory=dict)
    patient_lines: dict[str, set[str]] = field(default_factory=dict)
    line_years: set[tuple[str, int]] = field(default_factory=set)
    superseded: dict[str, bool] = field(default_factory=dict)
    requirements: dict[str, AuthRequirements | None] = field(default_factory=dict)
    uncovered: dict[str, bool] = field(default_factory=dict)
    unbooked_billed: dict[tuple[str, date], int] = field(default_factory=dict)
    """(patient, day) -> sessions billed that day that no booking was released for."""
    _lines_out: dict[str, dict[str, Any]] = field(default_factory=dict)
    _usage_out: list[dict[str, Any]] = field(default_factory=list)
    _replaced_out: list[dict[str, Any]] = field(default_factory=list)
    _bookings_out: list[dict[str, Any]] = field(default_factory=list)
    _billed_out: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def of(tx: Transaction) -> BatchView:
        """The transaction's view: the batch's, or an empty one that reads through and writes at once."""
        view = tx.memo.get(_MEMO_KEY)
        if view is None:
            view = tx.memo[_MEMO_KEY] = BatchView()
        assert isinstance(view, BatchView)
        return view

    @staticmethod
    def start(tx: Transaction) -> BatchView:
        """A fresh view for a batch: its writes are queued until :meth:`flush`."""
        view = tx.memo[_MEMO_KEY] = BatchView(deferred=True)
        return view

    # ------------------------------------------------------------------ loading a batch
    async def load(self, conn: AsyncConnection, events: Sequence[Any], *, appointments: bool) -> None:
        """Read what ``events`` will need, one query per table."""
        claims = [
            e for e in events if isinstance(e, ClaimCreated) and e.frequency_code is not FrequencyCode.VOID
        ]
        booked = [e for e in events if appointments and isinstance(e, AppointmentScheduled)]
        received = [e for e in events if isinstance(e, AuthorizationReceived)]
        # an authorization received may take the patient's uncovered lines: the whole ledger
        patients = (
            {e.patient_id for e in claims} | {e.patient_id for e in booked} | {e.patient_id for e in received}
        )
        auth_ids = {e.authorization_id for e in received}
        if patients or auth_ids:
            # claims and authorizations received use visits up: no other batch may meanwhile
            await self._load_ledgers(conn, patients, auth_ids, lock=bool(claims or received))
        if claims or booked:
            await self._load_bookings(conn, [e.appointment_id for e in booked])
        if booked:
            await self._load_billed_days(conn, {(e.patient_id, e.start.date()) for e in booked})
        if claims:
            await self._load_claim_rows(conn, claims)

    async def _load_ledgers(
        self, conn: AsyncConnection, patients: set[str], auth_ids: set[str], *, lock: bool
    ) -> None:
        among = {"patient_ids": sorted(patients), "authorization_ids": sorted(auth_ids)}
        if lock:
            await conn.execute(store.LOCK_AUTHORIZATIONS_OF_BATCH, among)
        for row in await conn.execute(store.LEDGER_OF_BATCH, among):
            self._keep_ledger_row(row)
            self.raised[row.authorization_id] = set(row.raised_kinds or ())
        self.patients |= patients
        for missing in auth_ids - self.authorizations.keys():
            self.registered[missing] = None  # a new authorization: no alerts, usage or bookings yet
            self.raised[missing] = set()
            self.booked_for.add(missing)

    async def _load_bookings(self, conn: AsyncConnection, appointment_ids: list[str]) -> None:
        auth_ids = sorted(self.authorizations)
        rows = await conn.execute(
            store.RESERVATIONS_OF_BATCH, {"authorization_ids": auth_ids, "appointment_ids": appointment_ids}
        )
        self.appointments.update(dict.fromkeys(appointment_ids))
        self.booked_for.update(auth_ids)
        for row in rows:
            self._keep_reservation_row(row)

    async def _load_billed_days(self, conn: AsyncConnection, days: set[tuple[str, date]]) -> None:
        """Sessions billed on these (patient, day) pairs with no booking released for them."""
        among = {
            "patient_ids": sorted({p for p, _ in days}),
            "first_day": min(d for _, d in days),
            "last_day": max(d for _, d in days),
        }
        self.unbooked_billed.update(dict.fromkeys(days, 0))
        for row in await conn.execute(store.BILLED_DAYS_OF_BATCH, among):
            if (row.patient_id, row.service_date) in days:
                self.unbooked_billed[(row.patient_id, row.service_date)] = max(int(row.unbooked), 0)

    async def billed_unbooked(self, conn: AsyncConnection, patient_id: str, day: date) -> int:
        """Sessions of the patient billed on ``day`` that no booking was released for: a schedule
        of that day arriving now is for one of them (its visit was billed before it came)."""
        if (patient_id, day) not in self.unbooked_billed:
            await self.flush(conn)
            await self._load_billed_days(conn, {(patient_id, day)})
        return self.unbooked_billed[(patient_id, day)]

    async def billed_on_arrival(self, conn: AsyncConnection, booking: Booking, *, at: datetime) -> None:
        """Keep the appointment released as billed, holding nothing: its visit was billed before
        its schedule arrived, so neither it nor a copy of it books."""
        await self.flush(conn)
        await conn.execute(
            store.BILLED_ON_ARRIVAL,
            {
                "appointment_id": booking.appointment_id,
                "authorization_id": None,
                "patient_id": booking.patient_id,
                "service_date": booking.service_date,
                "quantity": 0,
                "reserved_at": at,
                "released_at": at,
                "release_reason": store.BILLED,
                "scheduled_at": booking.scheduled_at,
            },
        )
        self.appointments[booking.appointment_id] = replace(
            booking, authorization_id=None, quantity=0, open=False, release_reason=store.BILLED
        )
        if booking.service_date is not None:
            key = (booking.patient_id, booking.service_date)
            self.unbooked_billed[key] = max(self.unbooked_billed.get(key, 1) - 1, 0)

    def _keep_reservation_row(self, row: sa.Row[Any]) -> Booking:
        booking = Booking(
            row.appointment_id,
            row.authorization_id,
            row.patient_id,
            row.service_date,
            row.quantity,
            row.release_reason,
            row.open,
            row.scheduled_at,
            row.cancelled_at,
        )
        self.appointments[booking.appointment_id] = booking
        if booking.open and booking.authorization_id in self.booked_for:
            self._keep_booking(booking)
        return booking

    async def _load_claim_rows(self, conn: AsyncConnection, claims: list[ClaimCreated]) -> None:
        keys = sorted({line.line_key for c in claims for line in c.lines})
        sessions = sorted({line.session_id for c in claims for line in c.lines})
        patients = sorted({c.patient_id for c in claims})
        years = [line.service_date.year for c in claims for line in c.lines]
        first, last = min(years), max(years)
        for row in await conn.execute(store.USAGE_OF_BATCH, {"line_keys": keys, "session_ids": sessions}):
            self._keep_usage_row(row)
        self.usage_keys.update(keys)
        self.usage_sessions.update(sessions)
        span = {"patient_ids": patients, "first_day": date(first, 1, 1), "last_day": date(last, 12, 31)}
        for row in await conn.execute(store.SERVICE_LINES_OF_BATCH, {**span, "line_keys": keys}):
            self._keep_line(
                row.line_key,
                _Line(
                    row.claim_id,
                    row.session_id,
                    row.patient_id,
                    row.payer_id,
                    row.service_date,
                    row.voided,
                    row.units,
                ),
            )
        self.line_years.update((p, y) for p in patients for y in range(first, last + 1))
        claim_ids = sorted({c.claim_id for c in claims})
        self.superseded.update(dict.fromkeys(claim_ids, False))
        for row in await conn.execute(store.VOIDED_OR_REPLACED_OF_BATCH, {"claim_ids": claim_ids}):
            self.superseded[row.claim_id] = True
        payer_ids = sorted({c.payer_id for c in claims})
        self.requirements.update(dict.fromkeys(payer_ids))
        for row in await conn.execute(store.RULES_OF_BATCH, {"payer_ids": payer_ids}):
            if not row.deleted:
                self.requirements[row.payer_id] = store.requirements_of(row.auth_requirements)
        self.uncovered.update(dict.fromkeys(keys, False))
        for row in await conn.execute(store.UNCOVERED_OF_BATCH, {"line_keys": keys}):
            self.uncovered[row.line_key] = True

    def _keep_ledger_row(self, row: sa.Row[Any]) -> None:
        self.authorizations[row.authorization_id] = store.ledger_entry(row)
        self.registered[row.authorization_id] = Registered(row.authorized, row.valid_end, row.received_at)

    def _keep_line(self, line_key: str, line: _Line) -> None:
        self.lines[line_key] = line
        self.patient_lines.setdefault(line.patient_id, set()).add(line_key)

    def _keep_booking(self, booking: Booking) -> None:
        if booking.authorization_id is not None:  # an open booking always holds one
            self.bookings.setdefault(booking.authorization_id, {})[booking.appointment_id] = booking

    def _keep_usage_row(self, row: sa.Row[Any]) -> None:
        self.usage[row.line_key] = _Usage(
            row.authorization_id,
            row.session_id,
            row.claim_id,
            row.active,
            row.procedure_code,
            row.service_date,
            row.quantity,
        )

    # ------------------------------------------------------------------ the ledger
    async def ledger(self, conn: AsyncConnection, patient_id: str) -> dict[str, Authorization]:
        """The patient's authorizations with what is used and booked, by id (in id order)."""
        if patient_id not in self.patients:
            await self.flush(conn)
            for row in await conn.execute(
                store.LEDGER_OF_BATCH, {"patient_ids": [patient_id], "authorization_ids": []}
            ):
                self._keep_ledger_row(row)
            self.patients.add(patient_id)
        mine = [a for a in self.authorizations.values() if a.patient_id == patient_id]
        return {a.authorization_id: a for a in sorted(mine, key=lambda a: a.authorization_id)}

    async def by_ids(
        self, conn: AsyncConnection, authorization_ids: Iterable[str]
    ) -> dict[str, Authorization]:
        """Some authorizations with what is used and booked, by id."""
        wanted = sorted(set(authorization_ids))
        missing = [a for a in wanted if a not in self.authorizations]
        if missing:
            await self.flush(conn)
            for row in await conn.execute(
                store.LEDGER_OF_BATCH, {"patient_ids": [], "authorization_ids": missing}
            ):
                self._keep_ledger_row(row)
        return {a: self.authorizations[a] for a in wanted if a in self.authorizations}

    def burned(self, authorizations: Iterable[Authorization]) -> None:
        """The ledger after a claim's burn-down (usage added to what was held)."""
        for auth in authorizations:
            if auth.authorization_id in self.authorizations:
                self.authorizations[auth.authorization_id] = auth

    def adjust(self, authorization_id: str, *, used: int = 0, reserved: int = 0) -> None:
        """Usage given back (``used < 0``) or visits booked or unbooked, on a held authorization."""
        auth = self.authorizations.get(authorization_id)
        if auth is None:
            return
        if used:
            auth = auth.consume(used) if used > 0 else auth.give_back(-used)
        if reserved:
            auth = auth.reserve(reserved) if reserved > 0 else auth.unreserve(-reserved)
        self.authorizations[authorization_id] = auth

    async def registration(self, conn: AsyncConnection, authorization_id: str) -> Registered | None:
        """What is registered for an authorization id, or None when it is new."""
        if authorization_id not in self.registered:
            await self.by_ids(conn, [authorization_id])
            self.registered.setdefault(authorization_id, None)
        return self.registered[authorization_id]

    async def register(self, conn: AsyncConnection, values: dict[str, Any]) -> Authorization:
        """Upsert an authorization (a version received earlier changes nothing); its ledger entry after."""
        auth_id = values["authorization_id"]
        await self.registration(conn, auth_id)  # held, or known to be new
        before = self.authorizations.get(auth_id)
        written = (await conn.execute(store.UPSERT_AUTHORIZATION, values)).first()
        if written is None:  # a version received later is registered: nothing changed
            return (await self.by_ids(conn, [auth_id]))[auth_id]
        used, reserved = (before.used, before.reserved) if before is not None else (0, 0)
        self.authorizations[auth_id] = store.authorization_entry(written, used=used, reserved=reserved)
        self.registered[auth_id] = Registered(written.authorized, written.valid_end, written.received_at)
        if before is None:  # new: no alerts or bookings yet
            self.raised.setdefault(auth_id, set())
            self.booked_for.add(auth_id)
        return self.authorizations[auth_id]

    # ------------------------------------------------------------------ alerts
    async def raised_alerts(
        self, conn: AsyncConnection, authorization_ids: Collection[str]
    ) -> dict[str, set[str]]:
        """Kinds already raised, per authorization."""
        missing = [a for a in authorization_ids if a not in self.raised]
        if missing:
            fetched = await store.raised_alerts(conn, missing)
            for auth_id in missing:
                self.raised[auth_id] = fetched.get(auth_id, set())
        return {a: self.raised[a] for a in authorization_ids if self.raised[a]}

    def alerts_raised(self, authorization_id: str, kinds: Iterable[str]) -> None:
        if authorization_id in self.raised:
            self.raised[authorization_id].update(kinds)

    def alerts_kept(self, authorization_id: str, kinds: Collection[str]) -> None:
        """Only ``kinds`` are left raised on the authorization (the others were re-armed)."""
        if authorization_id in self.raised:
            self.raised[authorization_id] &= set(kinds)

    # ------------------------------------------------------------------ claims and lines
    async def is_superseded(self, conn: AsyncConnection, claim_id: str) -> bool:
        """True when the claim was voided or replaced: a late copy of it uses nothing."""
        if claim_id not in self.superseded:
            await self.flush(conn)
            found = await conn.scalar(store.VOIDED_OR_REPLACED_OF_BATCH, {"claim_ids": [claim_id]})
            self.superseded[claim_id] = found is not None
        return self.superseded[claim_id]

    async def replace_claim(self, conn: AsyncConnection, claim_id: str, *, by: str, at: datetime) -> None:
        """Record the claim replaced by ``by`` (frequency 7): a late copy of it will not take
        back the usage its replacement took over, so voiding the replacement gives it back."""
        self._replaced_out.append({"claim_id": claim_id, "replaced_by": by, "replaced_at": at})
        self.superseded[claim_id] = True
        await self._written(conn)

    async def void_claim(self, conn: AsyncConnection, claim_id: str, at: datetime) -> None:
        """Record the claim voided and void its lines (a late copy of it uses nothing)."""
        await conn.execute(store.INSERT_VOIDED_CLAIM, {"claim_id": claim_id, "voided_at": at})
        self.superseded[claim_id] = True
        await self.drop_lines(conn, claim_id, keeping=())

    async def drop_lines(self, conn: AsyncConnection, claim_id: str, *, keeping: Collection[str]) -> None:
        """The claim's lines not in ``keeping`` are billed no more (the claim voided, or its
        replacement left them out): voided, and no longer reported uncovered, so an
        authorization received later takes nothing for them."""
        await self.flush(conn)
        dropped = list(
            (
                await conn.execute(
                    store.service_line.update()
                    .where(
                        store.service_line.c.claim_id == claim_id,
                        store.service_line.c.line_key.not_in(list(keeping)),
                    )
                    .values(voided=True)
                    .returning(store.service_line.c.line_key)
                )
            ).scalars()
        )
        for key in dropped:
            if key in self.lines:
                self.lines[key].voided = True
        if dropped:
            self.unbooked_billed.clear()
            await conn.execute(store.DELETE_UNCOVERED_LINES, {"keys": dropped})
            self.uncovered.update(dict.fromkeys(dropped, False))

    async def void_session(self, conn: AsyncConnection, session_id: str) -> None:
        await self.flush(conn)
        self.unbooked_billed.clear()
        await conn.execute(
            store.service_line.update()
            .where(store.service_line.c.session_id == session_id)
            .values(voided=True)
        )
        for line in self.lines.values():
            if line.session_id == session_id:
                line.voided = True

    async def payer_requirements(self, conn: AsyncConnection, payer_id: str) -> AuthRequirements | None:
        """The payer's authorization requirements, or None when the payer is unknown (or retired)."""
        if payer_id not in self.requirements:
            self.requirements[payer_id] = await store.load_requirements(conn, payer_id)
        return self.requirements[payer_id]

    def payer_changed(self, payer_id: str) -> None:
        self.requirements.pop(payer_id, None)

    async def prior_visits(
        self, conn: AsyncConnection, *, patient_id: str, payer_id: str, year: int, excluding_session: str
    ) -> int:
        """Sessions billed to the payer in the calendar year before this one (for 'after N visits')."""
        if (patient_id, year) not in self.line_years:
            await self.flush(conn)
            return await store.prior_visits(
                conn, patient_id=patient_id, payer_id=payer_id, year=year, excluding_session=excluding_session
            )
        held = (self.lines[key] for key in self.patient_lines.get(patient_id, ()))
        return len(
            {
                line.session_id
                for line in held
                if line.payer_id == payer_id
                and not line.voided
                and line.session_id != excluding_session
                and line.service_date.year == year
            }
        )

    def sessions_billed_before(self, lines: Sequence[ServiceLine]) -> set[str]:
        """Sessions of these lines with a line on file already (a claim billed again, replaced
        or corrected). Read before :meth:`bill_lines`; a batch holds every line its claims name."""
        return {held.session_id for line in lines if (held := self.lines.get(line.line_key)) is not None}

    async def bill_lines(self, conn: AsyncConnection, lines: Sequence[ServiceLine]) -> None:
        """Upsert a claim's lines: a line billed again takes the new claim, code, date, units,
        coverage and provider."""
        self.unbooked_billed.clear()  # read again when asked
        for line in lines:
            held = self.lines.get(line.line_key)
            if held is None:
                self._keep_line(
                    line.line_key,
                    _Line(
                        line.claim_id,
                        line.session_id,
                        line.patient_id,
                        line.payer_id,
                        line.service_date,
                        False,
                        line.units,
                    ),
                )
            else:
                held.claim_id, held.service_date, held.voided = line.claim_id, line.service_date, False
                held.units = line.units
            self._lines_out[line.line_key] = {
                "line_key": line.line_key,
                "claim_id": line.claim_id,
                "session_id": line.session_id,
                "patient_id": line.patient_id,
                "payer_id": line.payer_id,
                "coverage_id": line.coverage_id,
                "procedure_code": line.procedure_code,
                "units": line.units,
                "service_date": line.service_date,
                "provider_id": line.provider_id,
                "diagnoses": list(line.diagnoses) or None,
            }
        await self._written(conn)

    async def uncovered_lines(self, conn: AsyncConnection, patient_id: str) -> list[sa.Row[Any]]:
        """The patient's billed lines left wholly uncovered (not voided), oldest first."""
        await self.flush(conn)
        return list((await conn.execute(store.UNCOVERED_LINES_OF_PATIENT, {"patient_id": patient_id})).all())

    async def partly_covered_lines(self, conn: AsyncConnection, patient_id: str) -> list[sa.Row[Any]]:
        """The patient's billed lines covered in part (``excess``, ``used_on``, ``used``), oldest first."""
        await self.flush(conn)
        return list(
            (await conn.execute(store.PARTLY_COVERED_LINES_OF_PATIENT, {"patient_id": patient_id})).all()
        )

    async def lines_using(self, conn: AsyncConnection, authorization_id: str) -> list[sa.Row[Any]]:
        """The lines the authorization's usage still counts (``used``: what each uses)."""
        await self.flush(conn)
        return list((await conn.execute(store.LINES_USING, {"authorization_id": authorization_id})).all())

    # ------------------------------------------------------------------ usage
    async def usage_of(self, conn: AsyncConnection, line_keys: Sequence[str]) -> dict[str, bool]:
        """Usage rows of these lines: line key -> still counted (not released)."""
        missing = [k for k in line_keys if k not in self.usage_keys]
        if missing:
            await self._fetch_usage(conn, line_keys=missing, session_ids=[])
        return {k: self.usage[k].active for k in line_keys if k in self.usage}

    async def counted_sessions(
        self, conn: AsyncConnection, session_ids: Collection[str]
    ) -> set[tuple[str, str]]:
        """(authorization id, session id) pairs whose session already used a visit."""
        missing = [s for s in session_ids if s not in self.usage_sessions]
        if missing:
            await self._fetch_usage(conn, line_keys=[], session_ids=missing)
        return {
            (u.authorization_id, u.session_id)
            for u in self.usage.values()
            if u.active and u.session_id in session_ids
        }

    async def _fetch_usage(
        self, conn: AsyncConnection, *, line_keys: list[str], session_ids: list[str]
    ) -> None:
        await self.flush(conn)
        for row in await conn.execute(
            store.USAGE_OF_BATCH, {"line_keys": line_keys, "session_ids": session_ids}
        ):
            self._keep_usage_row(row)
        self.usage_keys.update(line_keys)
        self.usage_sessions.update(session_ids)

    def changed(self, lines: Sequence[ServiceLine]) -> list[str]:
        """Keys of lines still counted whose corrected version uses the ledger differently: another
        code or date of service, or other units on a unit-counted authorization. A session's
        lines on a visit-counted authorization change together (the visit is counted on one of them).

        Units are compared with those billed before (a line covered in part used fewer), so
        read before :meth:`bill_lines` records the new ones."""
        changed: set[str] = set()
        for line in lines:
            held = self.usage.get(line.line_key)
            if held is None or not held.active:
                continue
            auth = self.authorizations.get(held.authorization_id)
            units = auth is not None and auth.unit is AuthorizationUnit.UNITS
            billed = self.lines.get(line.line_key)
            billed_units = billed.units if billed is not None and billed.units is not None else held.quantity
            if (
                held.procedure_code != line.procedure_code
                or held.service_date != line.service_date
                or (units and billed_units != line.units)
            ):
                changed.add(line.line_key)
        sessions = {self.usage[key].session_id for key in changed}
        for line in lines:
            held = self.usage.get(line.line_key)
            if held is not None and held.active and held.session_id in sessions:
                changed.add(line.line_key)
        return sorted(changed)

    def burned_by(self, session_id: str) -> str | None:
        """The authorization the session's counted usage burned (its first line's), if held."""
        used = sorted((key, u) for key, u in self.usage.items() if u.session_id == session_id and u.active)
        return next((u.authorization_id for _, u in used if u.quantity > 0), None)

    async def take_over(self, conn: AsyncConnection, line_keys: Sequence[str], claim_id: str) -> None:
        """Usage still counted for these lines now belongs to ``claim_id`` (a replacement claim)."""
        if all(self.usage[k].claim_id == claim_id for k in line_keys if k in self.usage):
            return  # the same claim again: nothing changes
        await self.flush(conn)
        await conn.execute(
            store.usage.update().where(store.usage.c.line_key.in_(list(line_keys))).values(claim_id=claim_id)
        )
        for key in line_keys:
            if key in self.usage:
                self.usage[key].claim_id = claim_id

    async def use(
        self, conn: AsyncConnection, line_key: str, values: dict[str, Any], *, rebill: bool
    ) -> None:
        """Record what a line uses: a new usage row, or a released one counted again (``rebill``)."""
        self.usage[line_key] = _Usage(
            values["authorization_id"],
            values["session_id"],
            values["claim_id"],
            True,
            values["procedure_code"],
            values["service_date"],
            values["quantity"],
        )
        if rebill:
            await self.flush(conn)
            await conn.execute(store.usage.update().where(store.usage.c.line_key == line_key).values(values))
            return
        self._usage_out.append({"line_key": line_key, **values})
        await self._written(conn)

    async def release(
        self, conn: AsyncConnection, which: sa.ColumnElement[bool], *, at: datetime, reason: str
    ) -> Sequence[sa.Row[Any]]:
        """Give back the usage rows ``which`` selects still counted; the rows released."""
        await self.flush(conn)
        rows = (
            await conn.execute(
                store.usage.update()
                .where(which, store.usage.c.released_at.is_(None))
                .values(released_at=at, release_reason=reason)
                .returning(
                    store.usage.c.line_key,
                    store.usage.c.authorization_id,
                    store.usage.c.patient_id,
                    store.usage.c.session_id,
                    store.usage.c.quantity,
                )
            )
        ).all()
        for row in rows:
            if row.line_key in self.usage:
                self.usage[row.line_key].active = False
            self.adjust(row.authorization_id, used=-row.quantity)
        return rows

    # ------------------------------------------------------------------ lines nothing covered
    async def clear_uncovered(self, conn: AsyncConnection, line_key: str) -> None:
        """The line is covered now: it is no longer reported missing."""
        if self.uncovered.get(line_key, True):
            await conn.execute(store.DELETE_UNCOVERED, {"key": line_key})
            self.uncovered[line_key] = False

    async def report_uncovered(self, conn: AsyncConnection, row: dict[str, Any]) -> bool:
        """Record a line nothing covers, or covers in part (``quantity``: the shortfall); False
        when it was reported so already (same kind, authorization and shortfall)."""
        written = await conn.scalar(store.UPSERT_UNCOVERED, row)
        self.uncovered[row["line_key"]] = True
        return written is not None

    # ------------------------------------------------------------------ reservations
    async def booking_of(self, conn: AsyncConnection, appointment_id: str) -> Booking | None:
        """The appointment's reservation, open or released; None when it never booked."""
        if appointment_id not in self.appointments:
            await self.flush(conn)
            row = (
                await conn.execute(
                    store.RESERVATIONS_OF_BATCH,
                    {"authorization_ids": [], "appointment_ids": [appointment_id]},
                )
            ).first()
            self.appointments[appointment_id] = None if row is None else self._keep_reservation_row(row)
        return self.appointments[appointment_id]

    async def book(self, conn: AsyncConnection, booking: Booking, *, at: datetime) -> None:
        """Reserve what ``booking`` says for its appointment: a new booking, the appointment's
        open one moved (another day or authorization: the old one holds nothing more), or its
        released one opened again. A booking whose visit was billed is never opened again (the
        statement leaves it; the handler does not ask)."""
        before = self.appointments.get(booking.appointment_id)
        if before is not None and before.open:
            self._unbook(before, reason=None)
        self._bookings_out.append(
            {
                "appointment_id": booking.appointment_id,
                "authorization_id": booking.authorization_id,
                "patient_id": booking.patient_id,
                "service_date": booking.service_date,
                "quantity": booking.quantity,
                "reserved_at": at,
                "scheduled_at": booking.scheduled_at,
            }
        )
        self.appointments[booking.appointment_id] = booking
        if booking.authorization_id in self.booked_for:
            self._keep_booking(booking)
        if booking.authorization_id is not None:
            self.adjust(booking.authorization_id, reserved=booking.quantity)
        await self._written(conn)

    def _unbook(self, booking: Booking, *, reason: str | None, cancelled_at: datetime | None = None) -> None:
        """What the view holds once ``booking`` no longer reserves (released with ``reason``,
        or about to be replaced when None)."""
        if booking.authorization_id is not None:
            self.bookings.get(booking.authorization_id, {}).pop(booking.appointment_id, None)
            self.adjust(booking.authorization_id, reserved=-booking.quantity)
        if reason is not None:
            self.appointments[booking.appointment_id] = booking.released(reason, cancelled_at=cancelled_at)

    def _released(self, row: sa.Row[Any], *, reason: str, cancelled_at: datetime | None = None) -> None:
        """A reservation row the database released (``appointment_id``, ``authorization_id``,
        ``quantity``), applied to what the view holds."""
        held = self.appointments.get(row.appointment_id)
        if held is not None and held.open:
            self._unbook(held, reason=reason, cancelled_at=cancelled_at)
            return
        self.bookings.get(row.authorization_id, {}).pop(row.appointment_id, None)
        self.adjust(row.authorization_id, reserved=-row.quantity)
        self.appointments.pop(row.appointment_id, None)  # read again when asked

    def _open_bookings_of(self, patient_id: str) -> list[Booking] | None:
        """Every open booking of the patient, or None when the view does not hold them all."""
        if patient_id not in self.patients:
            return None
        mine = [a for a in self.authorizations.values() if a.patient_id == patient_id]
        if any(a.authorization_id not in self.booked_for for a in mine):
            return None
        return [b for a in mine for b in self.bookings.get(a.authorization_id, {}).values()]

    async def bill_booking(
        self, conn: AsyncConnection, *, patient_id: str, day: date, at: datetime, burned: str | None
    ) -> None:
        """A session of the patient on this day is billed: the appointment booked for it is
        released, whichever authorization it booked and whichever the claim burned (claims
        name no appointment; the booking on the authorization ``burned``, if any, goes first)."""
        self.unbooked_billed.clear()
        held = self._open_bookings_of(patient_id)
        if held is None:
            await self.flush(conn)
            row = (
                await conn.execute(
                    store.BILL_BOOKING, {"patient_id": patient_id, "day": day, "burned": burned, "at": at}
                )
            ).first()
            if row is not None:
                self._released(row, reason=store.BILLED)
            return
        found = min(
            (b for b in held if b.service_date == day),
            key=lambda b: (b.authorization_id != burned, b.appointment_id),
            default=None,
        )
        if found is None:
            return
        self._unbook(found, reason=store.BILLED)
        self._billed_out.append({"appointment": found.appointment_id, "at": at, "reason": store.BILLED})
        await self._written(conn)

    async def cancel_booking(
        self,
        conn: AsyncConnection,
        appointment_id: str,
        at: datetime,
        reason: str,
        *,
        cancelled_at: datetime | None = None,
        patient_id: str | None = None,
    ) -> sa.Row[Any] | None:
        """Release an appointment's open reservation; its authorization and quantity, if it had
        one. A cancellation made (``cancelled_at``) before the schedule booked leaves it: the
        appointment was scheduled again since. One of the patient ``patient_id`` that released
        nothing is remembered (a tombstone), so a schedule made before it and arriving later
        books nothing."""
        await self.flush(conn)
        when = [
            store.reservation.c.appointment_id == appointment_id,
            store.reservation.c.released_at.is_(None),
        ]
        if cancelled_at is not None:
            when.append(
                sa.or_(
                    store.reservation.c.scheduled_at.is_(None),
                    store.reservation.c.scheduled_at <= cancelled_at,
                )
            )
        row = (
            await conn.execute(
                store.reservation.update()
                .where(*when)
                .values(released_at=at, release_reason=reason, cancelled_at=cancelled_at)
                .returning(
                    store.reservation.c.appointment_id,
                    store.reservation.c.authorization_id,
                    store.reservation.c.quantity,
                )
            )
        ).first()
        if row is not None:
            self._released(row, reason=reason, cancelled_at=cancelled_at)
        elif cancelled_at is not None and patient_id is not None:
            await self._remember_cancelled(
                conn, appointment_id, patient_id, at, reason, cancelled_at=cancelled_at
            )
        return row

    async def _remember_cancelled(
        self,
        conn: AsyncConnection,
        appointment_id: str,
        patient_id: str,
        at: datetime,
        reason: str,
        *,
        cancelled_at: datetime,
    ) -> None:
        """A cancellation that released no booking (it arrived before its schedule, or after the
        booking was released): remembered, so a schedule made before it books nothing."""
        await conn.execute(
            store.CANCEL_UNBOOKED,
            {
                "appointment_id": appointment_id,
                "authorization_id": None,
                "patient_id": patient_id,
                "service_date": None,
                "quantity": 0,
                "reserved_at": at,
                "released_at": at,
                "release_reason": reason,
                "cancelled_at": cancelled_at,
            },
        )
        self.appointments.pop(appointment_id, None)  # read again when asked

    async def expire_bookings(
        self, conn: AsyncConnection, *, before: date, at: datetime
    ) -> list[sa.Row[Any]]:
        """Release the open bookings whose day is before ``before``: no claim came for them (a
        session voided, a no-show nobody cancelled), so they hold nothing any longer."""
        await self.flush(conn)
        rows = list((await conn.execute(store.EXPIRE_BOOKINGS, {"before": before, "at": at})).all())
        for row in rows:
            self._released(row, reason=store.EXPIRED)
        return rows

    # ------------------------------------------------------------------ writing
    async def _written(self, conn: AsyncConnection) -> None:
        if not self.deferred:
            await self.flush(conn)

    async def flush(self, conn: AsyncConnection) -> None:
        """Write the queued rows, one executemany per table, in the order the tables depend on."""
        if self._lines_out:
            rows, self._lines_out = list(self._lines_out.values()), {}
            await conn.execute(store.UPSERT_SERVICE_LINE, rows)
        if self._usage_out:
            rows, self._usage_out = self._usage_out, []
            await conn.execute(store.INSERT_USAGE, rows)
        if self._replaced_out:
            rows, self._replaced_out = self._replaced_out, []
            await conn.execute(store.INSERT_REPLACED_CLAIM, rows)
        if self._bookings_out:
            rows, self._bookings_out = self._bookings_out, []
            await conn.execute(store.UPSERT_RESERVATION, rows)
        if self._billed_out:
            rows, self._billed_out = self._billed_out, []
            await conn.execute(store.RELEASE_RESERVATION, rows)
