"""eligibility-checked says how far a check got and which place's benefits it read; a re-check may
say how the visit was delivered; a coverage may say its member id is the patient's own. All
additive: an older record reads as before. Every identifier is synthetic."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rcm.events import testing as f
from rcm.events.models import (
    CoverageUpdated,
    EligibilityChecked,
    EligibilityRecheckRequested,
    Modality,
    Verification,
)

pytestmark = pytest.mark.unit


def test_an_older_eligibility_checked_reads_with_nothing_said_of_the_new_facts() -> None:
    body = f.eligibility_checked().model_dump(
        mode="json",
        exclude={
            "verification",
            "rejected_fields",
            "attempt",
            "telehealth_visit",
            "benefits_place_of_service",
        },
    )
    older = EligibilityChecked.model_validate(body)
    assert (older.verification, older.rejected_fields, older.attempt) == (None, [], None)
    assert (older.telehealth_visit, older.benefits_place_of_service) == (None, None)


def test_a_check_unable_to_verify_or_with_data_to_correct_says_so() -> None:
    unable = f.eligibility_checked(status="error", verification="unable_to_verify", attempt=3)
    assert unable.verification is Verification.UNABLE_TO_VERIFY and unable.attempt == 3
    wrong = f.eligibility_checked(
        status="not_found", verification="invalid_request_data", rejected_fields=["member_id", "birth_date"]
    )
    assert wrong.rejected_fields == ["member_id", "birth_date"]


@pytest.mark.parametrize("value", ["SYN000001", "1990-01-02", "Member Id"])
def test_rejected_fields_are_field_names_never_the_member_s_data(value: str) -> None:
    with pytest.raises(ValidationError):
        f.eligibility_checked(rejected_fields=[value])


def test_the_telehealth_place_whose_benefits_were_used_is_a_place_of_service_code() -> None:
    checked = f.eligibility_checked(telehealth_visit=True, benefits_place_of_service="10")
    assert checked.benefits_place_of_service == "10"
    with pytest.raises(ValidationError):
        f.eligibility_checked(benefits_place_of_service="home")
    with pytest.raises(ValidationError):
        f.eligibility_checked(attempt=0)


def test_a_re_check_may_say_how_the_visit_was_delivered() -> None:
    older = EligibilityRecheckRequested.model_validate(
        f.eligibility_recheck_requested().model_dump(mode="json")
    )
    assert (older.modality, older.patient_at_home) == (None, None)
    video = f.eligibility_recheck_requested(modality="video", patient_at_home=True)
    assert (video.modality, video.patient_at_home) == (Modality.VIDEO, True)


def test_a_coverage_s_member_id_is_the_subscriber_s_unless_said_to_be_the_patient_s() -> None:
    body = f.coverage_updated().model_dump(mode="json", exclude={"member_id_is_patients"})
    assert CoverageUpdated.model_validate(body).member_id_is_patients is False
    own = f.coverage_updated(
        relationship="child",
        subscriber={"name": {"first": "PARENT", "last": "GUARDIAN"}},
        member_id_is_patients=True,
    )
    assert own.member_id_is_patients is True
