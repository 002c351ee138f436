"""The session's service location and admission date, and the payer's SBR09 setting (837P 2310C,
DTP*435, SBR09): optional additions that round-trip and reject what the guide does not allow."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from rcm.events import models as m
from rcm.events.testing import payer_updated, session_completed, session_corrected, synthetic_npi

pytestmark = pytest.mark.unit

SCHOOL = {
    "name": "Synthetic Middle School",
    "address": {"line1": "12 Test Lane", "city": "Testville", "state": "NY", "postal_code": "100011234"},
}


def test_a_session_without_a_service_location_or_admission_is_still_valid() -> None:
    session = session_completed()
    assert session.service_location is None
    assert session.admission_date is None


def test_a_session_carries_its_service_location_and_admission_through_json() -> None:
    session = session_completed(
        service_location={**SCHOOL, "npi": synthetic_npi(77)},
        place_of_service="51",
        modality="in_person",
        admission_date=date(2025, 1, 2),
    )
    again = m.SessionCompleted.model_validate_json(session.model_dump_json())
    assert again == session
    assert again.service_location is not None
    assert again.service_location.address.postal_code == "100011234"
    assert again.admission_date == date(2025, 1, 2)


def test_a_corrected_session_carries_the_service_location_too() -> None:
    corrected = session_corrected(service_location=SCHOOL)
    assert corrected.service_location is not None
    assert corrected.service_location.name == "Synthetic Middle School"


def test_a_service_location_with_a_bad_npi_or_zip_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Luhn"):
        session_completed(service_location={**SCHOOL, "npi": "1234567890"})
    with pytest.raises(ValidationError):
        session_completed(
            service_location={**SCHOOL, "address": {**SCHOOL["address"], "postal_code": "1000"}}
        )


def test_a_payer_may_set_its_claim_filing_indicator_from_the_sbr09_list_only() -> None:
    assert payer_updated(rules={}).rules.claim_filing_indicator is None
    rules = payer_updated(payer_type="medicaid_mco", rules={"claim_filing_indicator": "MC"}).rules
    assert rules.claim_filing_indicator is m.ClaimFilingIndicator.MEDICAID
    with pytest.raises(ValidationError):
        payer_updated(rules={"claim_filing_indicator": "XX"})
