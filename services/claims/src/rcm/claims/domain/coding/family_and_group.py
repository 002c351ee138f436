"""Family psychotherapy (90846/90847) and group psychotherapy (90853, 90849).

Family psychotherapy is a 50-minute code reported from 26 minutes (the midpoint), one
unit however long. Group codes are untimed and reported once for each patient.
"""

from __future__ import annotations

from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.session import ServiceKind, Session

__all__ = ["MINIMUM_FAMILY_MINUTES", "code_family", "code_group"]

MINIMUM_FAMILY_MINUTES = 26

_FAMILY_CODES = {
    ServiceKind.FAMILY_WITHOUT_PATIENT: ("90846", "without the patient"),
    ServiceKind.FAMILY_WITH_PATIENT: ("90847", "with the patient"),
}
_GROUP_CODES = {
    ServiceKind.GROUP: ("90853", "group psychotherapy"),
    ServiceKind.MULTIPLE_FAMILY_GROUP: ("90849", "multiple-family group psychotherapy"),
}


def code_family(session: Session) -> list[ChosenCode] | NotBillable:
    """90846 or 90847, one unit, from 26 minutes."""
    code, who = _FAMILY_CODES[session.service_kind]
    if session.therapy_minutes < MINIMUM_FAMILY_MINUTES:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNDER_MINIMUM_TIME,
            message=(
                f"{session.therapy_minutes} min of family psychotherapy is under the {MINIMUM_FAMILY_MINUTES}-minute "
                f"minimum for {code}"
            ),
        )
    return [
        ChosenCode(
            code=code,
            rule=(
                f"family psychotherapy {who} {MINIMUM_FAMILY_MINUTES}+ min -> {code}, one unit "
                f"(CPT midpoint of 50 min; {session.therapy_minutes} min documented)"
            ),
        )
    ]


def code_group(session: Session) -> list[ChosenCode]:
    """90853 (or 90849), one unit for this patient."""
    code, what = _GROUP_CODES[session.service_kind]
    size = f", group of {session.group_size}" if session.group_size else ""
    return [ChosenCode(code=code, rule=f"{what} -> {code}, one unit per patient (untimed{size})")]
