"""Behavioral-health care management, billed once a calendar month on the month's minutes.

A ``care_management`` session is the month's tally for one patient: ``minutes`` are the month's
total care-manager and clinical-staff minutes, the treating (billing) practitioner bills them, and
the date of service is the session's date as sent (the month's last day, or the day the month's
time threshold was met, as CMS allows).

* Psychiatric collaborative care (CoCM), by the CPT time rule as CMS applies it: in the episode's
  first month 99492 at 36-85 min, in a later month 99493 at 31-75; +99494 for each further 30
  minutes once 16 of them are done (86-115 one unit in a first month, 76-105 in a later one).
  Under those thresholds Medicare pays G2214 (first 30 minutes, initial or subsequent month) from
  16 minutes; other payers pay nothing, and under 16 minutes nobody does.
* General behavioral health integration: 99484 at 20 minutes or more in the month, one unit; for
  Medicare, a clinical psychologist, clinical social worker, marriage and family therapist or mental
  health counselor bills G0323 for the same 20 minutes (CY2024 PFS).

Collaborative care is billed by the treating practitioner who can bill E/M services (MD, DO, NP,
PA); a therapist's month is not billable as collaborative care (it is the care manager's time,
billed under that practitioner).

The month's contacts are not a telehealth visit: no telehealth POS or modifiers (see
:func:`rcm.claims.domain.coding.place_of_service.place_session`), no +90785 and no 96127 from the
tally.
"""

from __future__ import annotations

from rcm.claims.domain.codes import (
    COLLABORATIVE_CARE_FIRST_30_MINUTES,
    GENERAL_BHI,
    GENERAL_BHI_MEDICARE_THERAPIST,
)
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.coding.timed_families import (
    COLLABORATIVE_CARE_INITIAL,
    COLLABORATIVE_CARE_SUBSEQUENT,
)
from rcm.claims.domain.common import PRESCRIBERS, Credential
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import CareManagementProgram, Session

__all__ = ["FIRST_30_MINUTES_FROM", "GENERAL_BHI_FROM", "code_care_management"]

FIRST_30_MINUTES_FROM = 16
"""G2214 (first 30 minutes of a month) is reached at 16 minutes: more than half of its 30 (CPT time rule)."""
GENERAL_BHI_FROM = 20
MEDICARE_THERAPISTS: frozenset[Credential] = frozenset(
    {
        Credential.PHD,
        Credential.PSYD,
        Credential.LCSW,
        Credential.LICSW,
        Credential.LMFT,
        Credential.LMHC,
        Credential.LPC,
        Credential.LPCC,
    }
)
"""Who bills Medicare's general BHI as G0323 rather than 99484: clinical psychologists, clinical
social workers, marriage and family therapists and mental health counselors (CY2024 PFS)."""
"""99484 describes at least 20 minutes of clinical staff time in the calendar month (CPT)."""


def _not_billable(session: Session, message: str) -> NotBillable:
    return NotBillable(
        session_id=session.session_id, reason=NotBillableReason.UNDER_MINIMUM_TIME, message=message
    )


def _general_bhi(
    session: Session, rules: PayerRules, credential: Credential
) -> list[ChosenCode] | NotBillable:
    minutes = session.minutes
    therapist = rules.medicare and credential in MEDICARE_THERAPISTS
    code = GENERAL_BHI_MEDICARE_THERAPIST if therapist else GENERAL_BHI
    if minutes < GENERAL_BHI_FROM:
        return _not_billable(
            session,
            f"{minutes} min of general BHI care management in the month is under the "
            f"{GENERAL_BHI_FROM}-minute minimum for {code}",
        )
    source = (
        f"Medicare, {credential.value}: at least 20 min of the therapist's time a month (CY2024 PFS)"
        if therapist
        else "CPT: at least 20 min of clinical staff time a month"
    )
    return [
        ChosenCode(
            code=code,
            rule=(
                f"general BHI care management {GENERAL_BHI_FROM}+ min in the calendar month -> {code} "
                f"({source}, one unit; {minutes} min documented)"
            ),
        )
    ]


def _collaborative_care(session: Session, rules: PayerRules) -> list[ChosenCode] | NotBillable:
    minutes = session.minutes
    initial = bool(session.initial_month)
    family = COLLABORATIVE_CARE_INITIAL if initial else COLLABORATIVE_CARE_SUBSEQUENT
    lines = family.code(minutes)
    if lines is not None:
        return lines
    month = "the episode's first month" if initial else "a later month of the episode"
    under = f"{minutes} min of collaborative care in {month} is under the "
    under += f"{family.base_from}-minute minimum for {family.base}"
    if minutes < FIRST_30_MINUTES_FROM:
        return _not_billable(
            session,
            f"{under}, and under the {FIRST_30_MINUTES_FROM} minutes of Medicare's "
            f"{COLLABORATIVE_CARE_FIRST_30_MINUTES}",
        )
    if not rules.medicare:
        return _not_billable(
            session,
            f"{under}; {COLLABORATIVE_CARE_FIRST_30_MINUTES} (first 30 min, from {FIRST_30_MINUTES_FROM}) is "
            "Medicare's code and this payer is not Medicare",
        )
    return [
        ChosenCode(
            code=COLLABORATIVE_CARE_FIRST_30_MINUTES,
            rule=(
                f"collaborative care under {family.base_from} min ({family.base}'s threshold) -> "
                f"{COLLABORATIVE_CARE_FIRST_30_MINUTES}, Medicare: first 30 min of an initial or subsequent "
                f"month, from {FIRST_30_MINUTES_FROM} min (CMS CY2021 PFS; {minutes} min documented)"
            ),
        )
    ]


def code_care_management(
    session: Session, rules: PayerRules, credential: Credential
) -> list[ChosenCode] | NotBillable:
    """The month's code (and +99494 units) for its program, total minutes and billing practitioner."""
    if session.care_management_program is CareManagementProgram.GENERAL_BHI:
        return _general_bhi(session, rules, credential)
    if credential not in PRESCRIBERS:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.NOT_PERMITTED_FOR_CREDENTIAL,
            message=(
                "collaborative care (99492/99493/+99494/G2214) is billed by the treating practitioner "
                f"who can bill E/M (MD/DO/NP/PA), not {credential.value}"
            ),
        )
    return _collaborative_care(session, rules)
