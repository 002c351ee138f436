"""Edits on who pays: coverage in force, eligibility confirmed (the service covered, not carved
out to another entity), payers in the right order."""

from __future__ import annotations

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.common import Modality
from rcm.claims.domain.coverage import CoveragePriority, EligibilityStatus
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["coverage_active", "payer_order"]


def _finding(code: str, message: str, fix: str, severity: Severity = Severity.HOLD) -> Finding:
    return Finding(
        edit="coverage_active", code=code, severity=severity, message=message, field="coverage", fix=fix
    )


def coverage_active(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The billed coverage is in force on the DOS and the latest eligibility result says active."""
    day = claim.date_of_service
    coverage = next((c for c in context.coverages if c.coverage_id == claim.coverage_id), None)
    if coverage is None:
        return [_finding("coverage.unknown", "the billed coverage is not on file", "record the coverage")]
    if not coverage.effective.contains(day):
        return [
            _finding(
                "coverage.not_effective",
                f"the coverage is not in force on {day.isoformat()} (CARC 26/27 risk)",
                "re-verify eligibility and bill the coverage in force, or the patient",
            )
        ]
    results = [r for r in context.eligibility if r.coverage_id == coverage.coverage_id and r.speaks_for(day)]
    latest = max(results, key=lambda r: r.checked_at, default=None)
    if latest is None:
        severity = Severity.HOLD if context.rules.requires_eligibility_check else Severity.WARN
        return [
            _finding(
                "eligibility.unchecked",
                f"no eligibility result for the coverage on {day.isoformat()}",
                "run an eligibility check (270/271) for the date of service",
                severity,
            )
        ]
    if latest.status is not EligibilityStatus.ACTIVE:
        return [
            _finding(
                f"eligibility.{latest.status.value}",
                f"the latest eligibility check says {latest.status.value} for {day.isoformat()}",
                "confirm the member id and plan, re-run eligibility or find other coverage",
            )
        ]
    carve_out = latest.carve_out
    earlier_payers = {
        c.payer_id
        for c in context.coverages
        if c.patient_id == claim.patient_id and c.priority.rank < claim.payer_order.rank
    }
    if (
        carve_out is not None
        and carve_out.covers(latest.service_type_code)
        and (carve_out.payer_id is None or carve_out.payer_id != claim.payer_id)
        # a later payer's 271 naming the payer before it is coordination of benefits: that
        # payer has adjudicated the claim already
        and carve_out.payer_id not in earlier_payers
    ):
        return [
            _finding(
                "eligibility.carved_out",
                f"benefit administered by {carve_out.label}: bill the carve-out payer",
                "record the carve-out payer's coverage for the patient and bill it; "
                "check eligibility with it",
            )
        ]
    if latest.covered is False:
        service = f"service type {latest.service_type_code}" if latest.service_type_code else "the service"
        return [
            _finding(
                "eligibility.not_covered",
                f"the payer's 271 says {service} is not covered on {day.isoformat()}",
                "bill another coverage that covers it, or the patient per the financial policy; "
                "re-run eligibility if the plan changed",
            )
        ]
    if latest.telehealth_covered is False and claim.modality is not Modality.IN_PERSON:
        # a warning kept with the claim: the 271's telehealth answer does not say which place
        # (02 or the patient's home, 10) it excludes, so it cannot hold a claim on its own
        service = f"service type {latest.service_type_code}" if latest.service_type_code else "the service"
        return [
            _finding(
                "eligibility.telehealth_not_covered",
                f"the payer's 271 says {service} is not covered by telehealth on {day.isoformat()}",
                "check the payer's telehealth policy for the place of service; bill another coverage "
                "or the patient per the financial policy if it is not covered",
                Severity.WARN,
            )
        ]
    if latest.visits_remaining == 0:
        # a warning kept with the claim, not a hold: many plans pay past a visit limit with an
        # authorization or a medical-necessity review
        return [
            _finding(
                "eligibility.visit_limit_reached",
                f"the payer's 271 of {latest.checked_at.date().isoformat()} reports no visits left on "
                "the benefit (CARC 119 risk)",
                "ask the payer for more visits or an authorization, or tell the patient the visit may "
                "be theirs per the financial policy",
                Severity.WARN,
            )
        ]
    return []


def payer_order(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The claim goes to the payer whose turn it is: the primary first, then secondary, tertiary."""
    day = claim.date_of_service
    in_force = [
        c for c in context.coverages if c.patient_id == claim.patient_id and c.effective.contains(day)
    ]
    billed = next((c for c in in_force if c.coverage_id == claim.coverage_id), None)
    if billed is None:
        return []  # coverage_active reports it
    findings: list[Finding] = []
    ranks = [c.priority for c in in_force]
    if ranks.count(billed.priority) > 1:
        findings.append(
            Finding(
                edit="payer_order",
                code="payer_order.ambiguous",
                severity=Severity.HOLD,
                message=f"{ranks.count(billed.priority)} coverages are {billed.priority.value} on the DOS",
                field="coverage.priority",
                fix="set the order of the patient's coverages (run a COB check)",
            )
        )
    if claim.payer_order is not billed.priority:
        findings.append(
            Finding(
                edit="payer_order",
                code="payer_order.mismatch",
                severity=Severity.HOLD,
                message=f"the claim is sent as {claim.payer_order.value} to a {billed.priority.value} coverage",
                field="payer_order",
                fix="rebuild the claim for the coverage's order",
            )
        )
    higher = [c for c in in_force if c.priority.rank < billed.priority.rank]
    if billed.priority is not CoveragePriority.PRIMARY and higher and not context.prior_payer_adjudicated:
        findings.append(
            Finding(
                edit="payer_order",
                code="payer_order.primary_first",
                severity=Severity.HOLD,
                message=f"the {higher[0].priority.value} payer has not adjudicated this service yet",
                field="payer_order",
                fix=f"bill payer {higher[0].payer_id} first; this claim follows its remit",
            )
        )
    if (
        claim.payer_order is not CoveragePriority.PRIMARY
        and context.rules.medicare
        and not billed.medicare_secondary_type
    ):
        findings.append(
            Finding(
                edit="payer_order",
                code="payer_order.msp_type_missing",
                severity=Severity.HOLD,
                message="Medicare as a later payer needs the Medicare Secondary Payer type (837P SBR05)",
                field="coverage.medicare_secondary_type",
                fix="record why the other coverage pays first (working aged, disability, liability...)",
            )
        )
    if billed.priority is not CoveragePriority.PRIMARY and not higher:
        findings.append(
            Finding(
                edit="payer_order",
                code="payer_order.no_primary",
                severity=Severity.HOLD,
                message=f"a {billed.priority.value} claim with no higher-order coverage in force",
                field="coverage.priority",
                fix="correct the coverage order: this coverage may now be primary",
            )
        )
    return findings
