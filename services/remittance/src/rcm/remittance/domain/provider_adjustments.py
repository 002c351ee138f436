"""PLB: provider-level adjustments, applied to the claim their reference names or to the account.

PLB03-1 reason codes handled specially:
- ``WO`` overpayment recovery, ``72`` authorized return, ``FB`` forwarding balance: money the payer
  takes back (positive) or returns (negative). With a claim reference the claim's payment drops
  by the amount and its balance opens again (a recoupment).
- ``L6`` interest (usually negative: paid to the provider): interest income on the claim.
- anything else, and any reference that names none of our claims: the account ledger.

References come as the payer claim number, our patient control number, or either with a prefix
(``ICN 123``, ``123 PCN``): every token is tried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rcm.remittance.domain.remit import ProviderAdjustment

__all__ = ["PlbApplication", "PlbKind", "apply_provider_adjustments", "kind_of", "reference_tokens"]

RECOUPMENT_REASONS = frozenset({"WO", "72", "FB"})
INTEREST_REASONS = frozenset({"L6"})


class PlbKind(StrEnum):
    RECOUPMENT = "recoupment"
    INTEREST = "interest"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PlbApplication:
    adjustment: ProviderAdjustment
    kind: PlbKind
    claim_id: str | None
    """The claim it applies to; None means the account ledger."""


def kind_of(reason: str) -> PlbKind:
    if reason in RECOUPMENT_REASONS:
        return PlbKind.RECOUPMENT
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


def apply_provider_adjustments(
    adjustments: Sequence[ProviderAdjustment], claims_by_reference: Mapping[str, str]
) -> list[PlbApplication]:
    """Decide where each PLB amount goes. ``claims_by_reference`` maps an upper-cased payer claim
    number or control number to our claim id (the store looks the tokens up)."""
    applied: list[PlbApplication] = []
    for adjustment in adjustments:
        kind = kind_of(adjustment.reason)
        claim_id = None
        if kind is not PlbKind.OTHER:
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
