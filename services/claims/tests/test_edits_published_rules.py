"""Claim edits checked against the published rules they come from: the ICD-10-CM tabular list
(header codes are not billable), the CMS place-of-service code set, and the front-end edits
every payer runs (no service in the future, no line billed twice).

The claims and contexts come from the helpers of test_edits (synthetic data only).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from test_edits import TODAY, billed, held_by, line, make_claim, make_context, make_session, with_lines

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits import scrub
from rcm.claims.domain.edits.bundling import same_day_pairs
from rcm.claims.domain.edits.diagnoses import diagnosis_codes_well_formed
from rcm.claims.domain.edits.filing import date_of_service_not_in_future, not_a_duplicate
from rcm.claims.domain.edits.place_of_service import place_of_service_is_a_cms_code

pytestmark = pytest.mark.unit


def claim_with_diagnoses(*diagnoses: str, **session: Any) -> ClaimDraft:
    return make_claim(make_session(diagnoses=list(diagnoses), **session))


# ---------------------------------------------------------------- ICD-10-CM header codes


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("F19.13", "other substance abuse with withdrawal: F19.130-F19.139 (FY2023)"),
        ("F19.23", "other substance dependence with withdrawal: F19.230-F19.239"),
        ("F19.93", "other substance use with withdrawal: F19.930-F19.939"),
        ("F78.A", "genetic intellectual disability: F78.A1, F78.A9 (FY2023)"),
        ("F78", "other intellectual disabilities: a header since F78.A- came in (FY2023)"),
    ],
)
def test_a_withdrawal_or_intellectual_disability_header_is_held(code: str, why: str) -> None:
    assert held_by(diagnosis_codes_well_formed, claim_with_diagnoses(code)) == {"diagnosis.invalid"}, why


@pytest.mark.parametrize("code", ["F19.130", "F19.239", "F19.939", "F78.A1", "F78.A9", "F11.13", "F11.23"])
def test_the_complete_withdrawal_and_intellectual_disability_codes_pass(code: str) -> None:
    assert held_by(diagnosis_codes_well_formed, claim_with_diagnoses(code)) == set()


def test_f78_was_a_complete_code_before_october_2022() -> None:
    before = claim_with_diagnoses("F78", date_of_service=date(2022, 9, 30))
    assert held_by(diagnosis_codes_well_formed, before) == set()


@pytest.mark.parametrize("code", ["F01.51", "F02.81", "F03.91", "F43.8"])
def test_dementia_with_behavioural_disturbance_and_other_stress_reactions_became_headers_in_fy2023(
    code: str,
) -> None:
    """FY2023 split them (F01.511/F01.518 ..., F43.81/F43.89): complete codes before October 2022."""
    before = claim_with_diagnoses(code, date_of_service=date(2022, 9, 30))
    assert held_by(diagnosis_codes_well_formed, before) == set()
    since = claim_with_diagnoses(code, date_of_service=date(2022, 10, 1))
    assert held_by(diagnosis_codes_well_formed, since) == {"diagnosis.invalid"}


# ---------------------------------------------------------------- CMS place-of-service codes


@pytest.mark.parametrize("pos", ["00", "28", "30", "35", "40", "59", "70", "98"])
def test_an_unassigned_place_of_service_is_held(pos: str) -> None:
    claim = with_lines(make_claim(), line("90834", place_of_service=pos))
    assert held_by(place_of_service_is_a_cms_code, claim) == {"pos.invalid"}


@pytest.mark.parametrize(
    "pos", ["02", "03", "10", "11", "12", "27", "49", "50", "53", "57", "58", "72", "99"]
)
def test_an_assigned_place_of_service_passes(pos: str) -> None:
    claim = with_lines(make_claim(), line("90834", place_of_service=pos))
    assert held_by(place_of_service_is_a_cms_code, claim) == set()


def test_pos_27_outreach_site_is_held_before_it_took_effect() -> None:
    early = date(2023, 9, 29)
    claim = with_lines(make_claim(), line("90834", place_of_service="27", date_of_service=early))
    assert held_by(place_of_service_is_a_cms_code, claim) == {"pos.invalid"}


def test_pos_10_telehealth_at_home_is_held_before_2022() -> None:
    claim = with_lines(make_claim(), line("90834", place_of_service="10", date_of_service=date(2021, 12, 31)))
    assert held_by(place_of_service_is_a_cms_code, claim) == {"pos.invalid"}


# ---------------------------------------------------------------- no service billed before it is furnished


def test_a_session_dated_after_tomorrow_is_held() -> None:
    claim = make_claim(make_session(date_of_service=date(2025, 3, 12)))
    assert held_by(date_of_service_not_in_future, claim, make_context(today=date(2025, 3, 10))) == {
        "date_of_service.future"
    }


def test_a_session_dated_tomorrow_passes_for_a_patient_ahead_of_utc() -> None:
    claim = make_claim(make_session(date_of_service=date(2025, 3, 11)))
    assert held_by(date_of_service_not_in_future, claim, make_context(today=date(2025, 3, 10))) == set()


def test_a_session_dated_today_passes() -> None:
    claim = make_claim(make_session(date_of_service=TODAY))
    assert held_by(date_of_service_not_in_future, claim, make_context(today=TODAY)) == set()


def test_the_whole_checklist_holds_a_future_session() -> None:
    claim = make_claim(make_session(date_of_service=date(2025, 3, 20)))
    result = scrub(claim, make_context(today=date(2025, 3, 10)))
    assert "date_of_service.future" in {f.code for f in result.holds}


# ---------------------------------------------------------------- a line billed twice on one claim


def test_the_same_code_twice_on_a_claim_is_held() -> None:
    claim = with_lines(make_claim(), line("90834", 1), line("90834", 2))
    assert held_by(not_a_duplicate, claim) == {"duplicate.line"}


def test_the_same_code_with_the_same_modifiers_in_another_order_is_held() -> None:
    claim = with_lines(
        make_claim(), line("H2019", 1, modifiers=("HO", "HE")), line("H2019", 2, modifiers=("HE", "HO"))
    )
    assert held_by(not_a_duplicate, claim) == {"duplicate.line"}


def test_the_same_code_with_a_distinct_service_modifier_is_not_a_duplicate_line() -> None:
    claim = with_lines(make_claim(), line("90853", 1), line("90853", 2, modifiers=("XE",)))
    assert held_by(not_a_duplicate, claim) == set()


def test_a_claim_with_distinct_codes_passes() -> None:
    claim = with_lines(make_claim(), line("90834", 1), line("90785", 2))
    assert held_by(not_a_duplicate, claim) == set()


# ---------------------------------------------------------------- crisis psychotherapy stands alone


@pytest.mark.parametrize(
    ("other", "service"),
    [
        ("90847", "family psychotherapy with the patient"),
        ("90846", "family psychotherapy without the patient"),
        ("90853", "group psychotherapy"),
        ("90849", "multiple-family group psychotherapy"),
    ],
)
def test_crisis_psychotherapy_the_day_of_another_psychiatric_service_by_the_same_clinician_is_held(
    other: str, service: str
) -> None:
    crisis = with_lines(make_claim(), line("90839"))
    context = make_context(history=(billed(other),))
    assert held_by(same_day_pairs, crisis, context) == {"bundling.same_day_pair"}, service


def test_crisis_psychotherapy_after_another_clinicians_group_passes() -> None:
    crisis = with_lines(make_claim(), line("90839"))
    context = make_context(history=(billed("90853", rendering_provider_id="prv_other"),))
    assert held_by(same_day_pairs, crisis, context) == set()
