"""Time-based psychotherapy: where 90832, 90834 and 90837 (and the E/M add-ons) are chosen.

CPT's midpoint rule ranks the codes by typical time (30, 45, 60 minutes) and reports the
one closest to the time spent: 90832 from 16 minutes, 90834 from 38, 90837 from 53, with
no upper bound. Under 16 minutes is not psychotherapy. The same bands choose the
add-ons +90833/+90836/+90838 on the psychotherapy minutes of an E/M visit.
"""

from __future__ import annotations

from collections.abc import Sequence

from rcm.claims.domain.codes import EM_CODES
from rcm.claims.domain.coding.result import ChosenCode, NotBillable, NotBillableReason
from rcm.claims.domain.common import PRESCRIBERS, Credential, DomainModel
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import Session

__all__ = [
    "EM_ADD_ON_BANDS",
    "MINIMUM_PSYCHOTHERAPY_MINUTES",
    "PSYCHOTHERAPY_BANDS",
    "TimeBand",
    "band_for",
    "code_em_with_psychotherapy",
    "code_individual_psychotherapy",
    "psychotherapy_code",
]


class TimeBand(DomainModel):
    """A code reported for ``first_minute`` to ``last_minute`` (open-ended when None)."""

    code: str
    first_minute: int
    last_minute: int | None = None

    def contains(self, minutes: int) -> bool:
        """True when ``minutes`` falls in the band."""
        return self.first_minute <= minutes and (self.last_minute is None or minutes <= self.last_minute)

    def describe(self) -> str:
        """'16-37 min' or '53+ min'."""
        upper = f"-{self.last_minute}" if self.last_minute is not None else "+"
        return f"{self.first_minute}{upper} min"


PSYCHOTHERAPY_BANDS: tuple[TimeBand, ...] = (
    TimeBand(code="90832", first_minute=16, last_minute=37),
    TimeBand(code="90834", first_minute=38, last_minute=52),
    TimeBand(code="90837", first_minute=53),
)
EM_ADD_ON_BANDS: tuple[TimeBand, ...] = (
    TimeBand(code="90833", first_minute=16, last_minute=37),
    TimeBand(code="90836", first_minute=38, last_minute=52),
    TimeBand(code="90838", first_minute=53),
)
MINIMUM_PSYCHOTHERAPY_MINUTES = PSYCHOTHERAPY_BANDS[0].first_minute


def band_for(minutes: int, bands: Sequence[TimeBand]) -> TimeBand | None:
    """The band containing ``minutes``, or None below the first band."""
    return next((band for band in bands if band.contains(minutes)), None)


def psychotherapy_code(minutes: int) -> str | None:
    """The individual psychotherapy code for ``minutes`` by the CPT midpoint rule, or None under 16."""
    band = band_for(minutes, PSYCHOTHERAPY_BANDS)
    return band.code if band else None


TWO_UNITS_OF_90834_MINUTES = 76
"""The least time two units of 90834 (38-52 minutes each by the CPT midpoint rule) can report."""


def _psychotherapy_line(minutes: int, *, what: str = "psychotherapy") -> ChosenCode | None:
    band = band_for(minutes, PSYCHOTHERAPY_BANDS)
    if band is None:
        return None
    return ChosenCode(
        code=band.code,
        rule=f"{what} {band.describe()} -> {band.code} (CPT midpoint rule; {minutes} min documented)",
    )


def code_individual_psychotherapy(session: Session, rules: PayerRules) -> list[ChosenCode] | NotBillable:
    """90832/90834/90837 by minutes; the payer's opt-in turns very long sessions into 2 x 90834."""
    minutes = session.therapy_minutes
    # each unit of 90834 needs its 38 minutes: a payer setting below 76 is read as 76
    from_minutes = max(rules.prolonged_psychotherapy_from_minutes, TWO_UNITS_OF_90834_MINUTES)
    if rules.prolonged_psychotherapy_as_two_units and minutes >= from_minutes:
        return [
            ChosenCode(
                code="90834",
                units=2,
                rule=(
                    f"psychotherapy {from_minutes}+ min -> 2 x 90834 "
                    f"(payer opt-in for long sessions; {minutes} min documented)"
                ),
            )
        ]
    line = _psychotherapy_line(minutes)
    if line is None:
        return NotBillable(
            session_id=session.session_id,
            reason=NotBillableReason.UNDER_MINIMUM_TIME,
            message=(
                f"{minutes} min of psychotherapy is under the {MINIMUM_PSYCHOTHERAPY_MINUTES}-minute minimum "
                "for 90832 (CPT midpoint rule)"
            ),
        )
    return [line]


def code_em_with_psychotherapy(
    session: Session, credential: Credential
) -> tuple[list[ChosenCode] | NotBillable, list[str]]:
    """The E/M line first, then +90833/+90836/+90838 on the psychotherapy minutes only.

    Returns the chosen codes (or why not billable) and notes on what was left out.
    """
    em_code = session.em_code or ""
    if credential not in PRESCRIBERS:
        return (
            NotBillable(
                session_id=session.session_id,
                reason=NotBillableReason.NOT_PERMITTED_FOR_CREDENTIAL,
                message=f"E/M with psychotherapy needs a prescriber (MD/DO/NP/PA), not {credential.value}",
            ),
            [],
        )
    if em_code not in EM_CODES:
        return (
            NotBillable(
                session_id=session.session_id,
                reason=NotBillableReason.UNKNOWN_SERVICE_CODE,
                message=f"{em_code} is not an E/M code a psychotherapy add-on may follow",
            ),
            [],
        )
    lines = [ChosenCode(code=em_code, rule=f"E/M {em_code} as documented, billed first")]
    minutes = session.psychotherapy_minutes or 0
    band = band_for(minutes, EM_ADD_ON_BANDS)
    if band is None:
        return lines, [
            f"{minutes} psychotherapy min with the E/M is under {MINIMUM_PSYCHOTHERAPY_MINUTES}: E/M only"
        ]
    lines.append(
        ChosenCode(
            code=band.code,
            add_on=True,
            rule=(
                f"psychotherapy with E/M {band.describe()} -> +{band.code} "
                f"(CPT midpoint rule on psychotherapy minutes only; {minutes} min documented)"
            ),
        )
    )
    return lines, []
