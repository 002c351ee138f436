"""Edit on units: codes reported once per session or day carry one unit; per-day caps hold.

Psychotherapy is one code chosen by time, never several units of it (the only exception
is a payer's opt-in to report a long session as 2 x 90834). The base codes of testing and
health behavior intervention (96130, 96136, 96158 ...) are once a day too. Add-on codes
counted in increments (+90840, +G0018, +96131 ...) and HCPCS codes billed per 15 minutes are not
limited here.
"""

from __future__ import annotations

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.codes import (
    AUTOMATED_TEST,
    BEHAVIOR_CHANGE_CODES,
    BIOFEEDBACK_PSYCHOTHERAPY_CODES,
    CARE_MANAGEMENT_CODES,
    COLLABORATIVE_CARE_ADD_ON,
    CRISIS_CODES,
    EM_CODES,
    FAMILY_CODES,
    INDIVIDUAL_PSYCHOTHERAPY_CODES,
    INTAKE_CODES,
    INTERACTIVE_COMPLEXITY,
    OTHER_PSYCHIATRIC_CODES,
    PSYCHOTHERAPY_ADD_ON_CODES,
)
from rcm.claims.domain.coding.timed_families import HEALTH_BEHAVIOR_FAMILIES, TESTING_FAMILIES
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity
from rcm.claims.domain.history import capped_lines, units_billed
from rcm.claims.domain.payer_rules import PayerRules

__all__ = ["ONE_UNIT_CODES", "units_fit_the_code", "units_fit_the_day"]

ONE_UNIT_CODES: frozenset[str] = frozenset(
    INTAKE_CODES
    | INDIVIDUAL_PSYCHOTHERAPY_CODES
    | PSYCHOTHERAPY_ADD_ON_CODES
    | FAMILY_CODES
    | EM_CODES
    | (CRISIS_CODES - {"90840", "G0018"})
    | {INTERACTIVE_COMPLEXITY, "90849", "90853", "96156", AUTOMATED_TEST}
    | {family.base for family in (*TESTING_FAMILIES, *HEALTH_BEHAVIOR_FAMILIES)}
    | (CARE_MANAGEMENT_CODES - {COLLABORATIVE_CARE_ADD_ON})
    | BEHAVIOR_CHANGE_CODES
    | BIOFEEDBACK_PSYCHOTHERAPY_CODES
    | OTHER_PSYCHIATRIC_CODES
)
"""Codes that describe a whole session or day: one unit per line. The base codes of testing and
health behavior intervention cover the first hour or 30 minutes of the day (CMS MUE 1); the time
beyond it is reported with the add-on. The care-management codes of a month (99492, 99493, G2214,
99484) are one unit too: the month's further time is +99494's. SBIRT (99408/99409, G2011/G0396/G0397),
tobacco cessation (99406/99407), biofeedback psychotherapy (90875/90876) and 90880-90889 are one code
chosen by the time, or one untimed service: CMS MUE 1 a day."""


def _most_units(code: str, rules: PayerRules) -> int | None:
    if code == "90834" and rules.prolonged_psychotherapy_as_two_units:
        return 2
    if code in ONE_UNIT_CODES:
        return 1
    return rules.unit_rounding.daily_unit_caps.get(code)


def units_fit_the_code(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """No line carries more units than its code allows in a day (MUE-style)."""
    findings = []
    for index, line in enumerate(claim.lines):
        most = _most_units(line.code, context.rules)
        if most is None or line.units <= most:
            continue
        findings.append(
            Finding(
                edit="units_fit_the_code",
                code="units.too_many",
                severity=Severity.HOLD,
                message=(
                    f"line {line.line_number} bills {line.units} units of {line.code}; at most {most} "
                    f"{'a month' if line.code in CARE_MANAGEMENT_CODES else 'a day'}"
                ),
                field=f"lines[{index}].units",
                fix=(
                    "bill the single code the time supports (e.g. 90837), not several units"
                    if most == 1
                    else f"bill at most {most} units"
                ),
            )
        )
    return findings


def units_fit_the_day(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The patient's units of a code the payer caps a day (``daily_unit_caps``), on this claim and
    on the day's other claims by any clinician, stay within the cap (a Medicaid H-code cap and an
    MUE count the units of one patient on one date of service)."""
    caps = context.rules.unit_rounding.daily_unit_caps
    own: dict[str, int] = {}
    for line in claim.lines:
        if line.code in caps:
            own[line.code] = own.get(line.code, 0) + line.units
    findings = []
    for code, units in own.items():
        earlier = [
            s
            for s in context.history
            if s.claim_key != claim.claim_key
            and s.session_id != claim.session_id
            and s.patient_id == claim.patient_id
            and s.date_of_service == claim.date_of_service
        ]
        billed = units_billed(earlier, code, payer_id=claim.payer_id)
        cap = caps[code]
        if not billed or billed + units <= cap:
            continue
        keys = sorted({s.claim_key for s in capped_lines(earlier, code, payer_id=claim.payer_id)})
        left = max(cap - billed, 0)
        findings.append(
            Finding(
                edit="units_fit_the_day",
                code="units.day_cap",
                severity=Severity.HOLD,
                message=(
                    f"{units} units of {code} with {billed} already billed for the day "
                    f"({', '.join(keys)}): the payer pays at most {cap} a day"
                ),
                field="lines",
                fix=f"bill at most {left} units of {code} on this claim"
                if left
                else f"the day's {code} units are used",
            )
        )
    return findings
