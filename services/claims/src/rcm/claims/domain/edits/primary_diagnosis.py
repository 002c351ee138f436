"""Edit on the first diagnosis: what may be listed first on the claim and on each line.

ICD-10-CM never lists an external cause (V00-Y99) or a manifestation code (F02) first.
Payers want a mental disorder first on psychiatric services (a Z-code alone is a CO-11
denial, unless the payer says otherwise), and a physical condition first on health
behavior assessment and intervention.
"""

from __future__ import annotations

from rcm.claims.domain.claim import ClaimDraft, ServiceLine
from rcm.claims.domain.codes import ADD_ON_CODES, HEALTH_BEHAVIOR_CODES, PSYCHIATRIC_CODES
from rcm.claims.domain.diagnosis_codes import external_cause, manifestation, mental_disorder, z_code
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity
from rcm.claims.domain.payer_rules import PayerRules

__all__ = ["primary_diagnosis_fits_service"]

_EDIT = "primary_diagnosis_fits_service"


def _never_first(code: str) -> str | None:
    if external_cause(code):
        return "is an external cause code, never listed first"
    if manifestation(code):
        return "is a manifestation code: list the underlying condition first (e.g. G30.9 before F02.80)"
    return None


def _line_problem(line: ServiceLine, first: str, rules: PayerRules) -> tuple[str, str, str] | None:
    """(finding code, message, fix) when the line's first diagnosis does not fit its service."""
    if line.code in HEALTH_BEHAVIOR_CODES and mental_disorder(first):
        return (
            "diagnosis.health_behavior_primary",
            f"{line.code} points first to {first}: health behavior services treat a physical condition "
            "(CARC 11 risk)",
            "point the line first to the physical diagnosis, or bill a psychiatric code instead",
        )
    allowed = rules.z_code_primary_allowed or line.code in rules.z_code_primary_codes
    if line.code in PSYCHIATRIC_CODES and z_code(first) and not allowed:
        return (
            "diagnosis.z_code_primary",
            f"{line.code} points first to {first}: this payer wants a mental disorder (F01-F99) first "
            "on psychiatric services (CARC 11 risk)",
            "list the treated mental disorder first; keep the Z-code as a secondary diagnosis",
        )
    problem = _never_first(first)
    if problem is not None:
        return ("diagnosis.first_listed", f"{line.code} points first to {first}, which {problem}", "reorder")
    return None


def primary_diagnosis_fits_service(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The claim's first diagnosis may be listed first, and each line's first fits its service."""
    findings = []
    principal = claim.diagnoses[0] if claim.diagnoses else None
    problem = _never_first(principal) if principal else None
    if problem is not None:
        findings.append(
            Finding(
                edit=_EDIT,
                code="diagnosis.first_listed",
                severity=Severity.HOLD,
                message=f"the claim's first diagnosis ({principal}) {problem}",
                field="diagnoses[0]",
                fix="list the condition treated first",
            )
        )
    for index, line in enumerate(claim.lines):
        pointers = line.diagnosis_pointers
        if line.code in ADD_ON_CODES or not pointers or not 1 <= pointers[0] <= len(claim.diagnoses):
            continue
        first = claim.diagnoses[pointers[0] - 1]
        if pointers[0] == 1 and problem is not None:
            continue
        found = _line_problem(line, first, context.rules)
        if found is not None:
            code, message, fix = found
            findings.append(
                Finding(
                    edit=_EDIT,
                    code=code,
                    severity=Severity.HOLD,
                    message=f"line {line.line_number}: {message}",
                    field=f"lines[{index}].diagnosis_pointers",
                    fix=fix,
                )
            )
    return findings
