"""Errors raised by the claims domain.

Business outcomes (not billable, held by an edit) are values, never exceptions; these
errors are for programming mistakes and illegal requests such as a forbidden transition.
"""

from __future__ import annotations

__all__ = ["ClaimsError", "IllegalTransition"]


class ClaimsError(Exception):
    """Base class of every error raised by the claims domain."""


class IllegalTransition(ClaimsError):
    """A claim was asked to move between two states the state machine does not connect."""

    def __init__(self, claim_key: str, from_state: str, to_state: str) -> None:
        super().__init__(f"claim {claim_key}: no transition from {from_state} to {to_state}")
        self.claim_key = claim_key
        self.from_state = from_state
        self.to_state = to_state
