"""Corrected and voided claims: the changes asked for, applied to a claim draft.

A replacement (frequency 7) or void (8) names the payer's claim number (REF*F8). Each
gets its own claim key (a new revision of the session's claim), so acknowledgements and
remits match exactly one claim; the line keys of the original survive, so remits of
the replacement still match the original lines.

Most changes edit the stored draft. Two code the session again (the service does, from
current reference data): ``recode``, and ``set_rendering_provider``, since the clinician's
credential decides codes, licensure modifiers, prices and the supervising provider (on one
line of several, only that line is taken from the new coding, naming its clinician in 2420A);
the session's new coding keeps the original's line keys where its lines correspond
(:func:`corresponding`), then the other changes apply. A change that cannot be applied is
refused (:class:`UnsupportedChange` with its :class:`Refusal`), never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from rcm.claims.domain.claim import ClaimDraft, FrequencyCode, ServiceLine
from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.identifiers import line_key
from rcm.claims.domain.state import ClaimState

__all__ = [
    "RECODING_ACTIONS",
    "ClaimChange",
    "Refusal",
    "UnsupportedChange",
    "Withdrawal",
    "apply_changes",
    "corresponding",
    "payer_holds",
    "recodes",
    "rekeyed",
    "rendered_line",
    "rendering_change",
    "replacement",
    "withdrawal",
]

RECODING_ACTIONS = frozenset({"recode", "set_rendering_provider"})
"""Changes applied by coding the session again, not by editing the stored draft."""


class ClaimChange(DomainModel):
    """One change: ``action`` as in the claim-correction-requested event, on a line or the claim."""

    action: str
    line_key: str | None = None
    value: str | None = None


class Refusal(StrEnum):
    """Why a correction is refused (the values of the claim-correction-refused ``reason``)."""

    UNKNOWN_CLAIM = "unknown_claim"
    UNKNOWN_PROVIDER = "unknown_provider"
    NO_PRIOR_ADJUDICATION = "no_prior_adjudication"
    NOT_BILLABLE = "not_billable"
    WAITING_FOR_REFERENCE_DATA = "waiting_for_reference_data"
    UNSUPPORTED_CHANGE = "unsupported_change"


class UnsupportedChange(ValueError):
    """A change this service cannot apply to a claim: the correction is refused, for a person.

    The message says why in ids and codes only (no PHI): it is published and logged.
    """

    def __init__(
        self, message: str, *, refusal: Refusal = Refusal.UNSUPPORTED_CHANGE, action: str | None = None
    ) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.action = action


def recodes(changes: Iterable[ClaimChange]) -> bool:
    """Whether applying ``changes`` codes the session again (see :data:`RECODING_ACTIONS`)."""
    return any(change.action in RECODING_ACTIONS for change in changes)


def rendering_change(draft: ClaimDraft, changes: Sequence[ClaimChange]) -> ClaimChange | None:
    """The last ``set_rendering_provider`` of ``changes`` (None: none asks), checked against ``draft``.

    On the claim (or on its only line) the whole claim is rendered by that provider (2310B); on
    one line of several, that line alone (2420A, see :func:`rendered_line`).
    """
    asked = [change for change in changes if change.action == "set_rendering_provider"]
    if not asked:
        return None
    change = asked[-1]
    if not change.value:
        raise UnsupportedChange(
            "set_rendering_provider names no provider", refusal=Refusal.UNKNOWN_PROVIDER, action=change.action
        )
    if change.line_key is not None and change.line_key not in {line.line_key for line in draft.lines}:
        raise UnsupportedChange(
            f"set_rendering_provider: line {change.line_key} is not on the claim", action=change.action
        )
    return change


def rendered_line(draft: ClaimDraft, recoded: ClaimDraft, line_key: str) -> ClaimDraft:
    """``draft`` with its line ``line_key`` as ``recoded`` codes it: the session coded as rendered
    by another clinician (its modifiers and price) and keyed by :func:`corresponding`, the line
    naming that clinician (2420A); the other lines and the claim's clinician (2310B) stay."""
    line = next((ln for ln in recoded.lines if ln.line_key == line_key), None)
    if line is None:
        raise UnsupportedChange(
            f"set_rendering_provider: coded as rendered by {recoded.rendering.provider_id}, "
            f"the session has no line for {line_key}",
            action="set_rendering_provider",
        )
    rendering = None if recoded.rendering.provider_id == draft.rendering.provider_id else recoded.rendering
    lines = tuple(
        line.model_copy(update={"line_number": old.line_number, "rendering": rendering})
        if old.line_key == line_key
        else old
        for old in draft.lines
    )
    return draft.model_copy(update={"lines": lines})


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
        case "recode" | "set_rendering_provider":
            # applied before the others: the draft is the session coded again (``corresponding``)
            return draft
        case _:
            raise UnsupportedChange(
                f"{change.action} cannot be applied to a stored claim", action=change.action
            )


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


def corresponding(original: ClaimDraft, recoded: ClaimDraft, *, claim_key: str) -> ClaimDraft:
    """``recoded`` (the session coded again) under ``claim_key``, each line keyed as the line of
    ``original`` it corresponds to, so remits naming the original lines still match.

    A line corresponds to the original's first line not yet taken with the same code, else to
    the original's line in the same position if that one is not taken (a code changed in
    place, 90834 coded 90837); any other line is new and is keyed from ``claim_key``.
    """
    taken: set[str] = set()
    by_number = {line.line_number: line for line in original.lines}
    lines = []
    for line in recoded.lines:
        match = next(
            (o for o in original.lines if o.code == line.code and o.line_key not in taken), None
        ) or next(
            (
                o
                for o in (by_number.get(line.line_number),)
                if o is not None
                and o.line_key not in taken
                and not any(r.code == o.code for r in recoded.lines)
            ),
            None,
        )
        key = match.line_key if match is not None else line_key(claim_key, line.line_number)
        taken.add(key)
        lines.append(line.model_copy(update={"line_key": key}))
    return recoded.model_copy(update={"claim_key": claim_key, "lines": tuple(lines)})


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
