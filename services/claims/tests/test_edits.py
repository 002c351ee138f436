"""Each claim edit holds a claim that breaks its rule and passes one that keeps it.

All data is synthetic; NPIs are made up with valid check digits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from test_837p_guide_rules import prior, prior_line

from rcm.claims.domain.claim import ClaimDraft, ServiceLine, build_claim
from rcm.claims.domain.cob import LineAdjustment, next_payer_claim, with_telehealth_modifiers
from rcm.claims.domain.coding import CodedSession, code_session
from rcm.claims.domain.common import Credential, Period
from rcm.claims.domain.coverage import (
    Authorization,
    Coverage,
    CoveragePriority,
    EligibilityResult,
    EligibilityStatus,
)
from rcm.claims.domain.edits import EDITS, Finding, ScrubContext, Severity, scrub
from rcm.claims.domain.edits.authorization import prior_authorization
from rcm.claims.domain.edits.bundling import add_ons_have_primary, same_day_pairs
from rcm.claims.domain.edits.cob import prior_adjudication_balances
from rcm.claims.domain.edits.coverage import coverage_active, payer_order
from rcm.claims.domain.edits.diagnoses import diagnoses_pointed_to, diagnosis_codes_well_formed
from rcm.claims.domain.edits.documentation import at_most_four_modifiers, lines_priced, note_signed
from rcm.claims.domain.edits.filing import not_a_duplicate, timely_filing
from rcm.claims.domain.edits.place_of_service import (
    place_of_service_matches_modality,
    telehealth_modifiers_match_modality,
)
from rcm.claims.domain.edits.providers import (
    billing_address,
    billing_tin,
    npi_check_digits,
    rendering_enrolled_with_payer,
    rendering_licensed_in_state,
    supervising_provider_present,
    taxonomy_codes,
)
from rcm.claims.domain.fee_schedule import FeeSchedule, FeeScheduleRate
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.npi import npi_check_digit
from rcm.claims.domain.payer_rules import (
    AuthRequirement,
    PayerRules,
    SupervisingProviderPolicy,
    TelehealthRules,
    UnitRoundingRule,
)
from rcm.claims.domain.providers import (
    Address,
    BillingEntity,
    License,
    NetworkStatus,
    PayerEnrollment,
    Provider,
    Supervision,
)
from rcm.claims.domain.session import Session

DOS = date(2025, 3, 4)
TODAY = date(2025, 3, 10)
PAYER = "pay_acme"


def npi(stem: str) -> str:
    """A made-up NPI with a valid check digit."""
    return stem + str(npi_check_digit(stem))


def make_session(**overrides: Any) -> Session:
    """A 50-minute in-person individual session in NY, changed by ``overrides``."""
    fields: dict[str, Any] = {
        "session_id": "ses_test_1",
        "patient_id": "pat_test_1",
        "rendering_provider_id": "prv_render",
        "date_of_service": DOS,
        "minutes": 50,
        "service_kind": "individual",
        "patient_location": {"state": "NY", "at_home": False},
        "diagnoses": ["F41.1"],
    }
    fields.update(overrides)
    return Session.model_validate(fields)


RENDERING = Provider(
    provider_id="prv_render",
    npi=npi("123456789"),
    taxonomy_code="1041C0700X",
    credential=Credential.LCSW,
    licenses=(License(state="NY", license_type="LCSW", valid=Period(start=date(2020, 1, 1))),),
    enrollments=(PayerEnrollment(payer_id=PAYER, state="NY", valid=Period(start=date(2024, 1, 1))),),
)
SUPERVISOR = Provider(
    provider_id="prv_super",
    npi=npi("198765432"),
    taxonomy_code="2084P0800X",
    credential=Credential.MD,
    licenses=(License(state="NY", license_type="MD", valid=Period(start=date(2010, 1, 1))),),
    enrollments=(PayerEnrollment(payer_id=PAYER, valid=Period(start=date(2010, 1, 1))),),
)
BILLING = BillingEntity(
    entity_id="ent_ny",
    name="Synthetic Counseling Group NY",
    npi=npi("155555555"),
    tin="123456789",
    taxonomy_code="261QM0801X",
    address=Address(line1="1 Example Way", city="Albany", state="NY", postal_code="122071234"),
    states=("NY",),
    valid=Period(start=date(2020, 1, 1)),
)
COVERAGE = Coverage(
    coverage_id="cov_1", patient_id="pat_test_1", payer_id=PAYER, effective=Period(start=date(2025, 1, 1))
)
ELIGIBLE = EligibilityResult(
    coverage_id="cov_1",
    service_date=DOS,
    status=EligibilityStatus.ACTIVE,
    checked_at=datetime(2025, 3, 1, 9, tzinfo=UTC),
)
FEES = FeeSchedule(
    rates=tuple(
        FeeScheduleRate(procedure_code=code, amount=Decimal(amount))
        for code, amount in [
            ("90791", "200.00"),
            ("90832", "90.00"),
            ("90834", "130.00"),
            ("90837", "175.00"),
            ("90785", "25.00"),
            ("90853", "60.00"),
            ("96130", "180.00"),
            ("96131", "150.00"),
        ]
    )
)


def coded(session: Session, rules: PayerRules | None = None) -> CodedSession:
    result = code_session(session, credential=Credential.LCSW, rules=rules, fee_schedule=FEES)
    assert isinstance(result, CodedSession), result
    return result


def make_claim(session: Session | None = None, rules: PayerRules | None = None, **build: Any) -> ClaimDraft:
    """A claim built from ``session`` (a clean one by default)."""
    session = session or make_session()
    rules = rules or PayerRules()
    options: dict[str, Any] = {
        "coverage": COVERAGE,
        "billing": BILLING,
        "rendering": RENDERING,
        "rules": rules,
    }
    options.update(build)
    return build_claim(session, coded(session, rules), **options)


def make_context(**overrides: Any) -> ScrubContext:
    """A context in which the default claim passes every edit."""
    fields: dict[str, Any] = {
        "today": TODAY,
        "rules": PayerRules(),
        "providers": (RENDERING, SUPERVISOR),
        "coverages": (COVERAGE,),
        "eligibility": (ELIGIBLE,),
    }
    fields.update(overrides)
    return ScrubContext(**fields)


pytestmark = pytest.mark.unit


def codes_of(findings: list[Finding]) -> set[str]:
    return {finding.code for finding in findings}


def held_by(edit: Any, claim: ClaimDraft, context: ScrubContext | None = None) -> set[str]:
    """The codes of the hold findings ``edit`` raises."""
    return {f.code for f in edit(claim, context or make_context()) if f.severity is Severity.HOLD}


def with_lines(claim: ClaimDraft, *lines: ServiceLine) -> ClaimDraft:
    return claim.model_copy(update={"lines": lines})


def line(code: str, number: int = 1, **more: Any) -> ServiceLine:
    fields: dict[str, Any] = {
        "line_number": number,
        "line_key": f"K{number}",
        "code": code,
        "units": 1,
        "place_of_service": "11",
        "diagnosis_pointers": (1,),
        "charge": Decimal("100.00"),
        "date_of_service": DOS,
        "rule": "test",
    }
    fields.update(more)
    return ServiceLine(**fields)


# ---------------------------------------------------------------- the checklist as a whole


def test_a_clean_claim_passes_every_edit() -> None:
    result = scrub(make_claim(), make_context())
    assert result.findings == ()
    assert result.outcome == "ready"


def test_a_claim_failing_several_edits_is_held_with_every_reason() -> None:
    claim = make_claim(make_session(note_signed=False, diagnoses=["F32"]))
    result = scrub(claim, make_context(eligibility=()))
    assert result.outcome == "held"
    assert {f.code for f in result.holds} == {
        "documentation.unsigned",
        "diagnosis.invalid",
        "eligibility.unchecked",
    }
    assert all(f.message and f.fix and f.field for f in result.findings)


def test_the_registry_reads_like_a_checklist() -> None:
    names = [edit.name for edit in EDITS]
    assert len(names) == len(set(names))
    assert all(edit.checks for edit in EDITS)
    assert {"npi_check_digits", "prior_authorization", "timely_filing", "same_day_pairs"} <= set(names)


# ---------------------------------------------------------------- documentation


def test_an_unsigned_note_holds_the_claim() -> None:
    assert held_by(note_signed, make_claim(make_session(note_signed=False))) == {"documentation.unsigned"}


def test_a_signed_note_passes() -> None:
    assert held_by(note_signed, make_claim()) == set()


def test_a_line_without_a_charge_is_held() -> None:
    claim = make_claim()
    unpriced = with_lines(claim, claim.lines[0].model_copy(update={"charge": None}))
    assert held_by(lines_priced, unpriced) == {"charge.missing"}


def test_priced_lines_pass() -> None:
    assert held_by(lines_priced, make_claim()) == set()


def test_five_modifiers_on_a_line_are_held() -> None:
    crowded = with_lines(make_claim(), line("90837", modifiers=("AJ", "HF", "XE", "95", "U1")))
    assert held_by(at_most_four_modifiers, crowded) == {"modifier.too_many"}


def test_four_modifiers_pass() -> None:
    assert (
        held_by(
            at_most_four_modifiers,
            with_lines(make_claim(), line("90837", modifiers=("AJ", "HF", "XE", "95"))),
        )
        == set()
    )


# ---------------------------------------------------------------- providers


def test_an_npi_with_a_wrong_check_digit_is_held() -> None:
    bad = RENDERING.model_copy(update={"npi": "1234567890"})
    assert held_by(npi_check_digits, make_claim(rendering=bad)) == {"npi.check_digit"}
    findings = npi_check_digits(
        make_claim(billing=BILLING.model_copy(update={"npi": "155555555"})), make_context()
    )
    assert [f.field for f in findings] == ["billing.npi"]


def test_valid_npis_pass() -> None:
    assert held_by(npi_check_digits, make_claim()) == set()


def test_a_malformed_taxonomy_is_held() -> None:
    bad = RENDERING.model_copy(update={"taxonomy_code": "1041C0700"})
    assert held_by(taxonomy_codes, make_claim(rendering=bad)) == {"taxonomy.format"}


def test_well_formed_taxonomies_pass() -> None:
    assert held_by(taxonomy_codes, make_claim()) == set()


def test_a_short_tin_is_held() -> None:
    assert held_by(billing_tin, make_claim(billing=BILLING.model_copy(update={"tin": "12345"}))) == {
        "billing.tin"
    }


def test_a_nine_digit_tin_passes() -> None:
    assert held_by(billing_tin, make_claim()) == set()


def test_a_provider_not_enrolled_with_the_payer_on_the_date_is_held() -> None:
    lapsed = RENDERING.model_copy(
        update={
            "enrollments": (
                PayerEnrollment(payer_id=PAYER, state="NY", valid=Period(start=date(2025, 4, 1))),
            )
        }
    )
    assert held_by(rendering_enrolled_with_payer, make_claim(), make_context(providers=(lapsed,))) == {
        "rendering.not_enrolled"
    }


def test_an_enrollment_in_another_state_does_not_count() -> None:
    claim = make_claim(make_session(patient_location={"state": "NJ", "at_home": True}, modality="video"))
    assert held_by(rendering_enrolled_with_payer, claim) == {"rendering.not_enrolled"}


def test_an_enrolled_provider_passes_and_out_of_network_only_warns() -> None:
    assert rendering_enrolled_with_payer(make_claim(), make_context()) == []
    oon = RENDERING.model_copy(
        update={
            "enrollments": (
                PayerEnrollment(
                    payer_id=PAYER, network_status=NetworkStatus.OUT_OF_NETWORK, valid=Period(start=DOS)
                ),
            )
        }
    )
    findings = rendering_enrolled_with_payer(make_claim(), make_context(providers=(oon,)))
    assert [(f.code, f.severity) for f in findings] == [("rendering.out_of_network", Severity.WARN)]


def test_a_provider_unlicensed_in_the_patients_state_is_held() -> None:
    claim = make_claim(make_session(patient_location={"state": "NJ", "at_home": True}, modality="video"))
    assert held_by(rendering_licensed_in_state, claim) == {"rendering.not_licensed"}


def test_a_provider_licensed_in_the_patients_state_passes() -> None:
    assert held_by(rendering_licensed_in_state, make_claim()) == set()


ASSOCIATE = RENDERING.model_copy(
    update={
        "credential": Credential.ASSOCIATE,
        "supervisors": (
            Supervision(supervisor_provider_id="prv_super", valid=Period(start=date(2024, 6, 1))),
        ),
    }
)


def test_a_supervised_clinician_without_a_supervisor_on_the_claim_is_held() -> None:
    claim = make_claim(rendering=ASSOCIATE)
    context = make_context(providers=(ASSOCIATE, SUPERVISOR))
    assert held_by(supervising_provider_present, claim, context) == {"supervising.missing"}


def test_a_supervised_clinician_with_the_supervisor_named_passes() -> None:
    claim = make_claim(rendering=ASSOCIATE, supervisor=SUPERVISOR)
    assert claim.supervising is not None and claim.supervising.provider_id == "prv_super"
    assert (
        held_by(supervising_provider_present, claim, make_context(providers=(ASSOCIATE, SUPERVISOR))) == set()
    )


def test_a_payer_billing_under_the_supervisor_renders_the_claim_as_the_supervisor() -> None:
    rules = PayerRules(supervising_provider=SupervisingProviderPolicy.BILL_AS_SUPERVISOR)
    context = make_context(rules=rules, providers=(ASSOCIATE, SUPERVISOR))
    as_supervisor = make_claim(rules=rules, rendering=ASSOCIATE, supervisor=SUPERVISOR)
    assert as_supervisor.rendering.provider_id == "prv_super"
    assert held_by(supervising_provider_present, as_supervisor, context) == set()
    alone = make_claim(rules=rules, rendering=ASSOCIATE)
    assert held_by(supervising_provider_present, alone, context) == {"supervising.bill_as_supervisor"}


# ---------------------------------------------------------------- coverage


def test_a_coverage_ended_before_the_date_of_service_is_held() -> None:
    ended = COVERAGE.model_copy(update={"effective": Period(start=date(2024, 1, 1), end=date(2025, 2, 28))})
    assert held_by(coverage_active, make_claim(), make_context(coverages=(ended,))) == {
        "coverage.not_effective"
    }


def test_a_claim_without_an_eligibility_result_is_held_unless_the_payer_allows_it() -> None:
    assert held_by(coverage_active, make_claim(), make_context(eligibility=())) == {"eligibility.unchecked"}
    lenient = make_context(eligibility=(), rules=PayerRules(requires_eligibility_check=False))
    assert held_by(coverage_active, make_claim(), lenient) == set()


def test_the_latest_eligibility_result_decides() -> None:
    inactive_later = ELIGIBLE.model_copy(
        update={"status": EligibilityStatus.INACTIVE, "checked_at": datetime(2025, 3, 5, tzinfo=UTC)}
    )
    context = make_context(eligibility=(ELIGIBLE, inactive_later))
    assert held_by(coverage_active, make_claim(), context) == {"eligibility.inactive"}
    active_latest = ELIGIBLE.model_copy(update={"checked_at": datetime(2025, 3, 6, tzinfo=UTC)})
    assert (
        held_by(coverage_active, make_claim(), make_context(eligibility=(inactive_later, active_latest)))
        == set()
    )


def test_an_active_coverage_passes() -> None:
    assert held_by(coverage_active, make_claim()) == set()


SECONDARY = Coverage(
    coverage_id="cov_2",
    patient_id="pat_test_1",
    payer_id="pay_second",
    priority=CoveragePriority.SECONDARY,
    effective=Period(start=date(2025, 1, 1)),
)


def test_a_secondary_claim_before_the_primary_has_paid_is_held() -> None:
    claim = make_claim(coverage=SECONDARY)
    assert claim.payer_order is CoveragePriority.SECONDARY
    context = make_context(coverages=(COVERAGE, SECONDARY))
    assert held_by(payer_order, claim, context) == {"payer_order.primary_first"}


def test_a_secondary_claim_after_the_primary_remit_passes() -> None:
    context = make_context(coverages=(COVERAGE, SECONDARY), prior_payer_adjudicated=True)
    assert held_by(payer_order, make_claim(coverage=SECONDARY), context) == set()


def test_medicare_as_the_later_payer_without_the_msp_type_is_held() -> None:
    # its 837P needs SBR05 (why the other coverage pays first); clearinghouses reject it without
    medicare = make_context(
        coverages=(COVERAGE, SECONDARY), prior_payer_adjudicated=True, rules=PayerRules(medicare=True)
    )
    claim = make_claim(coverage=SECONDARY)
    assert held_by(payer_order, claim, medicare) == {"payer_order.msp_type_missing"}
    typed = SECONDARY.model_copy(update={"medicare_secondary_type": "43"})
    with_type = medicare.model_copy(update={"coverages": (COVERAGE, typed)})
    assert held_by(payer_order, claim, with_type) == set()
    # Medicare as the first payer, or another payer as the later one, needs none
    assert held_by(payer_order, make_claim(), medicare) == set()
    other = make_context(coverages=(COVERAGE, SECONDARY), prior_payer_adjudicated=True)
    assert held_by(payer_order, claim, other) == set()


def _after_primary(
    paid: str, line_adjustments: dict[str, str], claim_adjustments: str = "0"
) -> tuple[Any, Any]:
    """A secondary claim (its own line keys) and the primary's adjudication of its one line."""
    primary = make_claim()
    (line,) = primary.lines
    adjustments = tuple(
        LineAdjustment(group=group, carc="45" if group == "CO" else "2", amount=Decimal(amount))
        for group, amount in line_adjustments.items()
    )
    adjudicated = prior_line(
        1, line.code, paid, line_key=line.line_key, modifiers=line.modifiers, adjustments=adjustments
    )
    claim_level = (LineAdjustment(group="OA", carc="94", amount=Decimal(claim_adjustments)),)
    prior_payer = prior(
        adjudicated,
        patient_responsibility=Decimal(line_adjustments.get("PR", "0")),
        claim_adjustments=claim_level if claim_adjustments != "0" else (),
    )
    secondary = next_payer_claim(primary, SECONDARY)
    context = make_context(coverages=(COVERAGE, SECONDARY), prior_payer_adjudicated=True, prior=prior_payer)
    return secondary, context


def test_a_later_payers_claim_whose_prior_adjudication_balances_passes() -> None:
    charge = make_claim().total_charge
    secondary, context = _after_primary("80.00", {"CO": str(charge - 100), "PR": "20.00"})
    assert held_by(prior_adjudication_balances, secondary, context) == set()
    # matched by procedure: the later payer's claim has its own line keys
    assert context.prior is not None
    assert {line.line_key for line in secondary.lines}.isdisjoint(p.line_key for p in context.prior.lines)


def test_a_later_payers_claim_whose_prior_adjudication_does_not_balance_is_held() -> None:
    # X222A1: SV102 = 2430 SVD02 + CAS, CLM02 = 2320 AMT*D + CAS + 2430 CAS; clearinghouses reject otherwise
    secondary, context = _after_primary("80.00", {"PR": "20.00"})
    assert held_by(prior_adjudication_balances, secondary, context) == {
        "cob.line_unbalanced",
        "cob.claim_unbalanced",
    }
    charge = make_claim().total_charge
    # lines balance, but a claim-level adjustment leaves the claim over its charge
    secondary, context = _after_primary("80.00", {"CO": str(charge - 100), "PR": "20.00"}, "5.00")
    assert held_by(prior_adjudication_balances, secondary, context) == {"cob.claim_unbalanced"}


def test_a_primary_claim_has_no_prior_adjudication_to_balance() -> None:
    assert held_by(prior_adjudication_balances, make_claim()) == set()


def test_two_primary_coverages_are_held_as_ambiguous() -> None:
    other_primary = SECONDARY.model_copy(update={"priority": CoveragePriority.PRIMARY})
    context = make_context(coverages=(COVERAGE, other_primary))
    assert held_by(payer_order, make_claim(), context) == {"payer_order.ambiguous"}


def test_a_secondary_coverage_with_no_primary_in_force_is_held() -> None:
    context = make_context(coverages=(SECONDARY,), prior_payer_adjudicated=True)
    assert held_by(payer_order, make_claim(coverage=SECONDARY), context) == {"payer_order.no_primary"}


def test_the_primary_coverage_billed_first_passes() -> None:
    assert held_by(payer_order, make_claim(), make_context(coverages=(COVERAGE, SECONDARY))) == set()


# ---------------------------------------------------------------- diagnoses


@pytest.mark.parametrize("code", ["F32", "F43.1", "F10.2", "123", "FF1", "F41.1.1.1"])
def test_malformed_or_header_diagnoses_are_held(code: str) -> None:
    claim = make_claim(make_session(diagnoses=[code]))
    assert held_by(diagnosis_codes_well_formed, claim) == {"diagnosis.invalid"}


@pytest.mark.parametrize("code", ["F32.9", "F32.A", "F43.10", "F10.20", "F41.1", "F99", "Z63.0", "F84.0"])
def test_well_formed_diagnoses_pass(code: str) -> None:
    assert held_by(diagnosis_codes_well_formed, make_claim(make_session(diagnoses=[code]))) == set()


def test_a_line_pointing_past_the_diagnoses_is_held() -> None:
    claim = with_lines(make_claim(), line("90837", diagnosis_pointers=(1, 3)))
    assert held_by(diagnoses_pointed_to, claim) == {"diagnosis.pointer"}


def test_lines_pointing_to_the_diagnoses_pass() -> None:
    claim = make_claim(make_session(diagnoses=["F41.1", "F33.1", "Z63.0", "F43.10", "F90.2"]))
    assert claim.lines[0].diagnosis_pointers == (1, 2, 3, 4)
    findings = diagnoses_pointed_to(claim, make_context())
    assert [(f.code, f.severity) for f in findings] == [("diagnosis.unpointed", Severity.WARN)]


# ---------------------------------------------------------------- place of service and modifiers


def test_a_telehealth_pos_on_an_in_person_session_is_held() -> None:
    claim = with_lines(make_claim(), line("90837", place_of_service="10"))
    assert held_by(place_of_service_matches_modality, claim) == {"pos.telehealth_in_person"}


def test_pos_02_for_a_patient_at_home_is_held() -> None:
    claim = make_claim(make_session(modality="video", patient_location={"state": "NY", "at_home": True}))
    wrong = with_lines(claim, claim.lines[0].model_copy(update={"place_of_service": "02"}))
    assert held_by(place_of_service_matches_modality, wrong) == {"pos.telehealth_mismatch"}


def test_coded_telehealth_pos_passes() -> None:
    claim = make_claim(make_session(modality="video", patient_location={"state": "NY", "at_home": True}))
    assert held_by(place_of_service_matches_modality, claim) == set()


def test_93_on_a_video_session_is_held() -> None:
    claim = make_claim(make_session(modality="video"))
    wrong = with_lines(claim, claim.lines[0].model_copy(update={"modifiers": ("93",)}))
    assert held_by(telehealth_modifiers_match_modality, wrong) == {"modifier.audio_only"}


def test_95_with_pos_11_is_held_unless_the_payer_allows_it() -> None:
    claim = with_lines(make_claim(make_session(modality="video")), line("90837", modifiers=("95",)))
    assert "modifier.95_with_in_person_pos" in held_by(telehealth_modifiers_match_modality, claim)
    in_person_pos = PayerRules(telehealth=TelehealthRules(use_in_person_pos=True, video_modifiers=("95",)))
    assert held_by(telehealth_modifiers_match_modality, claim, make_context(rules=in_person_pos)) == set()


def test_a_missing_payer_video_modifier_is_held() -> None:
    wants_95 = PayerRules(telehealth=TelehealthRules(video_modifiers=("95",)))
    claim = make_claim(make_session(modality="video"))
    assert held_by(telehealth_modifiers_match_modality, claim, make_context(rules=wants_95)) == {
        "modifier.telehealth_missing"
    }


def test_coded_audio_only_modifiers_pass() -> None:
    claim = make_claim(make_session(modality="audio_only", patient_location={"state": "NY", "at_home": True}))
    assert claim.lines[0].modifiers == ("93",)
    assert held_by(telehealth_modifiers_match_modality, claim) == set()


# ---------------------------------------------------------------- prior authorization

TESTING_SESSION = make_session(service_kind="testing", service_code="96130", minutes=120)
AUTH = Authorization(
    authorization_id="auth_1",
    patient_id="pat_test_1",
    payer_id=PAYER,
    auth_number="PA123456",
    valid=Period(start=date(2025, 1, 1), end=date(2025, 6, 30)),
    authorized=8,
    remaining=3,
    procedure_codes=("96130", "96131"),
)


def test_testing_without_an_authorization_is_held() -> None:
    claim = make_claim(TESTING_SESSION)
    assert held_by(prior_authorization, claim) == {"auth.missing"}


def test_an_authorization_with_no_visits_left_is_held() -> None:
    used_up = AUTH.model_copy(update={"remaining": 0})
    claim = make_claim(TESTING_SESSION, authorizations=(used_up,))
    findings = prior_authorization(claim, make_context(authorizations=(used_up,)))
    assert codes_of(findings) == {"auth.missing"}
    assert "no visits left" in findings[0].message


def test_an_authorization_for_another_provider_is_held() -> None:
    theirs = AUTH.model_copy(update={"provider_id": "prv_someone_else"})
    findings = prior_authorization(make_claim(TESTING_SESSION), make_context(authorizations=(theirs,)))
    assert "another provider" in findings[0].message


def test_an_authorization_missing_from_the_claim_is_held() -> None:
    claim = make_claim(TESTING_SESSION)
    assert held_by(prior_authorization, claim, make_context(authorizations=(AUTH,))) == {"auth.not_on_claim"}


def test_a_covering_authorization_on_the_claim_passes() -> None:
    claim = make_claim(TESTING_SESSION, authorizations=(AUTH,))
    assert claim.prior_authorization_number == "PA123456"
    assert held_by(prior_authorization, claim, make_context(authorizations=(AUTH,))) == set()


def test_an_authorization_needed_only_after_free_visits_is_not_needed_before() -> None:
    rules = PayerRules(auth_requirements=(AuthRequirement(procedure_code="90837", after_visits=8),))
    claim = make_claim(make_session(minutes=55), rules=rules)
    assert held_by(prior_authorization, claim, make_context(rules=rules, prior_visits=7)) == set()
    assert held_by(prior_authorization, claim, make_context(rules=rules, prior_visits=8)) == {"auth.missing"}


# ---------------------------------------------------------------- filing


def test_a_claim_past_the_filing_window_is_held() -> None:
    context = make_context(today=DOS + timedelta(days=91), rules=PayerRules(timely_filing_days=90))
    assert held_by(timely_filing, make_claim(), context) == {"filing.late"}


def test_a_claim_near_the_deadline_warns_and_one_in_time_passes() -> None:
    near = make_context(today=DOS + timedelta(days=80), rules=PayerRules(timely_filing_days=90))
    assert [(f.code, f.severity) for f in timely_filing(make_claim(), near)] == [
        ("filing.deadline_near", Severity.WARN)
    ]
    assert timely_filing(make_claim(), make_context()) == []


def test_a_window_in_calendar_months_closes_on_the_same_day_of_the_month() -> None:
    # DOS 4 March: one calendar month runs to 4 April, 31 days (30 days would close on 3 April)
    months = PayerRules(timely_filing_months=1, timely_filing_days=30)
    assert held_by(timely_filing, make_claim(), make_context(today=date(2025, 4, 4), rules=months)) == set()
    late = make_context(today=date(2025, 4, 5), rules=months)
    assert held_by(timely_filing, make_claim(), late) == {"filing.late"}
    assert "1 months closed on 2025-04-04" in timely_filing(make_claim(), late)[0].message
    days = make_context(today=date(2025, 4, 4), rules=PayerRules(timely_filing_days=30))
    assert held_by(timely_filing, make_claim(), days) == {"filing.late"}


def billed(code: str, *, claim: str = "OTHERCLAIMKEY0001", **more: Any) -> BilledService:
    fields: dict[str, Any] = {
        "claim_key": claim,
        "patient_id": "pat_test_1",
        "rendering_provider_id": "prv_render",
        "date_of_service": DOS,
        "code": code,
    }
    fields.update(more)
    return BilledService(**fields)


def test_the_same_service_already_billed_on_another_claim_is_a_duplicate() -> None:
    context = make_context(history=(billed("90834"),))
    assert held_by(not_a_duplicate, make_claim(), context) == {"duplicate.claim"}


@pytest.mark.parametrize(
    ("code", "modifiers", "rules"),
    [
        ("H2019", (), PayerRules()),  # billed per 15 minutes: each session bills its own time
        ("H0004", (), PayerRules(unit_rounding=UnitRoundingRule(daily_unit_caps={"H0004": 16}))),
        ("96127", (), PayerRules()),  # per instrument, the day's units capped by its own edit
        ("90785", (), PayerRules()),  # an add-on: its primary's claim is the one checked
        ("90834", ("XE",), PayerRules()),  # a separate encounter, so marked
        ("90834", ("76",), PayerRules()),
    ],
)
def test_a_second_session_s_service_the_day_allows_is_not_a_duplicate(
    code: str, modifiers: tuple[str, ...], rules: PayerRules
) -> None:
    claim = make_claim()
    line = claim.lines[0].model_copy(update={"code": code, "modifiers": modifiers})
    claim = claim.model_copy(update={"lines": (line,)})
    context = make_context(history=(billed(code),), rules=rules)
    assert held_by(not_a_duplicate, claim, context) == set()
    # the same code plain, twice the same day by the same clinician, is a duplicate
    plain = claim.model_copy(update={"lines": (line.model_copy(update={"code": "90834", "modifiers": ()}),)})
    assert held_by(not_a_duplicate, plain, make_context(history=(billed("90834"),), rules=rules)) == {
        "duplicate.claim"
    }


def test_a_voided_claim_or_the_claim_itself_is_not_a_duplicate() -> None:
    claim = make_claim()
    history = (billed("90834", voided=True), billed("90834", claim=claim.claim_key))
    assert held_by(not_a_duplicate, claim, make_context(history=history)) == set()


# ---------------------------------------------------------------- same-day pairs and add-ons


def test_psychotherapy_on_the_day_of_a_diagnostic_evaluation_is_held() -> None:
    context = make_context(history=(billed("90791"),))
    assert held_by(same_day_pairs, make_claim(), context) == {"bundling.same_day_pair"}


def test_individual_after_group_without_59_or_xe_is_held() -> None:
    context = make_context(history=(billed("90853"),))
    findings = same_day_pairs(make_claim(), context)
    assert codes_of(findings) == {"bundling.same_day_pair"}
    assert "59/XE" in findings[0].fix


def test_individual_after_group_with_xe_passes() -> None:
    session = make_session(distinct_service={"reason": "separate_encounter"})
    history = (billed("90853"),)
    coded_session = code_session(
        session, credential=Credential.LCSW, rules=PayerRules(), fee_schedule=FEES, same_day=history
    )
    assert isinstance(coded_session, CodedSession)
    claim = build_claim(
        session, coded_session, coverage=COVERAGE, billing=BILLING, rendering=RENDERING, rules=PayerRules()
    )
    assert claim.lines[0].modifiers == ("XE",)
    assert held_by(same_day_pairs, claim, make_context(history=history)) == set()


@pytest.mark.parametrize(
    ("earlier", "now"), [("90832", "90834"), ("90837", "90834"), ("90834", "90837"), ("90836", "90833")]
)
def test_a_second_psychotherapy_code_of_one_clinician_the_same_day_is_held(earlier: str, now: str) -> None:
    """One individual psychotherapy code (or one add-on) a day by a clinician, by the day's minutes;
    another code of the family is no duplicate, yet the pair holds it (no modifier bypasses it)."""
    claim = with_lines(make_claim(), line(now))
    findings = same_day_pairs(claim, make_context(history=(billed(earlier),)))
    assert codes_of(findings) == {"bundling.same_day_pair"}
    assert "day's minutes" in findings[0].message and "bill only one" in findings[0].fix
    with_xe = with_lines(make_claim(), line(now, modifiers=("XE",)))
    assert held_by(same_day_pairs, with_xe, make_context(history=(billed(earlier),))) == {
        "bundling.same_day_pair"
    }
    other = make_context(history=(billed(earlier, rendering_provider_id="prv_other"),))
    assert held_by(same_day_pairs, claim, other) == set()


def test_family_with_and_without_the_patient_the_same_day_is_held() -> None:
    claim = make_claim(make_session(service_kind="family_with_patient"))
    assert held_by(same_day_pairs, claim, make_context(history=(billed("90846"),))) == {
        "bundling.same_day_pair"
    }


def test_em_with_a_standalone_psychotherapy_code_on_one_claim_is_held() -> None:
    claim = with_lines(make_claim(), line("99214"), line("90834", 2))
    findings = same_day_pairs(claim, make_context())
    assert codes_of(findings) == {"bundling.same_day_pair"}
    assert "add-ons" in findings[0].message


def test_pairs_pass_for_another_provider_or_when_the_payer_skips_ncci() -> None:
    other = make_context(history=(billed("90791", rendering_provider_id="prv_other"),))
    assert held_by(same_day_pairs, make_claim(), other) == set()
    no_ncci = make_context(history=(billed("90791"),), rules=PayerRules(ncci_edits=False))
    assert held_by(same_day_pairs, make_claim(), no_ncci) == set()


def test_an_add_on_without_its_primary_is_held() -> None:
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("90785"))) == {"add_on.no_primary"}
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("90840"))) == {"add_on.no_primary"}


def test_prolonged_time_and_collaborative_care_add_ons_need_their_primary() -> None:
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("99417"))) == {"add_on.no_primary"}
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("99214"), line("99417", 2))) == {
        "add_on.no_primary"
    }
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("99215"), line("99417", 2))) == set()
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("99494"))) == {"add_on.no_primary"}
    assert held_by(add_ons_have_primary, with_lines(make_claim(), line("99493"), line("99494", 2))) == set()
    # Medicare reports the prolonged time with G2212
    medicare = make_context(rules=PayerRules(medicare=True))
    claim = with_lines(make_claim(), line("99215"), line("99417", 2))
    assert held_by(add_ons_have_primary, claim, medicare) == {"add_on.not_allowed"}


def test_interactive_complexity_with_crisis_is_held() -> None:
    claim = with_lines(make_claim(), line("90839"), line("90785", 2))
    assert held_by(add_ons_have_primary, claim) == {"add_on.not_allowed"}


def test_add_ons_with_their_primary_pass() -> None:
    claim = make_claim(make_session(minutes=55, interactive_complexity=True))
    assert claim.codes == ("90837", "90785")
    assert held_by(add_ons_have_primary, claim) == set()


@pytest.mark.parametrize(
    ("line1", "postal_code", "codes"),
    [
        ("1 Example Way", "122071234", set()),
        ("1 Example Way", "12207", {"billing.zip_plus_4"}),
        ("P.O. Box 4410", "122071234", {"billing.po_box"}),
        ("PO BOX 12", "12207", {"billing.zip_plus_4", "billing.po_box"}),
        ("Lockbox 7781", "122071234", {"billing.po_box"}),
        ("1 Boxwood Road", "122071234", set()),  # a street name with "box" in it is a street
    ],
)
def test_the_billing_address_is_a_street_address_with_zip_plus_4(
    line1: str, postal_code: str, codes: set[str]
) -> None:
    billing = BILLING.model_copy(
        update={"address": Address(line1=line1, city="Albany", state="NY", postal_code=postal_code)}
    )
    claim = make_claim().model_copy(update={"billing": billing})
    assert held_by(billing_address, claim, make_context()) == codes


@pytest.mark.parametrize(
    ("primary_wants", "secondary_wants", "expected"),
    [
        ((), ("95",), ("95",)),  # the primary reads the POS; the secondary wants 95
        (("95",), (), ()),  # the other way round
        (("GT",), ("95",), ("95",)),  # a legacy GT replaced
    ],
)
def test_a_next_payers_video_claim_carries_that_payers_telehealth_modifiers(
    primary_wants: tuple[str, ...], secondary_wants: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    primary_rules = PayerRules(telehealth=TelehealthRules(video_modifiers=primary_wants))
    session = make_session(modality="video", patient_location={"state": "NY", "at_home": True})
    primary = make_claim(session, primary_rules)
    assert primary.lines[0].modifiers == primary_wants
    secondary = with_telehealth_modifiers(
        next_payer_claim(primary, SECONDARY),
        TelehealthRules(video_modifiers=secondary_wants),
        primary_rules.telehealth,
    )
    assert [line.modifiers for line in secondary.lines] == [expected]
    assert [line.code for line in secondary.lines] == [line.code for line in primary.lines]
    rules = PayerRules(telehealth=TelehealthRules(video_modifiers=secondary_wants))
    assert held_by(telehealth_modifiers_match_modality, secondary, make_context(rules=rules)) == set()


def test_an_in_person_next_payers_claim_keeps_its_modifiers() -> None:
    primary = make_claim()
    secondary = with_telehealth_modifiers(
        next_payer_claim(primary, SECONDARY), TelehealthRules(video_modifiers=("95",)), TelehealthRules()
    )
    assert secondary.lines == tuple(
        line.model_copy(update={"line_key": s.line_key})
        for line, s in zip(primary.lines, secondary.lines, strict=True)
    )


def test_a_next_payer_placing_telehealth_otherwise_gets_the_claim_unchanged_for_a_person() -> None:
    """The prior payer bills video with the in-person POS and 95, the next one with POS 02/10: the
    claim does not know the POS to move to, so it keeps its lines (and its edits hold it)."""
    prior_rules = TelehealthRules(use_in_person_pos=True, video_modifiers=("95",))
    session = make_session(modality="video", patient_location={"state": "NY", "at_home": True})
    primary = make_claim(session, PayerRules(telehealth=prior_rules))
    secondary = with_telehealth_modifiers(
        next_payer_claim(primary, SECONDARY), TelehealthRules(), prior_rules
    )
    assert [line.modifiers for line in secondary.lines] == [line.modifiers for line in primary.lines]
