"""The service's tables (its own database) and the queries that rebuild the ledger.

Exactly-once effects beyond the runtime's inbox are constraints here:
``usage.line_key`` is unique (a service line is counted once, whatever is redelivered or
replaced), ``uncovered_line.line_key`` too (a line is reported missing once), ``alert`` has
one row per (authorization, kind) (each warning is raised once), and ``voided_claim`` and
``replaced_claim`` remember the claims a late copy of must use nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.authorizations.domain import Authorization, AuthorizationUnit, AuthRequirements

__all__ = [
    "ALERTS_OF_BATCH",
    "BILLED",
    "BILLED_DAYS_OF_BATCH",
    "BILLED_ON_ARRIVAL",
    "BILL_BOOKING",
    "CANCEL_UNBOOKED",
    "CONTROL_NUMBERS_FROM",
    "DELETE_UNCOVERED",
    "DELETE_UNCOVERED_LINES",
    "DIAGNOSES_OF_AUTHORIZATION",
    "EXPIRED",
    "EXPIRE_BOOKINGS",
    "INSERT_ALERT",
    "INSERT_REPLACED_CLAIM",
    "INSERT_USAGE",
    "INSERT_VOIDED_CLAIM",
    "LEDGER_OF_BATCH",
    "LINES_USING",
    "LOCK_AUTHORIZATIONS_OF_BATCH",
    "PARTLY_COVERED_LINES_OF_PATIENT",
    "RELEASE_RESERVATION",
    "RESERVATIONS_OF_BATCH",
    "RULES_OF_BATCH",
    "SERVICE_LINES_OF_BATCH",
    "UNCOVERED_LINES_OF_PATIENT",
    "UNCOVERED_OF_BATCH",
    "UPSERT_AUTHORIZATION",
    "UPSERT_PAYER_RULES",
    "UPSERT_RESERVATION",
    "UPSERT_SERVICE_LINE",
    "UPSERT_UNCOVERED",
    "USAGE_OF_BATCH",
    "VOIDED_OR_REPLACED_OF_BATCH",
    "alert",
    "authorization",
    "authorization_entry",
    "diagnoses_of",
    "interchange_sequence",
    "ledger_entry",
    "load_ledger",
    "load_requirements",
    "metadata",
    "next_control_number",
    "payer_rules",
    "prior_visits",
    "raised_alerts",
    "replaced_claim",
    "requirements_of",
    "reservation",
    "service_line",
    "uncovered_line",
    "usage",
    "voided_claim",
]

metadata = sa.MetaData()

BILLED = "billed"
"""``reservation.release_reason`` of a booking whose visit was billed (it never books again)."""
EXPIRED = "expired"
"""``reservation.release_reason`` of a booking whose day passed long ago with no claim."""

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
    sa.Column("coverage_id", sa.Text),
    sa.Column("units", sa.Integer),
    sa.Column("provider_id", sa.Text),
    sa.Column("diagnoses", ARRAY(sa.Text)),
    sa.Index("service_line_visits", "patient_id", "payer_id", "service_date"),
)
"""Every line billed, authorized or not: counts the visits before an auth is needed, and
keeps what burning the line again takes (coverage, units, rendering provider; empty on lines
billed before revision 0004) when an authorization received later covers it or no longer does.
``diagnoses`` are the ICD-10-CM codes the line points at, primary first (empty on lines billed
before revision 0006): what a 278 asking to extend the authorization the line used names (HI)."""

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
    sa.Column("quantity", sa.Integer),
    sa.Index("ix_uncovered_line_patient_id", "patient_id"),
)
"""Lines that needed an authorization and had none (reported once per kind). ``quantity`` is
set when the line is covered in part: the units beyond what its authorization had left (the
payer denies them); none means the whole line."""

reservation = sa.Table(
    "reservation",
    metadata,
    sa.Column("appointment_id", sa.Text, primary_key=True),
    sa.Column(
        "authorization_id",
        sa.Text,
        sa.ForeignKey("authorization.authorization_id"),
        index=True,
    ),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("service_date", sa.Date),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Column("release_reason", sa.Text),
    sa.Column("scheduled_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
)
"""A visit booked by a scheduled appointment until the visit is billed, the appointment
cancelled, or its day long past with no claim (``expired``). ``scheduled_at`` and
``cancelled_at`` are the times the scheduler gave the schedule booked and the cancellation
(empty on rows before revision 0004): they arrive on different topics, in any order, and an
event older than what the row holds changes nothing. A row with no authorization holds
nothing (revision 0005): a cancellation that found no booking (a tombstone with its
``cancelled_at``: the schedule arriving after it books nothing), or a schedule received after
its visit was billed (``billed``)."""

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

replaced_claim = sa.Table(
    "replaced_claim",
    metadata,
    sa.Column("claim_id", sa.Text, primary_key=True),
    sa.Column("replaced_by", sa.Text, nullable=False),
    sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
)
"""Claims a replacement (frequency 7) took the place of: a late copy of one uses nothing and
takes nothing back from its replacement."""


def authorization_entry(row: sa.Row[Any], *, used: int, reserved: int) -> Authorization:
    """An ``authorization`` row with what is used and booked on it."""
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


def _ledger_query() -> sa.Select[Any]:
    # summed per selected authorization through the authorization_id indexes: grouped
    # subqueries over the whole usage and reservation tables grew with every visit ever billed
    used = (
        sa.select(sa.func.coalesce(sa.func.sum(usage.c.quantity), 0))
        .where(usage.c.authorization_id == authorization.c.authorization_id, usage.c.released_at.is_(None))
        .scalar_subquery()
    )
    booked = (
        sa.select(sa.func.coalesce(sa.func.sum(reservation.c.quantity), 0))
        .where(
            reservation.c.authorization_id == authorization.c.authorization_id,
            reservation.c.released_at.is_(None),
        )
        .scalar_subquery()
    )
    return sa.select(authorization, used.label("used_total"), booked.label("reserved_total")).order_by(
        authorization.c.authorization_id
    )


_LEDGER = _ledger_query()
"""Authorizations with what their usage and open reservations add up to: built once, filtered per use."""


def ledger_entry(row: sa.Row[Any]) -> Authorization:
    """One row of a ledger query as the domain's authorization."""
    return authorization_entry(row, used=int(row.used_total), reserved=int(row.reserved_total))


async def load_ledger(
    conn: AsyncConnection,
    *,
    patient_id: str | None = None,
    authorization_ids: Sequence[str] | None = None,
    not_alerted: str | None = None,
) -> dict[str, Authorization]:
    """Authorizations with what is used and booked, by id: one patient's, some, or all those
    without an alert of kind ``not_alerted``."""
    query = _LEDGER
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
    return {row.authorization_id: ledger_entry(row) for row in rows}


def requirements_of(auth_requirements: list[dict[str, Any]]) -> AuthRequirements:
    """A payer's ``auth_requirements`` column as the domain's requirements."""
    return AuthRequirements({r["procedure_code"]: int(r.get("after_visits", 0)) for r in auth_requirements})


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
    return requirements_of(row.auth_requirements)


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


# ---------------------------------------------------------------------- one batch at a time
# Built once: executing a prebuilt statement with a parameter dict skips SQLAlchemy's
# construction and cache-key work, and ``= ANY(array)`` keeps one SQL text whatever the
# number of ids (an ``IN`` list is rendered again for each count).


def _among(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=ARRAY(sa.Text))


_OF_BATCH = sa.or_(
    authorization.c.patient_id == sa.any_(_among("patient_ids")),
    authorization.c.authorization_id == sa.any_(_among("authorization_ids")),
)

LOCK_AUTHORIZATIONS_OF_BATCH = (
    sa.select(authorization.c.authorization_id)
    .where(_OF_BATCH)
    .order_by(authorization.c.authorization_id)
    .with_for_update(of=authorization)
)
"""Lock the authorizations of some patients and some ids, in id order (two batches lock the
same rows in the same order: no deadlock), before their balances are read: a batch on another
replica taking their last visit waits until this one commits. A statement of its own, before
the ledger read: a read's snapshot is taken when it starts, so a balance read by the locking
statement itself could be one the batch it waited for has since changed."""

LEDGER_OF_BATCH = _LEDGER.add_columns(
    sa.select(sa.func.array_agg(alert.c.kind))
    .where(alert.c.authorization_id == authorization.c.authorization_id)
    .scalar_subquery()
    .label("raised_kinds")
).where(_OF_BATCH)
"""The ledgers of some patients and some authorizations by id (``ledger_entry`` reads a row),
with the kinds of alert raised on each (``raised_kinds``, None when none)."""

ALERTS_OF_BATCH = sa.select(alert.c.authorization_id, alert.c.kind).where(
    alert.c.authorization_id == sa.any_(_among("authorization_ids"))
)

RESERVATIONS_OF_BATCH = sa.select(
    reservation.c.appointment_id,
    reservation.c.authorization_id,
    reservation.c.patient_id,
    reservation.c.service_date,
    reservation.c.quantity,
    reservation.c.released_at.is_(None).label("open"),
    reservation.c.release_reason,
    reservation.c.scheduled_at,
    reservation.c.cancelled_at,
).where(
    sa.or_(
        sa.and_(
            reservation.c.authorization_id == sa.any_(_among("authorization_ids")),
            reservation.c.released_at.is_(None),
        ),
        reservation.c.appointment_id == sa.any_(_among("appointment_ids")),
    )
)
"""Open reservations of some authorizations, and the reservations of some appointments."""

USAGE_OF_BATCH = sa.select(
    usage.c.line_key,
    usage.c.authorization_id,
    usage.c.session_id,
    usage.c.claim_id,
    usage.c.procedure_code,
    usage.c.service_date,
    usage.c.quantity,
    usage.c.released_at.is_(None).label("active"),
).where(
    sa.or_(
        usage.c.line_key == sa.any_(_among("line_keys")), usage.c.session_id == sa.any_(_among("session_ids"))
    )
)

SERVICE_LINES_OF_BATCH = sa.select(
    service_line.c.line_key,
    service_line.c.claim_id,
    service_line.c.session_id,
    service_line.c.patient_id,
    service_line.c.payer_id,
    service_line.c.service_date,
    service_line.c.voided,
    service_line.c.units,
).where(
    sa.or_(
        sa.and_(
            service_line.c.patient_id == sa.any_(_among("patient_ids")),
            service_line.c.service_date >= sa.bindparam("first_day", type_=sa.Date),
            service_line.c.service_date <= sa.bindparam("last_day", type_=sa.Date),
        ),
        service_line.c.line_key == sa.any_(_among("line_keys")),
    )
)
"""Lines billed to some patients in a span of days, and some lines by key: visit counting."""

VOIDED_OR_REPLACED_OF_BATCH = sa.union_all(
    sa.select(voided_claim.c.claim_id).where(voided_claim.c.claim_id == sa.any_(_among("claim_ids"))),
    sa.select(replaced_claim.c.claim_id).where(replaced_claim.c.claim_id == sa.any_(_among("claim_ids"))),
)
"""Which of some claims were voided or replaced (one statement for both tables)."""

RULES_OF_BATCH = sa.select(
    payer_rules.c.payer_id, payer_rules.c.auth_requirements, payer_rules.c.deleted
).where(payer_rules.c.payer_id == sa.any_(_among("payer_ids")))

UNCOVERED_OF_BATCH = sa.select(uncovered_line.c.line_key).where(
    uncovered_line.c.line_key == sa.any_(_among("line_keys"))
)

_LINE_FACTS = (
    service_line.c.line_key,
    service_line.c.claim_id,
    service_line.c.session_id,
    service_line.c.patient_id,
    service_line.c.payer_id,
    service_line.c.coverage_id,
    service_line.c.procedure_code,
    service_line.c.units,
    service_line.c.service_date,
    service_line.c.provider_id,
)

UNCOVERED_LINES_OF_PATIENT = (
    sa.select(*_LINE_FACTS)
    .join(uncovered_line, uncovered_line.c.line_key == service_line.c.line_key)
    .where(
        uncovered_line.c.patient_id == sa.bindparam("patient_id"),
        uncovered_line.c.quantity.is_(None),
        service_line.c.voided.is_(False),
    )
    .order_by(service_line.c.service_date, service_line.c.line_key)
)
"""A patient's billed lines left wholly uncovered, oldest first, with what burning them takes."""

PARTLY_COVERED_LINES_OF_PATIENT = (
    sa.select(
        *_LINE_FACTS,
        uncovered_line.c.quantity.label("excess"),
        usage.c.authorization_id.label("used_on"),
        usage.c.quantity.label("used"),
    )
    .join(uncovered_line, uncovered_line.c.line_key == service_line.c.line_key)
    .join(usage, usage.c.line_key == service_line.c.line_key)
    .where(
        uncovered_line.c.patient_id == sa.bindparam("patient_id"),
        uncovered_line.c.quantity.is_not(None),
        service_line.c.voided.is_(False),
        usage.c.released_at.is_(None),
    )
    .order_by(service_line.c.service_date, service_line.c.line_key)
)
"""A patient's billed lines covered in part (``excess``: the units beyond what covered them,
``used_on``/``used``: the authorization they use and how much), oldest first."""

DIAGNOSES_OF_AUTHORIZATION = (
    sa.select(service_line.c.diagnoses)
    .join(usage, usage.c.line_key == service_line.c.line_key)
    .where(
        usage.c.authorization_id == sa.bindparam("authorization_id"),
        usage.c.released_at.is_(None),
        service_line.c.voided.is_(False),
        sa.func.cardinality(service_line.c.diagnoses) > 0,
    )
    .order_by(service_line.c.service_date.desc(), usage.c.consumed_at.desc(), service_line.c.line_key.desc())
    .limit(1)
)
"""The diagnoses of the latest line an authorization's usage counts (none when no line billed under
it carries them): what the clinician last coded for the care the authorization covers."""


async def diagnoses_of(conn: AsyncConnection, authorization_id: str) -> list[str]:
    """The diagnoses of the latest billed line using the authorization, primary first (or [])."""
    found = await conn.scalar(DIAGNOSES_OF_AUTHORIZATION, {"authorization_id": authorization_id})
    return list(found or [])


CONTROL_NUMBERS_FROM = 900_000_001
"""The 278 requests number their interchanges from here up: the claims service's 837P and 276
files, sent under the same submitter (ISA06) to the same clearinghouse, number theirs from 1, and a
receiver rejects a repeated ISA13 from one sender as a duplicate interchange. The two ranges meet
only after 900 million claim interchanges."""

interchange_sequence = sa.Sequence(
    "interchange_control_seq", start=CONTROL_NUMBERS_FROM, minvalue=CONTROL_NUMBERS_FROM, maxvalue=999_999_999
)
"""ISA13 and GS06 of the 278 requests this service writes: persisted, so no two files share one,
and apart from the claims service's numbers (``CONTROL_NUMBERS_FROM``)."""


async def next_control_number(conn: AsyncConnection) -> int:
    """The next interchange control number (ISA13/GS06) from ``interchange_sequence``."""
    return int(await conn.scalar(sa.select(interchange_sequence.next_value())) or 0)


LINES_USING = (
    sa.select(*_LINE_FACTS, usage.c.quantity.label("used"))
    .join(service_line, service_line.c.line_key == usage.c.line_key)
    .where(usage.c.authorization_id == sa.bindparam("authorization_id"), usage.c.released_at.is_(None))
    .order_by(service_line.c.service_date, service_line.c.line_key)
)
"""The lines an authorization's usage still counts, with what burning them again takes."""

_line_upsert = insert(service_line)
UPSERT_SERVICE_LINE = _line_upsert.on_conflict_do_update(
    index_elements=[service_line.c.line_key],
    set_={
        "claim_id": _line_upsert.excluded.claim_id,
        "procedure_code": _line_upsert.excluded.procedure_code,
        "service_date": _line_upsert.excluded.service_date,
        "coverage_id": _line_upsert.excluded.coverage_id,
        "units": _line_upsert.excluded.units,
        "provider_id": _line_upsert.excluded.provider_id,
        "diagnoses": sa.func.coalesce(_line_upsert.excluded.diagnoses, service_line.c.diagnoses),
        "voided": sa.false(),
    },
)
"""A line billed (again): the claim now carrying it, its code, date, coverage, units, provider
and diagnoses (a line burned again from the ledger, which names none, keeps those on file); no
longer voided."""

INSERT_USAGE = insert(usage).on_conflict_do_nothing(index_elements=[usage.c.line_key])

_booking_upsert = insert(reservation)
UPSERT_RESERVATION = _booking_upsert.on_conflict_do_update(
    index_elements=[reservation.c.appointment_id],
    set_={
        "authorization_id": _booking_upsert.excluded.authorization_id,
        "service_date": _booking_upsert.excluded.service_date,
        "quantity": _booking_upsert.excluded.quantity,
        "reserved_at": _booking_upsert.excluded.reserved_at,
        "scheduled_at": _booking_upsert.excluded.scheduled_at,
        "released_at": None,
        "release_reason": None,
    },
    where=sa.and_(
        reservation.c.release_reason.is_distinct_from(BILLED),
        sa.or_(
            reservation.c.scheduled_at.is_(None),
            reservation.c.scheduled_at <= _booking_upsert.excluded.scheduled_at,
        ),
        sa.or_(
            reservation.c.cancelled_at.is_(None),
            reservation.c.cancelled_at < _booking_upsert.excluded.scheduled_at,
        ),
    ),
)
"""An appointment booked, moved (rescheduled under its id, on its new day and authorization)
or booked again by a schedule made after it was cancelled; a booking its visit was billed on,
and one whose schedule or cancellation is newer than the event's, stay as they are."""

_booked_that_day = (
    sa.select(reservation.c.appointment_id)
    .where(
        reservation.c.patient_id == sa.bindparam("patient_id"),
        reservation.c.service_date == sa.bindparam("day", type_=sa.Date),
        reservation.c.released_at.is_(None),
    )
    .order_by(
        sa.case((reservation.c.authorization_id == sa.bindparam("burned", type_=sa.Text), 0), else_=1),
        reservation.c.appointment_id,
    )
    .limit(1)
    .scalar_subquery()
)
BILL_BOOKING = (
    reservation.update()
    .where(reservation.c.appointment_id == _booked_that_day, reservation.c.released_at.is_(None))
    .values(released_at=sa.bindparam("at"), release_reason=BILLED)
    .returning(reservation.c.appointment_id, reservation.c.authorization_id, reservation.c.quantity)
)
"""Release the patient's booking of a day whose session is billed (the one on the
authorization burned first, if any)."""

EXPIRE_BOOKINGS = (
    reservation.update()
    .where(
        reservation.c.released_at.is_(None),
        reservation.c.service_date < sa.bindparam("before", type_=sa.Date),
    )
    .values(released_at=sa.bindparam("at"), release_reason=EXPIRED)
    .returning(
        reservation.c.appointment_id,
        reservation.c.authorization_id,
        reservation.c.patient_id,
        reservation.c.quantity,
    )
)
"""Release the open bookings of days before ``before`` (no claim came for them). Run daily by
the timer, like its look at every authorization; no index of its own (an index of open bookings
would draw the ledger's per-authorization sums away from theirs)."""

_billed_sessions = sa.func.count(sa.distinct(service_line.c.session_id))
_billed_bookings = (
    sa.select(sa.func.count())
    .where(
        reservation.c.patient_id == service_line.c.patient_id,
        reservation.c.service_date == service_line.c.service_date,
        reservation.c.release_reason == BILLED,
    )
    .scalar_subquery()
)
BILLED_DAYS_OF_BATCH = (
    sa.select(
        service_line.c.patient_id,
        service_line.c.service_date,
        (_billed_sessions - _billed_bookings).label("unbooked"),
    )
    .where(
        service_line.c.patient_id == sa.any_(_among("patient_ids")),
        service_line.c.service_date >= sa.bindparam("first_day", type_=sa.Date),
        service_line.c.service_date <= sa.bindparam("last_day", type_=sa.Date),
        service_line.c.voided.is_(False),
    )
    .group_by(service_line.c.patient_id, service_line.c.service_date)
)
"""Per (patient, day) of some patients in a span of days: the sessions billed that no booking
was released for (``unbooked``): a schedule of that day arriving now is for one of them."""

_billed_upsert = insert(reservation)
BILLED_ON_ARRIVAL = _billed_upsert.on_conflict_do_update(
    index_elements=[reservation.c.appointment_id],
    set_={
        "service_date": _billed_upsert.excluded.service_date,
        "scheduled_at": _billed_upsert.excluded.scheduled_at,
        "released_at": _billed_upsert.excluded.released_at,
        "release_reason": BILLED,
    },
    where=sa.and_(
        reservation.c.released_at.is_not(None), reservation.c.release_reason.is_distinct_from(BILLED)
    ),
)
"""A schedule received after its visit was billed: kept released as ``billed``, holding nothing,
so neither it nor a copy of it books later."""

_tombstone = insert(reservation)
CANCEL_UNBOOKED = _tombstone.on_conflict_do_update(
    index_elements=[reservation.c.appointment_id],
    set_={"cancelled_at": _tombstone.excluded.cancelled_at},
    where=sa.and_(
        reservation.c.released_at.is_not(None),
        sa.or_(
            reservation.c.cancelled_at.is_(None),
            reservation.c.cancelled_at < _tombstone.excluded.cancelled_at,
        ),
    ),
)
"""A cancellation that released no booking: remembered (a row holding nothing, or the released
row's ``cancelled_at`` moved later), so a schedule made before it and arriving after it books
nothing."""

RELEASE_RESERVATION = (
    reservation.update()
    .where(reservation.c.appointment_id == sa.bindparam("appointment"), reservation.c.released_at.is_(None))
    .values(released_at=sa.bindparam("at"), release_reason=sa.bindparam("reason"))
)

INSERT_ALERT = insert(alert).on_conflict_do_nothing().returning(alert.c.alert_id)

_uncovered_upsert = insert(uncovered_line)
UPSERT_UNCOVERED = (
    _uncovered_upsert.on_conflict_do_update(
        index_elements=[uncovered_line.c.line_key],
        set_={
            "claim_id": _uncovered_upsert.excluded.claim_id,
            "kind": _uncovered_upsert.excluded.kind,
            "authorization_id": _uncovered_upsert.excluded.authorization_id,
            "quantity": _uncovered_upsert.excluded.quantity,
            "recorded_at": _uncovered_upsert.excluded.recorded_at,
        },
        where=sa.tuple_(
            uncovered_line.c.kind, uncovered_line.c.authorization_id, uncovered_line.c.quantity
        ).is_distinct_from(
            sa.tuple_(
                _uncovered_upsert.excluded.kind,
                _uncovered_upsert.excluded.authorization_id,
                _uncovered_upsert.excluded.quantity,
            )
        ),
    )
).returning(uncovered_line.c.line_key)
"""Report a line uncovered: a row when it is new or says something else (another kind,
authorization or shortfall), nothing returned when it was reported so already."""

DELETE_UNCOVERED = sa.delete(uncovered_line).where(uncovered_line.c.line_key == sa.bindparam("key"))

DELETE_UNCOVERED_LINES = sa.delete(uncovered_line).where(uncovered_line.c.line_key == sa.any_(_among("keys")))
"""Lines billed no more (voided, or left out by a replacement) are no longer reported uncovered."""

INSERT_VOIDED_CLAIM = insert(voided_claim).on_conflict_do_nothing(index_elements=[voided_claim.c.claim_id])

INSERT_REPLACED_CLAIM = insert(replaced_claim).on_conflict_do_nothing(
    index_elements=[replaced_claim.c.claim_id]
)

_auth_upsert = insert(authorization)
UPSERT_AUTHORIZATION = _auth_upsert.on_conflict_do_update(
    index_elements=[authorization.c.authorization_id],
    set_={c.name: _auth_upsert.excluded[c.name] for c in authorization.c if c.name != "authorization_id"},
    where=authorization.c.received_at <= _auth_upsert.excluded.received_at,
).returning(*authorization.c)
"""Registers an authorization or amends it with a version received later; returns the row only
when it was written (an older version changes nothing)."""

_rules_upsert = insert(payer_rules)
UPSERT_PAYER_RULES = _rules_upsert.on_conflict_do_update(
    index_elements=[payer_rules.c.payer_id],
    set_={
        "auth_requirements": _rules_upsert.excluded.auth_requirements,
        "deleted": _rules_upsert.excluded.deleted,
        "updated_at": _rules_upsert.excluded.updated_at,
    },
    where=payer_rules.c.updated_at <= _rules_upsert.excluded.updated_at,
)
