"""What a batch writes and reads, one statement per table instead of several per event.

An appointment used to cost a dozen statements: its own upsert, its patient's coverages,
the patient, payer and organization (the patient twice), the patient's other appointments,
the cache lookup, the last summary and the check itself. Here:

- :class:`Projections` folds a batch's reference events and appointments into one row per
  key (the row sequential upserts would have left) and writes each table with one executemany;
- :class:`References` reads, once for the batch, the coverages and appointments of the
  patients it names and the patients, payers and organizations those need (one ``UNION ALL``),
  and reads through, per key, what a batch did not name;
- :class:`Scheduled` queues the re-checks a batch schedules and writes them at once.

The batch's writes all come before its reads (the jobs are built once every event is
projected), so what is read is what the events left, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.eligibility import store
from rcm.events.models import (
    AppointmentScheduled,
    CoverageUpdated,
    EligibilityRecheckRequested,
    PatientUpdated,
)
from rcm.servicekit import Transaction

__all__ = ["Projections", "References", "Scheduled"]

M = TypeVar("M", bound=BaseModel)

_PARAMS = {
    store.patients.name: "patient_ids",
    store.payers.name: "payer_ids",
    store.organizations.name: "organization_ids",
    store.coverages.name: "coverage_ids",
}


class Projections:
    """A batch's projection rows, one per key, written with one executemany per table.

    A key upserted twice in a batch keeps what the upserts in order would have left: the
    newest ``updated_at`` (the later one on a tie) for reference data; for an appointment,
    the first booking's patient, organization and provider and the last start.
    """

    def __init__(self) -> None:
        self._rows: dict[sa.Table, dict[str, dict[str, Any]]] = {}
        self._appointments: dict[str, dict[str, Any]] = {}

    def project(
        self,
        table: sa.Table,
        key: str,
        event: BaseModel,
        deleted: bool,
        updated_at: datetime,
        **extra: str,
    ) -> None:
        key_column = next(iter(table.primary_key.columns)).name
        rows = self._rows.setdefault(table, {})
        held = rows.get(key)
        if held is None or held["updated_at"] <= updated_at:
            rows[key] = {
                key_column: key,
                "body": event.model_dump(mode="json"),
                "deleted": deleted,
                "updated_at": updated_at,
                **extra,
            }

    def book(self, event: AppointmentScheduled) -> None:
        held = self._appointments.get(event.appointment_id)
        if held is not None:
            held.update(start=event.start, service_date=event.start.date(), modality=event.modality.value)
            return
        self._appointments[event.appointment_id] = {
            "appointment_id": event.appointment_id,
            "patient_id": event.patient_id,
            "organization_id": event.organization_id,
            "provider_id": event.provider_id,
            "start": event.start,
            "service_date": event.start.date(),
            "modality": event.modality.value,
        }

    async def write(self, conn: AsyncConnection) -> None:
        for table, rows in self._rows.items():
            await conn.execute(store.PROJECTION_UPSERTS[table], list(rows.values()))
        if self._appointments:
            await conn.execute(store.UPSERT_APPOINTMENT, list(self._appointments.values()))
        self._rows, self._appointments = {}, {}


class References:
    """Reference data and appointments one batch reads, by key, each key fetched once."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._models: dict[tuple[str, str], BaseModel | None] = {}
        self._coverages: dict[str, list[dict[str, Any]]] = {}
        self._visits: dict[str, list[tuple[str, date]]] = {}

    async def prepare(self, conn: AsyncConnection, events: Sequence[Any]) -> None:
        """Read what the checks these events ask for will need: a few statements for them all."""
        booked = [e for e in events if isinstance(e, AppointmentScheduled)]
        changed = [e for e in events if isinstance(e, CoverageUpdated)]
        rechecks = [e for e in events if isinstance(e, EligibilityRecheckRequested)]
        if not (booked or changed or rechecks):
            return
        await self.fetch_coverages_of(conn, {e.patient_id for e in booked})
        await self.fetch_visits(conn, {e.patient_id for e in booked} | {e.patient_id for e in changed})
        await self.fetch(conn, coverage_ids=[e.coverage_id for e in rechecks])
        coverages = [row for e in booked for row in self._coverages[e.patient_id]]
        rechecked = [self._bodies[(store.coverages.name, e.coverage_id)] for e in rechecks]
        coverages += [body for body in rechecked if body is not None]
        await self.fetch(
            conn,
            patient_ids=[c["patient_id"] for c in coverages] + [e.patient_id for e in changed],
            payer_ids=[c["payer_id"] for c in coverages] + [e.payer_id for e in changed],
            organization_ids=[e.organization_id for e in booked],
        )
        if changed or rechecks:  # their checks go out under the patient's organization
            patients = [
                await self.get(conn, store.patients, c["patient_id"], PatientUpdated)
                for c in [*coverages, *({"patient_id": e.patient_id} for e in changed)]
            ]
            await self.fetch(conn, organization_ids=[p.organization_id for p in patients if p is not None])

    # ------------------------------------------------------------------ projections by key
    async def fetch(
        self,
        conn: AsyncConnection,
        *,
        patient_ids: Iterable[str] = (),
        payer_ids: Iterable[str] = (),
        organization_ids: Iterable[str] = (),
        coverage_ids: Iterable[str] = (),
    ) -> None:
        """Read the keys not read yet, all tables in one statement."""
        wanted = {
            "patient_ids": self._unknown(store.patients, patient_ids),
            "payer_ids": self._unknown(store.payers, payer_ids),
            "organization_ids": self._unknown(store.organizations, organization_ids),
            "coverage_ids": self._unknown(store.coverages, coverage_ids),
        }
        if not any(wanted.values()):
            return
        for table, param in _PARAMS.items():
            for key in wanted[param]:
                self._bodies[(table, key)] = None
        for row in await conn.execute(store.REFERENCES, wanted):
            self._bodies[(row.source, row.key)] = None if row.deleted else row.body

    def _unknown(self, table: sa.Table, keys: Iterable[str]) -> list[str]:
        return sorted({k for k in keys if (table.name, k) not in self._bodies})

    async def get(self, conn: AsyncConnection, table: sa.Table, key: str, model: type[M]) -> M | None:
        """The entity as last published, or None when unknown or deleted."""
        slot = (table.name, key)
        if slot not in self._models:
            if slot not in self._bodies:
                await self.fetch(conn, **{_PARAMS[table.name]: [key]})
            body = self._bodies[slot]
            self._models[slot] = None if body is None else model.model_validate(body)
        found = self._models[slot]
        assert found is None or isinstance(found, model)
        return found

    # ------------------------------------------------------------------ per patient
    async def fetch_coverages_of(self, conn: AsyncConnection, patient_ids: Iterable[str]) -> None:
        wanted = sorted({p for p in patient_ids if p not in self._coverages})
        if not wanted:
            return
        for patient_id in wanted:
            self._coverages[patient_id] = []
        for row in await conn.execute(store.COVERAGES_OF_PATIENTS, {"patient_ids": wanted}):
            self._coverages[row.patient_id].append(
                {"patient_id": row.patient_id, "payer_id": row.payer_id, "body": row.body}
            )

    async def coverages_of(self, conn: AsyncConnection, patient_id: str) -> list[CoverageUpdated]:
        """The patient's coverages not deleted, as last published."""
        await self.fetch_coverages_of(conn, [patient_id])
        return [CoverageUpdated.model_validate(c["body"]) for c in self._coverages[patient_id]]

    async def fetch_visits(self, conn: AsyncConnection, patient_ids: Iterable[str]) -> None:
        wanted = sorted({p for p in patient_ids if p not in self._visits})
        if not wanted:
            return
        for patient_id in wanted:
            self._visits[patient_id] = []
        for row in await conn.execute(store.APPOINTMENTS_OF_PATIENTS, {"patient_ids": wanted}):
            self._visits[row.patient_id].append((row.appointment_id, row.service_date))

    async def other_visits(self, conn: AsyncConnection, patient_id: str, appointment_id: str) -> list[date]:
        """Dates of the patient's other appointments."""
        await self.fetch_visits(conn, [patient_id])
        return [day for appointment, day in self._visits[patient_id] if appointment != appointment_id]

    async def next_visit(self, conn: AsyncConnection, patient_id: str, *, today: date) -> date | None:
        """The patient's first appointment from ``today`` on."""
        await self.fetch_visits(conn, [patient_id])
        return min((day for _, day in self._visits[patient_id] if day >= today), default=None)


class Scheduled:
    """Re-checks scheduled in a transaction, written together (a dedupe key already on file, or
    queued earlier, keeps its first row, as the insert does)."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}

    @classmethod
    def of(cls, tx: Transaction) -> Scheduled:
        return tx.memo_of(cls)

    def add(self, row: dict[str, Any]) -> None:
        self._rows.setdefault(row["dedupe_key"], row)

    async def write(self, conn: AsyncConnection) -> None:
        rows, self._rows = list(self._rows.values()), {}
        if rows:
            await conn.execute(store.INSERT_SCHEDULED, rows)
