"""Edits on diagnoses: well-formed ICD-10-CM codes, and every line pointing to them."""

from __future__ import annotations

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.diagnosis_codes import icd10_problem
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["MAX_DIAGNOSES", "diagnoses_pointed_to", "diagnosis_codes_well_formed", "icd10_problem"]

MAX_DIAGNOSES = 12
MAX_POINTERS = 4


def diagnosis_codes_well_formed(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Each diagnosis is a well-formed ICD-10-CM code, not a header, listed once; at most 12."""
    findings = []
    seen: set[str] = set()
    for index, code in enumerate(claim.diagnoses):
        if code in seen:
            findings.append(
                Finding(
                    edit="diagnosis_codes_well_formed",
                    code="diagnosis.duplicate",
                    severity=Severity.HOLD,
                    message=f"diagnosis {index + 1} ({code}) repeats an earlier diagnosis on the claim",
                    field=f"diagnoses[{index}]",
                    fix="list each diagnosis once and point the lines to it",
                )
            )
        seen.add(code)
        problem = icd10_problem(code, claim.date_of_service)
        if problem:
            findings.append(
                Finding(
                    edit="diagnosis_codes_well_formed",
                    code="diagnosis.invalid",
                    severity=Severity.HOLD,
                    message=f"diagnosis {index + 1} ({code}) {problem}",
                    field=f"diagnoses[{index}]",
                    fix="correct the diagnosis in the clinical note",
                )
            )
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        findings.append(
            Finding(
                edit="diagnosis_codes_well_formed",
                code="diagnosis.too_many",
                severity=Severity.HOLD,
                message=f"{len(claim.diagnoses)} diagnoses; an 837P claim carries at most {MAX_DIAGNOSES}",
                field="diagnoses",
                fix="keep the diagnoses relevant to the billed services",
            )
        )
    return findings


def diagnoses_pointed_to(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Every line points to 1-4 claim diagnoses; a diagnosis no line points to is worth a look."""
    findings = []
    count = len(claim.diagnoses)
    for index, line in enumerate(claim.lines):
        pointers = line.diagnosis_pointers
        if not pointers or len(pointers) > MAX_POINTERS or any(not 1 <= p <= count for p in pointers):
            findings.append(
                Finding(
                    edit="diagnoses_pointed_to",
                    code="diagnosis.pointer",
                    severity=Severity.HOLD,
                    message=f"line {line.line_number} ({line.code}) points to {list(pointers)} of {count} diagnoses",
                    field=f"lines[{index}].diagnosis_pointers",
                    fix=f"point each line to 1-{MAX_POINTERS} of the claim's diagnoses",
                )
            )
    pointed = {p for line in claim.lines for p in line.diagnosis_pointers}
    unpointed = [i for i in range(1, count + 1) if i not in pointed]
    if unpointed:
        findings.append(
            Finding(
                edit="diagnoses_pointed_to",
                code="diagnosis.unpointed",
                severity=Severity.WARN,
                message=f"diagnoses {unpointed} are not pointed to by any line",
                field="diagnoses",
                fix="drop them or point a line to them",
            )
        )
    return findings
