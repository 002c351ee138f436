"""Edit on codes Medicare fee-for-service does not pay under the physician fee schedule (PFS).

The PFS relative value file gives each code a status: A is paid; B is bundled (covered, but
always paid within other services, never separately); I is not valid for Medicare (Medicare pays
another code for the service); N is not covered. The behavioral-health codes this engine bills
that Medicare does not pay:

* N, not covered: 90875 and 90876 (biofeedback psychotherapy; Medicare covers biofeedback only
  for the conditions of NCD 30.1), 90882 (environmental intervention);
* B, bundled: 90885 (evaluation of records), 90887 (explanation of results to the family), 90889
  (report preparation): their work is paid within the visits they belong to;
* I, not valid: 99408 and 99409 (SBIRT): Medicare pays G0396/G0397 (and G2011) instead, which
  coding chooses for a Medicare payer.

90880 (hypnotherapy), 99406/99407 (tobacco cessation) and the SBIRT G-codes are status A: paid.
A line with one of these codes on a claim to Medicare is held, as the edits hold any line the
payer will not pay (Medicare's +99417): a person decides whether to drop it, bill the patient
(not for a bundled service) or send it for a denial a secondary payer needs.
"""

from __future__ import annotations

from enum import StrEnum

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["MEDICARE_PFS_STATUS", "PfsStatus", "medicare_pays_the_code"]


class PfsStatus(StrEnum):
    """The Medicare physician fee schedule statuses under which a code is not paid separately."""

    BUNDLED = "B"
    NOT_VALID = "I"
    NOT_COVERED = "N"


MEDICARE_PFS_STATUS: dict[str, PfsStatus] = {
    "90875": PfsStatus.NOT_COVERED,
    "90876": PfsStatus.NOT_COVERED,
    "90882": PfsStatus.NOT_COVERED,
    "90885": PfsStatus.BUNDLED,
    "90887": PfsStatus.BUNDLED,
    "90889": PfsStatus.BUNDLED,
    "99408": PfsStatus.NOT_VALID,
    "99409": PfsStatus.NOT_VALID,
}
"""The behavioral-health codes billed here that Medicare does not pay, by PFS status."""

_MEDICARE_CODE = {"99408": "G0396", "99409": "G0397"}

_WHY: dict[PfsStatus, tuple[str, str, str]] = {
    PfsStatus.NOT_COVERED: (
        "code.medicare_not_covered",
        "is not covered by Medicare (PFS status N; CARC 96/204 risk)",
        "bill the patient per the financial policy (a voluntary ABN notice), or send the line with GY "
        "if a secondary payer needs Medicare's denial; else drop the line",
    ),
    PfsStatus.BUNDLED: (
        "code.medicare_bundled",
        "is bundled by Medicare: never paid separately, nor billable to the patient (PFS status B; "
        "CARC 97 risk)",
        "drop the line: its work is paid within the visit it belongs to",
    ),
    PfsStatus.NOT_VALID: (
        "code.medicare_not_valid",
        "is not valid for Medicare, which pays another code for the service (PFS status I; CARC 181 risk)",
        "",
    ),
}


def medicare_pays_the_code(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """On a claim to Medicare fee-for-service, no line bills a code the PFS does not pay."""
    if not context.rules.medicare:
        return []
    findings = []
    for index, line in enumerate(claim.lines):
        status = MEDICARE_PFS_STATUS.get(line.code)
        if status is None:
            continue
        code, why, fix = _WHY[status]
        if status is PfsStatus.NOT_VALID:
            fix = f"bill Medicare's {_MEDICARE_CODE[line.code]} for the same minutes (recode the session)"
        findings.append(
            Finding(
                edit="medicare_pays_the_code",
                code=code,
                severity=Severity.HOLD,
                message=f"{line.code} {why}",
                field=f"lines[{index}]",
                fix=fix,
            )
        )
    return findings
