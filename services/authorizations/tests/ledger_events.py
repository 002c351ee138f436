"""The events the ledger's rule tests send: one patient, one payer, March 2025."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from rcm.authorizations import store
from rcm.events.models import (
    AppointmentCancelled,
    AppointmentScheduled,
    AuthorizationReceived,
    ClaimCreated,
    PayerUpdated,
)
from rcm.events.testing import (
    appointment_cancelled,
    appointment_scheduled,
    authorization_received,
    claim_created,
    payer_updated,
)

DOS = date(2025, 3, 10)
RECEIVED = datetime(2025, 1, 1, tzinfo=UTC)


def requires(*codes: str) -> PayerUpdated:
    """The payer authorizes these codes from the first visit."""
    rules = {"auth_requirements": [{"procedure_code": c, "after_visits": 0} for c in codes]}
    return payer_updated(1, payer_id="payer-0001", rules=rules, updated_at=RECEIVED)


def an_authorization(auth_id: str = "auth-0001", **overrides: Any) -> AuthorizationReceived:
    """Ten visits of any therapy code, January to June 2025."""
    fields: dict[str, Any] = {
        "authorization_id": auth_id,
        "auth_number": f"N-{auth_id}",
        "authorized": 10,
        "valid": {"start": date(2025, 1, 1), "end": date(2025, 6, 30)},
        "procedure_codes": ["90834", "90837"],
        "patient_id": "pat-0001",
        "coverage_id": "cov-0001",
        "payer_id": "payer-0001",
        "received_at": RECEIVED,
    }
    return authorization_received(1, **(fields | overrides))


def a_claim(
    n: int,
    *,
    code: str = "90837",
    units: int = 1,
    day: date = DOS,
    session: str | None = None,
    **overrides: Any,
) -> ClaimCreated:
    """Claim ``clm-n`` of one line for session ``ses-n`` (or ``session``)."""
    session_id = session or f"ses-{n:04d}"
    line = {
        "line_key": f"{session_id}:1",
        "session_id": session_id,
        "service_date": day,
        "procedure_code": code,
        "units": units,
        "place_of_service": "11",
        "charge": "100.00",
        "diagnosis_pointers": [1],
        "rule": "psychotherapy.duration_band",
    }
    fields: dict[str, Any] = {
        "claim_id": f"clm-{n:04d}",
        "patient_id": "pat-0001",
        "coverage_id": "cov-0001",
        "payer_id": "payer-0001",
        "rendering_provider_id": "prov-0001",
        "lines": [line],
        "total_charge": Decimal("100.00"),
    }
    return claim_created(1, **(fields | overrides))


def an_appointment(appointment_id: str, day: date, **overrides: Any) -> AppointmentScheduled:
    start = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    fields: dict[str, Any] = {
        "appointment_id": appointment_id,
        "patient_id": "pat-0001",
        "provider_id": "prov-0001",
        "start": start,
        "end": start + timedelta(hours=1),
        "expected_procedure_codes": [],
    }
    return appointment_scheduled(1, **(fields | overrides))


def cancelled(appointment_id: str) -> AppointmentCancelled:
    return appointment_cancelled(1, appointment_id=appointment_id, patient_id="pat-0001")


def usage_of(line_key: str) -> sa.Select[Any]:
    """The line's usage row: authorization, claim, quantity, released or not."""
    return sa.select(
        store.usage.c.authorization_id,
        store.usage.c.claim_id,
        store.usage.c.quantity,
        store.usage.c.released_at.is_(None).label("counted"),
    ).where(store.usage.c.line_key == line_key)


def uncovered() -> sa.Select[Any]:
    """Lines reported uncovered: key, kind, authorization, shortfall (in key order)."""
    return sa.select(
        store.uncovered_line.c.line_key,
        store.uncovered_line.c.kind,
        store.uncovered_line.c.authorization_id,
        store.uncovered_line.c.quantity,
    ).order_by(store.uncovered_line.c.line_key)
