"""The 835 balancing equations (005010X221A1 section 1.10.2.1).

- service line: SVC02 charge - its CAS = SVC03 paid
- claim: CLP03 charge - claim CAS - every line's CAS = CLP04 paid (plus AMT*I interest, when
  the payer pays it in CLP04)
- payment: sum of CLP04 - sum of PLB amounts = BPR02

An 835 that fails one of them is flagged and held for review, never posted as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rcm.remittance.domain.remit import ClaimRemit, Payment, ServiceRemit

__all__ = ["Imbalance", "check_claim", "check_line", "check_payment"]


@dataclass(frozen=True, slots=True)
class Imbalance:
    """An equation that does not hold: ``expected`` is what the other amounts add up to."""

    level: str
    """``line``, ``claim`` or ``payment``."""
    reported: Decimal
    expected: Decimal
    claim_sequence: int | None = None
    line_number: int | None = None

    @property
    def difference(self) -> Decimal:
        return self.reported - self.expected

    def describe(self) -> str:
        where = {"payment": "BPR02", "claim": "CLP04", "line": "SVC03"}[self.level]
        return f"{where} {self.reported} but the other amounts give {self.expected}"


def check_line(service: ServiceRemit, *, claim_sequence: int = 0, line_number: int = 0) -> Imbalance | None:
    expected = service.charge - sum((a.amount for a in service.adjustments), Decimal(0))
    if expected == service.paid:
        return None
    return Imbalance("line", service.paid, expected, claim_sequence, line_number)


def check_claim(claim: ClaimRemit) -> list[Imbalance]:
    """The claim equation and each line's; empty when the claim balances."""
    found = [
        imbalance
        for number, service in enumerate(claim.services, 1)
        if (imbalance := check_line(service, claim_sequence=claim.sequence, line_number=number)) is not None
    ]
    expected = claim.charge - sum((a.amount for a in claim.all_adjustments()), Decimal(0))
    expected += claim.interest_in_paid  # interest paid with the claim (AMT*I) is part of CLP04
    if expected != claim.paid:
        found.insert(0, Imbalance("claim", claim.paid, expected, claim.sequence))
    return found


def check_payment(payment: Payment) -> Imbalance | None:
    # a claim payment held for a value in its loop still counts: its CLP04 is in BPR02
    paid = sum((c.paid for c in payment.claims), Decimal(0)) + sum(
        (h.paid for h in payment.held_claims), Decimal(0)
    )
    provider = sum((p.amount for p in payment.provider_adjustments), Decimal(0))
    expected = paid - provider
    if expected == payment.amount:
        return None
    return Imbalance("payment", payment.amount, expected)
