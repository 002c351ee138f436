"""Underpayments: an allowed amount below the contracted rate, even when nothing was denied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = ["ContractRate", "Underpayment", "contracted_rate", "underpayment"]


@dataclass(frozen=True, slots=True)
class ContractRate:
    """One contracted allowed amount per unit (from ``fee-schedule-updated``, payer contracts)."""

    payer_id: str
    procedure_code: str
    amount: Decimal
    start: date
    end: date | None = None
    modifiers: frozenset[str] = frozenset()
    place_of_service: str | None = None


@dataclass(frozen=True, slots=True)
class Underpayment:
    expected: Decimal
    allowed: Decimal

    @property
    def shortfall(self) -> Decimal:
        return self.expected - self.allowed


def contracted_rate(
    rates: list[ContractRate],
    *,
    payer_id: str,
    procedure_code: str,
    modifiers: tuple[str, ...],
    service_date: date,
    place_of_service: str | None = None,
) -> ContractRate | None:
    """The most specific rate in force: its modifiers all on the line, its POS (if any) the line's."""
    candidates = [
        r
        for r in rates
        if r.payer_id == payer_id
        and r.procedure_code == procedure_code
        and r.start <= service_date
        and (r.end is None or service_date <= r.end)
        and r.modifiers <= set(modifiers)
        and (r.place_of_service is None or r.place_of_service == place_of_service)
    ]
    return max(
        candidates,
        key=lambda r: (len(r.modifiers), r.place_of_service is not None, r.start),
        default=None,
    )


def underpayment(
    rate: ContractRate | None, *, allowed: Decimal | None, units: int = 1
) -> Underpayment | None:
    """An underpayment when the payer allowed less than ``units`` x the contracted rate."""
    if rate is None or allowed is None or allowed <= 0:
        return None
    expected = rate.amount * max(units, 1)
    return Underpayment(expected=expected, allowed=allowed) if allowed < expected else None
