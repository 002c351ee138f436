"""Corrected and voided claims: the changes asked for, applied to a claim draft.

A replacement (frequency 7) or void (8) names the payer's claim number (REF*F8). Each
gets its own claim key (a new revision of the session's claim), so acknowledgements and
remits match exactly one claim; the line keys of the original survive, so remits of
the replacement still match the original lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from rcm.claims.domain.claim import ClaimDraft, FrequencyCode, ServiceLine
from rcm.claims.domain.common import DomainModel

__all__ = ["ClaimChange", "UnsupportedChange", "apply_changes", "replacement"]


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
