"""The eligibility service's tables (its own database): projections of reference data, the
appointments it re-checks, every check with its raw 271 (audit), and scheduled re-checks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

__all__ = [
    "APPOINTMENTS_OF_PATIENTS",
    "COVERAGES_OF_PATIENTS",
    "INSERT_SCHEDULED",
    "LATEST_RESULTS",
    "LATEST_SUMMARIES",
    "PAYER_BY_ELECTRONIC_ID",
    "PROJECTION_UPSERTS",
    "REFERENCES",
    "UPSERT_APPOINTMENT",
    "appointments",
    "checks",
    "coverages",
    "metadata",
    "organizations",
    "patients",
    "payers",
    "providers",
    "scheduled_checks",
]

metadata = sa.MetaData()


def _projection(name: str, key: str, *extra: sa.Column[Any]) -> sa.Table:
    """A reference-data projection: the entity's full state as last published."""
    return sa.Table(
        name,
        metadata,
        sa.Column(key, sa.Text, primary_key=True),
        *extra,
        sa.Column("body", JSONB, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


patients = _projection("elig_patient", "patient_id")
organizations = _projection("elig_organization", "organization_id")
providers = _projection("elig_provider", "provider_id")
payers = _projection("elig_payer", "payer_id")
sa.Index(
    "elig_payer_electronic_payer_id",
    payers.c.body["electronic_payer_id"].astext,
    postgresql_where=payers.c.deleted.is_(False),
)
coverages = _projection(
    "elig_coverage",
    "coverage_id",
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("payer_id", sa.Text, nullable=False),
)

appointments = sa.Table(
    "elig_appointment",
    metadata,
    sa.Column("appointment_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("organization_id", sa.Text, nullable=False),
    sa.Column("provider_id", sa.Text, nullable=False),
    sa.Column("start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("modality", sa.Text, doc="in_person, video or audio_only, as last booked (migration 0006)."),
)

checks = sa.Table(
    "elig_check",
    metadata,
    sa.Column("check_id", sa.Text, primary_key=True),
    sa.Column("cache_key", sa.Text, nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("coverage_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("summary", JSONB, nullable=False),
    sa.Column("decision", JSONB),
    sa.Column("failure", sa.Text, doc="Why the payer could not be asked (error kind, never PHI)."),
    sa.Column("raw_271", sa.Text, doc="The payer's answer as received, kept for audit."),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("elig_check_cache", "cache_key", "checked_at"),
    sa.Index("elig_check_coverage", "coverage_id", "checked_at"),
)

scheduled_checks = sa.Table(
    "elig_scheduled_check",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("dedupe_key", sa.Text, nullable=False, unique=True),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("coverage_id", sa.Text, nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("appointment_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("bypass_cache", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.Column(
        "telehealth_places",
        sa.Text,
        doc="A telehealth visit's places of service (10,02), its benefits' (migration 0006); null in person.",
    ),
    sa.Column("trigger", sa.Text, doc="What asked for a check queued behind a busy payer (appointment...)."),
    sa.Column("not_before", sa.DateTime(timezone=True), doc="Results older than this do not answer it."),
    sa.Index("elig_scheduled_due", "due_at", postgresql_where=sa.text("done_at IS NULL")),
)


# ---------------------------------------------------------------------- one batch at a time
# Built once: executing a prebuilt statement with a parameter dict skips SQLAlchemy's
# construction and cache-key work, and ``= ANY(array)`` keeps one SQL text whatever the
# number of keys.


def _among(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=ARRAY(sa.Text))


def _key(table: sa.Table) -> sa.Column[Any]:
    return next(iter(table.primary_key.columns))


def _projection_upsert(table: sa.Table) -> sa.Executable:
    """The newest state of an entity wins (an older record replayed later changes nothing)."""
    stmt = pg_insert(table)
    key = _key(table).name
    return stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name != key},
        where=table.c.updated_at <= stmt.excluded.updated_at,
    )


PROJECTION_UPSERTS = {
    t: _projection_upsert(t) for t in (patients, organizations, providers, payers, coverages)
}
"""One upsert per projection table, executed with the rows of a batch (executemany)."""

_appointment = pg_insert(appointments)
UPSERT_APPOINTMENT = _appointment.on_conflict_do_update(
    index_elements=[appointments.c.appointment_id],
    set_={
        "start": _appointment.excluded.start,
        "service_date": _appointment.excluded.service_date,
        "modality": _appointment.excluded.modality,
    },
)
"""An appointment booked, or moved (its start, date of service and modality)."""


def _references(table: sa.Table, name: str) -> sa.Select[Any]:
    key = _key(table)
    return sa.select(
        sa.literal(table.name).label("source"), key.label("key"), table.c.body, table.c.deleted
    ).where(key == sa.any_(_among(name)))


REFERENCES = sa.union_all(
    _references(patients, "patient_ids"),
    _references(payers, "payer_ids"),
    _references(organizations, "organization_ids"),
    _references(coverages, "coverage_ids"),
)
"""Patients, payers, organizations and coverages by key, in one statement (``source`` is the table)."""

COVERAGES_OF_PATIENTS = sa.select(coverages.c.patient_id, coverages.c.payer_id, coverages.c.body).where(
    coverages.c.patient_id == sa.any_(_among("patient_ids")), coverages.c.deleted.is_(False)
)

APPOINTMENTS_OF_PATIENTS = sa.select(
    appointments.c.patient_id, appointments.c.appointment_id, appointments.c.service_date
).where(appointments.c.patient_id == sa.any_(_among("patient_ids")))

LATEST_RESULTS = (
    sa.select(checks.c.cache_key, sa.func.max(checks.c.checked_at).label("checked_at"))
    .where(checks.c.cache_key == sa.any_(_among("cache_keys")), checks.c.status != sa.bindparam("error"))
    .group_by(checks.c.cache_key)
)
"""When each cache key was last answered (a failed check answers nothing)."""

LATEST_SUMMARIES = (
    sa.select(checks.c.coverage_id, checks.c.summary, checks.c.checked_at)
    .distinct(checks.c.coverage_id)
    .where(checks.c.coverage_id == sa.any_(_among("coverage_ids")), checks.c.status != sa.bindparam("error"))
    .order_by(checks.c.coverage_id, checks.c.checked_at.desc())
)
"""The last summary on file per coverage (a failed check says nothing about it)."""

PAYER_BY_ELECTRONIC_ID = (
    sa.select(payers.c.payer_id)
    .where(
        payers.c.body["electronic_payer_id"].astext == sa.bindparam("electronic_payer_id"),
        payers.c.deleted.is_(False),
    )
    .order_by(payers.c.payer_id)
    .limit(1)
)
"""Our payer with an electronic payer id (a 271's other payer), through ``elig_payer_electronic_payer_id``."""

INSERT_SCHEDULED = pg_insert(scheduled_checks).on_conflict_do_nothing(index_elements=["dedupe_key"])
