"""What the payer engine reads (a claim) and writes (an adjudication), independent of X12."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "Adjustment",
    "Benefit",
    "Claim",
    "ClaimAdjudication",
    "LineAdjudication",
    "PriorLineAdjudication",
    "ServiceLine",
]

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS adjustment: group (CO, PR, OA, PI, CR), CARC and amount."""

    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PriorLineAdjudication:
    """A prior payer's line adjudication from a secondary claim (Loop 2430: SVD and CAS)."""

    payer_id: str
    paid: Decimal
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.group == "PR"), ZERO)


@dataclass(frozen=True, slots=True)
class ServiceLine:
    number: int
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: date
    place_of_service: str
    prior: PriorLineAdjudication | None = None
    #: REF*6R of the 837 line (the provider's line item control number), echoed in the 835.
    control_number: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """An 837P claim as the payer sees it."""

    claim_id: str  # CLM01, the provider's patient control number
    payer_id: str
    member_id: str
    patient_first_name: str
    patient_last_name: str
    total_charge: Decimal
    place_of_service: str
    frequency_code: str  # CLM05-3: 1 original, 7 replacement, 8 void
    billing_npi: str
    billing_entity_type: str  # NM102 of 2010AA: 1 person, 2 organisation
    lines: tuple[ServiceLine, ...]
    received: date
    rendering_npi: str | None = None
    rendering_taxonomy: str | None = None
    billing_taxonomy: str | None = None
    prior_auth: str | None = None
    original_icn: str | None = None  # REF*F8 on replacement and void claims
    diagnoses: tuple[str, ...] = ()
    #: SBR01 of the subscriber loop: P primary, S secondary, T tertiary.
    responsibility: str = "P"
    #: Claim-level prior payer paid amount (2320 AMT*D) on secondary claims.
    prior_paid: Decimal | None = None
    billing_name: str = ""
    #: BHT03 of the 837 it came in: the 277CA returns it in 2200B TRN02.
    batch_reference: str = ""

    @property
    def first_service_date(self) -> date:
        return min(line.service_date for line in self.lines)

    @property
    def last_service_date(self) -> date:
        return max(line.service_date for line in self.lines)


@dataclass(slots=True)
class LineAdjudication:
    line: ServiceLine
    allowed: Decimal = ZERO
    paid: Decimal = ZERO
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.group == "PR"), ZERO)

    def balanced(self) -> bool:
        """Charge = paid + all adjustments (the 835 balancing rule for a line)."""
        return self.line.charge == self.paid + sum((a.amount for a in self.adjustments), ZERO)


@dataclass(slots=True)
class ClaimAdjudication:
    claim: Claim
    icn: str
    #: CLP02: 1 primary, 2 secondary, 4 denied, 19 primary and forwarded, 22 reversal.
    status: str
    lines: list[LineAdjudication]
    claim_remarks: list[str] = field(default_factory=list)
    claim_adjustments: list[Adjustment] = field(default_factory=list)
    crossover_payer: tuple[str, str] | None = None  # (id, name) for NM1*TT

    @property
    def charge(self) -> Decimal:
        return sum((line.line.charge for line in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), ZERO)

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((line.patient_responsibility for line in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class Benefit:
    """One EB segment (with its optional 2120 other payer)."""

    code: str  # EB01: 1 active, A coinsurance, B copay, C deductible, F limitations, R other payer
    service_type: str
    insurance_type: str = ""
    plan_name: str = ""
    period: str = ""  # EB06: 23 calendar year, 29 remaining, 27 visit
    amount: Decimal | None = None
    percent: Decimal | None = None
    quantity_qualifier: str = ""
    quantity: int | None = None
    auth_required: bool | None = None
    other_payer: tuple[str, str] | None = None  # (id, name)
