"""Coding beyond the code table: the rule text, notes, pointers, charges, and properties over all minutes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcm.claims.domain.coding import CodedSession, NotBillable, code_session
from rcm.claims.domain.coding.psychotherapy import PSYCHOTHERAPY_BANDS, psychotherapy_code
from rcm.claims.domain.coding.result import NotBillableReason
from rcm.claims.domain.coding.timed_families import CRISIS
from rcm.claims.domain.common import Credential, Program
from rcm.claims.domain.fee_schedule import FeeSchedule, FeeScheduleRate
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.payer_rules import LicensureModifierRule, PayerRules, UnitRoundingRule
from rcm.claims.domain.session import Session

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 4)


def make_session(**overrides: Any) -> Session:
    fields: dict[str, Any] = {
        "session_id": "ses_detail",
        "patient_id": "pat_detail",
        "rendering_provider_id": "prv_detail",
        "date_of_service": DOS,
        "minutes": 50,
        "service_kind": "individual",
        "patient_location": {"state": "NY"},
        "diagnoses": ["F41.1"],
    }
    fields.update(overrides)
    return Session.model_validate(fields)


def coded(session: Session, **options: Any) -> CodedSession:
    result = code_session(session, credential=options.pop("credential", Credential.LCSW), **options)
    assert isinstance(result, CodedSession), result
    return result


def test_each_line_says_which_rule_chose_it() -> None:
    result = coded(make_session(minutes=53))
    assert result.lines[0].rule.startswith("psychotherapy 53+ min -> 90837 (CPT midpoint rule")
    assert "53 min documented" in result.lines[0].rule


def test_the_crisis_add_on_rule_states_the_increment() -> None:
    result = coded(make_session(service_kind="crisis", minutes=105))
    assert "one per 30 min past 60" in result.lines[1].rule
    assert CRISIS.first_add_on_at() == 75


def test_dropped_interactive_complexity_is_noted_for_the_biller() -> None:
    result = coded(make_session(service_kind="crisis", minutes=45, interactive_complexity=True))
    assert [line.code for line in result.lines] == ["90839"]
    assert any("+90785 is not billable with 90839" in note for note in result.notes)


def test_capped_units_are_noted() -> None:
    rules = PayerRules(unit_rounding=UnitRoundingRule(daily_unit_caps={"H2019": 4}))
    result = coded(make_session(service_kind="hcpcs_service", service_code="H2019", minutes=120), rules=rules)
    assert result.lines[0].units == 4
    assert any("capped" in note for note in result.notes)


def test_group_coded_after_an_individual_session_notes_the_modifier_the_individual_now_needs() -> None:
    earlier = BilledService(
        claim_key="INDIVIDUALKEY0001",
        patient_id="pat_detail",
        rendering_provider_id="prv_detail",
        date_of_service=DOS,
        code="90837",
    )
    result = coded(make_session(service_kind="group", minutes=60), same_day=(earlier,))
    assert any("INDIVIDUALKEY0001" in note and "corrected claim" in note for note in result.notes)
    # another clinician's session is not in the pair (NCCI edits are one provider's): no correction
    colleague = earlier.model_copy(update={"rendering_provider_id": "prv_colleague"})
    result = coded(make_session(service_kind="group", minutes=60), same_day=(colleague,))
    assert not any("corrected claim" in note for note in result.notes)


def test_voided_or_other_patients_services_do_not_count_as_same_day() -> None:
    intake = {"service_kind": "intake", "minutes": 60}
    voided = BilledService(
        claim_key="K",
        patient_id="pat_detail",
        rendering_provider_id="x",
        date_of_service=DOS,
        code="90791",
        voided=True,
    )
    someone_else = voided.model_copy(update={"voided": False, "patient_id": "pat_other"})
    assert coded(make_session(**intake), same_day=(voided, someone_else)).lines[0].code == "90791"


def test_lines_point_to_at_most_four_diagnoses_primary_first() -> None:
    result = coded(make_session(diagnoses=["F41.1", "F33.1", "F43.10", "Z63.0", "F90.2"]))
    assert result.lines[0].diagnosis_pointers == (1, 2, 3, 4)
    assert result.diagnoses == ("F411", "F331", "F4310", "Z630", "F902")


def test_health_behavior_lines_point_to_the_physical_condition_first() -> None:
    session = make_session(
        service_kind="health_behavior", service_code="96158", minutes=30, diagnoses=["F43.23", "E11.9"]
    )
    assert coded(session).lines[0].diagnosis_pointers == (2, 1)


def test_charges_come_from_the_most_specific_rate_times_units() -> None:
    fees = FeeSchedule(
        rates=(
            FeeScheduleRate(procedure_code="H0004", amount=Decimal("30.00")),
            FeeScheduleRate(procedure_code="H0004", modifiers=("HF",), amount=Decimal("25.50")),
        )
    )
    plain = coded(
        make_session(service_kind="hcpcs_service", service_code="H0004", minutes=60), fee_schedule=fees
    )
    assert plain.lines[0].charge == Decimal("120.00")
    program = make_session(
        service_kind="hcpcs_service", service_code="H0004", minutes=60, program="substance_use"
    )
    rules = PayerRules(
        licensure_modifiers=(LicensureModifierRule(program=Program.SUBSTANCE_USE, modifiers=("HF",)),)
    )
    assert coded(program, fee_schedule=fees, rules=rules).lines[0].charge == Decimal("102.00")


def test_a_code_missing_from_the_fee_schedule_has_no_charge() -> None:
    assert coded(make_session(), fee_schedule=FeeSchedule()).lines[0].charge is None


def test_session_validation_rejects_inconsistent_facts() -> None:
    with pytest.raises(ValueError, match="psychotherapy minutes"):
        make_session(minutes=30, psychotherapy_minutes=40)
    with pytest.raises(ValueError, match="em_code"):
        make_session(service_kind="em_with_psychotherapy")
    with pytest.raises(ValueError, match="service_code"):
        make_session(service_kind="hcpcs_service")


# ---------------------------------------------------------------- properties over all minutes

_RANK = {band.code: rank for rank, band in enumerate(PSYCHOTHERAPY_BANDS, start=1)}


@given(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=300))
def test_the_psychotherapy_code_is_monotonic_in_time(shorter: int, longer: int) -> None:
    shorter, longer = sorted((shorter, longer))
    rank_short = _RANK.get(psychotherapy_code(shorter) or "", 0)
    rank_long = _RANK.get(psychotherapy_code(longer) or "", 0)
    assert rank_short <= rank_long


@given(st.integers(min_value=0, max_value=300))
def test_any_length_codes_exactly_one_psychotherapy_line_or_is_not_billable(minutes: int) -> None:
    result = code_session(make_session(minutes=minutes), credential=Credential.LCSW)
    if minutes < 16:
        assert isinstance(result, NotBillable)
        return
    assert isinstance(result, CodedSession)
    assert len(result.lines) == 1
    assert result.lines[0].code == psychotherapy_code(minutes)
    assert result.lines[0].units == 1
    assert sum(band.contains(minutes) for band in PSYCHOTHERAPY_BANDS) == 1


@given(st.integers(min_value=30, max_value=600))
def test_crisis_add_on_units_never_decrease_and_grow_by_one_per_30_minutes(minutes: int) -> None:
    assert (
        CRISIS.add_on_units(minutes) <= CRISIS.add_on_units(minutes + 1) <= CRISIS.add_on_units(minutes) + 1
    )
    assert CRISIS.add_on_units(minutes + 30) == CRISIS.add_on_units(minutes) + 1 or minutes < 45


def test_a_diagnosis_listed_twice_is_reported_once_and_pointed_to_once() -> None:
    result = coded(make_session(diagnoses=["F41.1", "F33.1", "F41.1"]))
    assert result.diagnoses == ("F411", "F331")
    assert result.lines[0].diagnosis_pointers == (1, 2)
    assert any("listed twice" in note for note in result.notes)


def test_the_second_crisis_session_of_the_day_says_how_to_correct_the_first_claim() -> None:
    earlier = BilledService(
        claim_key="CRISISKEY00000001",
        patient_id="pat_detail",
        rendering_provider_id="prv_detail",
        date_of_service=DOS,
        code="90839",
    )
    result = code_session(
        make_session(service_kind="crisis", minutes=35), credential=Credential.LCSW, same_day=(earlier,)
    )
    assert isinstance(result, NotBillable)
    assert "35 min" in result.message and "90840" in result.message


def test_the_payer_25_is_explained_on_the_em_line() -> None:
    session = make_session(
        service_kind="em_with_psychotherapy", em_code="99213", minutes=45, psychotherapy_minutes=25
    )
    result = coded(
        session, credential=Credential.NP, rules=PayerRules(modifier_25_on_em_with_psychotherapy=True)
    )
    assert result.lines[0].modifiers == ("25",)
    assert any(reason.startswith("25:") for reason in result.lines[0].modifier_rules)
    assert result.lines[1].modifiers == ()


def billed_today(claim_key: str, code: str, **more: Any) -> BilledService:
    """A line another clinician billed for the patient on the session's date."""
    fields: dict[str, Any] = {"patient_id": "pat_detail", "rendering_provider_id": "prv_colleague"}
    return BilledService(claim_key=claim_key, date_of_service=DOS, code=code, **(fields | more))


def test_a_daily_unit_cap_leaves_what_the_days_earlier_sessions_did_not_use() -> None:
    rules = PayerRules(unit_rounding=UnitRoundingRule(daily_unit_caps={"H0004": 4}))
    # any clinician: the cap is the patient's day
    earlier = billed_today("HCODEKEY000000001", "H0004", units=3)
    session = make_session(service_kind="hcpcs_service", service_code="H0004", minutes=90)
    result = coded(session, rules=rules, same_day=(earlier,))
    assert result.lines[0].units == 1
    assert any("3 already billed today" in note for note in result.notes)
    used = earlier.model_copy(update={"units": 4})
    spent = code_session(session, credential=Credential.LCSW, rules=rules, same_day=(used,))
    assert isinstance(spent, NotBillable) and spent.reason is NotBillableReason.ALREADY_BILLED_TODAY


def test_family_stabilization_is_billed_per_15_minutes_by_its_descriptor() -> None:
    # S9482 "family stabilization services, per 15 minutes"
    session = make_session(service_kind="hcpcs_service", service_code="S9482", minutes=60)
    assert coded(session).lines[0].units == 4


def test_a_per_encounter_code_capped_a_day_is_not_billed_twice() -> None:
    rules = PayerRules(unit_rounding=UnitRoundingRule(daily_unit_caps={"H0031": 1}))
    earlier = billed_today("ASSESSKEY00000001", "H0031", session_id="ses_earlier")
    session = make_session(service_kind="hcpcs_service", service_code="H0031", minutes=60)
    again = code_session(session, credential=Credential.LCSW, rules=rules, same_day=(earlier,))
    assert isinstance(again, NotBillable) and again.reason is NotBillableReason.ALREADY_BILLED_TODAY
    # nothing billed that day: the one encounter
    first = code_session(session, credential=Credential.LCSW, rules=rules, same_day=())
    assert isinstance(first, CodedSession) and first.lines[0].units == 1


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("G0017", "send the session as a crisis session"),
        ("G0018", "send the session as a crisis session"),
        ("G2212", "add-on"),
        ("90840", "HCPCS Level II"),  # a CPT add-on is no Level II code at all
    ],
)
def test_a_hcpcs_service_with_rules_of_its_own_is_not_billed_as_one_encounter(code: str, says: str) -> None:
    """G0017/+G0018 are timed and placed as crisis psychotherapy (CMS CY2024 PFS) and G2212 is an
    add-on to 99205/99215 (CMS CY2021 PFS): named as a session's HCPCS service, they would go out as
    one encounter whatever the minutes or the place."""
    session = make_session(service_kind="hcpcs_service", service_code=code, minutes=20)
    result = code_session(session, credential=Credential.LCSW)
    assert isinstance(result, NotBillable)
    assert result.reason is NotBillableReason.UNKNOWN_SERVICE_CODE
    assert says in result.message
