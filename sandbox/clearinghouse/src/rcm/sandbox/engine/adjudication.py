"""Line-by-line adjudication of a claim by one payer's rules: claim in, adjudicated lines out.

Denials are checked in the order a payer's edits usually run (member and claim level
first, then each line); the first one that applies denies the line for its full charge.
A payable line gets CO-45 down to the contracted rate, then the patient's share:
deductible (PR-1), copay once per visit (PR-3), coinsurance (PR-2).

| Behaviour                               | Result                 |
|-----------------------------------------|------------------------|
| same claim sent again as an original    | OA-18                  |
| line already paid on an earlier claim   | OA-18 (line)           |
| received after the timely-filing limit  | CO-29 (+ payer's RARC) |
| service before coverage / after term    | CO-26 / CO-27          |
| organisation billing, no rendering NPI  | CO-16 + N290           |
| code not in the fee schedule            | CO-16 + M51            |
| column-2 code of a bundled pair         | CO-97                  |
| auth required, none valid on file       | CO-197                 |
| telehealth POS the payer does not pay   | CO-5                   |
| telehealth without 95/93 (per payer)    | CO-4                   |
| licensure modifier missing (taxonomy)   | CO-4                   |
| visit limit reached                     | CO-119                 |
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from rcm.sandbox.engine.model import (
    ZERO,
    Adjustment,
    Claim,
    ClaimAdjudication,
    LineAdjudication,
    ServiceLine,
)
from rcm.sandbox.payers import Member, Payer, Plan

__all__ = [
    "Accumulators",
    "Denial",
    "adjudicate",
    "adjudicate_secondary",
    "claim_fingerprint",
    "line_denial",
    "reverse",
]

CENT = Decimal("0.01")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Accumulators:
    """A member's benefit usage so far in the plan year."""

    deductible_met: Decimal = ZERO
    visits_used: int = 0


@dataclass(frozen=True, slots=True)
class Denial:
    group: str
    reason: str
    remark: str | None = None


def claim_fingerprint(claim: Claim) -> str:
    """Identity of a claim for duplicate detection: member, claim id, dates, codes and charges."""
    parts = [claim.payer_id, claim.member_id, claim.claim_id]
    parts += [f"{ln.service_date}|{ln.code}|{','.join(ln.modifiers)}|{ln.charge}" for ln in claim.lines]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _claim_denial(claim: Claim, payer: Payer, member: Member | None, *, duplicate: bool) -> Denial | None:
    if member is None:
        return Denial("CO", "31")
    if duplicate:
        return Denial("OA", "18")
    if (claim.received - claim.last_service_date).days > payer.timely_filing_days:
        return Denial("CO", "29", payer.timely_filing_rarc)
    if claim.billing_entity_type == "2" and not claim.rendering_npi and payer.missing_rendering_rarc:
        return Denial("CO", "16", payer.missing_rendering_rarc)
    return None


def _auth_on_file(claim: Claim, member: Member, line: ServiceLine) -> bool:
    if not claim.prior_auth:
        return False
    return any(
        auth.number == claim.prior_auth
        and line.code in auth.codes
        and auth.start <= line.service_date <= auth.end
        for auth in member.auths
    )


def line_denial(claim: Claim, payer: Payer, member: Member, line: ServiceLine) -> Denial | None:
    """The first line-level edit that denies ``line``, or None when it is payable."""
    if any(e.service_date == line.service_date and e.code == line.code for e in member.earlier_claims):
        return Denial("OA", "18")
    if line.service_date < member.coverage_start:
        return Denial("CO", "26")
    if member.coverage_end is not None and line.service_date > member.coverage_end:
        return Denial("CO", "27")
    if payer.rate(line.code, line.modifiers) is None:
        return Denial("CO", "16", payer.unlisted_code_rarc)
    same_day = {
        other.code for other in claim.lines if other is not line and other.service_date == line.service_date
    }
    bypassed = any(m in payer.bypass_modifiers for m in line.modifiers)
    if not bypassed and any(col2 == line.code and col1 in same_day for col1, col2 in payer.bundled_pairs):
        return Denial("CO", "97")
    if line.code in payer.prior_auth_codes and not _auth_on_file(claim, member, line):
        return Denial("CO", "197")
    tele = payer.telehealth
    if line.place_of_service in tele.telehealth_pos:
        if line.place_of_service not in tele.allowed_pos:
            return Denial("CO", "5")
        accepted = set(tele.required_modifiers) | set(tele.audio_only_modifiers)
        if tele.required_modifiers and not accepted.intersection(line.modifiers):
            return Denial("CO", "4")
    taxonomy = claim.rendering_taxonomy or claim.billing_taxonomy
    for rule in payer.licensure_modifiers:
        applies = rule.taxonomy == taxonomy and (rule.codes is None or line.code in rule.codes)
        if applies and rule.modifier not in line.modifiers:
            return Denial("CO", "4")
    return None


def _deny(line: ServiceLine, denial: Denial) -> LineAdjudication:
    result = LineAdjudication(line, adjustments=[Adjustment(denial.group, denial.reason, line.charge)])
    if denial.remark:
        result.remarks.append(denial.remark)
    return result


def _price(
    line: ServiceLine, rate: Decimal, plan: Plan, acc: Accumulators, *, copay_due: bool
) -> tuple[LineAdjudication, Accumulators]:
    allowed = min(line.charge, _money(rate * line.units))
    result = LineAdjudication(line, allowed=allowed)
    if line.charge > allowed:
        result.adjustments.append(Adjustment("CO", "45", line.charge - allowed))
    remaining = allowed
    deductible = min(max(plan.deductible - acc.deductible_met, ZERO), remaining)
    if deductible > 0:
        result.adjustments.append(Adjustment("PR", "1", deductible))
        remaining -= deductible
    copay = min(plan.copay, remaining) if copay_due else ZERO
    if copay > 0:
        result.adjustments.append(Adjustment("PR", "3", copay))
        remaining -= copay
    coinsurance = _money(remaining * plan.coinsurance)
    if coinsurance > 0:
        result.adjustments.append(Adjustment("PR", "2", coinsurance))
        remaining -= coinsurance
    result.paid = remaining
    return result, replace(acc, deductible_met=acc.deductible_met + deductible)


def adjudicate(
    claim: Claim,
    payer: Payer,
    *,
    icn: str,
    accumulators: Accumulators | None = None,
    duplicate: bool = False,
) -> tuple[ClaimAdjudication, Accumulators]:
    """Adjudicate a primary claim; returns the result and the member's updated accumulators."""
    member = payer.member(claim.member_id)
    acc = accumulators or (
        Accumulators(member.deductible_met, member.visits_used) if member else Accumulators()
    )
    denial = _claim_denial(claim, payer, member, duplicate=duplicate)
    lines: list[LineAdjudication] = []
    visit_dates: set[object] = set()
    for line in claim.lines:
        if denial is not None or member is None:
            lines.append(_deny(line, denial or Denial("CO", "31")))
            continue
        plan = payer.plan(member.plan)
        line_denied = line_denial(claim, payer, member, line)
        new_visit = line.service_date not in visit_dates
        limit = plan.visit_limit
        if line_denied is None and new_visit and limit is not None and acc.visits_used >= limit:
            line_denied = Denial("CO", "119")
        if line_denied is not None:
            lines.append(_deny(line, line_denied))
            continue
        rate = payer.rate(line.code, line.modifiers)
        assert rate is not None  # line_denial denies unlisted codes
        priced, acc = _price(line, rate, plan, acc, copay_due=new_visit)
        if new_visit:
            visit_dates.add(line.service_date)
            acc = replace(acc, visits_used=acc.visits_used + 1)
        lines.append(priced)
    result = ClaimAdjudication(claim=claim, icn=icn, status="1", lines=lines)
    if denial is not None and denial.remark:
        result.claim_remarks.append(denial.remark)
    if result.paid == 0 and result.patient_responsibility == 0:
        result.status = "4"
    elif payer.crossover_to:
        result.status = "19"
        result.crossover_payer = (payer.crossover_to, payer.crossover_name or payer.crossover_to)
        result.claim_remarks.append("MA18")
    return result, acc


def adjudicate_secondary(claim: Claim, payer: Payer, *, icn: str) -> ClaimAdjudication:
    """Adjudicate a secondary claim from the primary's line adjudication (2430 SVD/CAS).

    The secondary pays the balance the primary left to the patient, up to its own allowed
    amount less what the primary paid; what the primary settled is OA-23; what is left to
    the patient keeps the primary's PR reasons (deductible first).
    """
    member = payer.member(claim.member_id)
    denial = _claim_denial(claim, payer, member, duplicate=False)
    lines: list[LineAdjudication] = []
    for line in claim.lines:
        if denial is not None or member is None:
            lines.append(_deny(line, denial or Denial("CO", "31")))
            continue
        coverage = line_denial(claim, payer, member, line)
        if coverage is not None and coverage.reason in ("26", "27"):
            lines.append(_deny(line, coverage))
            continue
        prior = line.prior
        if prior is None:
            lines.append(_deny(line, Denial("CO", "16", "MA04")))
            continue
        balance = prior.patient_responsibility
        rate = payer.rate(line.code, line.modifiers)
        own_allowed = (
            min(line.charge, _money(rate * line.units)) if rate is not None else prior.paid + balance
        )
        pay = max(ZERO, min(balance, own_allowed - prior.paid))
        result = LineAdjudication(line, allowed=own_allowed, paid=pay)
        if line.charge - balance > 0:
            result.adjustments.append(Adjustment("OA", "23", line.charge - balance))
        left = balance - pay
        for reason in ("1", "2", "3"):
            share = sum((a.amount for a in prior.adjustments if a.group == "PR" and a.reason == reason), ZERO)
            take = min(share, left)
            if take > 0:
                result.adjustments.append(Adjustment("PR", reason, take))
                left -= take
        if left > 0:
            result.adjustments.append(Adjustment("PR", "2", left))
        lines.append(result)
    adjudication = ClaimAdjudication(claim=claim, icn=icn, status="2", lines=lines)
    if adjudication.paid == 0 and adjudication.patient_responsibility == 0:
        adjudication.status = "4"
    return adjudication


def reverse(original: ClaimAdjudication) -> ClaimAdjudication:
    """The reversal of a paid claim (CLP02 22): every amount negated, same ICN."""
    lines = [
        LineAdjudication(
            line=replace(entry.line, charge=-entry.line.charge),
            allowed=-entry.allowed,
            paid=-entry.paid,
            adjustments=[Adjustment(a.group, a.reason, -a.amount) for a in entry.adjustments],
            remarks=list(entry.remarks),
        )
        for entry in original.lines
    ]
    return ClaimAdjudication(claim=original.claim, icn=original.icn, status="22", lines=lines)
