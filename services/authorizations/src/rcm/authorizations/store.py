"""The service's tables (its own database) and the queries that rebuild the ledger.

Exactly-once effects beyond the runtime's inbox are constraints here:
``usage.line_key`` is unique (a service line is counted once, whatever is redelivered or
replaced), ``uncovered_line.line_key`` too (a line is reported missing once), and
``alert`` has one row per (authorization, kind) (each warning is raised once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.authorizations.domain import Authorization, AuthorizationUnit, AuthRequirements

__all__ = [
    "alert",
    "authorization",
    "counted_sessions",
    "load_ledger",
    "load_requirements",
    "metadata",
    "payer_rules",
    "prior_visits",
    "raised_alerts",
    "reservation",
    "service_line",
    "uncovered_line",
    "usage",
    "voided_claim",
]

metadata = sa.MetaData()

authorization = sa.Table(
    "authorization",
    metadata,
    sa.Column("authorization_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("coverage_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("auth_number", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("authorized", sa.Integer, nullable=False),
    sa.Column("valid_start", sa.Date, nullable=False),
    sa.Column("valid_end", sa.Date),
    sa.Column("procedure_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("provider_id", sa.Text),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)
"""One row per authorization, replaced when an amended version is received."""

service_line = sa.Table(
    "service_line",
    metadata,
    sa.Column("line_key", sa.Text, primary_key=True),
    sa.Column("claim_id", sa.Text, nullable=False, index=True),
    sa.Column("session_id", sa.Text, nullable=False, index=True),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("procedure_code", sa.Text, nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("voided", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("service_line_visits", "patient_id", "payer_id", "service_date"),
)
"""Every line billed, authorized or not: counts the visits before an auth is needed."""

usage = sa.Table(
    "usage",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("line_key", sa.Text, nullable=False, unique=True),
    sa.Column(
        "authorization_id",
        sa.Text,
        sa.ForeignKey("authorization.authorization_id"),
        nullable=False,
        index=True,
    ),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("claim_id", sa.Text, nullable=False, index=True),
    sa.Column("session_id", sa.Text, nullable=False, index=True),
    sa.Column("procedure_code", sa.Text, nullable=False),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Column("release_reason", sa.Text),
)
"""What each service line used; a released row gave its quantity back."""

uncovered_line = sa.Table(
    "uncovered_line",
    metadata,
    sa.Column("line_key", sa.Text, primary_key=True),
    sa.Column("claim_id", sa.Text, nullable=False),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("procedure_code", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("authorization_id", sa.Text),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
"""Lines that needed an authorization and had none (reported once)."""

reservation = sa.Table(
    "reservation",
    metadata,
    sa.Column("appointment_id", sa.Text, primary_key=True),
    sa.Column("authorization_id", sa.Text, sa.ForeignKey("authorization.authorization_id"), nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("service_date", sa.Date, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Column("release_reason", sa.Text),
)
"""A visit booked by a scheduled appointment until the visit is billed or cancelled."""

alert = sa.Table(
    "alert",
    metadata,
    sa.Column("alert_id", sa.Text, primary_key=True),
    sa.Column("authorization_id", sa.Text, sa.ForeignKey("authorization.authorization_id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("authorization_id", "kind", name="alert_once_per_condition"),
)

payer_rules = sa.Table(
    "payer_rules",
    metadata,
    sa.Column("payer_id", sa.Text, primary_key=True),
    sa.Column("auth_requirements", JSONB, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
"""Projection of payer-updated: the codes each payer authorizes."""

voided_claim = sa.Table(
    "voided_claim",
    metadata,
    sa.Column("claim_id", sa.Text, primary_key=True),
    sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False),
)


def _authorization(row: sa.Row[Any], used: int, reserved: int) -> Authorization:
    return Authorization(
        authorization_id=row.authorization_id,
        patient_id=row.patient_id,
        payer_id=row.payer_id,
        coverage_id=row.coverage_id,
        auth_number=row.auth_number,
        unit=AuthorizationUnit(row.unit),
        authorized=row.authorized,
        start=row.valid_start,
        end=row.valid_end,
        procedure_codes=frozenset(row.procedure_codes or ()),
        provider_id=row.provider_id,
        used=used,
        reserved=reserved,
    )


async def load_ledger(
    conn: AsyncConnection,
    *,
    patient_id: str | None = None,
    authorization_ids: Sequence[str] | None = None,
    not_alerted: str | None = None,
) -> dict[str, Authorization]:
    """Authorizations with what is used and booked, by id: one patient's, some, or all those
    without an alert of kind ``not_alerted``."""
    used = (
        sa.select(usage.c.authorization_id, sa.func.sum(usage.c.quantity).label("used"))
        .where(usage.c.released_at.is_(None))
        .group_by(usage.c.authorization_id)
        .subquery()
    )
    booked = (
        sa.select(reservation.c.authorization_id, sa.func.sum(reservation.c.quantity).label("reserved"))
        .where(reservation.c.released_at.is_(None))
        .group_by(reservation.c.authorization_id)
        .subquery()
    )
    query = (
        sa.select(
            authorization,
            sa.func.coalesce(used.c.used, 0).label("used_total"),
            sa.func.coalesce(booked.c.reserved, 0).label("reserved_total"),
        )
        .outerjoin(used, used.c.authorization_id == authorization.c.authorization_id)
        .outerjoin(booked, booked.c.authorization_id == authorization.c.authorization_id)
        .order_by(authorization.c.authorization_id)
    )
    if patient_id is not None:
        query = query.where(authorization.c.patient_id == patient_id)
    if authorization_ids is not None:
        query = query.where(authorization.c.authorization_id.in_(list(authorization_ids)))
    if not_alerted is not None:
        query = query.where(
            ~sa.exists().where(
                alert.c.authorization_id == authorization.c.authorization_id, alert.c.kind == not_alerted
            )
        )
    rows = (await conn.execute(query)).all()
    return {
        row.authorization_id: _authorization(row, int(row.used_total), int(row.reserved_total))
        for row in rows
    }


async def counted_sessions(conn: AsyncConnection, session_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(authorization id, session id) pairs whose session already used a visit."""
    rows = await conn.execute(
        sa.select(usage.c.authorization_id, usage.c.session_id)
        .where(usage.c.session_id.in_(list(session_ids)), usage.c.released_at.is_(None))
        .distinct()
    )
    return {(r.authorization_id, r.session_id) for r in rows}


async def load_requirements(conn: AsyncConnection, payer_id: str) -> AuthRequirements | None:
    """The payer's authorization requirements, or None when the payer is unknown (or retired)."""
    row = (
        await conn.execute(
            sa.select(payer_rules.c.auth_requirements, payer_rules.c.deleted).where(
                payer_rules.c.payer_id == payer_id
            )
        )
    ).first()
    if row is None or row.deleted:
        return None
    return AuthRequirements(
        {r["procedure_code"]: int(r.get("after_visits", 0)) for r in row.auth_requirements}
    )


async def prior_visits(
    conn: AsyncConnection, *, patient_id: str, payer_id: str, year: int, excluding_session: str
) -> int:
    """Sessions billed to the payer in the calendar year before this one (for 'after N visits')."""
    count = await conn.scalar(
        sa.select(sa.func.count(sa.distinct(service_line.c.session_id))).where(
            service_line.c.patient_id == patient_id,
            service_line.c.payer_id == payer_id,
            service_line.c.voided.is_(False),
            service_line.c.session_id != excluding_session,
            service_line.c.service_date >= date(year, 1, 1),
            service_line.c.service_date <= date(year, 12, 31),
        )
    )
    return int(count or 0)


async def raised_alerts(conn: AsyncConnection, authorization_ids: Iterable[str]) -> dict[str, set[str]]:
    """Kinds already raised, per authorization."""
    rows = await conn.execute(
        sa.select(alert.c.authorization_id, alert.c.kind).where(
            alert.c.authorization_id.in_(list(authorization_ids))
        )
    )
    raised: dict[str, set[str]] = {}
    for row in rows:
        raised.setdefault(row.authorization_id, set()).add(row.kind)
    return raised
