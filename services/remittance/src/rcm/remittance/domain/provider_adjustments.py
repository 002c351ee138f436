"""PLB: provider-level adjustments, applied to the claim their reference names or to the account.

A positive amount is withheld from the payment (the provider owes it), a negative one is paid to
the provider. Where each goes (005010X221A1 section 1.10.2.17 and the PLB03-1 code notes):

- ``WO`` overpayment recovery, positive: the payer takes back an overpayment. When an earlier
  negative ``WO`` under the same reference deferred that recovery, it settles the deferral on the
  account (the reversal and correction already moved the claim); otherwise it is a recoupment
  from the named claim, whose payment drops and whose balance opens again.
- ``WO`` negative: the recovery of an overpayment that a reversal and correction already showed
  on the claim is delayed; the deferral waits on the account for the positive ``WO`` that takes it.
- ``FB`` forwarding balance: an amount carried between 835s (negative: carried to a later one,
  positive: taken from an earlier one's). The claims it came from were moved by their own
  reversals; it is the account's.
- ``72`` authorized return: a refund check the provider sent, acknowledged (offsetting a ``WO``);
  the account's, never a second change to the claim.
- ``L6`` interest (usually negative: paid to the provider): interest income on the claim.
- anything else (``J1``, ``CS``, ``IR``, ...), and any reference that names none of our claims:
  the account ledger.

References come as the payer claim number, our patient control number, or either with a prefix
(``ICN 123``, ``123 PCN``): every token is tried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from rcm.remittance.domain.remit import ZERO, ProviderAdjustment

__all__ = [
    "PlbApplication",
    "PlbKind",
    "apply_provider_adjustments",
    "deferral_key",
    "kind_of",
    "reference_tokens",
]

OVERPAYMENT_RECOVERY = "WO"
FORWARDING_BALANCE = "FB"
AUTHORIZED_RETURN = "72"
INTEREST_REASONS = frozenset({"L6"})


class PlbKind(StrEnum):
    RECOUPMENT = "recoupment"
    """Positive WO with no deferral to settle: taken from the named claim's payment."""
    DEFERRAL = "deferral"
    """Negative WO: a recovery delayed to a later 835 (account)."""
    RECOVERY = "recovery"
    """Positive WO that takes a deferred recovery (account)."""
    FORWARDING = "forwarding"
    """FB: a balance carried between 835s (account)."""
    REFUND = "refund"
    """72: a refund check from the provider, acknowledged (account)."""
    INTEREST = "interest"
    OTHER = "other"


def kind_of(reason: str, amount: Decimal = ZERO) -> PlbKind:
    """The kind of a PLB reason and amount (a positive WO is a recoupment until a deferral says
    otherwise, ``apply_provider_adjustments``)."""
    if reason == OVERPAYMENT_RECOVERY:
        return PlbKind.DEFERRAL if amount < ZERO else PlbKind.RECOUPMENT
    if reason == FORWARDING_BALANCE:
        return PlbKind.FORWARDING
    if reason == AUTHORIZED_RETURN:
        return PlbKind.REFUND
    if reason in INTEREST_REASONS:
        return PlbKind.INTEREST
    return PlbKind.OTHER


def reference_tokens(reference: str | None) -> list[str]:
    """Candidate claim identifiers in a PLB03-2 reference, most specific first."""
    if not reference:
        return []
    whole = reference.strip()
    parts = [p for p in re.split(r"[\s:;,/]+", whole) if p]
    return list(dict.fromkeys([whole, *parts]))


def deferral_key(reference: str | None) -> str:
    """A WO reference written one way, to pair a deferral with the recovery that takes it."""
    return " ".join((reference or "").split()).upper()


@dataclass(frozen=True, slots=True)
class PlbApplication:
    adjustment: ProviderAdjustment
    kind: PlbKind
    claim_id: str | None
    """The claim it applies to; None means the account ledger."""


def apply_provider_adjustments(
    adjustments: Sequence[ProviderAdjustment],
    claims_by_reference: Mapping[str, str],
    deferred: Mapping[str, Decimal] | None = None,
) -> list[PlbApplication]:
    """Decide where each PLB amount goes. ``claims_by_reference`` maps an upper-cased payer claim
    number or control number to our claim id (the store looks the tokens up); ``deferred`` maps a
    ``deferral_key`` to what earlier 835s deferred under it and no recovery has taken yet."""
    outstanding = dict(deferred or {})
    applied: list[PlbApplication] = []
    for adjustment in adjustments:
        kind = kind_of(adjustment.reason, adjustment.amount)
        key = deferral_key(adjustment.reference)
        if kind is PlbKind.DEFERRAL and key:
            outstanding[key] = outstanding.get(key, ZERO) - adjustment.amount
        elif kind is PlbKind.RECOUPMENT and key and outstanding.get(key, ZERO) > ZERO:
            kind = PlbKind.RECOVERY
            outstanding[key] -= adjustment.amount
        claim_id = None
        if kind in (PlbKind.RECOUPMENT, PlbKind.INTEREST):
            claim_id = next(
                (
                    claims_by_reference[t.upper()]
                    for t in reference_tokens(adjustment.reference)
                    if t.upper() in claims_by_reference
                ),
                None,
            )
        applied.append(PlbApplication(adjustment, kind, claim_id))
    return applied
