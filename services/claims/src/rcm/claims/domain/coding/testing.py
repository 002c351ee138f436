"""Psychological testing (9613x, 96116, 96146) and health behavior assessment/intervention (9615x-9617x)."""

from __future__ import annotations

from rcm.claims.domain.codes import AUTOMATED_TEST
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.coding.timed_families import (
    HEALTH_BEHAVIOR_FAMILIES,
    TESTING_FAMILIES,
    TimedFamily,
    family_for_base,
)
from rcm.claims.domain.session import Session

__all__ = ["code_health_behavior", "code_testing"]

HEALTH_BEHAVIOR_ASSESSMENT = "96156"


def _code_timed(session: Session, families: tuple[TimedFamily, ...]) -> list[ChosenCode] | NotBillable:
    code = session.service_code or ""
    family = family_for_base(code, families)
    if family is None:
        bases = ", ".join(f.base for f in families)
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNKNOWN_SERVICE_CODE,
            message=f"{code} is not a base code for a {session.service_kind.value} session (one of {bases})",
        )
    lines = family.code(session.minutes)
    if lines is None:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNDER_MINIMUM_TIME,
            message=f"{session.minutes} min is under the {family.base_from}-minute minimum for {family.base}",
        )
    return lines


def code_testing(session: Session) -> list[ChosenCode] | NotBillable:
    """The base testing code named by the session, plus its add-on hours or half-hours.

    96146 (one automated instrument, automated result only) is untimed: one unit.
    """
    if session.service_code == AUTOMATED_TEST:
        return [
            ChosenCode(
                code=AUTOMATED_TEST,
                rule="single automated instrument with automated result -> 96146 (untimed, one unit)",
            )
        ]
    return _code_timed(session, TESTING_FAMILIES)


def code_health_behavior(session: Session) -> list[ChosenCode] | NotBillable:
    """96156 (untimed assessment) or an intervention base code plus 15-minute add-ons."""
    if session.service_code == HEALTH_BEHAVIOR_ASSESSMENT:
        return [
            ChosenCode(
                code=HEALTH_BEHAVIOR_ASSESSMENT,
                rule="health behavior assessment -> 96156 (untimed, once a day)",
            )
        ]
    return _code_timed(session, HEALTH_BEHAVIOR_FAMILIES)
