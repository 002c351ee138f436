"""HCPCS services billed per 15 minutes (H0004, H2019, H2011, H0038...), per hour (H2012)
or per encounter (H0001, H0031...). Only HCPCS Level II codes are billed this way: CPT
services are chosen from the session's kind and minutes.

Units follow the payer's rounding rule: the midpoint ('8-minute') convention counts a
unit once more than half of it is done; the full-unit rule counts only complete units.
Daily caps, where the payer has them, limit the units.

A code is timed when the payer's table names it (``timed_hcpcs_codes``) or its HCPCS
descriptor is ("per 15 minutes", "per hour"). A unit is as long as the payer's table says
for that code (``minutes_per_unit_by_code``), else as its descriptor says, else the payer's
general unit: naming an hourly code as timed does not make it a 15-minute code.
"""

from __future__ import annotations

import re

from rcm.claims.domain.codes import ADD_ON_CODES, CRISIS_OUTSIDE_OFFICE_CODES
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.payer_rules import PayerRules, UnitRounding, UnitRoundingRule
from rcm.claims.domain.session import Session

__all__ = ["HCPCS_DESCRIPTOR_UNIT_MINUTES", "code_hcpcs_service", "timed_units", "unit_minutes"]

_HCPCS_LEVEL_II = re.compile(r"^[A-Z][0-9]{4}$")


def _not_a_session_service(code: str) -> str | None:
    """Why a Level II code has rules of its own and is not billed as a session's HCPCS service."""
    if code in CRISIS_OUTSIDE_OFFICE_CODES:
        return (
            f"{code} is psychotherapy for crisis (Medicare outside the office, timed as 90839/+90840): "
            "send the session as a crisis session; the payer's rules choose G0017/+G0018 or 90839/+90840"
        )
    if code in ADD_ON_CODES:
        return f"{code} is an add-on code, billed with its primary service, not as a session's service"
    return None


_PER_15_MINUTES = (
    "H0004",  # behavioral health counseling and therapy
    "H0034",  # medication training and support
    "H0036",  # community psychiatric supportive treatment
    "H0038",  # self-help/peer services
    "H0039",  # assertive community treatment
    "H0050",  # alcohol and/or drug services, brief intervention
    "H2010",  # comprehensive medication services
    "H2011",  # crisis intervention service
    "H2014",  # skills training and development
    "H2015",  # comprehensive community support services
    "H2017",  # psychosocial rehabilitation services
    "H2019",  # therapeutic behavioral services
    "H2021",  # community-based wrap-around services
    "H2023",  # supported employment
    "H2025",  # ongoing support to maintain employment
    "H2027",  # psychoeducational service
    "H2028",  # sexual offender treatment service
    "H2030",  # mental health clubhouse services
    "H2032",  # activity therapy
    "H2033",  # multisystemic therapy for juveniles
    "H2037",  # developmental delay prevention activities, dependent child of client
    "S9482",  # family stabilization services
    "T1016",  # case management
    "T1017",  # targeted case management
)
_PER_HOUR = (
    "H2012",  # behavioral health day treatment
    "H2035",  # alcohol and/or other drug treatment program
    "S9484",  # crisis intervention mental health services
)
HCPCS_DESCRIPTOR_UNIT_MINUTES: dict[str, int] = {
    **dict.fromkeys(_PER_15_MINUTES, 15),
    **dict.fromkeys(_PER_HOUR, 60),
}
"""Minutes in one unit by the HCPCS descriptor, for the timed behavioral-health codes. Per-diem,
per-session and per-encounter codes (H0001, H0031, H2020...) are not here."""


_TIME_RANGED: dict[str, tuple[int, int | None, str | None]] = {
    # SBIRT: structured alcohol/drug assessment and brief intervention, 15-30 min and over 30
    "G0396": (15, 30, "G0397"),
    "G0397": (31, None, "G0396"),
    # annual alcohol misuse screening, 5-15 min; annual depression screening, 5-15 min
    "G0442": (5, 15, None),
    "G0444": (5, 15, None),
}
"""HCPCS codes whose descriptor gives a range of minutes (first, last or open), and the sibling
code whose range covers the rest: the code is chosen by the time spent, as CPT's are."""


def _span(code: str) -> str:
    first, last, _ = _TIME_RANGED[code]
    return f"{first}+" if last is None else f"{first}-{last}"


def _fits(code: str, minutes: int) -> bool:
    first, last, _ = _TIME_RANGED[code]
    return minutes >= first and (last is None or minutes <= last)


def _time_ranged(session: Session, code: str) -> tuple[str | None, str]:
    """The code of the range the session's minutes fall in (``code`` or its sibling), with the rule,
    or None and why not."""
    first, _, sibling = _TIME_RANGED[code]
    minutes = session.minutes
    if _fits(code, minutes):
        return code, f"{code} {_span(code)} min ({minutes} min documented)"
    if sibling is not None and _fits(sibling, minutes):
        return sibling, f"{minutes} min documented: {sibling} ({_span(sibling)} min), not {code}"
    if minutes > first:  # longer than the range, with no code for more: the service is still this one
        return code, f"{code} {_span(code)} min ({minutes} min documented: the longest range it has)"
    return None, f"{minutes} min is under the {_span(code)} minutes {code} describes"


def unit_minutes(code: str, rules: PayerRules) -> int | None:
    """Minutes in one unit of ``code`` for this payer, or None when it is billed per encounter."""
    rounding = rules.unit_rounding
    descriptor = HCPCS_DESCRIPTOR_UNIT_MINUTES.get(code)
    if descriptor is None and code not in rules.timed_hcpcs_codes:
        return None
    return rounding.minutes_per_unit_by_code.get(code, descriptor or rounding.minutes_per_unit)


def timed_units(minutes: int, rule: UnitRoundingRule, code: str = "", per_unit: int | None = None) -> int:
    """Units for ``minutes`` under ``rule``: 8-22 min = 1, 23-37 = 2 ... at the midpoint for 15.

    ``per_unit`` is the unit's length when known, else the rule's length for ``code``.
    """
    per_unit = per_unit or rule.unit_minutes(code)
    whole, rest = divmod(minutes, per_unit)
    if rule.method is UnitRounding.MIDPOINT and rest > per_unit // 2:
        return whole + 1
    return whole


def code_hcpcs_service(
    session: Session, rules: PayerRules, billed_today: int = 0
) -> tuple[list[ChosenCode] | NotBillable, list[str]]:
    """The HCPCS code named by the session with units by time (or one per encounter).

    ``billed_today``: the units of the code already billed for the patient that day (any
    clinician); a payer's daily cap is the day's, so only what is left of it is billed."""
    code = session.service_code or ""
    if not _HCPCS_LEVEL_II.match(code):
        return (
            NotBillable(
                session_id=session.session_id,
                reason=NotBillableReason.UNKNOWN_SERVICE_CODE,
                message=(
                    f"{code} is not a HCPCS Level II code (letter and 4 digits); CPT services are coded "
                    "from the session's kind and minutes"
                ),
            ),
            [],
        )
    refused = _not_a_session_service(code)
    if refused is not None:
        return (
            NotBillable(
                session_id=session.session_id, reason=NotBillableReason.UNKNOWN_SERVICE_CODE, message=refused
            ),
            [],
        )
    per_unit = unit_minutes(code, rules)
    rounding = rules.unit_rounding
    cap = rounding.daily_unit_caps.get(code)
    if cap is not None and billed_today >= cap:
        return (
            NotBillable(
                session_id=session.session_id,
                reason=NotBillableReason.ALREADY_BILLED_TODAY,
                message=(
                    f"the payer pays at most {cap} units of {code} a day and {billed_today} are already "
                    "billed for the patient today"
                ),
            ),
            [],
        )
    if per_unit is None and code in _TIME_RANGED:
        chosen, why = _time_ranged(session, code)
        if chosen is None:
            return (
                NotBillable(
                    session_id=session.session_id, reason=NotBillableReason.UNDER_MINIMUM_TIME, message=why
                ),
                [],
            )
        return [ChosenCode(code=chosen, rule=why)], ([why] if chosen != code else [])
    if per_unit is None:
        return [
            ChosenCode(
                code=code,
                rule=f"{code} per encounter (no time unit in the payer's table or the HCPCS descriptor)",
            )
        ], []
    units = timed_units(session.minutes, rounding, code, per_unit)
    how = (
        f"{per_unit // 2 + 1}-minute convention"
        if rounding.method is UnitRounding.MIDPOINT
        else f"full {per_unit} minutes per unit"
    )
    if units == 0:
        return (
            NotBillable(
                session_id=session.session_id,
                reason=NotBillableReason.UNDER_MINIMUM_TIME,
                message=f"{session.minutes} min is less than one unit of {code} ({how})",
            ),
            [],
        )
    notes: list[str] = []
    left = None if cap is None else cap - billed_today
    if cap is not None and left is not None and units > left:
        already = f" ({billed_today} already billed today)" if billed_today else ""
        notes.append(f"{code}: {units} units by time, capped at the payer's {cap} units a day{already}")
        units = left
    rule = (
        f"{code} per {per_unit} min -> {units} unit{'s' if units > 1 else ''} "
        f"({how}; {session.minutes} min documented)"
    )
    return [ChosenCode(code=code, units=units, rule=rule)], notes
