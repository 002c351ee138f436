"""The eligibility service's tables (its own database): projections of reference data, the
appointments it re-checks, every check with its raw 271 (audit), and scheduled re-checks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
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
    sa.Column("trigger", sa.Text, doc="What asked for a check queued behind a busy payer (appointment...)."),
    sa.Column("not_before", sa.DateTime(timezone=True), doc="Results older than this do not answer it."),
    sa.Index("elig_scheduled_due", "due_at", postgresql_where=sa.text("done_at IS NULL")),
)
