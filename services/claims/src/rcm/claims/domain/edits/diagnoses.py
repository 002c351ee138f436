"""Edits on diagnoses: well-formed ICD-10-CM codes, and every line pointing to them."""

from __future__ import annotations

import re

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["MAX_DIAGNOSES", "diagnoses_pointed_to", "diagnosis_codes_well_formed", "icd10_problem"]

MAX_DIAGNOSES = 12
MAX_POINTERS = 4

# Letter, digit, letter-or-digit, then up to four more characters; stored without the dot.
_ICD10_CM = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")

# Three-character mental-health categories that are complete codes; every other F
# category is a header needing more characters (F32 -> F32.9, F41 -> F41.1 ...).
_COMPLETE_F_CATEGORIES = frozenset(
    {"F04", "F05", "F09", "F21", "F22", "F23", "F24", "F28", "F29", "F39", "F54", "F59", "F66", "F69"}
    | {"F70", "F71", "F72", "F73", "F79", "F82", "F88", "F89", "F99"}
)
# Common behavioural-health subcategories that still need a further character.
_HEADER_SUBCATEGORIES = frozenset(
    {f"F1{n}{sub}" for n in range(10) for sub in "129"}
    | {"F313", "F316", "F317", "F318", "F328", "F334", "F431", "F432", "F500"}
)


def icd10_problem(code: str) -> str | None:
    """Why ``code`` (without dot) is not a billable ICD-10-CM code, or None when it looks fine.

    Checks the format and, for mental-health codes, the common header codes; it does not
    look codes up in the full code set.
    """
    if not _ICD10_CM.match(code):
        return "is not ICD-10-CM (letter, digit, letter or digit, then up to 4 characters)"
    if code.startswith("F") and len(code) == 3 and code not in _COMPLETE_F_CATEGORIES:
        return "is a category header; code it to the full specificity (e.g. F32 -> F32.9)"
    if code in _HEADER_SUBCATEGORIES:
        return "is a subcategory header; add the final character"
    return None


def diagnosis_codes_well_formed(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Each diagnosis is a well-formed ICD-10-CM code, not a header; at most 12."""
    findings = []
    for index, code in enumerate(claim.diagnoses):
        problem = icd10_problem(code)
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
