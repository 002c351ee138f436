"""What a batch's events read, fetched once for the whole batch and kept current as they apply.

Per-event SQL was most of the service's CPU: a claim read nine things before it wrote. Here
``BatchView.load`` reads, in one query per table, everything the batch's events name (their
patients' ledgers, the alerts raised on them, the open reservations, the usage and service
lines of their sessions and lines, the voided claims among them, their payers' rules), and
the handlers read from the view instead of the database.

Two rules keep it exact:

- every write a handler makes goes through the view, which applies it to what it holds, so
  a later event of the same batch sees what an earlier one did;
- what the view does not hold (a patient or a line the batch did not name, a payer updated
  meanwhile) is read from the database when asked for ("read-through"), after the writes
  still queued are flushed, and then kept like the rest.

Append-only writes (service lines, usage, reservations booked or billed) are queued and
written with one executemany per table by :meth:`BatchView.flush`: at the end of the batch,
and before any statement that reads or changes those tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
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

__all__ = ["BatchView", "Registered"]

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


@dataclass(frozen=True, slots=True)
class _Booking:
    appointment_id: str
    authorization_id: str
    service_date: date
    quantity: int


@dataclass(slots=True)
class BatchView:
    """The rows one transaction's events read, by key, with the writes not yet flushed.

    Each map says what it is complete for: ``patients`` (every authorization of the patient
    is in ``authorizations``), ``booked_for`` (every open reservation of the authorization is
    in ``bookings``), ``usage_keys``/``usage_sessions``, ``line_years`` ((patient, year): every
    line billed to the patient that year is in ``lines``); the other maps hold a key only when
    its answer is known. ``bookings`` holds open reservations by authorization, then
    appointment; ``patient_lines`` the keys of ``lines`` by patient (a line's patient never
    changes). ``deferred`` is False for a view made outside a batch: its writes go
    out at once.
    """

    deferred: bool = False
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    registered: dict[str, Registered | None] = field(default_factory=dict)
    patients: set[str] = field(default_factory=set)
    raised: dict[str, set[str]] = field(default_factory=dict)
    bookings: dict[str, dict[str, _Booking]] = field(default_factory=dict)
    booked_for: set[str] = field(default_factory=set)
    appointments: dict[str, bool] = field(default_factory=dict)
    usage: dict[str, _Usage] = field(default_factory=dict)
    usage_keys: set[str] = field(default_factory=set)
    usage_sessions: set[str] = field(default_factory=set)
    lines: dict[str, _Line] = field(default_factory=dict)
    patient_lines: dict[str, set[str]] = field(default_factory=dict)
    line_years: set[tuple[str, int]] = field(default_factory=set)
    voided: dict[str, bool] = field(default_factory=dict)
    requirements: dict[str, AuthRequirements | None] = field(default_factory=dict)
    uncovered: dict[str, bool] = field(default_factory=dict)
    _lines_out: dict[str, dict[str, Any]] = field(default_factory=dict)
    _usage_out: list[dict[str, Any]] = field(default_factory=list)
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
        patients = {e.patient_id for e in claims} | {e.patient_id for e in booked}
        auth_ids = {e.authorization_id for e in received}
        if patients or auth_ids:
            await self._load_ledgers(conn, patients, auth_ids)
        if claims or booked:
            await self._load_bookings(conn, [e.appointment_id for e in booked])
        if claims:
            await self._load_claim_rows(conn, claims)

    async def _load_ledgers(self, conn: AsyncConnection, patients: set[str], auth_ids: set[str]) -> None:
        rows = await conn.execute(
            store.LEDGER_OF_BATCH, {"patient_ids": sorted(patients), "authorization_ids": sorted(auth_ids)}
        )
        for row in rows:
            self._keep_ledger_row(row)
        self.patients |= patients
        for missing in auth_ids - self.authorizations.keys():
            self.registered[missing] = None  # a new authorization: no alerts, usage or bookings yet
            self.raised[missing] = set()
            self.booked_for.add(missing)
        known = sorted(self.authorizations)
        for auth_id in known:
            self.raised.setdefault(auth_id, set())
        for row in await conn.execute(store.ALERTS_OF_BATCH, {"authorization_ids": known}):
            self.raised[row.authorization_id].add(row.kind)

    async def _load_bookings(self, conn: AsyncConnection, appointment_ids: list[str]) -> None:
        auth_ids = sorted(self.authorizations)
        rows = await conn.execute(
            store.RESERVATIONS_OF_BATCH, {"authorization_ids": auth_ids, "appointment_ids": appointment_ids}
        )
        self.appointments.update(dict.fromkeys(appointment_ids, False))
        self.booked_for.update(auth_ids)
        for row in rows:
            self.appointments[row.appointment_id] = True
            if row.open and row.authorization_id in self.booked_for:
                self._keep_booking(
                    _Booking(row.appointment_id, row.authorization_id, row.service_date, row.quantity)
                )

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
                    row.claim_id, row.session_id, row.patient_id, row.payer_id, row.service_date, row.voided
                ),
            )
        self.line_years.update((p, y) for p in patients for y in range(first, last + 1))
        claim_ids = sorted({c.claim_id for c in claims})
        self.voided.update(dict.fromkeys(claim_ids, False))
        for row in await conn.execute(store.VOIDED_OF_BATCH, {"claim_ids": claim_ids}):
            self.voided[row.claim_id] = True
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

    def _keep_booking(self, booking: _Booking) -> None:
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
    async def is_voided(self, conn: AsyncConnection, claim_id: str) -> bool:
        if claim_id not in self.voided:
            count = await conn.scalar(
                sa.select(sa.func.count()).where(store.voided_claim.c.claim_id == claim_id)
            )
            self.voided[claim_id] = bool(count)
        return self.voided[claim_id]

    async def void_claim(self, conn: AsyncConnection, claim_id: str, at: datetime) -> None:
        """Record the claim voided and void its lines (a late copy of it uses nothing)."""
        await conn.execute(store.INSERT_VOIDED_CLAIM, {"claim_id": claim_id, "voided_at": at})
        self.voided[claim_id] = True
        await self.flush(conn)
        await conn.execute(
            store.service_line.update().where(store.service_line.c.claim_id == claim_id).values(voided=True)
        )
        for line in self.lines.values():
            if line.claim_id == claim_id:
                line.voided = True

    async def void_session(self, conn: AsyncConnection, session_id: str) -> None:
        await self.flush(conn)
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

    async def bill_lines(self, conn: AsyncConnection, lines: Sequence[ServiceLine]) -> None:
        """Upsert a claim's lines: a line billed again takes the new claim, code and date."""
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
                    ),
                )
            else:
                held.claim_id, held.service_date, held.voided = line.claim_id, line.service_date, False
            queued = self._lines_out.get(line.line_key)
            if queued is None:
                self._lines_out[line.line_key] = {
                    "line_key": line.line_key,
                    "claim_id": line.claim_id,
                    "session_id": line.session_id,
                    "patient_id": line.patient_id,
                    "payer_id": line.payer_id,
                    "procedure_code": line.procedure_code,
                    "service_date": line.service_date,
                }
            else:
                queued.update(
                    claim_id=line.claim_id, procedure_code=line.procedure_code, service_date=line.service_date
                )
        await self._written(conn)

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
        lines on a visit-counted authorization change together (the visit is counted on one of them)."""
        changed: set[str] = set()
        for line in lines:
            held = self.usage.get(line.line_key)
            if held is None or not held.active:
                continue
            auth = self.authorizations.get(held.authorization_id)
            units = auth is not None and auth.unit is AuthorizationUnit.UNITS
            if (
                held.procedure_code != line.procedure_code
                or held.service_date != line.service_date
                or (units and held.quantity != line.units)
            ):
                changed.add(line.line_key)
        sessions = {self.usage[key].session_id for key in changed}
        for line in lines:
            held = self.usage.get(line.line_key)
            if held is not None and held.active and held.session_id in sessions:
                changed.add(line.line_key)
        return sorted(changed)

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
        """Record a line nothing covers; False when it was reported already."""
        inserted = await conn.scalar(store.INSERT_UNCOVERED, row)
        self.uncovered[row["line_key"]] = True
        return inserted is not None

    # ------------------------------------------------------------------ reservations
    async def book(self, conn: AsyncConnection, row: dict[str, Any]) -> bool:
        """Reserve a visit for an appointment; False when the appointment holds a reservation already."""
        appointment_id = row["appointment_id"]
        if appointment_id in self.appointments:
            if self.appointments[appointment_id]:
                return False
            self._bookings_out.append(row)
            await self._written(conn)
        else:
            await self.flush(conn)
            inserted = await conn.scalar(
                store.INSERT_RESERVATION.returning(store.reservation.c.appointment_id), row
            )
            if inserted is None:
                self.appointments[appointment_id] = True
                return False
        self.appointments[appointment_id] = True
        if row["authorization_id"] in self.booked_for:
            self._keep_booking(
                _Booking(appointment_id, row["authorization_id"], row["service_date"], row["quantity"])
            )
        self.adjust(row["authorization_id"], reserved=row["quantity"])
        return True

    async def bill_booking(
        self, conn: AsyncConnection, authorization_id: str, day: date, at: datetime
    ) -> None:
        """The visit booked on this authorization for this day is billed: the booking is released."""
        if authorization_id not in self.booked_for:
            await self.flush(conn)
            booked = (
                sa.select(store.reservation.c.appointment_id)
                .where(
                    store.reservation.c.authorization_id == authorization_id,
                    store.reservation.c.service_date == day,
                    store.reservation.c.released_at.is_(None),
                )
                .limit(1)
                .scalar_subquery()
            )
            quantity = await conn.scalar(
                store.reservation.update()
                .where(store.reservation.c.appointment_id == booked)
                .values(released_at=at, release_reason="billed")
                .returning(store.reservation.c.quantity)
            )
            if quantity is not None:
                self.adjust(authorization_id, reserved=-quantity)
            return
        held = self.bookings.get(authorization_id, {})
        found = min(
            (b for b in held.values() if b.service_date == day), key=lambda b: b.appointment_id, default=None
        )
        if found is None:
            return
        del held[found.appointment_id]
        self.adjust(authorization_id, reserved=-found.quantity)
        self._billed_out.append({"appointment": found.appointment_id, "at": at, "reason": "billed"})
        await self._written(conn)

    async def cancel_booking(
        self, conn: AsyncConnection, appointment_id: str, at: datetime, reason: str
    ) -> sa.Row[Any] | None:
        """Release an appointment's open reservation; its authorization and quantity, if it had one."""
        await self.flush(conn)
        row = (
            await conn.execute(
                store.reservation.update()
                .where(
                    store.reservation.c.appointment_id == appointment_id,
                    store.reservation.c.released_at.is_(None),
                )
                .values(released_at=at, release_reason=reason)
                .returning(store.reservation.c.authorization_id, store.reservation.c.quantity)
            )
        ).first()
        if row is not None:
            self.bookings.get(row.authorization_id, {}).pop(appointment_id, None)
            self.adjust(row.authorization_id, reserved=-row.quantity)
        return row

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
        if self._bookings_out:
            rows, self._bookings_out = self._bookings_out, []
            await conn.execute(store.INSERT_RESERVATION, rows)
        if self._billed_out:
            rows, self._billed_out = self._billed_out, []
            await conn.execute(store.RELEASE_RESERVATION, rows)
