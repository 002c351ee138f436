"""Codes billed as a base code plus an add-on counted in increments.

Crisis (90839/+90840, Medicare's G0017/+G0018 outside the office), psychological testing (96130/+96131 ... 96138/+96139), the
neurobehavioral status exam (96116/+96121), health
behavior intervention (96158/+96159 ...) and a month of psychiatric collaborative care
(99492 or 99493, +99494) share one shape: the base code covers a first
block of time and is reached at ``base_from`` minutes; each further block of
``add_on_minutes`` is reached ``add_on_from`` minutes into it.
"""

from __future__ import annotations

from rcm.claims.domain.coding.result import ChosenCode
from rcm.claims.domain.common import DomainModel

__all__ = [
    "COLLABORATIVE_CARE_INITIAL",
    "COLLABORATIVE_CARE_SUBSEQUENT",
    "CRISIS",
    "CRISIS_OUTSIDE_OFFICE",
    "HEALTH_BEHAVIOR_FAMILIES",
    "TESTING_FAMILIES",
    "TimedFamily",
    "family_for_base",
]


class TimedFamily(DomainModel):
    """A base code and its add-on with their time rules."""

    name: str
    base: str
    add_on: str
    base_minutes: int
    base_from: int
    add_on_minutes: int
    add_on_from: int
    source: str

    def add_on_units(self, minutes: int) -> int:
        """Add-on units for ``minutes`` in total (0 when the first add-on is not reached)."""
        beyond = minutes - self.base_minutes
        if beyond < self.add_on_from:
            return 0
        return (beyond - self.add_on_from) // self.add_on_minutes + 1

    def first_add_on_at(self) -> int:
        """Total minutes at which the first add-on unit is reached."""
        return self.base_minutes + self.add_on_from

    def code(self, minutes: int) -> list[ChosenCode] | None:
        """The base line and any add-on line for ``minutes``, or None under ``base_from``."""
        if minutes < self.base_from:
            return None
        lines = [
            ChosenCode(
                code=self.base,
                rule=(
                    f"{self.name} {self.base_from}+ min -> {self.base} "
                    f"({self.source}; {minutes} min documented)"
                ),
            )
        ]
        units = self.add_on_units(minutes)
        if units:
            lines.append(
                ChosenCode(
                    code=self.add_on,
                    units=units,
                    add_on=True,
                    rule=(
                        f"{self.name} +{self.add_on} x{units}: one per {self.add_on_minutes} min past "
                        f"{self.base_minutes}, reached at {self.add_on_from} min into each "
                        f"(first at {self.first_add_on_at()} min; {minutes} min documented)"
                    ),
                )
            )
        return lines


CRISIS = TimedFamily(
    name="crisis psychotherapy",
    base="90839",
    add_on="90840",
    base_minutes=60,
    base_from=30,
    add_on_minutes=30,
    add_on_from=15,
    source="CPT: 90839 for 30-74 min, +90840 per 30 min beyond 74",
)

CRISIS_OUTSIDE_OFFICE = TimedFamily(
    name="crisis psychotherapy outside the office",
    base="G0017",
    add_on="G0018",
    base_minutes=60,
    base_from=30,
    add_on_minutes=30,
    add_on_from=15,
    source="CMS CY2024 PFS: G0017/+G0018 in a non-facility site other than the office, timed as 90839/+90840",
)

TESTING_FAMILIES: tuple[TimedFamily, ...] = (
    TimedFamily(
        name="psychological testing evaluation",
        base="96130",
        add_on="96131",
        base_minutes=60,
        base_from=31,
        add_on_minutes=60,
        add_on_from=31,
        source="CPT time rule: first hour from 31 min",
    ),
    TimedFamily(
        name="neuropsychological testing evaluation",
        base="96132",
        add_on="96133",
        base_minutes=60,
        base_from=31,
        add_on_minutes=60,
        add_on_from=31,
        source="CPT time rule: first hour from 31 min",
    ),
    TimedFamily(
        name="neurobehavioral status exam",
        base="96116",
        add_on="96121",
        base_minutes=60,
        base_from=31,
        add_on_minutes=60,
        add_on_from=31,
        source="CPT time rule: first hour from 31 min",
    ),
    TimedFamily(
        name="test administration by a professional",
        base="96136",
        add_on="96137",
        base_minutes=30,
        base_from=16,
        add_on_minutes=30,
        add_on_from=16,
        source="CPT time rule: first 30 min from 16 min",
    ),
    TimedFamily(
        name="test administration by a technician",
        base="96138",
        add_on="96139",
        base_minutes=30,
        base_from=16,
        add_on_minutes=30,
        add_on_from=16,
        source="CPT time rule: first 30 min from 16 min",
    ),
)

HEALTH_BEHAVIOR_FAMILIES: tuple[TimedFamily, ...] = tuple(
    TimedFamily(
        name=f"health behavior intervention, {who}",
        base=base,
        add_on=add_on,
        base_minutes=30,
        base_from=16,
        add_on_minutes=15,
        add_on_from=8,
        source="CPT time rule: first 30 min from 16 min, then each 15 min",
    )
    for who, base, add_on in (
        ("individual", "96158", "96159"),
        ("group", "96164", "96165"),
        ("family with patient", "96167", "96168"),
        ("family without patient", "96170", "96171"),
    )
)

COLLABORATIVE_CARE_INITIAL = TimedFamily(
    name="collaborative care, initial month",
    base="99492",
    add_on="99494",
    base_minutes=70,
    base_from=36,
    add_on_minutes=30,
    add_on_from=16,
    source=(
        "CPT time rule as CMS applies it (CY2018 PFS): 99492 for the first 70 min of the episode's "
        "first calendar month, billed at 36-85 min"
    ),
)
"""A month's care-manager minutes in the episode's first month: 99492 at 36-85, +99494 x1 at 86-115,
one more per further 30 minutes once 16 of them are done."""

COLLABORATIVE_CARE_SUBSEQUENT = TimedFamily(
    name="collaborative care, subsequent month",
    base="99493",
    add_on="99494",
    base_minutes=60,
    base_from=31,
    add_on_minutes=30,
    add_on_from=16,
    source=(
        "CPT time rule as CMS applies it (CY2018 PFS): 99493 for the first 60 min of a later calendar "
        "month, billed at 31-75 min"
    ),
)
"""A later month's: 99493 at 31-75, +99494 x1 at 76-105, one more per further 30 minutes from 16."""


def family_for_base(code: str, families: tuple[TimedFamily, ...]) -> TimedFamily | None:
    """The family whose base code is ``code``."""
    return next((family for family in families if family.base == code), None)
