"""What a claim payment must say before the posting rules can read it (005010X221A1 code lists).

- CLP02 is one the guide lists: 1, 2, 3, 4, 19, 20, 21, 22, 23 or 25. Another (a 4010 status such
  as 5 "pended", or a typing error) says nothing the rules can post: read as "processed as
  primary" it would write the claim's CO amounts off.
- CAS01 is a group the guide lists: CO, PR, OA or PI (and CR, which payers still send from
  4010). An amount under another group balances the claim yet names no ledger to post to: it
  would vanish from the claim's balance.
- A status that pays nothing (23 not our claim, forwarded; 25 predetermination pricing only) comes
  with CLP04 0: money under it contradicts the status, and the posting rules post nothing of it, so
  the deposit would hold money no claim shows.

A claim payment that fails is held for a person, with the reason, and nothing of it posts.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcm.remittance.domain.remit import ClaimRemit, Group

__all__ = ["ClaimProblem", "claim_problems"]

_GROUPS = frozenset(g.value for g in Group)


@dataclass(frozen=True, slots=True)
class ClaimProblem:
    kind: str
    """``unknown_claim_status``, ``unknown_adjustment_group`` or ``paid_under_a_non_paying_status``."""
    message: str


def claim_problems(claim: ClaimRemit) -> list[ClaimProblem]:
    """Why the posting rules cannot read ``claim``; empty when they can."""
    found: list[ClaimProblem] = []
    if claim.claim_status is None:
        found.append(
            ClaimProblem(
                "unknown_claim_status", f"CLP02 {claim.status[:5]!r} is not a 5010 claim status code"
            )
        )
    status = claim.claim_status
    if status is not None and not status.moves_money and claim.paid != 0:
        found.append(
            ClaimProblem(
                "paid_under_a_non_paying_status",
                f"CLP02 {status.value} pays nothing, yet CLP04 is {claim.paid}: ask the payer which "
                "status or amount is right",
            )
        )
    unknown = sorted({a.group for a in claim.all_adjustments()} - _GROUPS)
    if unknown:
        groups = ", ".join(repr(g[:3]) for g in unknown)
        found.append(
            ClaimProblem("unknown_adjustment_group", f"CAS01 {groups} is not an adjustment group code")
        )
    return found
