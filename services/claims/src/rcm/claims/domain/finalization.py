"""When a claim is finalized: its payer side is settled and has stayed so for a quiet period.

Settled means the payer adjudicated it (paid, partially paid, denied) in an 835 that was
read, not only in a claim status answer, or its balance was written off, and nothing is left for any payer: no next payer's claim to build or in flight,
no correction, void or new original of it still on its way, and its session was not changed
after it was coded. The quiet period (a setting, 30 days by default) leaves room for the
reprocessed or corrected remit that often follows; a remit after finalization reopens the
claim (``state.REOPENED_BY_REMIT``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.state import ClaimState

__all__ = [
    "PAYER_SETTLED",
    "Blocker",
    "Finalize",
    "NotYet",
    "Settlement",
    "finalization",
]

_S = ClaimState

PAYER_SETTLED: frozenset[ClaimState] = frozenset(
    {
        _S.PAID,
        _S.PARTIALLY_PAID,
        _S.DENIED,
        _S.WRITTEN_OFF,
        _S.FINALIZED_PAID,
        _S.FINALIZED_DENIED,
        _S.CORRECTED,
        _S.VOIDED,
    }
)
"""States of a related claim (next payer's, replacement, void) in which no payer owes it an answer."""

_FINALIZABLE: dict[ClaimState, ClaimState] = {
    _S.PAID: _S.FINALIZED_PAID,
    _S.PARTIALLY_PAID: _S.FINALIZED_PAID,
    _S.DENIED: _S.FINALIZED_DENIED,
}


class Blocker(StrEnum):
    """Why a claim is not finalized yet."""

    NOT_SETTLED = "not_settled"
    """The payer has not adjudicated it (or it is held, rejected, pended ...)."""
    NEXT_PAYER_DUE = "next_payer_due"
    """The patient has a next coverage for the date, a balance is left and no claim went to it."""
    NEXT_PAYER_IN_FLIGHT = "next_payer_in_flight"
    """A claim to the next payer is not adjudicated yet."""
    CORRECTION_IN_FLIGHT = "correction_in_flight"
    """A replacement, void or new original of the claim is not adjudicated yet."""
    SESSION_CHANGED = "session_changed"
    """The session was voided or corrected after the claim was coded; it is to be taken back."""
    QUIET_PERIOD = "quiet_period"
    """The last transition or remit is more recent than the quiet period."""
    REMIT_MISSING = "remit_missing"
    """The payer reported it adjudicated (a 277 F1/F2) but no 835 for it was read: nothing is
    posted, so closing it would drop its money from the books; the ERA is to be asked for."""


class Settlement(DomainModel):
    """What the claims service knows of a claim's payer side."""

    claim_key: str
    state: ClaimState
    last_activity_at: datetime
    """The latest transition or remit of the claim."""
    paid: Decimal | None = None
    """What the payer paid on the latest remit; None when no remit was read (e.g. a 277 F1)."""
    remitted: bool = True
    """An 835 for it was read (False when only a claim status answer adjudicated it)."""
    next_payer_due: bool = False
    next_payer_claims: tuple[ClaimState, ...] = ()
    """States of the claims of the same service to later payers."""
    successors: tuple[ClaimState, ...] = ()
    """States of the replacements, voids and new originals of the claim (and of theirs)."""
    session_changed: bool = False


class Finalize(DomainModel):
    """Move the claim to ``to``."""

    to: ClaimState
    reason: str


class NotYet(DomainModel):
    """The claim stays as it is, for these reasons (every one that applies)."""

    blockers: tuple[Blocker, ...]


def _final_state(s: Settlement) -> ClaimState | None:
    if s.state is _S.WRITTEN_OFF:
        # a partly paid claim whose remainder was written off is closed as paid
        return _S.FINALIZED_PAID if (s.paid or 0) > 0 else _S.FINALIZED_DENIED
    return _FINALIZABLE.get(s.state)


def finalization(s: Settlement, *, now: datetime, quiet: timedelta) -> Finalize | NotYet:
    """Whether ``s`` is finalized now, and to which state; otherwise everything that blocks it."""
    to = _final_state(s)
    blockers: list[Blocker] = []
    if to is None:
        blockers.append(Blocker.NOT_SETTLED)
    if s.next_payer_due:
        blockers.append(Blocker.NEXT_PAYER_DUE)
    if any(state not in PAYER_SETTLED for state in s.next_payer_claims):
        blockers.append(Blocker.NEXT_PAYER_IN_FLIGHT)
    if any(state not in PAYER_SETTLED for state in s.successors):
        blockers.append(Blocker.CORRECTION_IN_FLIGHT)
    if s.session_changed:
        blockers.append(Blocker.SESSION_CHANGED)
    if now - s.last_activity_at < quiet:
        blockers.append(Blocker.QUIET_PERIOD)
    if s.state in _FINALIZABLE and not s.remitted:
        blockers.append(Blocker.REMIT_MISSING)
    if blockers or to is None:
        return NotYet(blockers=tuple(blockers))
    days = quiet / timedelta(days=1)
    unit = "day" if days == 1 else "days"
    return Finalize(to=to, reason=f"finalized: payer side settled as {s.state.value} for {days:g} {unit}")
