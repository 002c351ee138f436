"""Corrected and voided claims: the changes asked for, applied to a claim draft.

A replacement (frequency 7) or void (8) names the payer's claim number (REF*F8). Each
gets its own claim key (a new revision of the session's claim), so acknowledgements and
remits match exactly one claim; the line keys of the original survive, so remits of
the replacement still match the original lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from rcm.claims.domain.claim import ClaimDraft, FrequencyCode, ServiceLine
from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.identifiers import line_key
from rcm.claims.domain.state import ClaimState

__all__ = [
    "ClaimChange",
    "UnsupportedChange",
    "Withdrawal",
    "apply_changes",
    "payer_holds",
    "rekeyed",
    "replacement",
    "withdrawal",
]


class ClaimChange(DomainModel):
    """One change: ``action`` as in the claim-correction-requested event, on a line or the claim."""

    action: str
    line_key: str | None = None
    value: str | None = None


class UnsupportedChange(ValueError):
    """A change this service cannot apply to a claim draft (it needs a person or a recode)."""


def _lines(draft: ClaimDraft, change: ClaimChange) -> list[ServiceLine]:
    return [line for line in draft.lines if change.line_key in (None, line.line_key)]


def _apply(draft: ClaimDraft, change: ClaimChange) -> ClaimDraft:
    value = change.value or ""
    targets = {line.line_key for line in _lines(draft, change)}

    def each(update: dict[str, object] | None = None, **kwargs: object) -> ClaimDraft:
        lines = tuple(
            line.model_copy(update=(update or {}) | kwargs) if line.line_key in targets else line
            for line in draft.lines
        )
        return draft.model_copy(update={"lines": lines})

    match change.action:
        case "add_modifier":
            lines = tuple(
                line.model_copy(update={"modifiers": (*line.modifiers, value)})
                if line.line_key in targets and value not in line.modifiers and not line.add_on
                else line
                for line in draft.lines
            )
            if change.line_key is not None:  # an explicit line gets it even when it is an add-on
                lines = tuple(
                    line.model_copy(update={"modifiers": (*line.modifiers, value)})
                    if line.line_key in targets and value not in line.modifiers
                    else line
                    for line in lines
                )
            return draft.model_copy(update={"lines": lines})
        case "remove_modifier":
            lines = tuple(
                line.model_copy(update={"modifiers": tuple(m for m in line.modifiers if m != value)})
                if line.line_key in targets
                else line
                for line in draft.lines
            )
            return draft.model_copy(update={"lines": lines})
        case "set_place_of_service":
            changed = each(place_of_service=value)
            return (
                changed.model_copy(update={"place_of_service": value}) if change.line_key is None else changed
            )
        case "set_procedure_code":
            return each(code=value)
        case "set_diagnoses":
            return draft.model_copy(update={"diagnoses": tuple(v for v in value.split(",") if v)})
        case "set_authorization_number":
            return draft.model_copy(update={"prior_authorization_number": value or None})
        case "rebuild_cob":
            # the lines stay; the claim goes out again with its 2320/2430 built anew from the prior
            # payer's adjudication it keeps (the service refuses it for a claim that has none)
            return draft
        case _:
            raise UnsupportedChange(f"{change.action} cannot be applied to a stored claim")


def apply_changes(draft: ClaimDraft, changes: Sequence[ClaimChange]) -> ClaimDraft:
    """The draft with every change applied, in order."""
    for change in changes:
        draft = _apply(draft, change)
    return draft


def replacement(
    original: ClaimDraft,
    *,
    claim_key: str,
    frequency: FrequencyCode,
    payer_claim_number: str,
    changes: Sequence[ClaimChange] = (),
) -> ClaimDraft:
    """A replacement (7) or void (8) of ``original`` under its own key, keeping the line keys."""
    draft = apply_changes(original, changes) if frequency is FrequencyCode.REPLACEMENT else original
    return draft.model_copy(
        update={"claim_key": claim_key, "frequency_code": frequency, "payer_claim_number": payer_claim_number}
    )


def rekeyed(draft: ClaimDraft, claim_key: str) -> ClaimDraft:
    """``draft`` under another claim key, its lines keyed from it (a re-coded session's new claim)."""
    lines = tuple(
        line.model_copy(update={"line_key": line_key(claim_key, line.line_number)}) for line in draft.lines
    )
    return draft.model_copy(update={"claim_key": claim_key, "lines": lines})


_NOT_SENT = frozenset({ClaimState.CREATED, ClaimState.HELD, ClaimState.READY, ClaimState.REJECTED})
_AT_PAYER = frozenset(
    {ClaimState.ACCEPTED, ClaimState.PENDED, ClaimState.PAID, ClaimState.PARTIALLY_PAID, ClaimState.DENIED}
)


def payer_holds(state: ClaimState, frequency_code: str) -> bool:
    """Whether the payer has a claim this one stands for: it was accepted, or it replaces one that was.

    A replacement (7) not yet sent, or rejected, still stands for the original the payer kept.
    """
    return state in _AT_PAYER or (state in _NOT_SENT and frequency_code == FrequencyCode.REPLACEMENT.value)


class Withdrawal(StrEnum):
    """What taking back a claim (its session voided or re-coded) takes, by where the claim is."""

    CANCEL = "cancel"
    """Never reached a payer: the claim is simply voided here."""
    VOID = "void"
    """The payer has it: a void (frequency 8) with the payer's claim number goes out."""
    WAIT = "wait"
    """In flight, or at the payer without its claim number yet: done once the acknowledgement or remit says."""


def withdrawal(state: ClaimState, frequency_code: str, payer_claim_number: str | None) -> Withdrawal:
    """How to take back a claim in ``state`` (see :class:`Withdrawal`)."""
    if payer_holds(state, frequency_code):
        return Withdrawal.VOID if payer_claim_number else Withdrawal.WAIT
    if state in _NOT_SENT:
        return Withdrawal.CANCEL
    return Withdrawal.WAIT
