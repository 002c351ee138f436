"""278: a renewal request built from an authorization, authorizations read from a response."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rcm.authorizations.domain import Authorization, AuthorizationUnit
from rcm.authorizations.review_278 import (
    Parties,
    RenewalAsk,
    authorizations_from_response,
    renewal_request_x12,
)
from rcm.events.models import AuthorizationUnit as Unit
from rcm.x12.convert import read_interchange
from rcm.x12.findings import Severity
from rcm.x12.models.auth_278 import ServiceReviewRequest278, ServiceReviewResponse278
from rcm.x12.validate import validate

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).parents[3] / "libs" / "x12" / "tests" / "data" / "278"

PARTIES = Parties(
    payer_name="SYNTHETIC BEHAVIORAL HEALTH",
    payer_identifier="SYNBH1",
    requester_name="TEST PRACTICE",
    requester_npi="1000000004",
    requester_tin="123456789",
    subscriber_last_name="PATIENT",
    subscriber_first_name="TEST",
    member_id="SYN000001",
)
AUTH = Authorization(
    authorization_id="auth-0001",
    patient_id="pat-0001",
    payer_id="payer-0001",
    coverage_id="cov-0001",
    auth_number="SYNAUTH000001",
    unit=AuthorizationUnit.VISITS,
    authorized=12,
    start=date(2025, 1, 1),
    end=date(2025, 6, 30),
    procedure_codes=frozenset({"90834", "90837"}),
    used=11,
)


def test_an_extension_request_is_valid_x12_and_names_the_authorization() -> None:
    x12 = renewal_request_x12(
        AUTH,
        parties=PARTIES,
        ask=RenewalAsk(quantity=8, through=date(2025, 9, 30), diagnoses=("F41.1",)),
        sender_id="SUBMITTER",
        receiver_id="SYNBH1",
        control_number=17,
        created=datetime(2025, 6, 10, 9, 30, tzinfo=UTC),
    )
    errors = [f for f in validate(x12) if f.severity is Severity.ERROR]
    assert errors == []
    interchange, _ = read_interchange(x12)
    [request] = interchange.groups[0].transactions
    assert isinstance(request, ServiceReviewRequest278)
    event, *services = request.reviews()
    assert event.review is not None and event.review.certification_type == "4"
    assert [(r.qualifier, r.value) for r in event.references] == [("BB", "SYNAUTH000001")]
    assert [(d.qualifier, d.start, d.end) for d in event.dates] == [
        ("AAH", date(2025, 1, 1), date(2025, 9, 30))
    ]
    assert b"HSD*VS*8~" in x12
    assert sorted(s.professional_service.procedure.code for s in services if s.professional_service) == [
        "90834",
        "90837",
    ]


def test_a_certified_response_registers_an_authorization() -> None:
    data = (SAMPLES / "kputnam-stupidedi__X217_pass_referral-response-to-request-for-review.edi").read_bytes()
    interchange, _ = read_interchange(data)
    [response] = interchange.groups[0].transactions
    assert isinstance(response, ServiceReviewResponse278)
    received = datetime(2025, 5, 2, 12, 0, tzinfo=UTC)
    [auth] = authorizations_from_response(
        response, patient_id="pat-0001", coverage_id="cov-0001", payer_id="payer-0001", received_at=received
    )
    assert (auth.auth_number, auth.authorization_id) == ("AUTH0001", "auth-278-AUTH0001")
    assert (auth.valid.start, auth.valid.end) == (date(2005, 5, 2), date(2005, 6, 2))
    assert (auth.unit, auth.authorized, auth.procedure_codes) == (Unit.VISITS, 1, [])
