"""Edit on a later payer's claim: the prior payer's adjudication balances against the charges.

005010X222A1 sends the prior payer's decision with the claim and has it balance, per payer:
each line's charge (SV102) is what that payer paid on it (2430 SVD02) plus its line
adjustments (2430 CAS), and the claim's charge (CLM02) is what it paid on the claim (2320
AMT*D) plus its claim-level (2320 CAS) and line-level adjustments. A claim that does not
balance is rejected by the clearinghouse; it happens when the prior payer's remit adjudicated
other charges than this claim bills (a line it did not report, a charge changed since).
"""

from __future__ import annotations

from decimal import Decimal

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.cob import prior_line_of_each
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["prior_adjudication_balances"]

_FIX = "post the prior payer's remit for every line billed, or correct the charges to those it adjudicated"


def prior_adjudication_balances(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The prior payer's paid amounts and adjustments add up to the charges, line and claim."""
    prior = context.prior
    if prior is None:
        return []
    findings = []
    matched = prior_line_of_each(claim, prior)  # the 2430 each line is sent with
    for i, (line, adjudicated) in enumerate(zip(claim.lines, matched, strict=True)):
        if adjudicated is None:
            continue
        adjusted = sum((a.amount for a in adjudicated.adjustments), Decimal(0))
        if adjudicated.paid + adjusted != line.charge:
            findings.append(
                Finding(
                    edit="prior_adjudication_balances",
                    code="cob.line_unbalanced",
                    severity=Severity.HOLD,
                    message=f"the prior payer paid {adjudicated.paid} and adjusted {adjusted} on a line"
                    f" charged {line.charge} (2430 SVD02 + CAS must equal SV102)",
                    field=f"lines[{i}]",
                    fix=_FIX,
                )
            )
    total = (
        prior.paid
        + sum((a.amount for a in prior.claim_adjustments), Decimal(0))
        + sum((a.amount for line in matched if line is not None for a in line.adjustments), Decimal(0))
    )
    if total != claim.total_charge:
        findings.append(
            Finding(
                edit="prior_adjudication_balances",
                code="cob.claim_unbalanced",
                severity=Severity.HOLD,
                message=f"the prior payer's paid amount and adjustments come to {total} against a claim"
                f" charge of {claim.total_charge} (2320 AMT*D + CAS + 2430 CAS must equal CLM02)",
                field="cob",
                fix=_FIX,
            )
        )
    return findings
