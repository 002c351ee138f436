"""How a matched claim payment moves money.

Per line (and once more for claim-level CAS and service lines that matched no claim line):

- ``paid``: SVC03 (CLP04 for a claim without service lines);
- ``contractual``: CO adjustments the contract (or the law) takes off the charge: the reasons of
  ``rcm.events.models.written_off_by_contract`` (CO-45 fee schedule, CO-253 sequestration...);
- ``denied``: every other CO amount (CO-197, CO-50, CO-96, CO-16...). The payer refused it, the
  patient may not be billed for it, and it stays open for the denials service to work (appeal,
  correction or write-off). The adjustment decides, not CLP02: a CO-197 on a $0 line of a claim
  the payer paid (1, 2, 3, 19-21) is booked as the same CO-197 on a denied claim (4) is. A CO that
  raises the payment (a negative amount, e.g. CO-94 processed in excess of charges) refuses
  nothing and goes with ``contractual``;
- PI (payer-initiated reductions) is read as CO, as the denials playbook reads it (its
  ``group_fallbacks``; PI-197 from a Medicaid managed-care plan opens a denial as CO-197 does): a
  PI with a contractual reason (PI-45, PI-253) is ``contractual``, any other PI amount ``denied``;
- ``patient_responsibility``: PR adjustments (PR-1 deductible, PR-2 coinsurance, PR-3 copay).
  When the payer forwarded the claim (crossover: CLP02 19/20/21, MA18/N89 or NM1*TT), PR goes to
  the next payer (``forwarded``), not to the patient. So does the deductible, coinsurance and copay
  (PR-1/2/3) of a Qualified Medicare Beneficiary (a QMB remark, N781-N783, on the claim or a line):
  the state Medicaid program owes it, or it is written off; the patient may never be billed it;
- ``other``: OA and CR adjustments (e.g. OA-23, impact of the prior payer; OA-18, the duplicate of
  a claim the payer adjudicates under its other submission). They close the balance: OA is what
  neither the contract nor the patient explains, most of it owed through another claim or payer;
  the denials service works an OA denial (OA-18) on that other claim, not on this balance;
- ``allowed``: AMT*B6 when reported, else paid + patient responsibility.

Interest the payer pays within CLP04 (AMT*I) is the claim's interest, not a payment of its charge.

The claim's insurance balance is charge - paid - contractual - patient share - forwarded - other,
less the denied amount written off: a denied amount not written off keeps it open. Statuses 23
(not our claim) and 25 (predetermination) move no money.

**What closes a denied amount.** A later adjudication of the claim (its reversal, CLP02 22, takes
the denied amount back, and the corrected payment posts anew), or the denials service's decision
to write the denial off (``claim-write-off-requested``, ``rcm.remittance.write_offs``). A write-off
belongs to the claim, not to the claim payment that denied: it closes at most what the claim's
standing adjudications deny (``ClaimTotals.denied_written_off``). A reversal takes back the
denied amount it posted, so the write-off closes nothing until the corrected payment posts, and
then closes that payment's denied amount up to what was written off: never twice, and never an
amount the payer has since paid (a payment on appeal reopens nothing and overdraws nothing).

**Crossover.** A later payer paying on the claim a prior payer forwarded (``follows_crossover``:
the payer's order by CLP02 comes after the claim's, e.g. the supplemental's CLP02 2 on our primary
claim) adjudicates what was forwarded, not the whole charge again. Its OA-23 (the prior payer's
impact) is recorded but moves no money, since the prior payer's own posting holds it; what it
adjudicates itself (paid, CO, PR, other CAS) comes off ``forwarded``. Such a posting changes the
insurance balance only by what it denies, whichever 835 is posted first: when the later payer's
comes first, ``forwarded`` stays negative until the prior payer's forwarding is posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from rcm.events.models import DENYING_GROUPS, prior_payer_impact, written_off_by_contract
from rcm.remittance.domain.remit import (
    MEDICARE_COST_SHARING_CARCS,
    ZERO,
    Adjustment,
    ClaimRemit,
    ClaimStatus,
    ServiceRemit,
)

__all__ = [
    "DENYING_GROUPS",
    "ClaimPosting",
    "ClaimTotals",
    "LinePosting",
    "PatientShare",
    "patient_share",
    "post_claim",
]


@dataclass(frozen=True, slots=True)
class LinePosting:
    """Money applied to one claim line (``line_key`` None: claim level)."""

    line_key: str | None
    charge: Decimal = ZERO
    paid: Decimal = ZERO
    allowed: Decimal | None = None
    contractual: Decimal = ZERO
    denied: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    forwarded: Decimal = ZERO
    other: Decimal = ZERO
    adjustments: tuple[Adjustment, ...] = ()
    rarcs: tuple[str, ...] = ()
    procedure_code: str | None = None
    qmb: bool = False
    """The patient is a QMB: the line's PR-1/2/3 went to ``forwarded``, not to the patient."""

    def negated(self) -> LinePosting:
        return replace(
            self,
            charge=-self.charge,
            paid=-self.paid,
            allowed=None if self.allowed is None else -self.allowed,
            contractual=-self.contractual,
            denied=-self.denied,
            patient_responsibility=-self.patient_responsibility,
            forwarded=-self.forwarded,
            other=-self.other,
            adjustments=tuple(replace(a, amount=-a.amount) for a in self.adjustments),
        )


@dataclass(frozen=True, slots=True)
class ClaimTotals:
    """Running totals of a claim's ledger; the insurance balance follows from them."""

    charge: Decimal = ZERO
    paid: Decimal = ZERO
    contractual: Decimal = ZERO
    denied: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    forwarded: Decimal = ZERO
    other: Decimal = ZERO
    written_off: Decimal = ZERO
    """Denied amounts the denials service wrote off, as each request applied (``write_offs``)."""

    @property
    def denied_written_off(self) -> Decimal:
        """What of ``written_off`` closes a denied amount now: no more than the standing
        adjudications deny (see the module docstring)."""
        return max(min(self.written_off, self.denied), ZERO)

    @property
    def open_denied(self) -> Decimal:
        """The denied amount nothing has closed yet: what a write-off may still close."""
        return max(self.denied - self.denied_written_off, ZERO)

    @property
    def insurance_balance(self) -> Decimal:
        return (
            self.charge
            - self.paid
            - self.contractual
            - self.patient_responsibility
            - self.forwarded
            - self.other
            - self.denied_written_off
        )

    def writing_off(self, amount: Decimal) -> tuple[Decimal, ClaimTotals]:
        """A write-off of ``amount`` applied: (what it closes, the totals after). It closes at most
        the open denied amount (the rest of what the request names is booked elsewhere: patient
        share, OA, contractual), never less than nothing."""
        closed = max(min(amount, self.open_denied), ZERO)
        return closed, replace(self, written_off=self.written_off + closed)

    def plus(self, posting: ClaimPosting) -> ClaimTotals:
        return replace(
            self,
            paid=self.paid + posting.paid,
            contractual=self.contractual + posting.contractual,
            denied=self.denied + posting.denied,
            patient_responsibility=self.patient_responsibility + posting.patient_responsibility,
            forwarded=self.forwarded + posting.forwarded,
            other=self.other + posting.other,
        )

    def recouped(self, amount: Decimal) -> ClaimTotals:
        """A payer takes ``amount`` back (PLB WO/FB/72): less paid, more owed."""
        return replace(self, paid=self.paid - amount)


@dataclass(frozen=True, slots=True)
class ClaimPosting:
    """Everything one claim payment applies to one claim."""

    claim_id: str
    status: str
    lines: tuple[LinePosting, ...]
    interest: Decimal = ZERO
    """Interest paid with the claim (AMT*I within CLP04): the claim's interest, not its payment."""

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(line, name) for line in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return self._sum("paid")

    @property
    def contractual(self) -> Decimal:
        return self._sum("contractual")

    @property
    def denied(self) -> Decimal:
        return self._sum("denied")

    @property
    def patient_responsibility(self) -> Decimal:
        return self._sum("patient_responsibility")

    @property
    def forwarded(self) -> Decimal:
        return self._sum("forwarded")

    @property
    def other(self) -> Decimal:
        return self._sum("other")

    def negated(self) -> ClaimPosting:
        return ClaimPosting(
            self.claim_id,
            ClaimStatus.REVERSAL.value,
            tuple(ln.negated() for ln in self.lines),
            -self.interest,
        )


@dataclass(frozen=True, slots=True)
class PatientShare:
    """What the patient owes on a claim after a posting (deductible, coinsurance, copay)."""

    deductible: Decimal = ZERO
    coinsurance: Decimal = ZERO
    copay: Decimal = ZERO
    other: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.deductible + self.coinsurance + self.copay + self.other


OTHER_GROUPS = frozenset({"OA", "CR"})


def _sum(adjustments: Sequence[Adjustment], groups: frozenset[str]) -> Decimal:
    return sum((a.amount for a in adjustments if a.group in groups), ZERO)


def _line(
    line_key: str | None,
    *,
    status: ClaimStatus,
    forwards: bool,
    follows_crossover: bool,
    qmb: bool,
    charge: Decimal,
    paid: Decimal,
    adjustments: tuple[Adjustment, ...],
    allowed: Decimal | None = None,
    rarcs: tuple[str, ...] = (),
    procedure_code: str | None = None,
) -> LinePosting:
    co = sum(
        (
            a.amount
            for a in adjustments
            if a.group in DENYING_GROUPS and not prior_payer_impact(a.group, a.carc)
        ),
        ZERO,
    )
    contractual = sum((a.amount for a in adjustments if _contractual(a)), ZERO)
    pr = _sum(adjustments, frozenset({"PR"}))
    protected = sum((a.amount for a in adjustments if _protected(a, qmb=qmb)), ZERO)
    other = sum(
        (
            a.amount
            for a in adjustments
            if (a.group in OTHER_GROUPS or prior_payer_impact(a.group, a.carc))
            and not (follows_crossover and prior_payer_impact(a.group, a.carc))
        ),
        ZERO,
    )
    forwarded = pr if forwards else protected
    if follows_crossover:
        forwarded -= paid + co + pr + other  # what this payer adjudicated of the forwarded amount
    return LinePosting(
        line_key=line_key,
        charge=charge,
        paid=paid,
        allowed=allowed if allowed is not None else (paid + pr if status is not ClaimStatus.DENIED else None),
        contractual=contractual,
        denied=co - contractual,
        patient_responsibility=ZERO if forwards else pr - protected,
        forwarded=forwarded,
        other=other,
        adjustments=adjustments,
        rarcs=rarcs,
        procedure_code=procedure_code,
        qmb=qmb,
    )


def _contractual(a: Adjustment) -> bool:
    """A CO or PI adjustment written off, not denied (see the module docstring): a contractual
    reason, or a negative amount (the payer raising its payment has nothing left to work)."""
    return written_off_by_contract(a.group, a.carc) or (a.group in DENYING_GROUPS and a.amount < ZERO)


def _protected(a: Adjustment, *, qmb: bool) -> bool:
    """A QMB's Medicare cost sharing: never the patient's (see the module docstring)."""
    return qmb and a.group == "PR" and a.carc in MEDICARE_COST_SHARING_CARCS


def post_claim(
    remit: ClaimRemit,
    *,
    claim_id: str,
    line_keys: Sequence[str | None],
    single_line_key: str | None = None,
    claim_payer_order: int = 1,
) -> ClaimPosting:
    """The posting of a (non-reversal) claim payment.

    ``line_keys[i]`` is the claim line service line ``i`` matched (None: posted at claim level).
    ``single_line_key``: the claim's only line, which takes a claim paid without service lines.
    ``claim_payer_order``: which payer the claim was billed to (1 primary, 2 secondary, 3
    tertiary); a payment by a later payer is a crossover's (see the module's docstring).
    """
    status = remit.claim_status or ClaimStatus.PRIMARY
    if not status.moves_money:
        return ClaimPosting(claim_id, remit.status, ())
    order = status.payer_order
    forwards = remit.crossed_over
    qmb = remit.qmb
    follows = order is not None and order > claim_payer_order
    interest = remit.interest_in_paid
    lines: list[LinePosting] = []
    unplaced: list[ServiceRemit] = []
    for service, key in zip(remit.services, line_keys, strict=True):
        if key is None:
            unplaced.append(service)
            continue
        lines.append(
            _line(
                key,
                status=status,
                forwards=forwards,
                follows_crossover=follows,
                qmb=qmb,
                charge=service.charge,
                paid=service.paid,
                adjustments=service.adjustments,
                allowed=service.allowed,
                rarcs=service.rarcs,
                procedure_code=service.procedure_code,
            )
        )
    if not remit.services:
        lines.append(
            _line(
                single_line_key,
                status=status,
                forwards=forwards,
                follows_crossover=follows,
                qmb=qmb,
                charge=remit.charge,
                paid=remit.paid - interest,
                adjustments=remit.adjustments,
                rarcs=remit.rarcs,
            )
        )
    elif remit.adjustments or unplaced:
        # Claim level takes what the lines do not: claim CAS (which lowers CLP04 below the sum of
        # SVC03) and service lines that matched no claim line.
        placed_charge = sum((ln.charge for ln in lines), ZERO)
        placed_paid = sum((ln.paid for ln in lines), ZERO)
        adjustments = remit.adjustments + tuple(a for s in unplaced for a in s.adjustments)
        lines.append(
            _line(
                None,
                status=status,
                forwards=forwards,
                follows_crossover=follows,
                qmb=qmb,
                charge=remit.charge - placed_charge,
                paid=remit.paid - placed_paid - interest,
                adjustments=adjustments,
                allowed=None,
                rarcs=remit.rarcs + tuple(r for s in unplaced for r in s.rarcs),
            )
        )
    return ClaimPosting(claim_id, remit.status, tuple(lines), interest)


def patient_share(posting: ClaimPosting) -> PatientShare:
    """The patient's part of a posting by CARC: 1 deductible, 2 coinsurance, 3 copay."""
    if posting.patient_responsibility == ZERO:  # forwarded claims leave it to the next payer
        return PatientShare()
    buckets = {"1": ZERO, "2": ZERO, "3": ZERO}
    other = ZERO
    for line in posting.lines:
        for a in line.adjustments:
            if a.group != "PR" or _protected(a, qmb=line.qmb):
                continue
            if a.carc in buckets:
                buckets[a.carc] += a.amount
            else:
                other += a.amount
    return PatientShare(buckets["1"], buckets["2"], buckets["3"], other)
