"""Balancing (SNIP type 3): the amounts of an 837P claim or an 835 that must add up.

The implementation guides state them as notes, not as element rules, and a 999 does not report
them (it answers syntax and guide structure, SNIP types 1 and 2): a payer or clearinghouse rejects
an unbalanced claim on its 277CA (A7:400 "claim is out of balance"), a receiver of an unbalanced
835 holds what does not add up. Each rule here is one note of its guide:

- 837P (X222A1, 2300 CLM02): the total claim charge is the sum of the service lines' charges (SV102).
- 835 (X221A1 section 1.10.2): a service line's charge less its adjustments (2110 CAS) is its
  payment (SVC02 - CAS = SVC03); a claim's charge less every adjustment of the claim and its lines
  is its payment (CLP03 - CAS = CLP04, plus the AMT*I interest where the payer pays it in CLP04;
  one that pays it through PLB L6 reports AMT*I as information only); the payment is the claims' payments less the provider
  adjustments (BPR02 = sum CLP04 - sum PLB, signed negative for a debit, BPR03 D); a notification
  (BPR01 H, BPR02 0) balances only when its claims and adjustments net to nothing.

A set whose amounts are not numbers is left to the element checks (they report those).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rcm.x12.reader import TransactionSet
from rcm.x12.segments import Loop, Segment

__all__ = ["Imbalance", "imbalances"]

_CAS_AMOUNTS = (3, 6, 9, 12, 15, 18)
_PLB_AMOUNTS = (4, 6, 8, 10, 12, 14)


@dataclass(frozen=True, slots=True)
class Imbalance:
    """Amounts of one loop that do not add up: ``expected`` is what the guide's rule computes from
    the others, ``found`` what the file says. No patient data: loop, segment, position and amounts."""

    rule: str
    loop_id: str
    segment_id: str
    position: int
    expected: Decimal
    found: Decimal

    def __str__(self) -> str:
        return (
            f"{self.segment_id}@{self.loop_id} (segment {self.position}): {self.rule}: "
            f"expected {self.expected}, found {self.found}"
        )


def _amount(seg: Segment, index: int) -> Decimal | None:
    raw = seg.get(index)
    if not raw:
        return Decimal(0)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _sum(segments: list[Segment], indexes: tuple[int, ...]) -> Decimal | None:
    total = Decimal(0)
    for seg in segments:
        for index in indexes:
            value = _amount(seg, index)
            if value is None:
                return None
            total += value
    return total


def _loops(loop: Loop, loop_id: str) -> Iterator[Loop]:
    for child in loop.loops:
        if child.id == loop_id:
            yield child
        else:
            yield from _loops(child, loop_id)


def imbalances(tx: TransactionSet) -> list[Imbalance]:
    """The balancing rules of the set's guide it breaks (none for other transactions)."""
    if tx.guide_id == "005010X222A1":
        return list(_claims_837p(tx.root))
    if tx.guide_id == "005010X221A1":
        return list(_remit_835(tx.root))
    return []


def _claims_837p(root: Loop) -> Iterator[Imbalance]:
    for claim in _loops(root, "2300"):
        clm = claim.first("CLM")
        lines = [seg for line in claim.children("2400") for seg in line.all("SV1")]
        if clm is None or not lines:
            continue
        charge, total = _amount(clm, 2), _sum(lines, (2,))
        if charge is not None and total is not None and charge != total:
            yield Imbalance("CLM02 = sum of SV102", claim.id, "CLM", clm.position, total, charge)


def _remit_835(root: Loop) -> Iterator[Imbalance]:
    paid_total = Decimal(0)
    readable = True
    for claim in _loops(root, "2100"):
        clp = claim.first("CLP")
        if clp is None:
            continue
        adjustments = _sum(claim.all("CAS"), _CAS_AMOUNTS)
        for line in claim.children("2110"):
            svc = line.first("SVC")
            line_adjustments = _sum(line.all("CAS"), _CAS_AMOUNTS)
            if svc is None or line_adjustments is None:
                adjustments = None
                continue
            if adjustments is not None:
                adjustments += line_adjustments
            charge, paid = _amount(svc, 2), _amount(svc, 3)
            if charge is not None and paid is not None and charge - line_adjustments != paid:
                yield Imbalance(
                    "SVC02 - CAS = SVC03", line.id, "SVC", svc.position, charge - line_adjustments, paid
                )
        charge, paid = _amount(clp, 3), _amount(clp, 4)
        if paid is None:
            readable = False
        else:
            paid_total += paid
        if charge is None or paid is None or adjustments is None or charge - adjustments == paid:
            continue
        amt_i = claim.first("AMT", "I")
        interest = _amount(amt_i, 2) if amt_i is not None else None
        if interest is None or charge - adjustments + interest != paid:
            yield Imbalance("CLP03 - CAS = CLP04", claim.id, "CLP", clp.position, charge - adjustments, paid)
    bpr = root.first("BPR")
    provider_adjustments = _sum([seg for seg in root.walk() if seg.id == "PLB"], _PLB_AMOUNTS)
    if bpr is None or not readable or provider_adjustments is None:
        return
    amount = _amount(bpr, 2)
    if amount is None:
        return
    signed = -amount if bpr.get(3) == "D" else amount
    expected = paid_total - provider_adjustments
    if signed != expected:
        yield Imbalance("BPR02 = sum of CLP04 - sum of PLB", "ST", "BPR", bpr.position, expected, signed)
