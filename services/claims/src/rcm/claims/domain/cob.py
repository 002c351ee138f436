"""Coordination of benefits: when to bill the next payer, and the claim that does it.

A secondary (or tertiary) claim is the primary's claim sent to the next payer with the
prior payer's adjudication (loops 2320/2330/2430): its payment, adjustments, outpatient
adjudication (MOA) and claim control number, and the prior authorization it gave. It is not
sent when the prior payer
says it forwarded (crossed over) the claim itself: CLP02 19-21, RARC MA18 or N89, or a
crossover payer named (NM1*TT); ours would then be a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from rcm.claims.domain.claim import ClaimDraft, ServiceLine
from rcm.claims.domain.coding.modifiers import merge_modifiers
from rcm.claims.domain.coding.place_of_service import AUDIO_ONLY_MODIFIERS, VIDEO_MODIFIERS
from rcm.claims.domain.common import DomainModel, Modality
from rcm.claims.domain.coverage import Coverage, CoveragePriority
from rcm.claims.domain.identifiers import claim_key, line_key
from rcm.claims.domain.payer_rules import TelehealthRules

__all__ = [
    "CROSSOVER_RARCS",
    "CROSSOVER_STATUSES",
    "LineAdjustment",
    "OutpatientAdjudication",
    "PriorAdjudication",
    "PriorLine",
    "adjudicated_again",
    "crossed_over",
    "lines_of_the_claim",
    "next_coverage",
    "next_payer_claim",
    "prior_line_of_each",
    "with_telehealth_modifiers",
]

CROSSOVER_STATUSES = frozenset({"19", "20", "21"})
CROSSOVER_RARCS = frozenset({"MA18", "N89"})


class LineAdjustment(DomainModel):
    """One CAS adjustment of the prior payer."""

    group: str
    carc: str
    amount: Decimal
    quantity: int | None = None


class OutpatientAdjudication(DomainModel):
    """The prior payer's claim-level outpatient adjudication information (its 835 MOA): what the
    next payer's 837P repeats in 2320 MOA (005010X222A1: required when the prior payer reported it)."""

    reimbursement_rate: Decimal | None = None
    hcpcs_payable: Decimal | None = None
    remark_codes: tuple[str, ...] = ()
    esrd_payment: Decimal | None = None
    nonpayable_professional: Decimal | None = None

    @property
    def reported(self) -> bool:
        """Whether it says anything (an MOA with no value is not sent)."""
        amounts = (
            self.reimbursement_rate,
            self.hcpcs_payable,
            self.esrd_payment,
            self.nonpayable_professional,
        )
        return bool(self.remark_codes) or any(a is not None for a in amounts)


class PriorLine(DomainModel):
    """How the prior payer adjudicated one line (2430)."""

    line_key: str
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    paid: Decimal
    adjustments: tuple[LineAdjustment, ...] = ()
    adjudicated_on: date


class PriorAdjudication(DomainModel):
    """The prior payer's adjudication of the claim (2320/2330B and the 2430 of each line)."""

    payer_id: str
    electronic_payer_id: str
    payer_name: str
    member_id: str
    payer_order: CoveragePriority
    payer_claim_number: str
    paid: Decimal
    patient_responsibility: Decimal
    claim_adjustments: tuple[LineAdjustment, ...] = ()
    lines: tuple[PriorLine, ...] = ()
    adjudicated_on: date | None = None
    """When the prior payer adjudicated the claim (its check or remittance date; 837P 2330B DTP*573
    when no line carries its own)."""
    coverage_id: str | None = None
    """The coverage the prior payer adjudicated, whose subscriber is the 2320/2330A other subscriber."""
    remit_ids: tuple[str, ...] = ()
    """The prior payer's remits this adjudication was read from (each is applied once)."""
    outpatient: OutpatientAdjudication | None = None
    """The prior payer's MOA, when its remittance carried one (837P 2320 MOA)."""
    prior_authorization_number: str | None = None
    """The prior authorization the prior payer gave for the claim it adjudicated (REF*G1 of that
    claim): the next payer's 837P names it in 2330B REF*G1."""
    earlier: tuple[PriorAdjudication, ...] = ()
    """The adjudications of the payers before this one, in payer order (a tertiary claim's
    primary): the 837P names every payer that paid before the claim's, each in its own 2320
    (005010X222A1: 2320 is required for each other payer known to be involved, up to 10)."""

    def chain(self) -> tuple[PriorAdjudication, ...]:
        """Every payer's adjudication before the claim's payer, first payer first, this one last."""
        return (*self.earlier, self)

    def following(self, before: PriorAdjudication | None) -> PriorAdjudication:
        """This adjudication with the chain of ``before`` (the adjudication the claim it
        adjudicated carried, when that claim was itself a next payer's) as its earlier ones."""
        if before is None:
            return self
        return self.model_copy(
            update={"earlier": tuple(a.model_copy(update={"earlier": ()}) for a in before.chain())}
        )


def crossed_over(*, status: str, rarcs: Sequence[str], crossover_payer_name: str | None) -> bool:
    """True when the prior payer forwarded the claim to the next payer itself."""
    return status in CROSSOVER_STATUSES or bool(CROSSOVER_RARCS & set(rarcs)) or bool(crossover_payer_name)


def next_coverage(coverages: Sequence[Coverage], *, after: CoveragePriority, day: date) -> Coverage | None:
    """The coverage that pays after ``after`` on ``day``, if the patient has one."""
    wanted = after.rank + 1
    return next(
        (c for c in coverages if c.priority.rank == wanted and c.effective.contains(day)),
        None,
    )


def next_payer_claim(prior: ClaimDraft, coverage: Coverage) -> ClaimDraft:
    """The claim for the next payer: the prior claim's lines, its own keys, the next payer order."""
    key = claim_key(prior.session_id, payer_order=coverage.priority.rank)
    lines = tuple(
        line.model_copy(update={"line_key": line_key(key, line.line_number)}) for line in prior.lines
    )
    return prior.model_copy(
        update={
            "claim_key": key,
            "coverage_id": coverage.coverage_id,
            "payer_id": coverage.payer_id,
            "payer_order": coverage.priority,
            "lines": lines,
            "frequency_code": prior.frequency_code.ORIGINAL,
            "payer_claim_number": None,
            "prior_authorization_number": None,
            "authorization_id": None,
        }
    )


def with_telehealth_modifiers(
    draft: ClaimDraft, rules: TelehealthRules, prior_rules: TelehealthRules
) -> ClaimDraft:
    """The next payer's claim with that payer's telehealth modifiers in place of the prior payer's
    (95/GT for video, 93/FQ for audio-only, or none where the payer reads the POS alone): the
    codes and units stay the prior claim's, so its 2430 loops still match its lines.

    Only where both payers place telehealth alike (both with the in-person POS, or both with POS
    02/10): the claim does not carry the session's other POS, so a claim whose place must change
    too stays as it is, and the next payer's edits hold it for a person."""
    wanted = {Modality.VIDEO: rules.video_modifiers, Modality.AUDIO_ONLY: rules.audio_only_modifiers}.get(
        draft.modality
    )
    if wanted is None or rules.use_in_person_pos != prior_rules.use_in_person_pos:
        return draft
    lines = tuple(
        line.model_copy(
            update={
                "modifiers": merge_modifiers(
                    [m for m in line.modifiers if m not in VIDEO_MODIFIERS | AUDIO_ONLY_MODIFIERS], wanted
                )[:4]
            }
        )
        for line in draft.lines
    )
    return draft.model_copy(update={"lines": lines})


def _same_line(line: ServiceLine, prior_line: PriorLine, strictness: int) -> bool:
    """0: the same line key; 1: the same procedure and modifiers; 2: the same procedure."""
    if strictness == 0:
        return prior_line.line_key == line.line_key
    same_code = prior_line.procedure_code == line.code
    return same_code and (strictness == 2 or tuple(prior_line.modifiers) == tuple(line.modifiers))


def prior_line_of_each(draft: ClaimDraft, prior: PriorAdjudication | None) -> list[PriorLine | None]:
    """The prior payer's adjudication of each line of ``draft`` (its 2430), each prior line used once.

    A line is matched by its own key, else (the next payer's claim has its own keys) by
    procedure and modifiers, else by procedure alone, in line order.
    """
    matched: list[PriorLine | None] = [None] * len(draft.lines)
    if prior is None:
        return matched
    unused = list(prior.lines)
    for strictness in (0, 1, 2):
        for index, line in enumerate(draft.lines):
            if matched[index] is not None:
                continue
            found = next((p for p in unused if _same_line(line, p, strictness)), None)
            if found is not None:
                matched[index] = found
                unused.remove(found)
    return matched


def _patient_share(lines: Sequence[PriorLine]) -> Decimal:
    return sum((a.amount for line in lines for a in line.adjustments if a.group == "PR"), Decimal("0"))


def adjudicated_again(current: PriorAdjudication, again: PriorAdjudication) -> PriorAdjudication | None:
    """The prior payer's adjudication once it has adjudicated the claim again; None if ``again``
    changes nothing (a remit already applied, or the same figures again).

    The lines ``again`` names take the place of the same lines (by line key: a corrected claim
    keeps its line keys); the others keep their adjudication. When ``again`` names every line,
    the payer adjudicated the whole claim again (a reprocessed or corrected claim) and its
    claim-level figures replace the current ones. Otherwise it adjudicated a part (a split
    payment, or some lines reprocessed): paid and patient responsibility move by what the
    replaced lines had and ``again`` has, and its claim-level adjustments join the current ones.
    The next payer's claim is checked against the result (``prior_adjudication_balances``), so a
    payer's figures that do not add up hold that claim instead of going out.
    """
    if again.remit_ids and set(again.remit_ids) <= set(current.remit_ids):
        return None  # a remit already applied, delivered again
    named = {line.line_key: line for line in again.lines}
    lines = tuple(named.pop(line.line_key, line) for line in current.lines) + tuple(named.values())
    if {line.line_key for line in current.lines} <= {line.line_key for line in again.lines}:
        merged = again.model_copy(
            update={
                "lines": lines,
                "coverage_id": again.coverage_id or current.coverage_id,
                "remit_ids": tuple(dict.fromkeys(current.remit_ids + again.remit_ids)),
            }
        )
    else:
        keys = {line.line_key for line in again.lines}
        replaced = [line for line in current.lines if line.line_key in keys]
        days = [d for d in (current.adjudicated_on, again.adjudicated_on) if d is not None]
        merged = current.model_copy(
            update={
                "paid": current.paid - sum((line.paid for line in replaced), Decimal("0")) + again.paid,
                "patient_responsibility": current.patient_responsibility
                - _patient_share(replaced)
                + again.patient_responsibility,
                "claim_adjustments": current.claim_adjustments + again.claim_adjustments,
                "remit_ids": tuple(dict.fromkeys(current.remit_ids + again.remit_ids)),
                "lines": lines,
                "adjudicated_on": max(days, default=None),
                # the latest MOA the payer reported stands
                "outpatient": again.outpatient or current.outpatient,
            }
        )
    same = merged.model_copy(update={"remit_ids": current.remit_ids}) == current
    return None if same else merged


def lines_of_the_claim(claim: ClaimDraft, pieces: Sequence[PriorLine]) -> tuple[PriorLine, ...]:
    """The prior payer's adjudication of each of ``claim``'s lines (its 2430), in line order: the
    pieces a payer adjudicated one line in (parts of a split line, unbundled codes under one
    REF*6R) added up; pieces naming no line of the claim are left out."""
    by_key: dict[str, PriorLine] = {}
    for piece in pieces:
        seen = by_key.get(piece.line_key)
        by_key[piece.line_key] = (
            piece
            if seen is None
            else seen.model_copy(
                update={
                    "paid": seen.paid + piece.paid,
                    "adjustments": seen.adjustments + piece.adjustments,
                    "adjudicated_on": max(seen.adjudicated_on, piece.adjudicated_on),
                }
            )
        )
    return tuple(by_key[line.line_key] for line in claim.lines if line.line_key in by_key)
