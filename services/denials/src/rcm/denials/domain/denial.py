"""Finding the denials in a remit or a rejection, at the level the payer gave them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rcm.denials.domain.playbook import Playbook, RejectionRule, Rule, StatusRow
from rcm.events.models import AckStatus, ClaimAcknowledged, RemitReceived

__all__ = [
    "CostSharing",
    "FoundDenial",
    "Level",
    "Reason",
    "adjudicated",
    "denials_in_rejection",
    "denials_in_remit",
    "patient_cost_sharing",
]


class Level(StrEnum):
    """Where the payer put the denial."""

    CLAIM = "claim"
    LINE = "line"


@dataclass(frozen=True, slots=True)
class Reason:
    """One adjustment of the denial."""

    group: str
    carc: str
    amount: Decimal

    @property
    def code(self) -> str:
        """``CO-197``."""
        return f"{self.group}-{self.carc}"


@dataclass(frozen=True, slots=True)
class FoundDenial:
    """A denied claim or line, with the playbook row of its deciding reason."""

    level: Level
    rule: Rule | RejectionRule | StatusRow
    reasons: tuple[Reason, ...] = ()
    rarcs: tuple[str, ...] = ()
    rejection_codes: tuple[str, ...] = ()
    amount: Decimal = Decimal("0")
    line_key: str | None = None
    line_index: int | None = None
    procedure_code: str | None = None
    modifiers: tuple[str, ...] = ()
    service_date: date | None = None
    claim_status: str | None = None
    """The CLP02 status whose row opened the denial (no adjustment explained it)."""
    claim_rarcs: tuple[str, ...] = ()
    """The remark codes the payer gave for the whole claim (MIA/MOA); ``rarcs`` adds a line's (LQ)."""

    @property
    def deciding(self) -> Reason | None:
        """The reason whose row decides the action: the largest amount (first on ties); none when
        the claim status opened the denial (its adjustments are what came, not what decided)."""
        if self.claim_status is not None:
            return None
        return max(self.reasons, key=lambda r: r.amount, default=None)

    @property
    def label(self) -> str:
        """``CO-197`` for a remit denial; ``CLP02 4`` for one its status opened; the first code for
        a rejection."""
        if self.deciding is not None:
            return self.deciding.code
        if self.claim_status is not None:
            return f"CLP02 {self.claim_status}"
        return self.rejection_codes[0] if self.rejection_codes else "rejected"


def _denial_reasons(
    adjustments: list[tuple[str, str, Decimal]], rarcs: tuple[str, ...], playbook: Playbook, payer_id: str
) -> tuple[list[Reason], Rule | None]:
    reasons: list[Reason] = []
    for group, carc, amount in adjustments:
        rule = playbook.rule_for(group, carc, rarcs, payer_id)
        if rule is not None and rule.denial and amount > 0:
            reasons.append(Reason(group, carc, amount))
    if not reasons:
        return [], None
    deciding = max(reasons, key=lambda r: r.amount)
    return reasons, playbook.rule_for(deciding.group, deciding.carc, rarcs, payer_id)


def denials_in_remit(remit: RemitReceived, playbook: Playbook) -> list[FoundDenial]:
    """One denial for claim-level denial adjustments (CAS/MOA with no line detail) and one per denied line.

    The claim status (CLP02) is read first: a reversal or a predetermination is nothing to act on;
    a claim the payer says it denied (or is not its own) with no adjustment that opens a denial is
    one claim-level denial, with every adjustment as it came, for its status row (a person reads it).
    """
    status = playbook.status_rule(remit.status.value)
    if not status.triage:
        return []
    found = _denials_by_adjustment(remit, playbook)
    if found or status.unexplained is None:
        return found
    adjustments = [*remit.claim_adjustments, *(a for line in remit.lines for a in line.adjustments)]
    reasons = tuple(Reason(a.group.value, a.carc, a.amount) for a in adjustments if a.amount != 0)
    positive = sum((r.amount for r in reasons if r.amount > 0), Decimal("0"))
    rarcs = tuple(dict.fromkeys([*remit.rarcs, *(r for line in remit.lines for r in line.rarcs)]))
    return [
        FoundDenial(
            level=Level.CLAIM,
            rule=status.unexplained,
            reasons=reasons,
            rarcs=rarcs,
            amount=positive or max(remit.charge - remit.paid, Decimal("0")),
            claim_status=remit.status.value,
            claim_rarcs=tuple(remit.rarcs),
        )
    ]


def adjudicated(remit: RemitReceived, playbook: Playbook) -> bool:
    """Whether the remit is adjudication to act on (cost sharing, underpayments), per its CLP02 row."""
    return playbook.status_rule(remit.status.value).triage


def _denials_by_adjustment(remit: RemitReceived, playbook: Playbook) -> list[FoundDenial]:
    found: list[FoundDenial] = []
    claim_rarcs = tuple(remit.rarcs)
    claim_adjustments = [(a.group.value, a.carc, a.amount) for a in remit.claim_adjustments]
    reasons, rule = _denial_reasons(claim_adjustments, claim_rarcs, playbook, remit.payer_id)
    if rule is not None:
        found.append(
            FoundDenial(
                level=Level.CLAIM,
                rule=rule,
                reasons=tuple(reasons),
                rarcs=claim_rarcs,
                amount=sum((r.amount for r in reasons), Decimal("0")),
                claim_rarcs=claim_rarcs,
            )
        )
    for index, line in enumerate(remit.lines):
        rarcs = tuple(dict.fromkeys([*line.rarcs, *claim_rarcs]))
        adjustments = [(a.group.value, a.carc, a.amount) for a in line.adjustments]
        reasons, rule = _denial_reasons(adjustments, rarcs, playbook, remit.payer_id)
        if rule is None:
            continue
        found.append(
            FoundDenial(
                level=Level.LINE,
                rule=rule,
                reasons=tuple(reasons),
                rarcs=rarcs,
                amount=sum((r.amount for r in reasons), Decimal("0")),
                line_key=line.line_key,
                line_index=index,
                procedure_code=line.procedure_code,
                modifiers=tuple(line.modifiers),
                service_date=line.service_date,
                claim_rarcs=claim_rarcs,
            )
        )
    return found


def denials_in_rejection(
    ack: ClaimAcknowledged, playbook: Playbook, payer_id: str | None, charge: Decimal = Decimal("0")
) -> list[FoundDenial]:
    """A rejected claim is one claim-level denial; rejected lines of an accepted claim are line denials."""

    def codes(reasons: list[str]) -> tuple[str, ...]:
        prefix = "999:" if ack.source.value == "999" else ""
        return tuple(f"{prefix}{code}" for code in reasons)

    if ack.status is AckStatus.REJECTED:
        all_codes = codes([r.code for r in ack.reasons] + [r.code for ln in ack.lines for r in ln.reasons])
        rule = playbook.rejection_rule_for(list(all_codes), payer_id)
        return [FoundDenial(level=Level.CLAIM, rule=rule, rejection_codes=all_codes, amount=charge)]
    found: list[FoundDenial] = []
    for line in ack.lines:
        if line.status is AckStatus.REJECTED:
            line_codes = codes([r.code for r in line.reasons])
            rule = playbook.rejection_rule_for(list(line_codes), payer_id)
            found.append(
                FoundDenial(level=Level.LINE, rule=rule, rejection_codes=line_codes, line_key=line.line_key)
            )
    return found


@dataclass(frozen=True, slots=True)
class CostSharing:
    """Normal patient cost sharing on a remit (deductible, coinsurance, copay)."""

    amount: Decimal
    rule: Rule


def patient_cost_sharing(remit: RemitReceived, playbook: Playbook) -> CostSharing | None:
    """The remit's cost-sharing total and its row (bill the secondary, else the patient), if any."""
    if not adjudicated(remit, playbook):
        return None
    total = Decimal("0")
    chosen: Rule | None = None
    claim_rarcs = tuple(remit.rarcs)
    adjustments = [(a, claim_rarcs) for a in remit.claim_adjustments] + [
        (a, tuple(dict.fromkeys([*line.rarcs, *claim_rarcs])))
        for line in remit.lines
        for a in line.adjustments
    ]
    for adjustment, rarcs in adjustments:
        # each adjustment with the remarks of its level, as its denial would be read
        rule = playbook.rule_for(adjustment.group.value, adjustment.carc, rarcs, remit.payer_id)
        # cost sharing, the amounts a payer denied to the patient (PR-204...) and those past this
        # plan's benefit maximum (CO-119): all go to the next payer when there is one
        if rule is not None and rule.action.value == "bill_secondary" and adjustment.amount > 0:
            total += adjustment.amount
            chosen = rule
    if chosen is None or total <= 0:
        return None
    return CostSharing(total, chosen)
