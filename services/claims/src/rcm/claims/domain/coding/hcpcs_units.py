"""HCPCS services billed per 15 minutes (H0004, H2019, H2011, H0038...), per hour (H2012)
or per encounter (H0001, H0031...). Only HCPCS Level II codes are billed this way: CPT
services are chosen from the session's kind and minutes.

Units follow the payer's rounding rule: the midpoint ('8-minute') convention counts a
unit once more than half of it is done; the full-unit rule counts only complete units.
Daily caps, where the payer has them, limit the units.
"""

from __future__ import annotations

import re

from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.payer_rules import PayerRules, UnitRounding, UnitRoundingRule
from rcm.claims.domain.session import Session

__all__ = ["code_hcpcs_service", "timed_units"]

_HCPCS_LEVEL_II = re.compile(r"^[A-Z][0-9]{4}$")


def timed_units(minutes: int, rule: UnitRoundingRule, code: str = "") -> int:
    """Units for ``minutes`` under ``rule``: 8-22 min = 1, 23-37 = 2 ... at the midpoint for 15."""
    per_unit = rule.unit_minutes(code)
    whole, rest = divmod(minutes, per_unit)
    if rule.method is UnitRounding.MIDPOINT and rest > per_unit // 2:
        return whole + 1
    return whole


def code_hcpcs_service(
    session: Session, rules: PayerRules
) -> tuple[list[ChosenCode] | NotBillable, list[str]]:
    """The HCPCS code named by the session with units by time (or one per encounter)."""
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
    if code not in rules.timed_hcpcs_codes:
        return [ChosenCode(code=code, rule=f"{code} per encounter (no time unit in the payer's table)")], []
    rounding = rules.unit_rounding
    per_unit = rounding.unit_minutes(code)
    units = timed_units(session.minutes, rounding, code)
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
    cap = rounding.daily_unit_caps.get(code)
    if cap is not None and units > cap:
        notes.append(f"{code}: {units} units by time, capped at the payer's {cap} units a day")
        units = cap
    rule = (
        f"{code} per {per_unit} min -> {units} unit{'s' if units > 1 else ''} "
        f"({how}; {session.minutes} min documented)"
    )
    return [ChosenCode(code=code, units=units, rule=rule)], notes
