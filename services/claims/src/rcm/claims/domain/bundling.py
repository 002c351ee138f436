"""Same-day code pairs that bundle (NCCI procedure-to-procedure style).

A pair applies to one patient, one rendering provider and one date of service. The
modifier indicator says whether a documented distinct service lets both be billed:
0 never, 1 with 59 or an X modifier on the ``column_two`` code. The default table
encodes the behavioural-health pairs of DOMAIN.md section 2.4 and those of SBIRT, tobacco
cessation, biofeedback psychotherapy and hypnotherapy; a payer's rules may replace it (it is
data, like every payer difference). An E/M beside SBIRT or tobacco cessation is no pair: it is
billed with 25 (:func:`rcm.claims.domain.edits.bundling.em_marked_beside_behavior_change`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from enum import IntEnum
from itertools import product

from rcm.claims.domain.codes import (
    BIOFEEDBACK_PSYCHOTHERAPY_CODES,
    CRISIS_CODES,
    EM_CODES,
    FAMILY_CODES,
    HEALTH_BEHAVIOR_CODES,
    INDIVIDUAL_PSYCHOTHERAPY_CODES,
    INTAKE_CODES,
    OTHER_PSYCHIATRIC_CODES,
    PHARMACOLOGIC_MANAGEMENT,
    PSYCHIATRIC_CODES,
    PSYCHOTHERAPY_ADD_ON_CODES,
    SBIRT_MEDICARE_CODES,
)
from rcm.claims.domain.common import DomainModel

__all__ = [
    "DEFAULT_BUNDLING_PAIRS",
    "DISTINCT_SERVICE_MODIFIERS",
    "PREVENTIVE_COUNSELING_CODES",
    "BundlingPair",
    "ModifierIndicator",
    "pairs_naming",
]

DISTINCT_SERVICE_MODIFIERS: frozenset[str] = frozenset({"59", "XE", "XP", "XS", "XU"})
"""Modifiers that mark a distinct service and bypass an indicator-1 pair."""


class ModifierIndicator(IntEnum):
    """Whether a modifier may bypass the pair."""

    NEVER = 0
    WITH_DISTINCT_SERVICE = 1


class BundlingPair(DomainModel):
    """Two codes that are not billed together the same day."""

    column_one: str
    column_two: str
    indicator: ModifierIndicator
    why: str

    def matches(self, codes: Iterable[str]) -> bool:
        """True when both codes of the pair are among ``codes``."""
        present = codes if isinstance(codes, set | frozenset | dict) else set(codes)
        return self.column_one in present and self.column_two in present


_INDEXES: dict[int, tuple[Sequence[BundlingPair], dict[str, tuple[int, ...]]]] = {}
_INDEXES_KEPT = 64


def pairs_naming(codes: Iterable[str], pairs: Sequence[BundlingPair]) -> list[BundlingPair]:
    """The pairs with any of ``codes`` in either column, in the table's order.

    The table is indexed by code once per table object (a payer's rules keep theirs; the
    default is shared), so a claim looks at the few pairs its codes are in, not all of them.
    """
    entry = _INDEXES.get(id(pairs))
    if entry is None or entry[0] is not pairs:
        index: dict[str, list[int]] = {}
        for position, pair in enumerate(pairs):
            index.setdefault(pair.column_one, []).append(position)
            if pair.column_two != pair.column_one:
                index.setdefault(pair.column_two, []).append(position)
        if len(_INDEXES) >= _INDEXES_KEPT:
            _INDEXES.clear()
        entry = (pairs, {code: tuple(at) for code, at in index.items()})
        _INDEXES[id(pairs)] = entry
    by_code = entry[1]
    positions = sorted({at for code in set(codes) for at in by_code.get(code, ())})
    return [pairs[at] for at in positions]


def _pairs(
    column_one: Iterable[str], column_two: Iterable[str], indicator: ModifierIndicator, why: str
) -> Iterator[BundlingPair]:
    for one, two in product(sorted(column_one), sorted(column_two)):
        if one != two:
            yield BundlingPair(column_one=one, column_two=two, indicator=indicator, why=why)


PREVENTIVE_COUNSELING_CODES: frozenset[str] = frozenset(
    {"99401", "99402", "99403", "99404", "99411", "99412"}
)
"""Preventive medicine counseling and risk factor reduction, individual and group."""

_NEVER = ModifierIndicator.NEVER
_DISTINCT = ModifierIndicator.WITH_DISTINCT_SERVICE


def _one_a_day(codes: Sequence[str], why: str) -> Iterator[BundlingPair]:
    """Each two of ``codes`` (longest first) as a never-together pair: one of them a day."""
    for at, one in enumerate(codes):
        for two in codes[at + 1 :]:
            yield BundlingPair(column_one=one, column_two=two, indicator=_NEVER, why=why)


DEFAULT_BUNDLING_PAIRS: tuple[BundlingPair, ...] = (
    *_pairs({"90791"}, {"90792"}, _NEVER, "90791 and 90792 are mutually exclusive"),
    *_one_a_day(
        ("90837", "90834", "90832"),
        "individual psychotherapy is one code a day by a clinician, chosen by the day's minutes (CPT)",
    ),
    *_one_a_day(
        ("90838", "90836", "90833"),
        "psychotherapy with an E/M is one add-on a day by a clinician, chosen by the day's minutes (CPT)",
    ),
    *_pairs(
        INTAKE_CODES,
        INDIVIDUAL_PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES | CRISIS_CODES,
        _NEVER,
        "no psychotherapy on the day of a diagnostic evaluation (CPT)",
    ),
    *_pairs(
        INTAKE_CODES, EM_CODES, _NEVER, "no E/M by the same clinician on the day of a diagnostic evaluation"
    ),
    *_pairs(
        {"90853"},
        INDIVIDUAL_PSYCHOTHERAPY_CODES,
        _DISTINCT,
        "group and individual psychotherapy the same day need 59/XE on the individual code",
    ),
    *_pairs(
        {"90839"}, {"G0017"}, _NEVER, "crisis psychotherapy is reported once a day, as 90839 or as G0017"
    ),
    *_pairs(
        {"90839", "G0017"},
        INDIVIDUAL_PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES | {"90785"},
        _NEVER,
        "crisis psychotherapy is not billed with other psychotherapy or +90785",
    ),
    *_pairs(
        {"90839", "G0017"},
        FAMILY_CODES
        | BIOFEEDBACK_PSYCHOTHERAPY_CODES
        | OTHER_PSYCHIATRIC_CODES
        | {"90849", "90853", PHARMACOLOGIC_MANAGEMENT},
        _NEVER,
        "crisis psychotherapy is not billed with other psychiatric services (CPT: not with 90785-90899)",
    ),
    *_pairs(
        {"90853"},
        {"90849"},
        _DISTINCT,
        "group and multiple-family group psychotherapy the same day need 59/XE on 90849",
    ),
    *_pairs({"90847"}, {"90846"}, _NEVER, "family psychotherapy with and without the patient the same day"),
    *_pairs(
        FAMILY_CODES,
        INDIVIDUAL_PSYCHOTHERAPY_CODES,
        _DISTINCT,
        "family and individual psychotherapy the same day need 59/XE on the individual code",
    ),
    *_pairs(
        PSYCHIATRIC_CODES,
        HEALTH_BEHAVIOR_CODES,
        _NEVER,
        "health behavior assessment or intervention is not billed the day of a psychiatric service "
        "(CPT: report the predominant one)",
    ),
    *_pairs(
        EM_CODES | PREVENTIVE_COUNSELING_CODES,
        HEALTH_BEHAVIOR_CODES,
        _NEVER,
        "health behavior assessment or intervention is not billed the day of an E/M or preventive "
        "counseling (99401-99412) by the same clinician (CPT: a clinician who bills E/M reports it as E/M)",
    ),
    *_pairs(
        EM_CODES,
        INDIVIDUAL_PSYCHOTHERAPY_CODES,
        _NEVER,
        "psychotherapy with an E/M visit is billed with the add-ons +90833/+90836/+90838",
    ),
    *_one_a_day(
        ("99409", "99408"), "SBIRT is one code a day, chosen by its minutes (CPT: not 99408 with 99409)"
    ),
    *_one_a_day(
        ("G0397", "G0396", "G2011"),
        "Medicare's SBIRT is one code a day, chosen by its minutes (G2011 5-14, G0396 15-30, G0397 30+)",
    ),
    *_pairs(
        {"99408", "99409"},
        SBIRT_MEDICARE_CODES,
        _NEVER,
        "SBIRT is reported once a day, with CPT's code or Medicare's, not both",
    ),
    *_one_a_day(
        ("99407", "99406"),
        "tobacco cessation counseling is one code a day, chosen by its minutes (CPT: not 99406 with 99407)",
    ),
    *_one_a_day(
        ("90876", "90875"), "biofeedback psychotherapy is one code a day, chosen by the psychotherapy minutes"
    ),
    *_pairs(
        BIOFEEDBACK_PSYCHOTHERAPY_CODES,
        INDIVIDUAL_PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES | {"90901"},
        _NEVER,
        "90875/90876 include the psychotherapy and the biofeedback training (90901): neither is billed "
        "apart the same day (CPT)",
    ),
    *_pairs(
        {"90880"},
        INDIVIDUAL_PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES | EM_CODES,
        _NEVER,
        "hypnotherapy is not billed with psychotherapy (90832-90838) or an E/M the same day "
        "(NCCI: 90880 column one, modifier indicator 0)",
    ),
)
