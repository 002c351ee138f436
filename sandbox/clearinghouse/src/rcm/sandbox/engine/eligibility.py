"""Eligibility (270 -> 271) and claim status (276 -> 277) answers, as values.

The 271 reports, per behavioral-health service type of the member's plan: active
coverage (EB*1), copay (B), coinsurance (A), deductible and what remains (C, periods 23
and 29), visit limits and visits left (F), whether prior auth is required (EB11) and,
for carved-out service types, the other payer (EB*R with LS/LE 2120).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rcm.sandbox.engine.model import ZERO, Benefit
from rcm.sandbox.payers import Member, Payer

__all__ = ["EligibilityAnswer", "answer_eligibility", "benefits_of"]


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    member: Member | None
    benefits: list[Benefit]
    #: AAA rejects at the subscriber level: (reason, follow-up action, loop).
    rejects: list[tuple[str, str, str]]


def benefits_of(
    payer: Payer,
    member: Member,
    service_types: tuple[str, ...],
    *,
    deductible_met: Decimal | None = None,
    visits_used: int | None = None,
    on: date | None = None,
) -> list[Benefit]:
    plan = payer.plan(member.plan)
    if on is not None and (on < member.coverage_start or (member.coverage_end and on > member.coverage_end)):
        return [Benefit("6", "30", plan.insurance_type, plan.name)]  # 6 = inactive
    asked = [t for t in service_types if t != "30"] or list(plan.service_types)
    carved = dict.fromkeys(member.carve_out.service_types if member.carve_out else [], member.carve_out)
    met = member.deductible_met if deductible_met is None else deductible_met
    used = member.visits_used if visits_used is None else visits_used
    benefits = [Benefit("1", "30", plan.insurance_type, plan.name)]
    for st in asked:
        carve_out = carved.get(st)
        if carve_out is not None:
            benefits.append(Benefit("R", st, other_payer=(carve_out.payer_id, carve_out.payer_name)))
            continue
        if st not in plan.service_types:
            benefits.append(Benefit("I", st))  # I = non-covered
            continue
        auth = bool(payer.prior_auth_codes)
        benefits.append(Benefit("1", st, plan.insurance_type, plan.name, auth_required=auth))
        if plan.copay > 0:
            benefits.append(Benefit("B", st, period="27", amount=plan.copay))
        if plan.coinsurance > 0:
            benefits.append(Benefit("A", st, period="27", percent=plan.coinsurance))
        if plan.deductible > 0:
            benefits.append(Benefit("C", st, period="23", amount=plan.deductible))
            benefits.append(Benefit("C", st, period="29", amount=max(plan.deductible - met, ZERO)))
        if plan.visit_limit is not None:
            benefits.append(Benefit("F", st, period="23", quantity_qualifier="VS", quantity=plan.visit_limit))
            remaining = max(plan.visit_limit - used, 0)
            benefits.append(Benefit("F", st, period="29", quantity_qualifier="VS", quantity=remaining))
    return benefits


def answer_eligibility(
    payer: Payer,
    *,
    member_id: str,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    service_types: tuple[str, ...],
    service_date: date | None = None,
    deductible_met: Decimal | None = None,
    visits_used: int | None = None,
) -> EligibilityAnswer:
    """The member's benefits, or AAA rejects: 72 bad id, 75 not found, 73 name, 71/58 date of birth."""
    if not member_id or not member_id.isalnum():
        return EligibilityAnswer(None, [], [("72", "C", "2100C")])
    member = payer.member(member_id)
    if member is None:
        return EligibilityAnswer(None, [], [("75", "N", "2100C")])
    if last_name.upper() != member.last_name.upper():
        return EligibilityAnswer(None, [], [("73", "C", "2100C")])
    if birth_date is None:
        return EligibilityAnswer(None, [], [("58", "C", "2100C")])
    if birth_date != member.birth_date:
        return EligibilityAnswer(None, [], [("71", "C", "2100C")])
    benefits = benefits_of(
        payer,
        member,
        service_types,
        deductible_met=deductible_met,
        visits_used=visits_used,
        on=service_date,
    )
    return EligibilityAnswer(member, benefits, [])
