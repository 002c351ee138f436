"""Batching rules: which ready claims go out together, and when.

Claims are batched per submitter and payer. A group is cut into files of at most
``max_claims``; full files go at once, and the remainder goes when its oldest claim
has waited ``max_wait`` (the time cut-off), so a quiet payer's claims are not held back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import Field

from rcm.claims.domain.common import DomainModel

__all__ = ["BatchPolicy", "DueBatch", "ReadyClaim", "batches_due"]


class BatchPolicy(DomainModel):
    """Size and time cut-offs of 837P files."""

    max_claims: int = Field(default=100, ge=1, le=5000)
    max_wait: timedelta = Field(default=timedelta(minutes=5), ge=timedelta(0))


class ReadyClaim(DomainModel):
    """A claim waiting for a batch."""

    claim_id: str
    submitter_id: str
    payer_id: str
    ready_at: datetime


class DueBatch(DomainModel):
    """Claims to put in one file now."""

    submitter_id: str
    payer_id: str
    claim_ids: tuple[str, ...] = Field(min_length=1)
    reason: str


def batches_due(ready: Sequence[ReadyClaim], *, now: datetime, policy: BatchPolicy) -> list[DueBatch]:
    """The files to cut now: full ones by size, the rest of a group once its oldest waited long enough."""
    groups: dict[tuple[str, str], list[ReadyClaim]] = defaultdict(list)
    for claim in ready:
        groups[(claim.submitter_id, claim.payer_id)].append(claim)
    due: list[DueBatch] = []
    for (submitter, payer), claims in sorted(groups.items()):
        claims.sort(key=lambda c: (c.ready_at, c.claim_id))
        for start in range(0, len(claims), policy.max_claims):
            chunk = claims[start : start + policy.max_claims]
            if len(chunk) == policy.max_claims:
                reason = f"size cut-off ({policy.max_claims} claims)"
            elif now - chunk[0].ready_at >= policy.max_wait:
                reason = f"time cut-off (oldest waited {policy.max_wait})"
            else:
                continue
            due.append(
                DueBatch(
                    submitter_id=submitter,
                    payer_id=payer,
                    claim_ids=tuple(c.claim_id for c in chunk),
                    reason=reason,
                )
            )
    return due
