"""Edit on prior authorization: present, covering code, date and provider, with visits left, on the claim."""

from __future__ import annotations

from rcm.claims.domain.authorizations import matching_authorization
from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["authorization_due", "prior_authorization"]


def _why_none(claim: ClaimDraft, context: ScrubContext, code: str) -> str:
    mine = [
        a for a in context.authorizations if a.patient_id == claim.patient_id and a.payer_id == claim.payer_id
    ]
    if not mine:
        return "no authorization is on file (CARC 197 risk)"
    day = claim.date_of_service
    if not any(a.valid.contains(day) for a in mine):
        return f"no authorization covers {day.isoformat()} (CARC 197 risk)"
    if not any(not a.procedure_codes or code in a.procedure_codes for a in mine):
        return f"no authorization covers {code} (CARC 284 risk)"
    provider = claim.rendering.provider_id
    if not any(a.covers(code=code, day=day, provider_id=provider) for a in mine):
        return "the authorization is for another provider (CARC 296 risk)"
    return "the authorization has no visits left (CARC 198 risk)"


def authorization_due(context: ScrubContext, code: str) -> bool:
    """Whether the payer wants an authorization for ``code`` on this claim: the code needs one
    and the patient's earlier visits used up those the payer allows without (``after_visits``)."""
    requirement = context.rules.auth_requirement(code)
    return requirement is not None and context.prior_visits >= requirement.after_visits


def prior_authorization(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Codes the payer authorizes have a usable authorization, and its number is on the claim (REF*G1)."""
    findings = []
    for index, line in enumerate(claim.lines):
        if not authorization_due(context, line.code):
            continue
        auth = matching_authorization(
            context.authorizations,
            patient_id=claim.patient_id,
            payer_id=claim.payer_id,
            codes=[line.code],
            day=claim.date_of_service,
            provider_id=claim.rendering.provider_id,
            preferred_id=claim.authorization_id,
        )
        if auth is None:
            findings.append(
                Finding(
                    edit="prior_authorization",
                    code="auth.missing",
                    severity=Severity.HOLD,
                    message=f"{line.code} needs prior authorization: {_why_none(claim, context, line.code)}",
                    field=f"lines[{index}]",
                    fix="request the authorization (or a retro-authorization, or an extension)",
                )
            )
        elif claim.prior_authorization_number != auth.auth_number:
            findings.append(
                Finding(
                    edit="prior_authorization",
                    code="auth.not_on_claim",
                    severity=Severity.HOLD,
                    message=f"authorization {auth.auth_number} covers {line.code} but is not on the claim",
                    field="prior_authorization_number",
                    fix=f"put {auth.auth_number} on the claim as REF*G1",
                )
            )
    return findings
