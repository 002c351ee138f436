"""Claim edits checked against the published rules they come from: the ICD-10-CM tabular list
(header codes are not billable), the CMS place-of-service code set, and the front-end edits
every payer runs (no service in the future, no line billed twice).

The claims and contexts come from the helpers of test_edits (synthetic data only).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from test_edits import held_by, make_claim, make_session

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits.diagnoses import diagnosis_codes_well_formed

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
