"""Psychotherapy for crisis: 90839 for 30-74 minutes, +90840 for each further 30 minutes.

The minutes are those of the day: 90839 is reported once a day by a clinician.
Under 30 minutes a crisis session is reported with the ordinary psychotherapy codes
(90832 from 16 minutes); under 16 it is not billable. Medicare pays crisis psychotherapy
given in person at a non-facility site other than the office (the patient's home, a mobile
unit ...) as G0017/+G0018, with the same time rules, for dates of service from 2024.
"""

from __future__ import annotations

from rcm.claims.domain.coding.psychotherapy import (
    MINIMUM_PSYCHOTHERAPY_MINUTES,
    PSYCHOTHERAPY_BANDS,
    band_for,
)
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.coding.timed_families import CRISIS, CRISIS_OUTSIDE_OFFICE, TimedFamily
from rcm.claims.domain.common import Modality
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import Session

__all__ = ["code_crisis", "crisis_family"]


def crisis_family(session: Session, rules: PayerRules) -> TimedFamily:
    """90839/+90840, or G0017/+G0018 where the payer pays crisis outside the office with them."""
    in_person = session.modality is Modality.IN_PERSON
    if in_person and rules.crisis_outside_office(session.place_of_service, session.date_of_service):
        return CRISIS_OUTSIDE_OFFICE
    return CRISIS


def code_crisis(
    session: Session, provider_day_codes: frozenset[str] = frozenset(), rules: PayerRules | None = None
) -> list[ChosenCode] | NotBillable:
    """90839 (+90840 x n) from 30 minutes (G0017/+G0018 where ``crisis_family`` says); the
    psychotherapy codes below 30.

    The base code is reported once a day by a clinician: the day's crisis minutes add up, even
    when not continuous, so a second crisis session goes onto the first claim (``provider_day_codes``
    are the codes the same clinician already billed for the patient that day).
    """
    family = crisis_family(session, rules or PayerRules())
    minutes = session.therapy_minutes
    billed = next((f.base for f in (CRISIS, CRISIS_OUTSIDE_OFFICE) if f.base in provider_day_codes), None)
    if billed is not None:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.ALREADY_BILLED_TODAY,
            message=(
                f"{billed} is already billed by this clinician today: add these {minutes} min to the day's "
                f"crisis time and correct that claim (+{family.add_on} per 30 min past 74)"
            ),
        )
    lines = family.code(minutes)
    if lines is not None:
        return lines
    band = band_for(minutes, PSYCHOTHERAPY_BANDS)
    if band is None:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNDER_MINIMUM_TIME,
            message=(
                f"{minutes} min of crisis psychotherapy is under the {MINIMUM_PSYCHOTHERAPY_MINUTES}-minute "
                "minimum for any psychotherapy code"
            ),
        )
    return [
        ChosenCode(
            code=band.code,
            rule=(
                f"crisis under {family.base_from} min -> psychotherapy {band.describe()} -> {band.code} "
                f"(CPT: below 30 min use the psychotherapy codes; {minutes} min documented)"
            ),
        )
    ]
