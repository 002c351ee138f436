"""A payer's cancellation of an authorization (278 HCR01 C): it covers no service from that day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from rcm.authorizations import store
from rcm.authorizations.domain import Authorization, AuthorizationUnit
from rcm.authorizations.handlers import last_day
from rcm.authorizations.review_278 import cancellations_from_response, cancelled
from rcm.events.models import AlertKind
from rcm.events.testing import payer_updated

from .conftest import RunningLedger
from .test_review_278_decisions import _event, _response
from .test_service import TODAY, a_claim, an_authorization

RECEIVED = datetime(2025, 4, 2, 9, tzinfo=UTC)


def _granted(**overrides: object) -> Authorization:
    values: dict[str, object] = {
        "authorization_id": "auth-278-SYNAUTH200",
        "patient_id": "pat-0001",
        "payer_id": "payer-0001",
        "coverage_id": "cov-0001",
        "auth_number": "SYNAUTH200",
        "unit": AuthorizationUnit.VISITS,
        "authorized": 12,
        "start": date(2025, 3, 1),
        "end": date(2025, 8, 31),
        "procedure_codes": frozenset({"90837"}),
        "used": 3,
    }
    return Authorization(**(values | overrides))  # type: ignore[arg-type]


@pytest.mark.unit
def test_a_cancelled_review_names_its_number_and_the_response_date() -> None:
    response = _response(*_event("HCR*C*SYNAUTH200", "DTP*AAH*RD8*20250301-20250831", children=False))
    assert cancellations_from_response(response) == {"SYNAUTH200": date(2025, 3, 1)}
    # a certified review cancels nothing
    certified = _response(
        *_event("HCR*A1*SYNAUTH201", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*12", children=False)
    )
    assert cancellations_from_response(certified) == {}


@pytest.mark.unit
def test_the_cancelled_authorization_keeps_its_grant_and_ends_the_day_before() -> None:
    event = cancelled(_granted(), on=date(2025, 4, 2), received_at=RECEIVED)
    assert (event.authorization_id, event.auth_number, event.authorized) == (
        "auth-278-SYNAUTH200",
        "SYNAUTH200",
        12,
    )
    assert event.procedure_codes == ["90837"] and event.cancelled_on == date(2025, 4, 2)
    assert last_day(event) == date(2025, 4, 1)
    # an open-ended one ends the day before too; cancelled before it began, it covers no day
    assert last_day(cancelled(_granted(end=None), on=date(2025, 4, 2), received_at=RECEIVED)) == date(
        2025, 4, 1
    )
    early = cancelled(_granted(), on=date(2025, 3, 1), received_at=RECEIVED)
    assert last_day(early) == date(2025, 2, 28) < early.valid.start
    # a cancellation after the window changes nothing
    assert last_day(cancelled(_granted(), on=date(2025, 12, 1), received_at=RECEIVED)) == date(2025, 8, 31)


async def test_a_session_after_the_cancellation_is_not_covered_and_raises_a_missing_alert(
    ledger_service: RunningLedger,
) -> None:
    rules = {"auth_requirements": [{"procedure_code": "90837", "after_visits": 0}]}
    await ledger_service.send(payer_updated(1, rules=rules))
    await ledger_service.until(sa.select(sa.func.count()).select_from(store.payer_rules), 1)
    window = {"start": TODAY - timedelta(days=60), "end": TODAY + timedelta(days=120)}
    cancel_on = TODAY - timedelta(days=10)
    await ledger_service.send(an_authorization(12, valid=window, cancelled_on=cancel_on))
    ended = sa.select(store.authorization.c.valid_end).where(
        store.authorization.c.authorization_id == "auth-0001"
    )
    await ledger_service.until(ended, cancel_on - timedelta(days=1))
    # a session before the cancellation burns a visit; one after it is not covered
    await ledger_service.send(
        a_claim(1, day=cancel_on - timedelta(days=2)), a_claim(2, day=TODAY - timedelta(days=3))
    )
    [consumed] = await ledger_service.received("authorization-consumed", expect=1)
    assert consumed.session_id == "ses-0001"
    alerts = await ledger_service.received("authorization-alert", expect=2)
    # the session is uncovered, and the authorization has ended for the practice's alerts
    assert sorted((a.kind, a.session_id) for a in alerts) == [
        (AlertKind.EXPIRED, None),
        (AlertKind.MISSING, "ses-0002"),
    ]
