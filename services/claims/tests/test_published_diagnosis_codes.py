"""ICD-10-CM diagnosis codes checked against the tabular list, read as the rule itself: a
complete code has nothing below it, so a character added to it is not a code (F41.10, F32.90),
while the codes below a header stay billable.

Synthetic claims only.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_edits import held_by, make_claim, make_session

from rcm.claims.domain.edits.diagnoses import diagnosis_codes_well_formed

pytestmark = pytest.mark.unit


def held(*diagnoses: str, day: date | None = None) -> set[str]:
    session = make_session(diagnoses=list(diagnoses), **({"date_of_service": day} if day else {}))
    return held_by(diagnosis_codes_well_formed, make_claim(session))


@pytest.mark.parametrize(
    ("code", "complete"),
    [
        ("F41.10", "F41.1 generalized anxiety disorder"),
        ("F32.90", "F32.9 major depressive disorder, single episode, unspecified"),
        ("F90.00", "F90.0 ADHD, predominantly inattentive type"),
        ("F84.00", "F84.0 autistic disorder"),
        ("F32.A1", "F32.A depression, unspecified"),
        ("F99.1", "F99 mental disorder, not otherwise specified"),
        ("F43.101", "F43.10 post-traumatic stress disorder, unspecified"),
    ],
)
def test_a_character_added_to_a_complete_code_is_held(code: str, complete: str) -> None:
    assert held(code) == {"diagnosis.invalid"}, complete


@pytest.mark.parametrize(
    "code", ["F43.10", "F43.23", "F10.20", "F10.239", "F17.210", "F40.218", "F01.511", "F11.13", "F78.A1"]
)
def test_the_codes_below_a_header_pass(code: str) -> None:
    assert held(code) == set()


def test_a_code_below_a_subcategory_that_became_a_header_is_judged_on_the_date_of_service() -> None:
    assert held("F50.011", day=date(2025, 3, 4)) == set()
    assert held("F50.011", day=date(2024, 9, 30)) == {"diagnosis.invalid"}
