"""Edit on new-patient E/M codes: a patient the clinician served in the last three years is established.

CPT: a new patient has received no professional services from the physician or other qualified
health care professional (or another of the exact same specialty and subspecialty in the same group
practice) within the past three years; CMS reads professional services as face-to-face services
reported by a CPT or HCPCS code (Medicare Claims Processing Manual, ch. 12, 30.6.7). So a
psychiatrist's 90792 evaluation last month, or an NP's psychotherapy last year, makes today's E/M
an established-patient visit (99212-99215, 99347-99350), whatever the service was. The claims on
file show only part of the three years, so the edit holds what they prove and no more: the same
clinician's earlier service on another date (another clinician's is left to the person who knows
the group's specialties).
"""

from __future__ import annotations

from datetime import date

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.codes import CARE_MANAGEMENT_CODES
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity
from rcm.claims.domain.history import BilledService

__all__ = ["ESTABLISHED_PATIENT_CODE", "LOOKBACK_YEARS", "new_patient_visit_for_a_new_patient"]

ESTABLISHED_PATIENT_CODE: dict[str, str] = {
    "99202": "99212",
    "99203": "99213",
    "99204": "99214",
    "99205": "99215",
    "99341": "99347",
    "99342": "99348",
    "99344": "99349",
    "99345": "99350",
}
"""Each new-patient E/M code (office 99202-99205, home or residence 99341-99345) and the
established-patient code of the same level of medical decision making (CPT 2023)."""

LOOKBACK_YEARS = 3

_NOT_FACE_TO_FACE: frozenset[str] = frozenset(CARE_MANAGEMENT_CODES | {"90885", "90889"})
"""Codes billed by the practitioner without seeing the patient (a care-management month, a review of
records, a report): they do not make the patient established."""


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _earlier_service(
    claim: ClaimDraft, provider_id: str, history: tuple[BilledService, ...]
) -> BilledService | None:
    """The clinician's latest face-to-face service for the patient on an earlier date within the
    look-back, on another session's claim that still stands (a corrected claim's session stands)."""
    since = _years_before(claim.date_of_service, LOOKBACK_YEARS)
    earlier = [
        s
        for s in history
        if s.patient_id == claim.patient_id
        and s.rendering_provider_id == provider_id
        and s.claim_key != claim.claim_key
        and s.session_id != claim.session_id
        and (not s.voided or s.replaced)
        and since <= s.date_of_service < claim.date_of_service
        and s.code not in _NOT_FACE_TO_FACE
    ]
    return max(earlier, key=lambda s: s.date_of_service, default=None)


def new_patient_visit_for_a_new_patient(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """A new-patient E/M line is held when the same clinician billed the patient a face-to-face
    service on an earlier date in the last three years: bill the established-patient code."""
    findings = []
    for index, line in enumerate(claim.lines):
        established = ESTABLISHED_PATIENT_CODE.get(line.code)
        if established is None:
            continue
        provider_id = (line.rendering or claim.rendering).provider_id
        seen = _earlier_service(claim, provider_id, context.history)
        if seen is None:
            continue
        findings.append(
            Finding(
                edit="new_patient_visit_for_a_new_patient",
                code="em.established_patient",
                severity=Severity.HOLD,
                message=(
                    f"line {line.line_number}: {line.code} is a new-patient visit, but the same clinician "
                    f"billed {seen.code} for the patient on {seen.date_of_service.isoformat()} (claim "
                    f"{seen.claim_key}), within {LOOKBACK_YEARS} years: the patient is established (CPT)"
                ),
                field=f"lines[{index}].code",
                fix=f"bill the established-patient code of the same level, {established}",
            )
        )
    return findings
