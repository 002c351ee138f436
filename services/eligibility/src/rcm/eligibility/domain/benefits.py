"""The 271 read as a behavioural-health benefit summary: pure, values in and values out.

``summarize(response, service_date=...)`` walks the patient's level of the 271 (the
dependent's 2000D when there is one, else the subscriber's 2000C) and answers:

- is coverage active on the date of service (EB01 1-5 active, 6-8 inactive; plan dates);
- plan name and group number (EB05, REF*6P / REF*18);
- which service type the benefits came from (``FALLBACK_ORDER``);
- copay (EB01 B), coinsurance (A), deductible and remaining (C), out-of-pocket (G),
  in network (EB12 Y or W) and out of network (N or W);
- visit limits (F with EB09 VS: period 29 = remaining, others = allowed);
- prior authorization (EB11);
- another payer to bill (EB01 R, U or MC with a 2120 NM1 that names a payer):
  a carve-out or managed-behavioural-health plan, or other coverage for COB;
- every AAA rejection, at any level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from rcm.eligibility.domain.rejections import MEMBER_DATA_REASONS, describe_reason
from rcm.eligibility.domain.service_types import FALLBACK_ORDER, GENERIC
from rcm.events.models import AaaError, NetworkBenefits, OtherPayer, VisitLimit
from rcm.events.models.common import CoveragePriority, Period
from rcm.events.models.eligibility import EligibilityStatus
from rcm.x12.models.common import DatePeriod
from rcm.x12.models.eligibility import (
    BenefitInformation,
    EligibilityParty,
    EligibilityResponse271,
    InformationLevel,
    RequestValidation,
)
from rcm.x12.segments import Delimiters

__all__ = ["BenefitSummary", "benefit_loops", "summarize"]

_ACTIVE = frozenset("12345")
_INACTIVE = frozenset("678")
_OTHER_PAYER_BENEFITS = frozenset({"R", "U", "MC"})
# 2120 NM101 codes that name a payer (PR payer, PRP/SEP/TTP primary/secondary/tertiary, Y2 managed care org).
_PAYER_ENTITIES = {"PR": None, "Y2": None, "PRP": "primary", "SEP": "secondary", "TTP": "tertiary"}
# EB06 periods: what a plan-year amount is, and what remains of it.
_REMAINING = frozenset({"29", "33"})
_MET = frozenset({"24"})
_PER_VISIT = "27"


class BenefitSummary(BaseModel):
    """What the payer will pay for outpatient behavioural health, read from one 271."""

    model_config = ConfigDict(frozen=True)

    status: EligibilityStatus
    plan_name: str | None = None
    group_number: str | None = None
    plan_period: Period | None = None
    service_type_code: str | None = Field(default=None, description="Service type the benefits came from.")
    covered: bool | None = Field(
        default=None, description="False when the payer says the service type is not covered (EB01 I)."
    )
    in_network: NetworkBenefits | None = None
    out_of_network: NetworkBenefits | None = None
    visit_limit: VisitLimit | None = None
    auth_required: bool | None = None
    other_payer: OtherPayer | None = None
    other_payer_identifier: str | None = Field(
        default=None, description="The other payer's id as the 271 gives it (2120 NM109)."
    )
    aaa_errors: list[AaaError] = Field(default_factory=list)
    payer_trace_number: str | None = None
    messages: list[str] = Field(default_factory=list, description="Free-text MSG of the benefits used.")


# ------------------------------------------------------------------ walking the 271


def _parties(level: InformationLevel) -> Iterable[tuple[InformationLevel, EligibilityParty]]:
    for party in level.parties:
        yield level, party
    for child in level.levels:
        yield from _parties(child)


def benefit_loops(party: EligibilityParty, delimiters: Delimiters = Delimiters()) -> list[BenefitInformation]:
    """The 2110C/D benefit loops of a party (rcm.x12 types them whatever was imported first)."""
    return list(party.benefits)


def _patient_party(response: EligibilityResponse271) -> tuple[InformationLevel, EligibilityParty] | None:
    """The dependent's party when the 271 has one, else the subscriber's."""
    found: dict[str, tuple[InformationLevel, EligibilityParty]] = {}
    for source in response.sources:
        for level, party in _parties(source):
            found.setdefault(level.hl_level_code, (level, party))
    return found.get("23") or found.get("22")


def _aaa_errors(response: EligibilityResponse271, delimiters: Delimiters) -> list[AaaError]:
    errors: list[RequestValidation] = []
    for source in response.sources:
        stack = [source]
        while stack:
            level = stack.pop(0)
            errors += level.errors
            for party in level.parties:
                errors += party.errors
                for loop in benefit_loops(party, delimiters):
                    errors += loop.errors
            stack += level.levels
    return [
        AaaError(
            code=e.reject_reason,
            follow_up=e.follow_up_action or None,
            description=describe_reason(e.reject_reason),
        )
        for e in errors
        if e.reject_reason
    ]


# ------------------------------------------------------------------ choosing the service type


def _types_of(loop: BenefitInformation) -> list[str]:
    return loop.benefit.service_types or [GENERIC]


def choose_service_type(
    loops: Sequence[BenefitInformation], order: Sequence[str] = FALLBACK_ORDER
) -> str | None:
    """The first code of ``order`` the 271 reports anything about (an EB without EB03 means 30)."""
    reported = {t for loop in loops for t in _types_of(loop)}
    return next((t for t in order if t in reported), None)


def _for_type(loops: Sequence[BenefitInformation], code: str) -> list[BenefitInformation]:
    return [loop for loop in loops if code in _types_of(loop)]


# ------------------------------------------------------------------ reading benefits


def _individual_first(loops: list[BenefitInformation]) -> list[BenefitInformation]:
    """Individual amounts before family ones (EB02 IND before FAM; unspecified counts as individual)."""
    return sorted(loops, key=lambda loop: loop.benefit.coverage_level not in (None, "IND"))


def _in_tier(loop: BenefitInformation, network: bool) -> bool:
    flag = loop.benefit.in_plan_network
    if flag == "W":
        return True
    return flag in (None, "Y") if network else flag == "N"


def _amount(
    loops: list[BenefitInformation], periods: frozenset[str] | None, *, exclude: frozenset[str] = frozenset()
) -> Decimal | None:
    for loop in _individual_first(loops):
        period = loop.benefit.time_period
        if loop.benefit.amount is None or period in exclude:
            continue
        if periods is None or period in periods:
            return loop.benefit.amount
    return None


def _network_benefits(loops: list[BenefitInformation], network: bool) -> NetworkBenefits | None:
    tier = [loop for loop in loops if _in_tier(loop, network)]
    by_code: dict[str, list[BenefitInformation]] = {}
    for loop in tier:
        by_code.setdefault(loop.benefit.information_code, []).append(loop)
    copays = by_code.get("B", [])
    copay = _amount([c for c in copays if c.benefit.time_period == _PER_VISIT], None) or _amount(copays, None)
    coinsurance = next(
        (c.benefit.percent for c in _individual_first(by_code.get("A", [])) if c.benefit.percent is not None),
        None,
    )
    deductibles = by_code.get("C", [])
    deductible = _amount(deductibles, None, exclude=_REMAINING | _MET)
    remaining = _amount(deductibles, _REMAINING)
    met = _amount(deductibles, _MET)
    if remaining is None and deductible is not None and met is not None:
        remaining = max(deductible - met, Decimal(0))
    oop = by_code.get("G", [])
    values = {
        "copay": copay,
        "coinsurance_percent": _percent(coinsurance),
        "deductible": deductible,
        "deductible_remaining": remaining,
        "out_of_pocket_max": _amount(oop, None, exclude=_REMAINING | _MET),
        "out_of_pocket_remaining": _amount(oop, _REMAINING),
    }
    if all(v is None for v in values.values()):
        return None
    return NetworkBenefits.model_validate(values)


def _percent(value: Decimal | None) -> Decimal | None:
    """EB08 is a fraction (0.20 = 20 %); a few payers send the percentage itself."""
    if value is None:
        return None
    percent = value * 100 if value <= 1 else value
    return percent.quantize(Decimal("0.01")).normalize()


def _visit_limit(loops: list[BenefitInformation]) -> VisitLimit | None:
    counts: list[tuple[str | None, int]] = [
        (loop.benefit.time_period, int(loop.benefit.quantity))
        for loop in loops
        if loop.benefit.information_code == "F"
        and loop.benefit.quantity is not None
        and loop.benefit.quantity_qualifier in ("VS", None)
    ]
    allowed = next((n for period, n in counts if period not in _REMAINING | _MET), None)
    remaining = next((n for period, n in counts if period in _REMAINING), None)
    used = next((n for period, n in counts if period in _MET), None)
    if allowed is None:
        return None
    if used is None and remaining is not None:
        used = max(allowed - remaining, 0)
    if remaining is None and used is not None:
        remaining = max(allowed - used, 0)
    return VisitLimit(allowed=allowed, used=used, remaining=remaining)


def _auth_required(loops: list[BenefitInformation]) -> bool | None:
    flags = {loop.benefit.authorization_required for loop in loops} - {None, ""}
    if "Y" in flags:
        return True
    if "N" in flags:
        return False
    return None


def _other_payer(loops: Iterable[BenefitInformation]) -> tuple[OtherPayer, str | None] | None:
    for loop in loops:
        if loop.benefit.information_code not in _OTHER_PAYER_BENEFITS:
            continue
        for entity in loop.related_entities:
            code = entity.name.entity_code
            if code in _PAYER_ENTITIES and entity.name.last_or_organization:
                priority = _PAYER_ENTITIES[code]
                other = OtherPayer(
                    name=entity.name.last_or_organization[:60],
                    priority=CoveragePriority(priority) if priority else None,
                )
                return other, entity.name.identifier or None
        if loop.benefit.plan_description:
            return OtherPayer(name=loop.benefit.plan_description[:60]), None
    return None


def _plan_period(dates: Iterable[DatePeriod]) -> Period | None:
    start: date | None = None
    end: date | None = None
    for d in dates:
        if d.qualifier in ("291", "307") and d.format == "RD8" and d.start and d.end:
            start, end = d.start, d.end
        elif d.qualifier in ("346", "356") and d.start:
            start = d.start
        elif d.qualifier in ("347", "357") and d.start:
            end = d.start
    if start is None:
        return None
    return Period(start=start, end=end if end is None or end >= start else None)


def _status(loops: list[BenefitInformation], chosen: str | None) -> EligibilityStatus | None:
    for code in (chosen, GENERIC):
        if code is None:
            continue
        infos = {loop.benefit.information_code for loop in _for_type(loops, code)}
        if infos & _ACTIVE:
            return EligibilityStatus.ACTIVE
        if infos & _INACTIVE:
            return EligibilityStatus.INACTIVE
    infos = {loop.benefit.information_code for loop in loops}
    if infos & _ACTIVE:
        return EligibilityStatus.ACTIVE
    if infos & _INACTIVE:
        return EligibilityStatus.INACTIVE
    return None


def _reference(party: EligibilityParty, qualifier: str) -> str | None:
    return next((r.value for r in party.references if r.qualifier == qualifier and r.value), None)


def _trace(level: InformationLevel, response: EligibilityResponse271) -> str | None:
    traces = list(level.traces)
    for source in response.sources:
        stack = [source]
        while stack:
            current = stack.pop()
            traces += [t for t in current.traces if t not in traces]
            stack += current.levels
    payer_assigned = next((t.reference for t in traces if t.trace_type == "1"), None)
    return payer_assigned or (traces[0].reference if traces else None)


def summarize(
    response: EligibilityResponse271,
    *,
    service_date: date,
    order: Sequence[str] = FALLBACK_ORDER,
    delimiters: Delimiters = Delimiters(),
) -> BenefitSummary:
    """The behavioural-health benefit summary of a 271 for a visit on ``service_date``."""
    aaa = _aaa_errors(response, delimiters)
    found = _patient_party(response)
    loops = benefit_loops(found[1], delimiters) if found else []
    if aaa and not loops:
        member_problem = any(e.code in MEMBER_DATA_REASONS for e in aaa)
        status = EligibilityStatus.NOT_FOUND if member_problem else EligibilityStatus.ERROR
        trace = _trace(found[0], response) if found else None
        return BenefitSummary(status=status, aaa_errors=aaa, payer_trace_number=trace)
    if found is None:
        return BenefitSummary(status=EligibilityStatus.ERROR, aaa_errors=aaa)
    level, party = found
    chosen = choose_service_type(loops, order)
    chosen_loops = _for_type(loops, chosen) if chosen else []
    status = _status(loops, chosen) or EligibilityStatus.INACTIVE
    period = _plan_period(party.dates)
    if period is not None and status is EligibilityStatus.ACTIVE and not period.contains(service_date):
        status = EligibilityStatus.INACTIVE
    generic = _for_type(loops, GENERIC)
    plan_name = next(
        (
            loop.benefit.plan_description
            for loop in [*chosen_loops, *generic]
            if loop.benefit.plan_description and loop.benefit.information_code in _ACTIVE | _INACTIVE
        ),
        None,
    ) or _reference(party, "18")
    other = _other_payer(chosen_loops) or _other_payer(loops)
    infos = {loop.benefit.information_code for loop in chosen_loops}
    covered: bool | None = None
    if "I" in infos and not infos & _ACTIVE:
        covered = False
    elif infos & _ACTIVE:
        covered = True
    return BenefitSummary(
        status=status,
        plan_name=plan_name[:80] if plan_name else None,
        group_number=_reference(party, "6P"),
        plan_period=period,
        service_type_code=chosen,
        covered=covered,
        in_network=_network_benefits(chosen_loops, network=True),
        out_of_network=_network_benefits(chosen_loops, network=False),
        visit_limit=_visit_limit(chosen_loops),
        auth_required=_auth_required(chosen_loops),
        other_payer=other[0] if other else None,
        other_payer_identifier=other[1] if other else None,
        aaa_errors=aaa,
        payer_trace_number=_trace(level, response),
        messages=[m.text for loop in chosen_loops for m in loop.messages],
    )
