"""What a claim payment must say before the posting rules can read it (005010X221A1 code lists).

- CLP02 is one the guide lists: 1, 2, 3, 4, 19, 20, 21, 22, 23 or 25. Another (a 4010 status such
  as 5 "pended", or a typing error) says nothing the rules can post: read as "processed as
  primary" it would write the claim's CO amounts off.
- CAS01 is a group the guide lists: CO, PR, OA or PI (and CR, which payers still send from
  4010). An amount under another group balances the claim yet names no ledger to post to: it
  would vanish from the claim's balance.
- A status that pays nothing (23 not our claim, forwarded; 25 predetermination pricing only) comes
  with CLP04 0: money under it contradicts the status, and the posting rules post nothing of it, so
  the deposit would hold money no claim shows. So does 4 (denied): the guide keeps it for a
  patient the payer did not recognise, whose claim it could not process; money under it is either
  a wrong status (1-3 say "processed", paid or not) or a wrong amount.

A claim payment that fails is held for a person, with the reason, and nothing of it posts.

``claim_warnings``: what is flagged but does not hold the claim payment. CLP05 (patient
responsibility) must equal the sum of the claim's and its lines' PR adjustments (X12 RFI 2548;
reversals excepted), yet it is not part of the 835's balancing and payers get it wrong in both
directions: the PR adjustments, which balance the claim, are what is posted, and a CLP05 that
differs is flagged (``patient_responsibility_mismatch``) for a person to check the statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcm.remittance.domain.remit import ZERO, ClaimRemit, ClaimStatus, Group

__all__ = ["ClaimProblem", "claim_problems", "claim_warnings"]

_GROUPS = frozenset(g.value for g in Group)


@dataclass(frozen=True, slots=True)
class ClaimProblem:
    kind: str
    """``unknown_claim_status``, ``unknown_adjustment_group`` or ``paid_under_a_non_paying_status``
    (``claim_problems``); ``patient_responsibility_mismatch`` (``claim_warnings``)."""
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
    if status is ClaimStatus.DENIED and claim.paid != 0:
        found.append(
            ClaimProblem(
                "paid_under_a_non_paying_status",
                f"CLP02 4 (denied: the payer could not process the claim) pays nothing, yet CLP04 is "
                f"{claim.paid}: ask the payer which status (1-3 when it processed the claim) or amount is right",
            )
        )
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


def claim_warnings(claim: ClaimRemit) -> list[ClaimProblem]:
    """What to flag in ``claim`` that does not keep it from posting (see the module docstring)."""
    status = claim.claim_status
    if status is None or status is ClaimStatus.REVERSAL or not status.moves_money:
        return []  # a reversal negates the original's CLP05 as it stood; 23 and 25 post nothing
    pr = sum((a.amount for a in claim.all_adjustments() if a.group == Group.PR), ZERO)
    if pr == claim.patient_responsibility:
        return []
    return [
        ClaimProblem(
            "patient_responsibility_mismatch",
            f"CLP05 {claim.patient_responsibility} is not the sum of the PR adjustments ({pr}): the "
            "PR adjustments are posted as the patient's share; check what the patient is billed",
        )
    ]
