"""Edits on code combinations: same-day pairs that bundle, an E/M beside a behavior change
intervention without 25, and add-ons without their primary."""

from __future__ import annotations

from rcm.claims.domain.bundling import DISTINCT_SERVICE_MODIFIERS, ModifierIndicator, pairs_naming
from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.codes import ADD_ON_PRIMARIES, BEHAVIOR_CHANGE_CODES, EM_CODES, INTERACTIVE_COMPLEXITY
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["add_ons_have_primary", "em_marked_beside_behavior_change", "same_day_pairs"]

_NO_INTERACTIVE_COMPLEXITY = frozenset({"90839", "90840", "90846", "90847"})


def same_day_pairs(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """No same-day pair that bundles for this patient and provider, unless 59/X{EPSU} allows it."""
    if not context.rules.ncci_edits:
        return []
    own = {line.code: set(line.modifiers) for line in claim.lines}
    earlier: dict[str, set[str]] = {}
    for service in context.history:
        if (
            not service.voided
            and service.claim_key != claim.claim_key
            and service.patient_id == claim.patient_id
            and service.rendering_provider_id == claim.rendering.provider_id
            and service.date_of_service == claim.date_of_service
        ):
            earlier.setdefault(service.code, set()).update(service.modifiers)
    day = {**earlier, **own}
    findings = []
    for pair in pairs_naming(own, context.rules.bundling_pairs):
        if not pair.matches(day):
            continue
        if pair.indicator is ModifierIndicator.WITH_DISTINCT_SERVICE and day[pair.column_two] & (
            DISTINCT_SERVICE_MODIFIERS
        ):
            continue
        where = "on this claim" if pair.column_one in own and pair.column_two in own else "the same day"
        fix = (
            f"if the services were distinct and documented, append 59/XE to {pair.column_two}; else bill one"
            if pair.indicator is ModifierIndicator.WITH_DISTINCT_SERVICE
            else f"bill only one of {pair.column_one} and {pair.column_two}"
        )
        findings.append(
            Finding(
                edit="same_day_pairs",
                code="bundling.same_day_pair",
                severity=Severity.HOLD,
                message=f"{pair.column_one} and {pair.column_two} {where}: {pair.why} (CARC 97/231/236 risk)",
                field="lines",
                fix=fix,
            )
        )
    return findings


def em_marked_beside_behavior_change(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """An E/M line billed the day of a behavior change intervention (SBIRT 99408/99409,
    G2011/G0396/G0397; tobacco cessation 99406/99407) by the same clinician, on this claim or
    another, carries 25: the E/M is paid beside it only as a separately identifiable service (CMS,
    CPT)."""
    day = set(claim.codes) | {
        s.code
        for s in context.history
        if not s.voided
        and s.claim_key != claim.claim_key
        and s.patient_id == claim.patient_id
        and s.rendering_provider_id == claim.rendering.provider_id
        and s.date_of_service == claim.date_of_service
    }
    beside = sorted(day & BEHAVIOR_CHANGE_CODES)
    if not beside:
        return []
    return [
        Finding(
            edit="em_marked_beside_behavior_change",
            code="modifier.em_without_25",
            severity=Severity.HOLD,
            message=(
                f"{line.code} is billed the day of {beside[0]} by the same clinician without 25 "
                "(CARC 97/4 risk)"
            ),
            field=f"lines[{index}].modifiers",
            fix=(
                f"append 25 to {line.code} if the E/M was separately identifiable and the counseling time "
                "did not count towards its level; else bill only the intervention"
            ),
        )
        for index, line in enumerate(claim.lines)
        if line.code in EM_CODES and "25" not in line.modifiers
    ]


def add_ons_have_primary(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Each add-on code is billed with a primary code it may accompany (+90785 not with crisis or family)."""
    codes = set(claim.codes)
    findings = []
    for index, line in enumerate(claim.lines):
        primaries = ADD_ON_PRIMARIES.get(line.code)
        if primaries is None:
            continue
        if line.code == INTERACTIVE_COMPLEXITY and codes & _NO_INTERACTIVE_COMPLEXITY:
            findings.append(
                Finding(
                    edit="add_ons_have_primary",
                    code="add_on.not_allowed",
                    severity=Severity.HOLD,
                    message="+90785 is not billed with crisis (90839/90840) or family (90846/90847) psychotherapy",
                    field=f"lines[{index}]",
                    fix="remove +90785",
                )
            )
        elif line.code == "99417" and context.rules.medicare:
            findings.append(
                Finding(
                    edit="add_ons_have_primary",
                    code="add_on.not_allowed",
                    severity=Severity.HOLD,
                    message="Medicare does not pay +99417; it reports prolonged office time with G2212",
                    field=f"lines[{index}]",
                    fix="bill G2212 for the time past the Medicare threshold (99215: 69 min, 99205: 89 min)",
                )
            )
        elif not codes & primaries:
            findings.append(
                Finding(
                    edit="add_ons_have_primary",
                    code="add_on.no_primary",
                    severity=Severity.HOLD,
                    message=f"add-on {line.code} is billed without a primary code it may follow",
                    field=f"lines[{index}]",
                    fix=f"bill it with one of {', '.join(sorted(primaries)[:6])} or remove it",
                )
            )
    return findings
