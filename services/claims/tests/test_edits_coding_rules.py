"""Claim edits that check the coding rules a behavioural-health coder applies: the first
diagnosis, header codes, units, who may bill medical services, and same-day pairs.

The claims and contexts come from the helpers of test_edits (synthetic data only).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from test_edits import (
    ASSOCIATE,
    SUPERVISOR,
    billed,
    codes_of,
    held_by,
    line,
    make_claim,
    make_context,
    make_session,
    with_lines,
)

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.common import Credential
from rcm.claims.domain.edits import scrub
from rcm.claims.domain.edits.bundling import add_ons_have_primary, same_day_pairs
from rcm.claims.domain.edits.credentials import rendering_may_bill_codes
from rcm.claims.domain.edits.diagnoses import diagnosis_codes_well_formed
from rcm.claims.domain.edits.primary_diagnosis import primary_diagnosis_fits_service
from rcm.claims.domain.edits.providers import supervising_provider_present
from rcm.claims.domain.edits.units import units_fit_the_code, units_fit_the_day
from rcm.claims.domain.payer_rules import PayerRules, SupervisingProviderPolicy

pytestmark = pytest.mark.unit

DOS_BEFORE_FY2025 = date(2024, 9, 30)


def claim_with_diagnoses(*diagnoses: str, **session: Any) -> ClaimDraft:
    return make_claim(make_session(diagnoses=list(diagnoses), **session))


# ---------------------------------------------------------------- header and malformed diagnoses


@pytest.mark.parametrize(
    "code",
    [
        "F31.1",  # bipolar, current episode manic: F31.10-F31.13
        "F31.3",
        "F34.8",
        "F40.2",
        "F40.21",
        "F40.0",
        "F43.8",  # since FY2023: F43.81 prolonged grief, F43.89
        "F44.8",
        "F45.2",
        "F60.8",
        "F63.8",
        "F68.1",
        "F98.2",
        "F10.12",  # alcohol abuse with intoxication: F10.120...
        "F17.20",
        "F02.8",
        "F03.9",
        "F06.3",
        "F50.2",  # bulimia by severity since October 2024
        "F42",
        "F55",
    ],
)
def test_a_mental_health_header_code_is_held(code: str) -> None:
    assert held_by(diagnosis_codes_well_formed, claim_with_diagnoses(code)) == {"diagnosis.invalid"}


@pytest.mark.parametrize(
    "code",
    [
        "F31.10",
        "F31.4",
        "F40.10",
        "F40.218",
        "F43.81",
        "F43.89",
        "F45.1",
        "F10.120",
        "F17.210",
        "F03.90",
        "F50.9",
    ],
)
def test_complete_mental_health_codes_pass(code: str) -> None:
    assert held_by(diagnosis_codes_well_formed, claim_with_diagnoses(code)) == set()


def test_a_header_is_judged_on_the_date_of_service() -> None:
    before = make_claim(make_session(diagnoses=["F50.2"], date_of_service=DOS_BEFORE_FY2025))
    assert held_by(diagnosis_codes_well_formed, before) == set()


def test_a_diagnosis_listed_twice_on_the_claim_is_held() -> None:
    claim = claim_with_diagnoses("F41.1", "F33.1")
    twice = claim.model_copy(update={"diagnoses": ("F411", "F331", "F411")})
    assert held_by(diagnosis_codes_well_formed, twice) == {"diagnosis.duplicate"}


# ---------------------------------------------------------------- the first diagnosis


def test_a_z_code_first_on_psychotherapy_is_held() -> None:
    claim = claim_with_diagnoses("Z63.0", "F43.23")
    assert held_by(primary_diagnosis_fits_service, claim) == {"diagnosis.z_code_primary"}


def test_a_z_code_second_on_psychotherapy_passes() -> None:
    assert held_by(primary_diagnosis_fits_service, claim_with_diagnoses("F43.23", "Z63.0")) == set()


def test_a_payer_accepting_z_codes_first_passes_them() -> None:
    rules = PayerRules(z_code_primary_allowed=True)
    claim = claim_with_diagnoses("Z63.0")
    assert held_by(primary_diagnosis_fits_service, claim, make_context(rules=rules)) == set()


def test_an_evaluation_finding_no_disorder_may_list_z03_89_first() -> None:
    claim = claim_with_diagnoses("Z03.89", service_kind="intake", interactive_complexity=True)
    assert claim.codes == ("90791", "90785")
    assert held_by(primary_diagnosis_fits_service, claim) == set()


def test_an_external_cause_code_is_never_first() -> None:
    claim = claim_with_diagnoses("X71.0XXA", "F43.10")
    assert held_by(primary_diagnosis_fits_service, claim) == {"diagnosis.first_listed"}


def test_a_manifestation_code_is_never_first() -> None:
    claim = claim_with_diagnoses("F02.80", "G30.9")
    assert held_by(primary_diagnosis_fits_service, claim) == {"diagnosis.first_listed"}
    assert held_by(primary_diagnosis_fits_service, claim_with_diagnoses("G30.9", "F02.80")) == set()


def test_health_behavior_with_only_mental_diagnoses_is_held() -> None:
    claim = claim_with_diagnoses("F43.23", service_kind="health_behavior", service_code="96158", minutes=30)
    assert held_by(primary_diagnosis_fits_service, claim) == {"diagnosis.health_behavior_primary"}


def test_health_behavior_pointing_first_to_a_physical_condition_passes() -> None:
    claim = claim_with_diagnoses(
        "F43.23", "E11.9", service_kind="health_behavior", service_code="96158", minutes=30
    )
    assert claim.lines[0].diagnosis_pointers == (2, 1)
    assert held_by(primary_diagnosis_fits_service, claim) == set()


# ---------------------------------------------------------------- units


def test_two_units_of_90837_are_held() -> None:
    claim = with_lines(make_claim(), line("90837", units=2))
    assert held_by(units_fit_the_code, claim) == {"units.too_many"}


def test_two_units_of_90834_pass_only_with_the_payer_opt_in() -> None:
    claim = with_lines(make_claim(), line("90834", units=2))
    assert held_by(units_fit_the_code, claim) == {"units.too_many"}
    opt_in = make_context(rules=PayerRules(prolonged_psychotherapy_as_two_units=True))
    assert held_by(units_fit_the_code, claim, opt_in) == set()


def test_crisis_add_on_units_and_capped_hcpcs_units() -> None:
    crisis = with_lines(make_claim(), line("90839"), line("90840", 2, units=3))
    assert held_by(units_fit_the_code, crisis) == set()
    capped = PayerRules.model_validate({"unit_rounding": {"daily_unit_caps": {"H0004": 12}}})
    over = with_lines(make_claim(), line("H0004", units=13))
    assert held_by(units_fit_the_code, over, make_context(rules=capped)) == {"units.too_many"}
    assert held_by(units_fit_the_code, with_lines(make_claim(), line("H0004", units=12))) == set()


def test_a_daily_unit_cap_counts_the_patients_whole_day() -> None:
    # a Medicaid H-code cap (and an MUE) is one patient's units on one date of service: two 90-minute
    # sessions by two clinicians are not 4 + 4 units of a 4-unit day
    capped = make_context(
        rules=PayerRules.model_validate({"unit_rounding": {"daily_unit_caps": {"H0004": 4}}}),
        history=(billed("H0004", units=3, rendering_provider_id="prv_other"),),
    )
    findings = units_fit_the_day(with_lines(make_claim(), line("H0004", units=4)), capped)
    assert codes_of(findings) == {"units.day_cap"}
    assert "3 already billed" in findings[0].message and "at most 1 units" in findings[0].fix
    assert held_by(units_fit_the_day, with_lines(make_claim(), line("H0004", units=1)), capped) == set()
    voided = make_context(
        rules=capped.rules,
        history=(billed("H0004", units=3, rendering_provider_id="prv_other", voided=True),),
    )
    assert held_by(units_fit_the_day, with_lines(make_claim(), line("H0004", units=4)), voided) == set()
    other_day = make_context(
        rules=capped.rules, history=(billed("H0004", units=3, date_of_service=date(2025, 3, 5)),)
    )
    assert held_by(units_fit_the_day, with_lines(make_claim(), line("H0004", units=4)), other_day) == set()


def test_a_day_cap_counts_a_session_once_and_only_this_payers_claims() -> None:
    rules = PayerRules.model_validate({"unit_rounding": {"daily_unit_caps": {"H2019": 8}}})
    claim = with_lines(make_claim(), line("H2019", units=4))
    # session A's 4 units went to the primary and, as the same service, to the next payer
    to_both = (
        billed("H2019", claim="SESSIONAPRIMARY01", units=4, session_id="ses_a", payer_id=claim.payer_id),
        billed("H2019", claim="SESSIONASECONDARY", units=4, session_id="ses_a", payer_id=claim.payer_id),
    )
    assert held_by(units_fit_the_day, claim, make_context(rules=rules, history=to_both)) == set()
    # another payer's claim of another session is not this payer's day
    elsewhere = (billed("H2019", units=6, session_id="ses_b", payer_id="payer_other"),)
    assert held_by(units_fit_the_day, claim, make_context(rules=rules, history=elsewhere)) == set()
    # a session whose claim a corrected claim replaced is still billed; a voided one is not
    replaced = (billed("H2019", units=6, session_id="ses_c", voided=True, replaced=True),)
    assert held_by(units_fit_the_day, claim, make_context(rules=rules, history=replaced)) == {"units.day_cap"}
    voided = (billed("H2019", units=6, session_id="ses_c", voided=True),)
    assert held_by(units_fit_the_day, claim, make_context(rules=rules, history=voided)) == set()


def test_medicare_crisis_outside_the_office_follows_the_crisis_rules() -> None:
    at_home = with_lines(make_claim(), line("G0017"), line("G0018", 2, units=2))
    assert held_by(units_fit_the_code, at_home) == set()
    assert held_by(add_ons_have_primary, at_home) == set()
    assert held_by(units_fit_the_code, with_lines(make_claim(), line("G0017", units=2))) == {"units.too_many"}
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("G0018"))) == {"add_on.no_primary"}
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("90839"), line("G0018", 2))) == {
        "add_on.no_primary"
    }
    for earlier in ("90839", "90837", "90853"):
        context = make_context(history=(billed(earlier),))
        assert held_by(same_day_pairs, with_lines(make_claim(), line("G0017")), context) == {
            "bundling.same_day_pair"
        }, earlier


# ---------------------------------------------------------------- who may bill medical services


def test_an_lcsw_billing_an_em_with_a_psychotherapy_add_on_is_held() -> None:
    claim = with_lines(make_claim(), line("99214"), line("90833", 2, add_on=True))
    assert held_by(rendering_may_bill_codes, claim) == {"code.not_for_credential"}


def test_an_lcsw_billing_90792_is_held_and_90791_passes() -> None:
    assert held_by(rendering_may_bill_codes, with_lines(make_claim(), line("90792"))) == {
        "code.not_for_credential"
    }
    assert held_by(rendering_may_bill_codes, with_lines(make_claim(), line("90791"))) == set()


def test_a_prescriber_billing_an_em_with_an_add_on_passes() -> None:
    claim = with_lines(make_claim(rendering=SUPERVISOR), line("99214"), line("90833", 2, add_on=True))
    assert claim.rendering.credential is Credential.MD
    assert held_by(rendering_may_bill_codes, claim) == set()


# ---------------------------------------------------------------- supervision


def test_a_supervised_licensed_clinician_billing_under_the_supervisor_without_one_is_held() -> None:
    rules = PayerRules(supervising_provider=SupervisingProviderPolicy.BILL_AS_SUPERVISOR)
    supervised_lmsw = ASSOCIATE.model_copy(update={"credential": Credential.LMSW})
    claim = make_claim(rules=rules, rendering=supervised_lmsw)
    context = make_context(rules=rules, providers=(supervised_lmsw, SUPERVISOR))
    assert held_by(supervising_provider_present, claim, context) == {"supervising.bill_as_supervisor"}
    as_supervisor = make_claim(rules=rules, rendering=supervised_lmsw, supervisor=SUPERVISOR)
    assert held_by(supervising_provider_present, as_supervisor, context) == set()


# ---------------------------------------------------------------- same-day pairs


def test_individual_psychotherapy_the_day_of_family_psychotherapy_needs_59_or_xe() -> None:
    context = make_context(history=(billed("90847"),))
    findings = same_day_pairs(make_claim(), context)
    assert {f.code for f in findings} == {"bundling.same_day_pair"}
    assert "59/XE to 90834" in findings[0].fix
    distinct = with_lines(make_claim(), line("90834", modifiers=("XE",)))
    assert held_by(same_day_pairs, distinct, context) == set()


def test_multiple_family_group_the_day_of_group_needs_59_or_xe() -> None:
    claim = with_lines(make_claim(), line("90849"))
    assert held_by(same_day_pairs, claim, make_context(history=(billed("90853"),))) == {
        "bundling.same_day_pair"
    }


def test_health_behavior_intervention_the_day_of_psychotherapy_is_held() -> None:
    claim = with_lines(make_claim(), line("96158"))
    findings = same_day_pairs(claim, make_context(history=(billed("90834"),)))
    assert {f.code for f in findings} == {"bundling.same_day_pair"}
    assert "predominant" in findings[0].message


def test_an_intake_the_day_of_an_em_by_the_same_prescriber_is_held() -> None:
    claim = with_lines(make_claim(), line("90792"))
    assert held_by(same_day_pairs, claim, make_context(history=(billed("99232"),))) == {
        "bundling.same_day_pair"
    }


def test_pharmacologic_management_needs_a_standalone_psychotherapy_code() -> None:
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("90863"))) == {"add_on.no_primary"}
    claim = with_lines(make_claim(), line("90834"), line("90863", 2))
    assert held_by(add_ons_have_primary, claim) == set()


def test_a_clean_claim_still_passes_every_edit() -> None:
    result = scrub(make_claim(), make_context())
    assert result.findings == ()
