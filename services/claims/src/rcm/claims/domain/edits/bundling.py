"""Edits on code combinations: same-day pairs that bundle, and add-ons without their primary."""

from __future__ import annotations

from rcm.claims.domain.bundling import DISTINCT_SERVICE_MODIFIERS, ModifierIndicator, pairs_naming
from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.codes import ADD_ON_PRIMARIES, INTERACTIVE_COMPLEXITY
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["add_ons_have_primary", "same_day_pairs"]

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
