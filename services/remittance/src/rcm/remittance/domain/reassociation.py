"""EFT reassociation: an 835's TRN02 trace number names the deposit that pays it.

Matched when the trace numbers are equal (ignoring case and leading zeros, which banks and
payers drop inconsistently) and the payer agrees: the 835's TRN03 (the originating company id)
against the deposit's originator id (the ACH company id) when the bank gave it. Two payers can
use the same trace number, so a deposit without an originator whose trace several payers' 835s
carry is left unmatched with its reason rather than guessed. An amount that differs is reported,
not matched silently. A deposit is recorded once per trace number, amount, date and originator
(``payer_key``; ``store.deposit``): two payers' EFTs alike in the first three are two deposits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = ["Deposit", "PaymentAdvice", "Reassociation", "payer_key", "reassociate", "trace_key"]


@dataclass(frozen=True, slots=True)
class Deposit:
    trace_number: str
    amount: Decimal
    deposit_date: date
    originator_id: str | None = None
    """The ACH originator (company id) of the deposit, when the bank gives it: the payer's TRN03."""


@dataclass(frozen=True, slots=True)
class PaymentAdvice:
    """An 835 payment as reassociation sees it."""

    payment_id: str
    trace_number: str
    amount: Decimal
    payment_date: date | None
    payer_ref: str | None = None
    """TRN03, the payer's originating company id (the 835's payer identifier when TRN03 is absent)."""


@dataclass(frozen=True, slots=True)
class Reassociation:
    matched: list[tuple[PaymentAdvice, Deposit]] = field(default_factory=list)
    amount_mismatches: list[tuple[PaymentAdvice, Deposit]] = field(default_factory=list)
    payments_without_deposit: list[PaymentAdvice] = field(default_factory=list)
    deposits_without_payment: list[Deposit] = field(default_factory=list)
    ambiguous_deposits: list[tuple[Deposit, str]] = field(default_factory=list)
    """Deposits left unmatched on purpose, with the reason (no originator and several payers' 835s
    carry the trace)."""


def trace_key(trace_number: str) -> str:
    return trace_number.strip().upper().lstrip("0") or "0"


def payer_key(company_id: str | None) -> str | None:
    """A TRN03 or ACH company id compared: case and spaces ignored, and the '1' an EIN is
    prefixed with in both (1 + 9 digits) dropped, so '1123456789' and '123456789' agree."""
    if company_id is None or not company_id.strip():
        return None
    key = company_id.strip().upper()
    if len(key) == 10 and key.isdigit() and key.startswith("1"):
        return key[1:]
    return key


def reassociate(payments: Sequence[PaymentAdvice], deposits: Sequence[Deposit]) -> Reassociation:
    result = Reassociation()
    by_trace: dict[str, list[Deposit]] = {}
    for d in deposits:
        by_trace.setdefault(trace_key(d.trace_number), []).append(d)
    # the payers whose 835s (that move money) carry each trace: one payer, or a deposit without an
    # originator cannot tell whose it is
    payers: dict[str, set[str | None]] = {}
    for p in payments:
        if p.amount != 0:
            payers.setdefault(trace_key(p.trace_number), set()).add(payer_key(p.payer_ref))
    ambiguous: set[int] = set()
    for key, pool in by_trace.items():
        if len(payers.get(key, set())) > 1:
            for d in pool:
                if payer_key(d.originator_id) is None:
                    ambiguous.add(id(d))
    for p in payments:
        key = trace_key(p.trace_number)
        pool = by_trace.get(key, [])
        payer = payer_key(p.payer_ref)
        named = [d for d in pool if payer is not None and payer_key(d.originator_id) == payer]
        unnamed = [d for d in pool if payer_key(d.originator_id) is None and id(d) not in ambiguous]
        candidates = named or unnamed  # a deposit naming the payer first
        if not candidates:
            if p.amount != 0:  # a zero-pay 835 (denials only) moves no money
                result.payments_without_deposit.append(p)
            continue
        same = next((d for d in candidates if d.amount == p.amount), None)
        deposit = same or candidates[0]
        pool.remove(deposit)
        (result.matched if same else result.amount_mismatches).append((p, deposit))
    for pool in by_trace.values():
        for d in pool:
            if id(d) in ambiguous:
                reason = "no originator id on the deposit and 835s of several payers carry its trace number"
                result.ambiguous_deposits.append((d, reason))
            else:
                result.deposits_without_payment.append(d)
    return result
