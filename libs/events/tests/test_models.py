"""Event models: every example is valid, documented, and each rule rejects what it should."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from rcm.events import models as m
from rcm.events.catalog import CATALOG
from rcm.events.testing import (
    claim_created,
    coverage_updated,
    examples,
    factories,
    fee_schedule_updated,
    patient_updated,
    payer_updated,
    session_completed,
    synthetic_npi,
)

pytestmark = pytest.mark.unit

EXAMPLES = examples()


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for arg in _flatten(field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _models(arg, seen)


def _flatten(annotation: Any) -> list[Any]:
    found = [annotation]
    for arg in getattr(annotation, "__args__", ()):
        found += _flatten(arg)
    return found


def test_there_is_an_example_of_every_catalogued_event() -> None:
    assert set(EXAMPLES) == {spec.name for spec in CATALOG}
    for spec in CATALOG:
        assert isinstance(EXAMPLES[spec.name], spec.model)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_round_trips_through_json(name: str) -> None:
    event = EXAMPLES[name]
    again = type(event).model_validate_json(event.model_dump_json())
    assert again == event


def test_every_field_of_every_model_is_documented() -> None:
    seen: set[type[BaseModel]] = set()
    for spec in CATALOG:
        _models(spec.model, seen)
    undocumented = [
        f"{model.__name__}.{name}"
        for model in seen
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert undocumented == []
    assert len(seen) > 40


def test_unknown_fields_are_ignored_so_producers_can_add_fields() -> None:
    body = json.loads(EXAMPLES["session-completed"].model_dump_json())
    body["a_field_from_the_future"] = {"anything": 1}
    body["patient_location"]["county"] = "Synthetic"
    session = m.SessionCompleted.model_validate(body)
    assert session == EXAMPLES["session-completed"]


def test_events_are_immutable() -> None:
    session = session_completed()
    with pytest.raises(ValidationError):
        session.patient_id = "pat-9999"  # type: ignore[misc]


def test_factories_make_distinct_repeatable_synthetic_records() -> None:
    assert patient_updated(7) == patient_updated(7)
    assert patient_updated(7).patient_id != patient_updated(8).patient_id
    patient = patient_updated(1)
    assert (patient.name.first, patient.name.last) == ("Test", "Patient 0001")
    assert coverage_updated(1).member_id == "SYN000001"
    assert factories["provider-updated"](3).npi == synthetic_npi(3)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ sessions


def test_a_session_that_ends_before_it_starts_is_rejected() -> None:
    good = session_completed()
    with pytest.raises(ValidationError, match="ends after it starts"):
        session_completed(end=good.start - timedelta(minutes=1))


def test_a_session_with_naive_times_is_rejected() -> None:
    with pytest.raises(ValidationError):
        session_completed(start=session_completed().start.replace(tzinfo=None))


def test_session_length_is_counted_in_minutes() -> None:
    assert session_completed(minutes=53).minutes == 53


def test_psychotherapy_minutes_cannot_exceed_the_session() -> None:
    with pytest.raises(ValidationError, match="exceed"):
        session_completed(minutes=30, psychotherapy_minutes=31)
    assert session_completed(minutes=40, psychotherapy_minutes=25).psychotherapy_minutes == 25


def test_em_with_psychotherapy_needs_its_em_code_and_only_then() -> None:
    with pytest.raises(ValidationError, match="em_code"):
        session_completed(service_kind="em_with_psychotherapy")
    with pytest.raises(ValidationError, match="em_code"):
        session_completed(em_code="99214")
    session = session_completed(
        service_kind="em_with_psychotherapy", em_code="99214", psychotherapy_minutes=30
    )
    assert session.em_code == "99214"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("hcpcs_service", "H0004"),
        ("testing", "96136"),
        ("health_behavior", "96158"),
        ("other_psychiatric", "90880"),
    ],
)
def test_a_session_whose_kind_does_not_tell_its_code_names_it(kind: str, code: str) -> None:
    # a testing session without its code could only be dead-lettered by the claims service
    with pytest.raises(ValidationError, match="service_code"):
        session_completed(service_kind=kind)
    assert session_completed(service_kind=kind, service_code=code.lower()).service_code == code


def test_a_multiple_family_group_is_a_kind_of_session() -> None:
    assert (
        session_completed(service_kind="multiple_family_group").service_kind.value == "multiple_family_group"
    )


@pytest.mark.parametrize("kind", ["sbirt", "tobacco_cessation", "biofeedback_psychotherapy"])
def test_a_timed_service_is_a_kind_of_its_own_whose_minutes_choose_its_code(kind: str) -> None:
    # SBIRT 99408/99409 (Medicare G2011/G0396/G0397), tobacco 99406/99407, biofeedback 90875/90876:
    # the session reports how long it lasted, not the code
    session = session_completed(service_kind=kind, minutes=20)
    assert (session.service_kind.value, session.minutes, session.service_code) == (kind, 20, None)


def test_a_care_management_month_names_its_program_and_only_it_does() -> None:
    # the month's tally: end - start is the month's total minutes, coded by program
    with pytest.raises(ValidationError, match="care_management_program"):
        session_completed(service_kind="care_management", minutes=40)
    with pytest.raises(ValidationError, match="care_management_program"):
        session_completed(care_management_program="general_bhi")
    bhi = session_completed(service_kind="care_management", care_management_program="general_bhi", minutes=25)
    assert (bhi.care_management_program, bhi.minutes, bhi.initial_month) == (
        m.CareManagementProgram.GENERAL_BHI,
        25,
        None,
    )


def test_a_collaborative_care_month_says_whether_it_is_the_first_of_the_episode() -> None:
    cocm = {"service_kind": "care_management", "care_management_program": "collaborative_care"}
    with pytest.raises(ValidationError, match="initial_month"):
        session_completed(**cocm, minutes=90)
    with pytest.raises(ValidationError, match="initial_month"):
        session_completed(initial_month=True)  # not a care-management session
    assert session_completed(**cocm, initial_month=True, minutes=90).initial_month is True
    assert session_completed(**cocm, initial_month=False, minutes=40).initial_month is False


def test_sessions_without_the_care_management_fields_read_as_before() -> None:
    body = json.loads(
        session_completed().model_dump_json(exclude={"care_management_program", "initial_month"})
    )
    assert m.SessionCompleted.model_validate(body).care_management_program is None


def test_a_signed_note_has_a_signing_time_and_an_unsigned_one_has_none() -> None:
    with pytest.raises(ValidationError, match="note_signed_at"):
        session_completed(note_signed=False)
    assert not session_completed(note_signed=False, note_signed_at=None).note_signed


def test_a_session_needs_at_least_one_and_at_most_twelve_diagnoses() -> None:
    with pytest.raises(ValidationError):
        session_completed(diagnoses=[])
    with pytest.raises(ValidationError):
        session_completed(diagnoses=["F411"] * 13)


def test_a_distinct_service_flag_carries_its_reason() -> None:
    session = session_completed(distinct_service={"reason": "separate_encounter", "note": "second visit"})
    assert session.distinct_service is not None
    assert session.distinct_service.reason is m.DistinctServiceReason.SEPARATE_ENCOUNTER


# ------------------------------------------------------------------ reference data


def test_a_provider_with_a_bad_npi_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Luhn"):
        factories["provider-updated"](1, npi="1234567890")


def test_a_dependent_coverage_names_its_subscriber() -> None:
    with pytest.raises(ValidationError, match="subscriber"):
        coverage_updated(relationship="child")
    coverage = coverage_updated(
        relationship="child", subscriber={"name": {"first": "Test", "last": "Subscriber 0001"}}
    )
    assert coverage.subscriber is not None


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValidationError, match="period end"):
        coverage_updated(effective={"start": date(2025, 2, 1), "end": date(2025, 1, 31)})
    period = m.Period(start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert period.contains(date(2025, 1, 31))
    assert not period.contains(date(2025, 2, 1))


def test_payer_rules_default_to_the_documented_conventions() -> None:
    rules = payer_updated(rules={}).rules
    assert (rules.telehealth.pos_patient_home, rules.telehealth.pos_patient_not_home) == ("10", "02")
    assert rules.telehealth.video_modifiers == []
    assert rules.telehealth.audio_only_modifiers == ["93"]
    assert rules.timely_filing_days == 365
    assert rules.prolonged_psychotherapy_as_two_units is False
    assert rules.corrected_claim_method is m.CorrectedClaimMethod.REPLACEMENT
    assert rules.unit_rounding.method is m.UnitRounding.MIDPOINT
    assert rules.unit_rounding.minutes_per_unit == 15
    assert {req.procedure_code for req in rules.auth_requirements} >= {"96130", "96136"}
    assert rules.supervising_provider is m.SupervisingProviderPolicy.WHEN_SUPERVISED


def test_licensure_modifier_rules_are_data() -> None:
    payer = payer_updated(
        rules={"licensure_modifiers": [{"credential": "LCSW", "state": "NY", "modifiers": ["AJ"]}]}
    )
    rule = payer.rules.licensure_modifiers[0]
    assert (rule.credential, rule.state, rule.modifiers, rule.procedure_codes) == (
        m.Credential.LCSW,
        "NY",
        ["AJ"],
        [],
    )


def test_a_payer_contract_names_its_payer_and_a_charge_master_none() -> None:
    with pytest.raises(ValidationError, match="payer contract"):
        fee_schedule_updated(payer_id=None)
    with pytest.raises(ValidationError, match="payer contract"):
        fee_schedule_updated(kind="charge_master")
    assert fee_schedule_updated(kind="charge_master", payer_id=None).payer_id is None


# ------------------------------------------------------------------ claims and money


def test_claim_total_is_the_sum_of_its_lines() -> None:
    with pytest.raises(ValidationError, match="total_charge"):
        claim_created(total_charge="171.00")


def test_claim_lines_point_only_at_diagnoses_the_claim_has() -> None:
    line = json.loads(claim_created().lines[0].model_dump_json())
    with pytest.raises(ValidationError, match="points at a diagnosis"):
        claim_created(lines=[{**line, "diagnosis_pointers": [3]}])


def test_a_replacement_claim_carries_the_payer_claim_number() -> None:
    with pytest.raises(ValidationError, match="payer claim number"):
        claim_created(frequency_code="7")
    assert (
        claim_created(frequency_code="7", payer_claim_number="PCN1").frequency_code
        is m.FrequencyCode.REPLACEMENT
    )


def test_a_claim_holds_every_reason_not_only_the_first() -> None:
    held = EXAMPLES["claim-held"]
    assert isinstance(held, m.ClaimHeld)
    assert [reason.code for reason in held.reasons] == [
        m.HoldReasonCode.AUTHORIZATION_MISSING,
        m.HoldReasonCode.NOTE_UNSIGNED,
    ]


def test_a_remit_keeps_every_adjustment_with_group_reason_and_amount() -> None:
    remit = EXAMPLES["remit-received"]
    assert isinstance(remit, m.RemitReceived)
    line = remit.lines[0]
    assert [(a.group, a.carc, a.amount) for a in line.adjustments] == [
        (m.AdjustmentGroup.CONTRACTUAL_OBLIGATION, "45", Decimal("35.00")),
        (m.AdjustmentGroup.PATIENT_RESPONSIBILITY, "3", Decimal("25.00")),
    ]
    assert line.paid + sum(a.amount for a in line.adjustments) == line.charge


@pytest.mark.parametrize("carc", sorted(m.CONTRACTUAL_CARCS))
def test_a_contractual_reason_under_co_is_a_write_off_and_a_valid_carc(carc: str) -> None:
    adjustment = m.Adjustment(
        group=m.AdjustmentGroup.CONTRACTUAL_OBLIGATION, carc=carc, amount=Decimal("2.20")
    )
    assert m.written_off_by_contract(adjustment.group, adjustment.carc)
    assert m.written_off_by_contract("CO", carc.lower())


@pytest.mark.parametrize(
    ("group", "carc"),
    [("CO", "197"), ("CO", "50"), ("CO", "96"), ("PI", "197"), ("PR", "45"), ("OA", "45")],
)
def test_a_denial_reason_or_another_group_is_no_contractual_write_off(group: str, carc: str) -> None:
    assert not m.written_off_by_contract(group, carc)


@pytest.mark.parametrize(
    ("group", "carc"), [("PI", "45"), ("CO", "41"), ("CO", "42"), ("CO", "A2"), ("PI", "a2")]
)
def test_pi_reads_as_co_and_a_deactivated_contractual_reason_as_45(group: str, carc: str) -> None:
    # the denials playbook reads PI as CO and 41/42/A2 as 45, opening no denial: nothing would
    # ever close them if they were left open as denied
    assert m.written_off_by_contract(group, carc)


def test_a_posting_tells_its_contractual_amount_from_its_denied_amount() -> None:
    contractual = m.PaymentPosted.model_fields["contractual_adjustment"].description or ""
    assert contractual != "Total CO adjustments." and "CONTRACTUAL_CARCS" in contractual
    assert "denied" in contractual
    posting = m.PaymentPosted.model_validate(
        {**EXAMPLES["payment-posted"].model_dump(mode="json"), "denied": "150.00", "written_off": "-150.00"}
    )
    assert (posting.denied, posting.written_off) == (Decimal("150.00"), Decimal("-150.00"))


def test_a_posting_from_an_older_publisher_has_no_denied_or_written_off_amount() -> None:
    body = EXAMPLES["payment-posted"].model_dump(mode="json", exclude={"denied", "written_off"})
    assert "denied" not in body and "written_off" not in body
    posting = m.PaymentPosted.model_validate(body)
    assert (posting.denied, posting.written_off) == (None, None)


def test_the_remittance_service_reads_the_write_offs_of_denials() -> None:
    (spec,) = [s for s in CATALOG if s.model is m.ClaimWriteOffRequested]
    assert set(spec.consumers) == {"claims", "remittance"}


def test_a_balance_change_is_the_difference_of_the_balances() -> None:
    with pytest.raises(ValidationError, match="previous_balance"):
        factories["patient-balance-changed"](1, change="20.00")


def test_only_a_missing_authorization_alert_may_omit_the_authorization() -> None:
    with pytest.raises(ValidationError, match="missing"):
        factories["authorization-alert"](1, authorization_id=None)
    alert = factories["authorization-alert"](1, kind="missing", authorization_id=None)
    assert isinstance(alert, m.AuthorizationAlert)


def test_denial_stats_cannot_deny_more_claims_than_were_adjudicated() -> None:
    with pytest.raises(ValidationError, match="more claims denied"):
        factories["denial-stats-updated"](1, claims_denied=300)


def test_a_filing_window_in_calendar_months_counts_a_leap_day_and_clamps_to_the_month_end() -> None:
    # one calendar year (Medicare) across 29 February 2024 is 366 days; 365 days closes a day early
    assert m.filing_window_end(date(2023, 3, 15), days=365, months=12) == date(2024, 3, 15)
    assert m.filing_window_end(date(2023, 3, 15), days=365) == date(2024, 3, 14)
    assert m.filing_window_end(date(2024, 2, 29), days=365, months=12) == date(2025, 2, 28)
    assert m.filing_window_end(date(2025, 1, 31), days=30, months=1) == date(2025, 2, 28)
    assert m.filing_window_end(date(2025, 11, 30), days=90, months=3) == date(2026, 2, 28)
    assert m.filing_window_end(date(2025, 6, 1), days=90, months=18) == date(2026, 12, 1)
