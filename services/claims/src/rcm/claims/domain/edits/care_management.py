"""Edits on care-management months (collaborative care 99492/99493/+99494/G2214, general BHI 99484).

These codes bill a calendar month's care-manager minutes, not a visit, so their limits are by month:

* a program is billed once a calendar month for a patient (by one practitioner: CMS pays one
  collaborative care or general BHI claim a month): a second month tally for that month is a
  duplicate, and the month's minutes go onto the first as a correction (the duplicate edit,
  :func:`rcm.claims.domain.edits.filing.not_a_duplicate`, reports it);
* general BHI (99484) is not billed in a month in which the same billing practitioner bills
  collaborative care (99492, 99493, G2214) for the patient: the two programs exclude each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.codes import (
    COLLABORATIVE_CARE_ADD_ON,
    COLLABORATIVE_CARE_CODES,
    GENERAL_BHI,
    GENERAL_BHI_MEDICARE_THERAPIST,
)
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity
from rcm.claims.domain.history import BilledService

__all__ = ["care_management_month_duplicates", "care_management_program_of", "care_management_programs_apart"]

_COLLABORATIVE_CARE_PRIMARIES = COLLABORATIVE_CARE_CODES - {COLLABORATIVE_CARE_ADD_ON}


def care_management_program_of(code: str) -> str | None:
    """The care-management program a month's primary code bills, or None for any other code
    (the add-on +99494 is its primary's: the month is counted once)."""
    if code in _COLLABORATIVE_CARE_PRIMARIES:
        return "collaborative care"
    if code in (GENERAL_BHI, GENERAL_BHI_MEDICARE_THERAPIST):
        return "general BHI"
    return None


def _month(day: date) -> str:
    return f"{day:%Y-%m}"


def _others_that_month(claim: ClaimDraft, history: Iterable[BilledService]) -> list[BilledService]:
    """The patient's other live claims' lines dated in the claim's calendar month."""
    month = _month(claim.date_of_service)
    return [
        s
        for s in history
        if not s.voided
        and s.claim_key != claim.claim_key
        and not (s.session_id and s.session_id == claim.session_id)  # the session's claim to another payer
        and s.patient_id == claim.patient_id
        and _month(s.date_of_service) == month
    ]


def care_management_month_duplicates(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """A care-management program billed for the patient in the claim's calendar month already, on
    another claim (whoever billed it): the month's tally is one claim, so a second one is a duplicate
    of the first or a correction of it."""
    others = _others_that_month(claim, context.history)
    findings = []
    for index, line in enumerate(claim.lines):
        program = care_management_program_of(line.code)
        if program is None:
            continue
        twin = next((s for s in others if care_management_program_of(s.code) == program), None)
        if twin is None:
            continue
        findings.append(
            Finding(
                edit="not_a_duplicate",
                code="duplicate.month",
                severity=Severity.HOLD,
                message=(
                    f"{line.code}: {program} is billed once a calendar month for a patient and claim "
                    f"{twin.claim_key} already bills {_month(claim.date_of_service)} with {twin.code} "
                    "(CARC 18 risk)"
                ),
                field=f"lines[{index}]",
                fix=(
                    "send the month's whole tally as a correction of the session already billed "
                    "(session-corrected), not as a second session; or void one of the two"
                ),
            )
        )
    return findings


def care_management_programs_apart(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """General BHI (99484) and collaborative care (99492, 99493, G2214) are not billed for the patient
    in the same calendar month by the same billing practitioner, on this claim or another."""
    provider = claim.rendering.provider_id
    month_codes = [
        (line.code, "this claim") for line in claim.lines if care_management_program_of(line.code) is not None
    ] + [
        (s.code, f"claim {s.claim_key}")
        for s in _others_that_month(claim, context.history)
        if s.rendering_provider_id == provider and care_management_program_of(s.code) is not None
    ]
    findings = []
    for index, line in enumerate(claim.lines):
        program = care_management_program_of(line.code)
        if program is None:
            continue
        other = next(
            (
                (code, where)
                for code, where in month_codes
                if care_management_program_of(code) not in (program, None)
            ),
            None,
        )
        if other is None:
            continue
        code, where = other
        findings.append(
            Finding(
                edit="care_management_programs_apart",
                code="code.care_management_same_month",
                severity=Severity.HOLD,
                message=(
                    f"{line.code} ({program}) with {code} on {where} in {_month(claim.date_of_service)} by "
                    "the same practitioner: general BHI (99484) is not billed in a month with collaborative "
                    "care (99492/99493/G2214) (CMS; CARC 97 risk)"
                ),
                field=f"lines[{index}]",
                fix="bill the month under one program: void the other program's claim, or correct this month's tally",
            )
        )
    return findings
