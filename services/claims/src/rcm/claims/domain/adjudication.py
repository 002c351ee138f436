"""A claim's adjudication as it stands after every remit the payer sent for it.

A payer may adjudicate one claim in parts, each in a CLP of its own: a split claim (MA15),
or lines adjudicated at different times. Each part names the lines it adjudicated (SVC); a
part that names none adjudicated the whole claim. The claim's standing adjudication is, per
line, the latest part that adjudicated it and was not reversed:

* a part takes the lines it names from the parts before it (a re-adjudication of those
  lines); a part naming no lines, or an earlier part naming none, replaces what stood;
* a reversal (CLP02 22) takes back the parts it reverses: those with its payer claim number
  (CLP07), else every part standing; narrowed to the parts holding the lines it names.

The claim's money is the sum of the standing parts' figures (a part that lost lines to a
later one less those lines' figures), and its state is what one remit with those figures
would give (``outcome``).

**Written off or refused.** Each CAS adjustment is the patient's (PR), a write-off owed by no
one (``written_off``: a contractual reason under CO, the list the remittance service posts by,
``rcm.events.models.written_off_by_contract``), or refused (any other amount: CO-197, CO-50,
CO-96...). Only a refusal denies a line: a reporting-only line (CO-246) or a withheld payment
(CO-104) is not denied, and a claim-level CO-253 sequestration is not read as a refusal. The
write-off is not receivable (A/R leaves it out of the balance), a refusal is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from rcm.claims.domain.state import ClaimState
from rcm.events.models import DENYING_GROUPS, prior_payer_impact, written_off_by_contract

__all__ = ["AdjudicatedLine", "RemitPart", "is_refusal", "outcome", "standing", "totals", "written_off"]

REVERSAL = "22"
DENIED = "4"
_ZERO = Decimal(0)


def written_off(group: str, carc: str, amount: Decimal) -> bool:
    """Whether a CAS adjustment is written off, owed by neither the payer nor the patient: group
    CO or PI (read as CO) with a contractual reason (``rcm.events.models.CONTRACTUAL_CARCS``: 45 fee
    schedule, 253 sequestration, 237 legislated penalty, 104 managed care withholding, 131
    negotiated discount, 246 reporting-only code, W1/P12 workers' compensation fee schedule; and
    the deactivated 41, 42 and A2 read as 45), a prior payer's impact (CARC 23 under CO, PI or OA:
    what an earlier payer paid or adjusted), or a CO or PI that raises the payment (a negative
    amount, e.g. CO-94), which refuses nothing. The remittance service closes the same
    adjustments (contractual, or other for a prior payer's impact)."""
    return (
        written_off_by_contract(group, carc)
        or prior_payer_impact(group, carc)
        or (group in DENYING_GROUPS and amount < 0)
    )


def is_refusal(group: str, carc: str, amount: Decimal) -> bool:
    """Whether a CAS adjustment is an amount the payer refused: neither the patient's (PR) nor
    written off (``written_off``)."""
    return group != "PR" and not written_off(group, carc, amount)


@dataclass(frozen=True, slots=True)
class AdjudicatedLine:
    """What one part of the payer's adjudication says of one of the claim's lines."""

    line_key: str
    paid: Decimal
    patient_responsibility: Decimal
    contractual: Decimal
    """The contractual write-off (``written_off``: CO-45, CO-253...): owed by no one."""
    refused: Decimal
    """What the payer refused (``is_refusal``): beyond the contractual write-off and the patient's share."""

    @property
    def denied(self) -> bool:
        return self.paid <= 0 and self.refused > 0


@dataclass(frozen=True, slots=True)
class RemitPart:
    """One remit (CLP) applied to the claim: its claim-level figures and the lines it names."""

    remit_id: str
    status: str
    """CLP02."""
    payer_claim_number: str
    paid: Decimal
    patient_responsibility: Decimal
    contractual: Decimal
    """The contractual write-off (``written_off``: CO-45, CO-253...) at claim and line level."""
    refused: Decimal
    """Refused at claim level (claim CAS that ``is_refusal``: beyond the contractual write-off
    and the patient's share)."""
    lines: tuple[AdjudicatedLine, ...] = ()

    @property
    def whole(self) -> bool:
        """It names no lines: it adjudicated (or reverses) the whole claim."""
        return not self.lines

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(line.line_key for line in self.lines)

    def without(self, keys: Iterable[str]) -> RemitPart | None:
        """The part once a later part took ``keys`` from it; None when it keeps no line."""
        gone = set(keys)
        taken = [line for line in self.lines if line.line_key in gone]
        if not taken:
            return self
        kept = tuple(line for line in self.lines if line.line_key not in gone)
        if not kept:
            return None
        return replace(
            self,
            lines=kept,
            paid=self.paid - sum((line.paid for line in taken), _ZERO),
            patient_responsibility=self.patient_responsibility
            - sum((line.patient_responsibility for line in taken), _ZERO),
            contractual=self.contractual - sum((line.contractual for line in taken), _ZERO),
        )


def standing(parts: Sequence[RemitPart]) -> tuple[RemitPart, ...]:
    """The parts that stand after ``parts`` (in the order they were applied), each with the
    lines still its own (see the module's docstring)."""
    current: list[RemitPart] = []
    for part in parts:
        if part.status == REVERSAL:
            same = [p for p in current if p.payer_claim_number == part.payer_claim_number]
            reversed_ = same or list(current)
            if not part.whole:
                reversed_ = [p for p in reversed_ if p.whole or p.keys & part.keys]
            current = [p for p in current if p not in reversed_]
        elif part.whole:
            current = [part]
        else:
            kept = (p.without(part.keys) for p in current if not p.whole)
            current = [*(p for p in kept if p is not None), part]
    return tuple(current)


def totals(parts: Sequence[RemitPart]) -> tuple[Decimal, Decimal, Decimal]:
    """(paid, patient responsibility, contract write-off) of the standing ``parts``."""
    return (
        sum((p.paid for p in parts), _ZERO),
        sum((p.patient_responsibility for p in parts), _ZERO),
        sum((p.contractual for p in parts), _ZERO),
    )


def outcome(parts: Sequence[RemitPart]) -> ClaimState | None:
    """Where the claim stands with the standing ``parts``; None when none stands (reversed).

    As for one remit: a claim the payer processed but paid nothing on because the patient owes
    it all is paid at zero, not denied; it is denied when nothing was paid and something was
    refused (or nothing is owed by anyone). With something paid, a line refused, or a part
    denied (CLP02 4) beside a paid one, makes it partially paid.
    """
    if not parts:
        return None
    if all(p.status == DENIED for p in parts):
        return ClaimState.DENIED
    paid, patient, _ = totals(parts)
    refused_line = any(line.denied for p in parts for line in p.lines)
    refused_claim = sum((p.refused for p in parts), _ZERO) > 0
    if paid <= 0 and (refused_line or refused_claim or patient <= 0):
        return ClaimState.DENIED
    if refused_line or any(p.status == DENIED for p in parts):
        return ClaimState.PARTIALLY_PAID
    return ClaimState.PAID
