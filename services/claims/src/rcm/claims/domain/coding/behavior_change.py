"""Behavior change interventions, coded on the session's minutes: SBIRT and tobacco cessation.

* SBIRT, alcohol and/or substance (other than tobacco) structured screening and brief
  intervention: CPT 99408 for 15-30 minutes, 99409 for over 30. Medicare does not pay the CPT
  codes (physician fee schedule status I) and pays its own: G2011 for 5-14 minutes (CY2020 PFS),
  G0396 for 15-30, G0397 for over 30. Under 15 minutes (under 5 for Medicare) the service is not
  separately billable.
* Smoking and tobacco use cessation counseling: 99406 for over 3 up to 10 minutes, 99407 for over
  10 (CPT; Medicare pays both, NCD 210.4.1). 3 minutes or less is part of the visit it was in.

The descriptors give ranges of minutes, so the CPT midpoint rule does not apply: the session's
whole minutes must fall in a range ("over 3" is from 4, "over 30" from 31). The codes of a family
exclude each other the same day, and an E/M the same day by the same clinician carries 25
(:mod:`rcm.claims.domain.bundling`, :func:`rcm.claims.domain.coding.modifiers.em_beside_behavior_change_modifiers`).

Payer choice: some Medicaid programs pay SBIRT as H0049 (alcohol and/or drug screening) and H0050
(brief intervention, per 15 minutes) instead. The payer rules have no code-substitution setting
(only Medicare's codes are chosen, from ``PayerRules.medicare``), so such a plan's SBIRT is sent as
an ``hcpcs_service`` session naming H0049 or H0050.
"""

from __future__ import annotations

from collections.abc import Sequence

from rcm.claims.domain.coding.psychotherapy import TimeBand, band_for
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import Session

__all__ = [
    "SBIRT_BANDS",
    "SBIRT_MEDICARE_BANDS",
    "TOBACCO_CESSATION_BANDS",
    "code_sbirt",
    "code_tobacco_cessation",
]

SBIRT_BANDS: tuple[TimeBand, ...] = (
    TimeBand(code="99408", first_minute=15, last_minute=30),
    TimeBand(code="99409", first_minute=31),
)
SBIRT_MEDICARE_BANDS: tuple[TimeBand, ...] = (
    TimeBand(code="G2011", first_minute=5, last_minute=14),
    TimeBand(code="G0396", first_minute=15, last_minute=30),
    TimeBand(code="G0397", first_minute=31),
)
TOBACCO_CESSATION_BANDS: tuple[TimeBand, ...] = (
    TimeBand(code="99406", first_minute=4, last_minute=10),
    TimeBand(code="99407", first_minute=11),
)


def _by_minutes(
    session: Session, bands: Sequence[TimeBand], *, what: str, source: str
) -> list[ChosenCode] | NotBillable:
    """The code whose range holds the session's minutes, or why none does."""
    minutes = session.minutes
    band = band_for(minutes, bands)
    if band is None:
        least = bands[0]
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNDER_MINIMUM_TIME,
            message=(
                f"{minutes} min of {what} is under the {least.first_minute} minutes of {least.code} "
                f"({source}): not separately billable"
            ),
        )
    return [
        ChosenCode(
            code=band.code,
            rule=f"{what} {band.describe()} -> {band.code} ({source}; {minutes} min documented)",
        )
    ]


def code_sbirt(session: Session, rules: PayerRules) -> list[ChosenCode] | NotBillable:
    """99408/99409 by minutes; for Medicare fee-for-service G2011/G0396/G0397."""
    if rules.medicare:
        return _by_minutes(
            session,
            SBIRT_MEDICARE_BANDS,
            what="SBIRT",
            source="Medicare's codes: G2011 5-14 min, G0396 15-30, G0397 over 30; it pays no 99408/99409",
        )
    return _by_minutes(session, SBIRT_BANDS, what="SBIRT", source="CPT: 99408 15-30 min, 99409 over 30")


def code_tobacco_cessation(session: Session) -> list[ChosenCode] | NotBillable:
    """99406 (over 3 up to 10 minutes) or 99407 (over 10), for every payer."""
    return _by_minutes(
        session,
        TOBACCO_CESSATION_BANDS,
        what="tobacco cessation counseling",
        source="CPT: 99406 over 3 up to 10 min, 99407 over 10",
    )
