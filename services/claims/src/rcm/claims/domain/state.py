"""The claim state machine: states, the transitions allowed between them, and audit records.

Payer outcomes (paid, denied) are separate from final outcomes (finalized_paid,
finalized_denied), and the human hold is separate from payer rejections, so a claim's
state always says who acts next. A finalized claim is closed (see ``domain/finalization.py``
for when), but a payer can still send a remit for it: a reversal, a recoupment or a
corrected payment reopens it (``REOPENED_BY_REMIT``) rather than being lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.errors import IllegalTransition

__all__ = [
    "ALLOWED_TRANSITIONS",
    "FINALIZED_STATES",
    "REOPENED_BY_REMIT",
    "TERMINAL_STATES",
    "AuditRecord",
    "ClaimLifecycle",
    "ClaimState",
    "transition",
]


class ClaimState(StrEnum):
    """Where a claim is in its life."""

    CREATED = "created"
    """Coded, not yet scrubbed."""
    HELD = "held"
    """Failed an edit or was rejected; waits for a fix."""
    READY = "ready"
    """Passed every edit; waits for a batch."""
    BATCHED = "batched"
    """In an 837P file not yet uploaded."""
    SUBMITTED = "submitted"
    """Uploaded; no acknowledgement yet."""
    ACCEPTED = "accepted"
    """Acknowledged by the clearinghouse or payer (999/277CA)."""
    REJECTED = "rejected"
    """Rejected by a 999 or 277CA; never reached adjudication."""
    PENDED = "pended"
    """Payer is reviewing (277 pended, OA-133)."""
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    CORRECTED = "corrected"
    """Replaced by a corrected claim (frequency 7)."""
    VOIDED = "voided"
    """Withdrawn (frequency 8) or never sent."""
    WRITTEN_OFF = "written_off"
    """The payer's balance closed as uncollectable (e.g. CO-29 without proof of timely filing)."""
    FINALIZED_PAID = "finalized_paid"
    """Closed: the payer side is settled with a payment and stayed so for the quiet period."""
    FINALIZED_DENIED = "finalized_denied"
    """Closed: the payer side is settled with nothing paid (denied or written off)."""


_S = ClaimState
_ADJUDICATED = {_S.PAID, _S.PARTIALLY_PAID, _S.DENIED}

FINALIZED_STATES: frozenset[ClaimState] = frozenset({_S.FINALIZED_PAID, _S.FINALIZED_DENIED})

REOPENED_BY_REMIT: frozenset[ClaimState] = frozenset({*_ADJUDICATED, _S.PENDED})
"""Where a later remit takes a finalized claim: the outcome it carries, or pended for a reversal
(CLP02 22) whose re-adjudication has not arrived yet."""

ALLOWED_TRANSITIONS: Mapping[ClaimState, frozenset[ClaimState]] = {
    _S.CREATED: frozenset({_S.HELD, _S.READY, _S.VOIDED}),
    _S.HELD: frozenset({_S.READY, _S.VOIDED, _S.WRITTEN_OFF}),
    _S.READY: frozenset({_S.BATCHED, _S.HELD, _S.VOIDED}),
    _S.BATCHED: frozenset({_S.SUBMITTED, _S.READY}),
    # a replacement or void may go out before the payer's remit for the original is read
    # a write-off decided on the payer's remit may arrive before this service has read that remit
    _S.SUBMITTED: frozenset(
        {_S.ACCEPTED, _S.REJECTED, _S.PENDED, _S.CORRECTED, _S.VOIDED, _S.WRITTEN_OFF, *_ADJUDICATED}
    ),
    _S.ACCEPTED: frozenset({_S.REJECTED, _S.PENDED, _S.CORRECTED, _S.VOIDED, _S.WRITTEN_OFF, *_ADJUDICATED}),
    _S.REJECTED: frozenset({_S.HELD, _S.READY, _S.VOIDED, _S.WRITTEN_OFF}),
    _S.PENDED: frozenset({_S.CORRECTED, _S.VOIDED, _S.WRITTEN_OFF, *_ADJUDICATED}),
    # a reversal (CLP02 22) takes an adjudication back: pended until the re-adjudication arrives
    _S.PAID: frozenset({_S.FINALIZED_PAID, _S.CORRECTED, _S.VOIDED, _S.PARTIALLY_PAID, _S.DENIED, _S.PENDED}),
    _S.PARTIALLY_PAID: frozenset(
        {_S.FINALIZED_PAID, _S.CORRECTED, _S.VOIDED, _S.PAID, _S.DENIED, _S.WRITTEN_OFF, _S.PENDED}
    ),
    _S.DENIED: frozenset(
        {_S.FINALIZED_DENIED, _S.CORRECTED, _S.VOIDED, _S.PAID, _S.PARTIALLY_PAID, _S.WRITTEN_OFF, _S.PENDED}
    ),
    # a payer may still reprocess a written-off claim and pay it (or reverse what it paid)
    _S.WRITTEN_OFF: frozenset({_S.PAID, _S.PARTIALLY_PAID, _S.PENDED, *FINALIZED_STATES}),
    _S.CORRECTED: frozenset(),
    _S.VOIDED: frozenset(),
    # a later remit reopens a finalized claim; a replacement or void sent for it supersedes it
    # (the payer's reversal of it then finds it corrected, and the replacement carries the outcome)
    _S.FINALIZED_PAID: frozenset({*REOPENED_BY_REMIT, _S.CORRECTED, _S.VOIDED}),
    _S.FINALIZED_DENIED: frozenset({*REOPENED_BY_REMIT, _S.CORRECTED, _S.VOIDED}),
}
"""From each state, the states a claim may move to (reprocessed remits move between payer outcomes)."""

TERMINAL_STATES: frozenset[ClaimState] = frozenset({_S.CORRECTED, _S.VOIDED, *FINALIZED_STATES})
"""States in which the claim's life is over: the service moves it no further on its own.

A finalized claim is terminal in that sense: only a later remit from the payer reopens it,
and only a replacement or void sent for it supersedes it."""


class AuditRecord(DomainModel):
    """One transition of one claim: who or what moved it, from where to where, why and when."""

    claim_key: str
    from_state: ClaimState
    to_state: ClaimState
    reason: str = Field(min_length=1, max_length=500)
    at: datetime
    actor: str = "claims"


def transition(
    claim_key: str, current: ClaimState, to: ClaimState, *, reason: str, at: datetime, actor: str = "claims"
) -> AuditRecord:
    """The audit record of moving ``current`` to ``to``; raises IllegalTransition if not allowed."""
    if to not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(claim_key, current.value, to.value)
    return AuditRecord(
        claim_key=claim_key, from_state=current, to_state=to, reason=reason, at=at, actor=actor
    )


class ClaimLifecycle(DomainModel):
    """A claim's current state with its audit trail."""

    claim_key: str
    state: ClaimState = ClaimState.CREATED
    history: tuple[AuditRecord, ...] = ()

    def move(self, to: ClaimState, *, reason: str, at: datetime, actor: str = "claims") -> ClaimLifecycle:
        """A new lifecycle in state ``to`` with the transition appended to its history."""
        record = transition(self.claim_key, self.state, to, reason=reason, at=at, actor=actor)
        return self.model_copy(update={"state": to, "history": (*self.history, record)})

    @property
    def is_terminal(self) -> bool:
        """True once the service moves the claim no further on its own (a later remit may reopen a finalized one)."""
        return self.state in TERMINAL_STATES
