"""Edits on when and whether to file: the timely-filing window and duplicates."""

from __future__ import annotations

from datetime import timedelta

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["not_a_duplicate", "timely_filing"]


def timely_filing(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Today is within the payer's filing window from the DOS (warn as the deadline nears)."""
    rules = context.rules
    deadline = claim.date_of_service + timedelta(days=rules.timely_filing_days)
    left = (deadline - context.today).days
    if left < 0:
        return [
            Finding(
                edit="timely_filing",
                code="filing.late",
                severity=Severity.HOLD,
                message=(
                    f"the filing window of {rules.timely_filing_days} days closed on {deadline.isoformat()} "
                    "(CARC 29 risk)"
                ),
                field="date_of_service",
                fix="file with proof of timely filing if there is one, else write off",
            )
        ]
    if left <= rules.timely_filing_warning_days:
        return [
            Finding(
                edit="timely_filing",
                code="filing.deadline_near",
                severity=Severity.WARN,
                message=f"{left} days left to file (deadline {deadline.isoformat()})",
                field="date_of_service",
                fix="send this claim first",
            )
        ]
    return []


def not_a_duplicate(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """No other live claim bills the same patient, provider, date and code."""
    findings = []
    for index, line in enumerate(claim.lines):
        twin = next(
            (
                s
                for s in context.history
                if not s.voided
                and s.claim_key != claim.claim_key
                and s.patient_id == claim.patient_id
                and s.rendering_provider_id == claim.rendering.provider_id
                and s.date_of_service == claim.date_of_service
                and s.code == line.code
            ),
            None,
        )
        if twin is not None:
            findings.append(
                Finding(
                    edit="not_a_duplicate",
                    code="duplicate.claim",
                    severity=Severity.HOLD,
                    message=f"{line.code} on this date is already billed on claim {twin.claim_key} (CARC 18 risk)",
                    field=f"lines[{index}]",
                    fix="void one of the two, or send a corrected claim instead of a new one",
                )
            )
    return findings
