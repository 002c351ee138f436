"""PLB: provider-level adjustments, applied to the claim their reference names or to the account.

A positive amount is withheld from the payment (the provider owes it), a negative one is paid to
the provider. Where each goes (005010X221A1 section 1.10.2.17 and the PLB03-1 code notes):

- ``WO`` overpayment recovery, positive: the payer takes back an overpayment. Section 1.10.2.17:
  the claim moves once, through the reversal and correction of its claim payment; the ``WO`` pair
  is cash timing only. So when an earlier negative ``WO`` for the same claim deferred that
  recovery, it settles the deferral on the account (``recovery``). A deferral and its recovery are
  paired by the claim their references name, whichever of its payer claim numbers each uses (the
  original's CLP07 or the correction's) or our control number; a reference that names none of our
  claims pairs by its text. Without a deferral to settle it is a ``recoupment`` from the named
  claim, whose payment drops and whose balance opens again, until the reversal of that claim
  payment arrives: the reversal and correction then carry the overpayment, and the recoupment
  becomes a ``recovery`` on the account, the claim's payment given back (``ingest``). A
  recoupment that would take the claim's payment below zero is not taken from the claim: it stays
  on the account, flagged.
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
    "deferral_identity",
    "deferral_key",
    "kind_of",
    "named_claim",
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


def named_claim(reference: str | None, claims_by_reference: Mapping[str, str]) -> str | None:
    """The claim a PLB03-2 reference names (``claims_by_reference``: upper-cased payer claim
    numbers and control numbers to our claim ids), trying its tokens most specific first."""
    return next(
        (
            claims_by_reference[t.upper()]
            for t in reference_tokens(reference)
            if t.upper() in claims_by_reference
        ),
        None,
    )


def deferral_identity(reference: str | None, claim_id: str | None) -> str:
    """What pairs a deferral (negative WO) with the recovery that takes it: the claim the
    reference names, by whichever of its numbers; else the reference written one way ('' for none)."""
    if claim_id:
        return f"claim:{claim_id}"
    return deferral_key(reference)


@dataclass(frozen=True, slots=True)
class PlbApplication:
    adjustment: ProviderAdjustment
    kind: PlbKind
    claim_id: str | None
    """The claim it applies to; None means the account ledger."""
    named_claim_id: str | None = None
    """The claim its reference names, wherever it applies (a deferral or recovery names a claim
    and is the account's)."""


def apply_provider_adjustments(
    adjustments: Sequence[ProviderAdjustment],
    claims_by_reference: Mapping[str, str],
    deferred: Mapping[str, Decimal] | None = None,
) -> list[PlbApplication]:
    """Decide where each PLB amount goes. ``claims_by_reference`` maps an upper-cased payer claim
    number or control number to our claim id (the store looks the tokens up); ``deferred`` maps a
    ``deferral_identity`` to what earlier 835s deferred under it and no recovery has taken yet."""
    outstanding = dict(deferred or {})
    applied: list[PlbApplication] = []
    for adjustment in adjustments:
        kind = kind_of(adjustment.reason, adjustment.amount)
        named = named_claim(adjustment.reference, claims_by_reference)
        key = deferral_identity(adjustment.reference, named)
        if kind is PlbKind.DEFERRAL and key:
            outstanding[key] = outstanding.get(key, ZERO) - adjustment.amount
        elif kind is PlbKind.RECOUPMENT and key and outstanding.get(key, ZERO) > ZERO:
            kind = PlbKind.RECOVERY
            outstanding[key] -= adjustment.amount
        claim_id = named if kind in (PlbKind.RECOUPMENT, PlbKind.INTEREST) else None
        applied.append(PlbApplication(adjustment, kind, claim_id, named))
    return applied
