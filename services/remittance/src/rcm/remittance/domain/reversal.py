"""Reversals (CLP02 22): find the posting the payer takes back and undo it exactly.

A reversal repeats the original claim payment with negated amounts. The original is the
latest posting on the same claim that is not reversed yet and whose paid amount the reversal
negates, preferring the same payer claim number. Undoing posts the original's lines negated,
so every total on the claim returns to what it was before the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rcm.remittance.domain.posting import ClaimPosting
from rcm.remittance.domain.remit import ClaimRemit

__all__ = ["PostedClaimPayment", "find_original", "undo"]


@dataclass(frozen=True, slots=True)
class PostedClaimPayment:
    """A claim payment already posted (what the store keeps of it)."""

    remit_id: str
    claim_id: str
    payer_claim_number: str | None
    charge: Decimal
    paid: Decimal
    posting: ClaimPosting
    reversed: bool = False
    payment_id: str | None = None
    """The 835 payment (transaction set) that posted it."""


def find_original(reversal: ClaimRemit, posted: Sequence[PostedClaimPayment]) -> PostedClaimPayment | None:
    """The posting ``reversal`` takes back, or None (``posted`` in posting order, one claim)."""
    open_ = [
        p
        for p in posted
        if not p.reversed and p.paid == -reversal.paid and abs(p.charge) == abs(reversal.charge)
    ]
    # the reversal repeats the original's CLP07, or names it in REF*F8 under a number of its own
    numbers = {reversal.payer_claim_number, reversal.original_reference} - {None, ""}
    same_icn = [p for p in open_ if p.payer_claim_number in numbers]
    for candidates in (same_icn, open_):
        if candidates:
            return candidates[-1]
    return None


def undo(original: PostedClaimPayment) -> ClaimPosting:
    """The posting that cancels ``original`` line by line."""
    return original.posting.negated()
