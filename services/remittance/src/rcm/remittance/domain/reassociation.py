"""EFT reassociation: an 835's TRN02 trace number names the deposit that pays it.

Matched when the trace numbers are equal (ignoring case and leading zeros, which banks and
payers drop inconsistently); an amount that differs is reported, not matched silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = ["Deposit", "PaymentAdvice", "Reassociation", "reassociate", "trace_key"]


@dataclass(frozen=True, slots=True)
class Deposit:
    trace_number: str
    amount: Decimal
    deposit_date: date


@dataclass(frozen=True, slots=True)
class PaymentAdvice:
    """An 835 payment as reassociation sees it."""

    payment_id: str
    trace_number: str
    amount: Decimal
    payment_date: date | None


@dataclass(frozen=True, slots=True)
class Reassociation:
    matched: list[tuple[PaymentAdvice, Deposit]] = field(default_factory=list)
    amount_mismatches: list[tuple[PaymentAdvice, Deposit]] = field(default_factory=list)
    payments_without_deposit: list[PaymentAdvice] = field(default_factory=list)
    deposits_without_payment: list[Deposit] = field(default_factory=list)


def trace_key(trace_number: str) -> str:
    return trace_number.strip().upper().lstrip("0") or "0"


def reassociate(payments: Sequence[PaymentAdvice], deposits: Sequence[Deposit]) -> Reassociation:
    result = Reassociation()
    by_trace: dict[str, list[Deposit]] = {}
    for d in deposits:
        by_trace.setdefault(trace_key(d.trace_number), []).append(d)
    for p in payments:
        pool = by_trace.get(trace_key(p.trace_number), [])
        if not pool:
            if p.amount != 0:  # a zero-pay 835 (denials only) moves no money
                result.payments_without_deposit.append(p)
            continue
        same = next((d for d in pool if d.amount == p.amount), None)
        deposit = same or pool[0]
        pool.remove(deposit)
        (result.matched if same else result.amount_mismatches).append((p, deposit))
    result.deposits_without_payment.extend(d for pool in by_trace.values() for d in pool)
    return result
