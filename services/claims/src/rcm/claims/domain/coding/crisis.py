"""Psychotherapy for crisis: 90839 for 30-74 minutes, +90840 for each further 30 minutes.

The minutes are those of the day: 90839 is reported once a day by a clinician.
Under 30 minutes a crisis session is reported with the ordinary psychotherapy codes
(90832 from 16 minutes); under 16 it is not billable.
"""

from __future__ import annotations

from rcm.claims.domain.coding.psychotherapy import (
    MINIMUM_PSYCHOTHERAPY_MINUTES,
    PSYCHOTHERAPY_BANDS,
    band_for,
)
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.coding.timed_families import CRISIS
from rcm.claims.domain.session import Session

__all__ = ["code_crisis"]


def code_crisis(
    session: Session, provider_day_codes: frozenset[str] = frozenset()
) -> list[ChosenCode] | NotBillable:
    """90839 (+90840 x n) from 30 minutes; the psychotherapy codes below 30.

    90839 is reported once a day by a clinician: the day's crisis minutes add up, even when
    not continuous, so a second crisis session goes onto the first claim (``provider_day_codes``
    are the codes the same clinician already billed for the patient that day).
    """
    minutes = session.minutes
    if CRISIS.base in provider_day_codes:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.ALREADY_BILLED_TODAY,
            message=(
                f"{CRISIS.base} is already billed by this clinician today: add these {minutes} min to the day's "
                f"crisis time and correct that claim (+{CRISIS.add_on} per 30 min past 74)"
            ),
        )
    lines = CRISIS.code(minutes)
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
                f"crisis under {CRISIS.base_from} min -> psychotherapy {band.describe()} -> {band.code} "
                f"(CPT: below 30 min use the psychotherapy codes; {minutes} min documented)"
            ),
        )
    ]
