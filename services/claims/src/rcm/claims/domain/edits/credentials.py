"""Edit on who may bill a code: medical services need a clinician who can prescribe.

E/M visits, the psychotherapy add-ons that follow them and 90792 (evaluation with medical
services) are billed by MD/DO/NP/PA; clinical social workers, counselors, therapists and
psychologists bill 90791 and the standalone psychotherapy codes instead (Medicare says
so for CSWs and clinical psychologists; scopes of practice say so elsewhere).

The other way round, health behavior assessment and intervention (96156-96171) is for
clinicians who do not bill E/M: CPT tells a physician or other clinician who may report E/M
to report those services with E/M codes.

Behavior change interventions (SBIRT 99408/99409 and Medicare's G2011/G0396/G0397, tobacco
cessation 99406/99407) are reported by a physician or other qualified health care professional
(CPT), prescriber or not: Medicare names physicians, NPs, PAs, clinical nurse specialists,
clinical psychologists and clinical social workers for SBIRT, and any "Medicare-recognized
practitioner" for tobacco cessation (NCD 210.4.1). So are biofeedback psychotherapy and 90880-90889,
within each clinician's scope of practice. None of them is held here; a pre-licensed clinician's
claim is checked by the supervising-provider edit, as for psychotherapy.
"""

from __future__ import annotations

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.codes import EM_CODES, HEALTH_BEHAVIOR_CODES, PSYCHOTHERAPY_ADD_ON_CODES
from rcm.claims.domain.common import PRESCRIBERS
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["MEDICAL_SERVICE_CODES", "rendering_may_bill_codes"]

MEDICAL_SERVICE_CODES: frozenset[str] = frozenset(EM_CODES | PSYCHOTHERAPY_ADD_ON_CODES | {"90792"})
"""Codes that include medical services."""


def rendering_may_bill_codes(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Codes with medical services are rendered by a prescriber, health behavior codes by a
    clinician who does not bill E/M (CARC 8/170 otherwise)."""
    credential = claim.rendering.credential
    if credential in PRESCRIBERS:
        return [
            Finding(
                edit="rendering_may_bill_codes",
                code="code.not_for_credential",
                severity=Severity.HOLD,
                message=(
                    f"{line.code} is health behavior assessment or intervention; a {credential.value} "
                    "who may bill E/M reports it with E/M codes (CPT; CARC 8/170 risk)"
                ),
                field=f"lines[{index}]",
                fix="bill the E/M visit (or 99401-99404 preventive counseling) instead",
            )
            for index, line in enumerate(claim.lines)
            if line.code in HEALTH_BEHAVIOR_CODES
        ]
    return [
        Finding(
            edit="rendering_may_bill_codes",
            code="code.not_for_credential",
            severity=Severity.HOLD,
            message=(
                f"{line.code} includes medical services; a {credential.value} may not bill it (CARC 8/170 risk)"
            ),
            field=f"lines[{index}]",
            fix="bill 90791 or the standalone psychotherapy code, or the prescriber who rendered it",
        )
        for index, line in enumerate(claim.lines)
        if line.code in MEDICAL_SERVICE_CODES
    ]
