"""Two rules a claim is checked against before it goes out:

* a code deleted from CPT before the date of service is held (CARC 181): 99354-99357 are gone since
  2023 and nothing replaces them for psychotherapy, 90801-90829 since 2013, 96101 since 2019 ...;
* a new-patient E/M (99202-99205, 99341-99345) is held when the same clinician billed the patient a
  face-to-face service on an earlier date in the last three years (CPT: the patient is established).

Synthetic claims only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from test_edits import DOS, billed, held_by, line, make_claim, make_context, with_lines

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits import EDITS, scrub
from rcm.claims.domain.edits.code_validity import code_in_force_on_date
from rcm.claims.domain.edits.patient_status import new_patient_visit_for_a_new_patient

pytestmark = pytest.mark.unit


def claim_on(day: date, *codes: str) -> ClaimDraft:
    claim = make_claim()
    lines = [line(code, number, date_of_service=day) for number, code in enumerate(codes, start=1)]
    return with_lines(claim, *lines).model_copy(update={"date_of_service": day})


# ---------------------------------------------------------------- codes deleted from CPT


@pytest.mark.parametrize("prolonged", ["99354", "99355", "99356", "99357"])
def test_a_prolonged_service_code_beside_90837_after_2022_is_held(prolonged: str) -> None:
    claim = claim_on(date(2024, 5, 6), "90837", prolonged)
    assert held_by(code_in_force_on_date, claim) == {"code.deleted"}
    (finding,) = code_in_force_on_date(claim, make_context())
    assert finding.field == "lines[1].code"
    assert "90837" in finding.fix


def test_90837_with_99354_dated_before_2023_is_not_held_as_deleted() -> None:
    assert held_by(code_in_force_on_date, claim_on(date(2022, 12, 30), "90837", "99354")) == set()


@pytest.mark.parametrize(
    ("code", "day"),
    [
        ("90806", date(2013, 1, 1)),  # psychotherapy by setting, CPT 2013
        ("90801", date(2020, 3, 4)),
        ("90862", date(2014, 6, 1)),
        ("96101", date(2019, 1, 2)),  # psychological testing, CPT 2019
        ("96152", date(2020, 2, 1)),  # health and behavior intervention, CPT 2020
        ("99201", date(2021, 1, 1)),  # office visit, CPT 2021
        ("99241", date(2023, 1, 1)),  # office consultation, CPT 2023
        ("99343", date(2025, 3, 4)),  # home visit, CPT 2023
    ],
)
def test_a_code_deleted_before_the_date_of_service_is_held(code: str, day: date) -> None:
    assert held_by(code_in_force_on_date, claim_on(day, code)) == {"code.deleted"}


@pytest.mark.parametrize(
    "code", ["90791", "90832", "90834", "90837", "90839", "90840", "99215", "99417", "G2212"]
)
def test_codes_in_force_pass(code: str) -> None:
    assert held_by(code_in_force_on_date, claim_on(DOS, code)) == set()


def test_the_deleted_code_edit_is_on_the_checklist() -> None:
    result = scrub(claim_on(DOS, "90837", "99354"), make_context())
    assert "code.deleted" in {finding.code for finding in result.holds}
    assert "code_in_force_on_date" in {edit.name for edit in EDITS}


# ---------------------------------------------------------------- new and established patients


def earlier(code: str, days: int, **more: Any) -> Any:
    return billed(code, date_of_service=DOS - timedelta(days=days), session_id="ses_earlier", **more)


def held_new_patient(*codes: str, history: tuple[Any, ...]) -> set[str]:
    claim = with_lines(make_claim(), *(line(code, n) for n, code in enumerate(codes, start=1)))
    return held_by(new_patient_visit_for_a_new_patient, claim, make_context(history=history))


@pytest.mark.parametrize(
    ("new", "seen", "days"),
    [
        ("99204", "90792", 30),  # the psychiatrist's evaluation last month
        ("99203", "90834", 730),  # psychotherapy two years ago
        ("99205", "99214", 3 * 365),  # a visit just inside three years
        ("99202", "90791", 1),
        ("99344", "99214", 200),  # a home visit is new or established the same way
    ],
)
def test_a_new_patient_visit_after_the_same_clinicians_service_within_three_years_is_held(
    new: str, seen: str, days: int
) -> None:
    assert held_new_patient(new, "90833", history=(earlier(seen, days),)) == {"em.established_patient"}


def test_the_fix_names_the_established_code_of_the_same_level() -> None:
    claim = with_lines(make_claim(), line("99204"), line("90833", 2))
    (finding,) = new_patient_visit_for_a_new_patient(claim, make_context(history=(earlier("90792", 30),)))
    assert "99214" in finding.fix
    assert finding.field == "lines[0].code"


@pytest.mark.parametrize(
    "history",
    [
        (),
        (earlier("99214", 3 * 365 + 2),),  # more than three years ago: new again
        (earlier("90791", 10, rendering_provider_id="prv_other"),),  # another clinician
        (earlier("99214", 30, voided=True),),  # voided: not rendered
        (earlier("99492", 30),),  # a care-management month is not a face-to-face service
        (billed("90834", patient_id="pat_other", date_of_service=DOS - timedelta(days=30)),),
    ],
)
def test_a_new_patient_visit_is_not_held_without_the_same_clinicians_earlier_visit(
    history: tuple[Any, ...],
) -> None:
    assert held_new_patient("99204", "90833", history=history) == set()


def test_a_corrected_claims_service_still_makes_the_patient_established() -> None:
    history = (earlier("99214", 30, voided=True, replaced=True),)
    assert held_new_patient("99204", history=history) == {"em.established_patient"}


def test_an_established_patient_visit_after_earlier_visits_passes() -> None:
    assert held_new_patient("99214", "90833", history=(earlier("90792", 30),)) == set()


def test_the_new_patient_edit_is_on_the_checklist() -> None:
    claim = with_lines(make_claim(), line("99204"))
    result = scrub(claim, make_context(history=(earlier("90792", 30),)))
    assert "em.established_patient" in {finding.code for finding in result.holds}
