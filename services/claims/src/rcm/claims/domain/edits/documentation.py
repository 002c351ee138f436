"""Edits on the claim's own completeness: signed note, priced lines, modifier count."""

from __future__ import annotations

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity

__all__ = ["MAX_MODIFIERS", "at_most_four_modifiers", "lines_priced", "note_signed"]

MAX_MODIFIERS = 4


def note_signed(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The progress note behind the claim is signed."""
    if claim.note_signed:
        return []
    return [
        Finding(
            edit="note_signed",
            code="documentation.unsigned",
            severity=Severity.HOLD,
            message="the progress note is not signed",
            field="session",
            fix="have the clinician sign the note",
        )
    ]


def lines_priced(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Every line has a charge above zero from the charge master."""
    return [
        Finding(
            edit="lines_priced",
            code="charge.missing",
            severity=Severity.HOLD,
            message=f"line {line.line_number} ({line.code}) has no charge",
            field=f"lines[{index}].charge",
            fix=f"add {line.code} to the charge master",
        )
        for index, line in enumerate(claim.lines)
        if line.charge is None or line.charge <= 0
    ]


def at_most_four_modifiers(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """An 837P line carries at most four modifiers."""
    return [
        Finding(
            edit="at_most_four_modifiers",
            code="modifier.too_many",
            severity=Severity.HOLD,
            message=f"line {line.line_number} carries {len(line.modifiers)} modifiers: {', '.join(line.modifiers)}",
            field=f"lines[{index}].modifiers",
            fix="keep the pricing modifiers and the ones the payer requires",
        )
        for index, line in enumerate(claim.lines)
        if len(line.modifiers) > MAX_MODIFIERS
    ]
