"""Coding a session: from its facts to service lines, each with the rule that produced it.

The steps, in order: choose codes and units from the kind of service and its minutes;
add +90785 where interactive complexity is allowed; choose POS and telehealth modifiers;
add licensure/program and distinct-service modifiers; point to diagnoses; price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rcm.claims.domain.codes import (
    BEHAVIOR_CHANGE_CODES,
    BRIEF_ASSESSMENT,
    BRIEF_ASSESSMENT_MUE,
    EM_CODES,
    HEALTH_BEHAVIOR_CODES,
    INTERACTIVE_COMPLEXITY,
    INTERACTIVE_COMPLEXITY_PRIMARIES,
)
from rcm.claims.domain.coding.behavior_change import code_sbirt, code_tobacco_cessation
from rcm.claims.domain.coding.care_management import code_care_management
from rcm.claims.domain.coding.crisis import code_crisis
from rcm.claims.domain.coding.family_and_group import code_family, code_group
from rcm.claims.domain.coding.hcpcs_units import code_hcpcs_service
from rcm.claims.domain.coding.intake import code_intake
from rcm.claims.domain.coding.modifiers import (
    distinct_service_modifier,
    em_beside_behavior_change_modifiers,
    em_with_psychotherapy_modifiers,
    licensure_modifiers,
    merge_modifiers,
    pair_needing_modifier,
)
from rcm.claims.domain.coding.other_psychiatric import code_biofeedback_psychotherapy, code_other_psychiatric
from rcm.claims.domain.coding.place_of_service import Placement, place_session
from rcm.claims.domain.coding.psychotherapy import code_em_with_psychotherapy, code_individual_psychotherapy
from rcm.claims.domain.coding.result import ChosenCode, CodedLine, CodedSession, CodingResult, NotBillable
from rcm.claims.domain.coding.testing import code_health_behavior, code_testing
from rcm.claims.domain.common import Credential
from rcm.claims.domain.fee_schedule import FeeSchedule
from rcm.claims.domain.history import BilledService, units_billed
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import ServiceKind, Session

__all__ = ["choose_codes", "code_session", "diagnosis_pointers"]

MAX_POINTERS = 4


def choose_codes(
    session: Session,
    *,
    credential: Credential,
    rules: PayerRules,
    same_day_codes: frozenset[str] = frozenset(),
    provider_day_codes: frozenset[str] = frozenset(),
    same_day_units: Mapping[str, int] | None = None,
) -> tuple[list[ChosenCode] | NotBillable, list[str]]:
    """Codes and units for the session's kind and minutes, and notes on what was left out.

    ``same_day_codes`` are the patient's codes already billed that day by anyone,
    ``provider_day_codes`` those billed by the session's rendering clinician, ``same_day_units``
    the units of each code billed that day by anyone.
    """
    kind = session.service_kind
    notes: list[str] = []
    chosen: list[ChosenCode] | NotBillable
    if kind is ServiceKind.INDIVIDUAL:
        chosen = code_individual_psychotherapy(session, rules)
    elif kind is ServiceKind.EM_WITH_PSYCHOTHERAPY:
        chosen, notes = code_em_with_psychotherapy(session, credential)
    elif kind is ServiceKind.CRISIS:
        chosen = code_crisis(session, provider_day_codes, rules)
    elif kind in (ServiceKind.FAMILY_WITH_PATIENT, ServiceKind.FAMILY_WITHOUT_PATIENT):
        chosen = code_family(session)
    elif kind in (ServiceKind.GROUP, ServiceKind.MULTIPLE_FAMILY_GROUP):
        chosen = code_group(session)
    elif kind is ServiceKind.INTAKE:
        chosen = code_intake(session, credential, provider_day_codes)
    elif kind is ServiceKind.TESTING:
        chosen = code_testing(session)
    elif kind is ServiceKind.HEALTH_BEHAVIOR:
        chosen = code_health_behavior(session)
    elif kind is ServiceKind.CARE_MANAGEMENT:
        chosen = code_care_management(session, rules, credential)
    elif kind is ServiceKind.SBIRT:
        chosen = code_sbirt(session, rules)
    elif kind is ServiceKind.TOBACCO_CESSATION:
        chosen = code_tobacco_cessation(session)
    elif kind is ServiceKind.BIOFEEDBACK_PSYCHOTHERAPY:
        chosen = code_biofeedback_psychotherapy(session)
    elif kind is ServiceKind.OTHER_PSYCHIATRIC:
        chosen = code_other_psychiatric(session)
    else:
        chosen, notes = code_hcpcs_service(
            session, rules, (same_day_units or {}).get(session.service_code or "", 0)
        )
    if kind is ServiceKind.CARE_MANAGEMENT and session.screening_instruments:
        # the month's tally is not a visit: an instrument is billed with the visit it was given at
        notes.append(
            f"{BRIEF_ASSESSMENT}: {session.screening_instruments} instruments scored are not billed from a "
            "care-management month's tally; bill them with the visit they were given at"
        )
    elif not isinstance(chosen, NotBillable) and session.screening_instruments:
        billed_today = (same_day_units or {}).get(BRIEF_ASSESSMENT, 0)
        chosen.extend(_brief_assessments(session, rules, billed_today, notes))
    if isinstance(chosen, NotBillable) or not session.interactive_complexity:
        return chosen, notes
    primaries = [line.code for line in chosen if line.code in INTERACTIVE_COMPLEXITY_PRIMARIES]
    if primaries:
        chosen.append(
            ChosenCode(
                code=INTERACTIVE_COMPLEXITY,
                add_on=True,
                rule=(
                    f"interactive complexity documented -> +90785 with {primaries[0]} "
                    "(CPT add-on, once a session)"
                ),
            )
        )
    else:
        codes = ", ".join(line.code for line in chosen)
        notes.append(f"interactive complexity documented but +90785 is not billable with {codes} (CPT)")
    return chosen, notes


def _brief_assessments(
    session: Session, rules: PayerRules, billed_today: int, notes: list[str]
) -> list[ChosenCode]:
    """96127, a unit per instrument scored, within the day's limit (CMS MUE 3, or the payer's cap)
    less what the patient's other claims that day billed."""
    cap = rules.unit_rounding.daily_unit_caps.get(BRIEF_ASSESSMENT, BRIEF_ASSESSMENT_MUE)
    wanted = session.screening_instruments
    units = max(0, min(wanted, cap - billed_today))
    if units < wanted:
        already = f", {billed_today} billed already today" if billed_today else ""
        notes.append(f"{BRIEF_ASSESSMENT}: {wanted} instruments scored, {cap} units a day at most{already}")
    if units == 0:
        return []
    rule = f"{BRIEF_ASSESSMENT} per standardized instrument scored -> {units} unit{'s' if units > 1 else ''}"
    return [ChosenCode(code=BRIEF_ASSESSMENT, units=units, rule=rule)]


def diagnosis_pointers(code: str, diagnoses: Sequence[str]) -> tuple[int, ...]:
    """1-based pointers to at most 4 diagnoses, primary first.

    Health behavior codes treat a physical condition, so they point to non-mental (non-F)
    diagnoses first.
    """
    order = list(range(1, len(diagnoses) + 1))
    if code in HEALTH_BEHAVIOR_CODES:
        order.sort(key=lambda pointer: diagnoses[pointer - 1].startswith("F"))
    return tuple(order[:MAX_POINTERS])


def code_session(
    session: Session,
    *,
    credential: Credential,
    rules: PayerRules | None = None,
    fee_schedule: FeeSchedule | None = None,
    same_day: Sequence[BilledService] = (),
) -> CodingResult:
    """Code one session for one payer.

    ``credential`` is the rendering clinician's; ``same_day`` lists services already billed
    for the patient (any day: only the session's date counts). Returns the coded lines or
    why the session is not billable; business outcomes never raise.
    """
    rules = rules or PayerRules()
    day = [
        s
        for s in same_day
        if s.patient_id == session.patient_id and s.date_of_service == session.date_of_service
    ]
    today = [s for s in day if not s.voided]
    same_day_codes = frozenset(s.code for s in today)
    # same-day pair edits (NCCI PTP) apply to one patient, one rendering provider and one date: another
    # clinician's service that day neither asks for 59/X{EPSU} nor makes its claim owe one
    provider_today = [s for s in today if s.rendering_provider_id == session.rendering_provider_id]
    provider_day_codes = frozenset(s.code for s in provider_today)
    same_day_units = {
        code: units_billed(day, code, payer_id=rules.payer_id)
        for code in {*rules.unit_rounding.daily_unit_caps, BRIEF_ASSESSMENT}
    }
    chosen, notes = choose_codes(
        session,
        credential=credential,
        rules=rules,
        same_day_codes=same_day_codes,
        provider_day_codes=provider_day_codes,
        same_day_units=same_day_units,
    )
    if isinstance(chosen, NotBillable):
        return chosen
    diagnoses = tuple(dict.fromkeys(session.diagnoses))
    if len(diagnoses) < len(session.diagnoses):
        notes.append("a diagnosis listed twice is reported once on the claim")
    placement = place_session(session, rules)
    if isinstance(placement, NotBillable):
        return placement
    lines = tuple(
        _line(
            session,
            choice,
            credential=credential,
            rules=rules,
            placement=placement,
            session_codes=frozenset(c.code for c in chosen),
            other_codes=provider_day_codes | {c.code for c in chosen if c is not choice},
            diagnoses=diagnoses,
            fee_schedule=fee_schedule,
            notes=notes,
        )
        for choice in chosen
    )
    notes.extend(_modifier_owed_by_earlier_claims(chosen, provider_today, rules))
    return CodedSession(
        session_id=session.session_id,
        date_of_service=session.date_of_service,
        place_of_service=placement.place_of_service,
        diagnoses=diagnoses,
        lines=lines,
        notes=tuple(notes),
    )


def _line(
    session: Session,
    choice: ChosenCode,
    *,
    credential: Credential,
    rules: PayerRules,
    placement: Placement,
    session_codes: frozenset[str],
    other_codes: frozenset[str],
    diagnoses: Sequence[str],
    fee_schedule: FeeSchedule | None,
    notes: list[str],
) -> CodedLine:
    em_modifiers, em_reasons = em_with_psychotherapy_modifiers(choice.code, session_codes, rules)
    beside, beside_reasons = em_beside_behavior_change_modifiers(choice.code, other_codes)
    em_modifiers = merge_modifiers(em_modifiers, beside)
    em_reasons = tuple(dict.fromkeys(em_reasons + beside_reasons))
    licensure, licensure_reasons = licensure_modifiers(
        rules,
        credential=credential,
        state=session.patient_location.state,
        program=session.program,
        code=choice.code,
    )
    distinct: tuple[str, ...] = ()
    distinct_reasons: tuple[str, ...] = ()
    pair = pair_needing_modifier(choice.code, other_codes, rules.bundling_pairs)
    if pair is not None:
        if session.distinct_service is not None:
            modifier = distinct_service_modifier(session.distinct_service, rules.distinct_service_modifier)
            distinct = (modifier,)
            distinct_reasons = (
                f"{modifier}: documented distinct service ({session.distinct_service.reason.value}) "
                f"with {pair.column_one} the same day",
            )
        else:
            notes.append(
                f"{choice.code} with {pair.column_one} the same day needs a documented distinct service "
                "for 59/X{EPSU}; none is documented"
            )
    modifiers = merge_modifiers(licensure, em_modifiers, distinct, placement.modifiers)
    return CodedLine(
        code=choice.code,
        modifiers=modifiers,
        units=choice.units,
        place_of_service=placement.place_of_service,
        diagnosis_pointers=diagnosis_pointers(choice.code, diagnoses),
        charge=fee_schedule.charge(choice.code, modifiers, choice.units) if fee_schedule else None,
        rule=choice.rule,
        modifier_rules=licensure_reasons + em_reasons + distinct_reasons + placement.reasons,
        add_on=choice.add_on,
    )


def _modifier_owed_by_earlier_claims(
    chosen: Sequence[ChosenCode], today: Sequence[BilledService], rules: PayerRules
) -> list[str]:
    """Notes for the clinician's same-day services already billed (``today``) that now need
    59/X{EPSU}, or 25 on an E/M beside a behavior change intervention (a corrected claim)."""
    codes = {c.code for c in chosen}
    notes = []
    behavior_change = sorted(codes & BEHAVIOR_CHANGE_CODES)
    for earlier in today:
        if behavior_change and earlier.code in EM_CODES and "25" not in earlier.modifiers:
            notes.append(
                f"{earlier.code} already billed today (claim {earlier.claim_key}) needs 25 beside "
                f"{behavior_change[0]}: send a corrected claim if the E/M was separately identifiable"
            )
        pair = pair_needing_modifier(earlier.code, codes, rules.bundling_pairs)
        if pair is not None and not set(earlier.modifiers) & {"59", "XE", "XP", "XS", "XU"}:
            notes.append(
                f"{earlier.code} already billed today (claim {earlier.claim_key}) needs 59/X{{EPSU}} "
                f"with {pair.column_one}: send a corrected claim if the services were distinct"
            )
    return notes
