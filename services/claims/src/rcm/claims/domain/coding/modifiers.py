"""Line modifiers other than telehealth: 25 on an E/M, licensure/program by payer table, 59/X{EPSU}.

Order on a line: pricing modifiers first, then the informational ones (the CMS and
Medicaid convention for the four modifier positions). The licensure and program modifiers
of the payer's table set the price tier, so they come first; then 25 on an E/M where the
payer wants it, then the distinct-service modifier, then the telehealth modifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rcm.claims.domain.bundling import BundlingPair, ModifierIndicator, pairs_naming
from rcm.claims.domain.codes import BEHAVIOR_CHANGE_CODES, EM_CODES, PSYCHOTHERAPY_ADD_ON_CODES
from rcm.claims.domain.common import Credential, Program
from rcm.claims.domain.payer_rules import DistinctServiceModifierStyle, PayerRules
from rcm.claims.domain.session import DistinctService, DistinctServiceReason

__all__ = [
    "distinct_service_modifier",
    "em_beside_behavior_change_modifiers",
    "em_with_psychotherapy_modifiers",
    "licensure_modifiers",
    "merge_modifiers",
    "pair_needing_modifier",
]

_X_MODIFIER = {
    DistinctServiceReason.SEPARATE_ENCOUNTER: "XE",
    DistinctServiceReason.SEPARATE_PRACTITIONER: "XP",
    DistinctServiceReason.SEPARATE_STRUCTURE: "XS",
    DistinctServiceReason.UNUSUAL_NON_OVERLAPPING: "XU",
    DistinctServiceReason.OTHER: "59",
}


def licensure_modifiers(
    rules: PayerRules, *, credential: Credential, state: str, program: Program | None, code: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Modifiers from every matching row of the payer's table, and a reason per row."""
    modifiers: list[str] = []
    reasons: list[str] = []
    for row in rules.licensure_modifiers:
        if row.applies(credential=credential, state=state, program=program, code=code):
            modifiers.extend(row.modifiers)
            reasons.append(f"{row.describe()} (payer modifier table)")
    return tuple(modifiers), tuple(reasons)


def em_with_psychotherapy_modifiers(
    code: str, session_codes: frozenset[str], rules: PayerRules
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """25 on the E/M of an E/M + psychotherapy add-on visit, where the payer asks for it.

    CPT and CMS do not require it: the add-on code already reports psychotherapy done
    with the E/M. The payer's ``modifier_25_on_em_with_psychotherapy`` turns it on.
    """
    if (
        rules.modifier_25_on_em_with_psychotherapy
        and code in EM_CODES
        and session_codes & PSYCHOTHERAPY_ADD_ON_CODES
    ):
        return ("25",), ("25: payer wants the E/M marked separately identifiable beside the add-on",)
    return (), ()


def em_beside_behavior_change_modifiers(
    code: str, other_codes: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """25 on an E/M billed the same day, by the same clinician, as a behavior change intervention
    (SBIRT 99408/99409, G2011/G0396/G0397; tobacco cessation 99406/99407).

    The E/M is paid beside the intervention only as a significant, separately identifiable service
    marked with 25 (CMS: NGS E/M FAQ on tobacco cessation; CPT; the same for SBIRT), and only when
    the intervention's time was not counted towards the E/M level.
    """
    beside = sorted(set(other_codes) & BEHAVIOR_CHANGE_CODES)
    if code not in EM_CODES or not beside:
        return (), ()
    return ("25",), (f"25: E/M separately identifiable from {beside[0]} the same day (CMS, CPT)",)


def pair_needing_modifier(
    code: str, other_codes: Iterable[str], pairs: Sequence[BundlingPair]
) -> BundlingPair | None:
    """An indicator-1 pair in which ``code`` is the column-two code and the other code is billed."""
    others = set(other_codes)
    return next(
        (
            pair
            for pair in pairs_naming((code,), pairs)
            if pair.indicator is ModifierIndicator.WITH_DISTINCT_SERVICE
            and pair.column_two == code
            and pair.column_one in others
        ),
        None,
    )


def distinct_service_modifier(distinct: DistinctService, style: DistinctServiceModifierStyle) -> str:
    """59, or the X modifier for the documented reason."""
    if style is DistinctServiceModifierStyle.MODIFIER_59:
        return "59"
    return _X_MODIFIER[distinct.reason]


def merge_modifiers(*groups: Iterable[str]) -> tuple[str, ...]:
    """Concatenate modifier groups in order, keeping the first of any repeat."""
    seen: dict[str, None] = {}
    for group in groups:
        for modifier in group:
            seen.setdefault(modifier, None)
    return tuple(seen)
