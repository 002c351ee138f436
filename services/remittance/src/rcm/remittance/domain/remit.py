"""What an 835 says, as plain values (read from X12 by ``rcm.remittance.remit_file``).

```
Payment (BPR, TRN, 1000A)            one 835 transaction set
  ClaimRemit (CLP, CAS, MOA, NM1*TT)   one claim payment
    ServiceRemit (SVC, CAS, REF*6R, AMT*B6, LQ*HE)
  ProviderAdjustment (PLB pair)
```
Amounts are ``Decimal`` exactly as the payer wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "CROSSOVER_RARCS",
    "MEDICARE_COST_SHARING_CARCS",
    "QMB_RARCS",
    "SPLIT_CLAIM_RARC",
    "Adjustment",
    "ClaimRemit",
    "ClaimStatus",
    "Group",
    "HeldClaim",
    "Outpatient",
    "Payment",
    "ProviderAdjustment",
    "ServiceRemit",
]

ZERO = Decimal("0")


class Group(StrEnum):
    """CAS01 adjustment group."""

    CO = "CO"
    PR = "PR"
    OA = "OA"
    PI = "PI"
    CR = "CR"


class ClaimStatus(StrEnum):
    """CLP02: how the payer processed the claim."""

    PRIMARY = "1"
    SECONDARY = "2"
    TERTIARY = "3"
    DENIED = "4"
    PRIMARY_FORWARDED = "19"
    SECONDARY_FORWARDED = "20"
    TERTIARY_FORWARDED = "21"
    REVERSAL = "22"
    NOT_OUR_CLAIM = "23"
    PREDETERMINATION = "25"

    @property
    def forwarded(self) -> bool:
        return self in (
            ClaimStatus.PRIMARY_FORWARDED,
            ClaimStatus.SECONDARY_FORWARDED,
            ClaimStatus.TERTIARY_FORWARDED,
        )

    @property
    def payer_order(self) -> int | None:
        """1, 2 or 3: which payer in the coordination of benefits adjudicated (None: 4, 22, 23, 25)."""
        return _PAYER_ORDER.get(self)

    @property
    def moves_money(self) -> bool:
        """False for statuses that report without paying or adjusting (23 not ours, 25 predetermination)."""
        return self not in (ClaimStatus.NOT_OUR_CLAIM, ClaimStatus.PREDETERMINATION)


_PAYER_ORDER = {
    ClaimStatus.PRIMARY: 1,
    ClaimStatus.PRIMARY_FORWARDED: 1,
    ClaimStatus.SECONDARY: 2,
    ClaimStatus.SECONDARY_FORWARDED: 2,
    ClaimStatus.TERTIARY: 3,
    ClaimStatus.TERTIARY_FORWARDED: 3,
}

CROSSOVER_RARCS = frozenset({"MA18", "N89"})
"""Claim-level remarks that the payer forwarded the claim to a supplemental payer (crossover)."""
QMB_RARCS = frozenset({"N781", "N782", "N783"})
"""Remarks that the patient is a Qualified Medicare Beneficiary (CMS CR 9911): no deductible (N781),
coinsurance (N782) or copay (N783) may be collected from them (42 U.S.C. 1396a(n)(3)(B)). The
state Medicaid program is the payer of that cost sharing (or it is written off), never the patient."""
MEDICARE_COST_SHARING_CARCS = frozenset({"1", "2", "3"})
"""The PR reasons a QMB remark protects: deductible, coinsurance, copay."""
SPLIT_CLAIM_RARC = "MA15"
"""Claim-level remark: the payer separated the claim; each part comes in a claim payment of its own."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS reason/amount: ``group`` CO/PR/OA/PI/CR, ``carc``, ``amount`` (negative on reversals)."""

    group: str
    carc: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Outpatient:
    """MOA: the claim's outpatient adjudication, as reported (a next payer's 837P repeats it)."""

    reimbursement_rate: Decimal | None = None
    hcpcs_payable: Decimal | None = None
    remark_codes: tuple[str, ...] = ()
    esrd_payment: Decimal | None = None
    nonpayable_professional: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ServiceRemit:
    """One adjudicated service line (2110)."""

    procedure_code: str
    charge: Decimal
    paid: Decimal
    modifiers: tuple[str, ...] = ()
    qualifier: str = "HC"
    original_procedure_code: str | None = None
    service_date: date | None = None
    allowed: Decimal | None = None
    units: Decimal | None = None
    line_key: str | None = None
    """REF*6R: our line key, when the payer echoes it."""
    service_end: date | None = None
    """DTM*151: the last day of a service period (``service_date`` is DTM*150 then)."""
    original_modifiers: tuple[str, ...] = ()
    """SVC06's modifiers: what was billed, when the payer adjudicated another code."""
    adjustments: tuple[Adjustment, ...] = ()
    rarcs: tuple[str, ...] = ()
    original_units: Decimal | None = None
    """SVC07: the units billed, when the payer paid another number of units on this line."""

    @property
    def part_of_billed_line(self) -> bool:
        """The payer reports one billed line in several service lines and this is a later one
        (005010X221A1 line splitting and unbundling): an unbundled service with a zero charge under
        the billed code (SVC06), or a split line paying fewer units than were billed (SVC07)."""
        if self.original_procedure_code and self.charge == ZERO:
            return True
        return self.original_units is not None and self.units is not None and self.units < self.original_units


@dataclass(frozen=True, slots=True)
class ClaimRemit:
    """One claim payment (2100)."""

    patient_control_number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal = ZERO
    payer_claim_number: str | None = None
    adjustments: tuple[Adjustment, ...] = ()
    services: tuple[ServiceRemit, ...] = ()
    rarcs: tuple[str, ...] = ()
    crossover_payer_name: str | None = None
    statement_date: date | None = None
    """DTM*232: the first day of the claim's statement period (the only day, without DTM*233)."""
    statement_end: date | None = None
    """DTM*233: the last day of the claim's statement period; a line without a date of its own
    (DTM*472, DTM*150/151) may be on any day from ``statement_date`` to it."""
    full_control_number: str | None = None
    """REF*EA when a payer that cuts CLP01 sends the whole number there."""
    sequence: int = 0
    """Position of the claim payment in its 835 transaction set (1-based)."""
    original_reference: str | None = None
    """REF*F8: the payer claim number of the claim payment this one adjusts or replaces."""
    interest: Decimal = ZERO
    """AMT*I: prompt-pay interest the payer reports on the claim."""
    outpatient: Outpatient | None = None
    """MOA, apart from MIA (``rarcs`` holds the remarks of both)."""

    @property
    def interest_in_paid(self) -> Decimal:
        """The interest CLP04 includes: AMT*I when CLP04 = CLP03 - every CAS + AMT*I (payers that
        pay interest through PLB L6 report AMT*I only as information, and CLP04 balances without it)."""
        if self.interest == ZERO:
            return ZERO
        adjusted = self.charge - sum((a.amount for a in self.all_adjustments()), ZERO)
        if adjusted != self.paid and adjusted + self.interest == self.paid:
            return self.interest
        return ZERO

    @property
    def claim_status(self) -> ClaimStatus | None:
        try:
            return ClaimStatus(self.status)
        except ValueError:
            return None

    @property
    def crossed_over(self) -> bool:
        """The payer forwarded the claim to the next payer itself: CLP02 19-21, a claim-level
        MA18 or N89, or a crossover carrier named (NM1*TT). Its PR then goes to that payer."""
        status = self.claim_status
        if status is None or not status.moves_money or status is ClaimStatus.REVERSAL:
            return False
        return status.forwarded or bool(CROSSOVER_RARCS & set(self.rarcs)) or bool(self.crossover_payer_name)

    @property
    def qmb(self) -> bool:
        """A QMB remark (``QMB_RARCS``) on the claim (MOA) or one of its lines (LQ): the status is
        the patient's, so it protects the cost sharing of every line of the claim payment."""
        remarks = set(self.rarcs).union(*(s.rarcs for s in self.services))
        return bool(QMB_RARCS & remarks)

    def all_adjustments(self) -> tuple[Adjustment, ...]:
        return self.adjustments + tuple(a for s in self.services for a in s.adjustments)


@dataclass(frozen=True, slots=True)
class HeldClaim:
    """A claim payment whose loop holds a value that cannot be read (a CAS amount, an SVC composite)
    while its CLP can: held whole with ``reason``, never posted in part; its CLP04 still counts in
    the payment's balance (BPR02 = sum CLP04 - PLB), so the rest of the payment posts."""

    sequence: int
    """Position of the claim payment in its 835 transaction set (1-based), as ``ClaimRemit.sequence``."""
    patient_control_number: str
    status: str
    paid: Decimal
    payer_claim_number: str | None
    reason: str
    """The reader's message: which segment and element could not be read."""
    kind: str = "unreadable_claim"
    """The exception it is held with: ``unreadable_claim`` (the model cannot read the loop) or
    ``invalid_amount`` (a monetary amount with more than 2 decimal places or 10 digits)."""


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair. A positive amount reduces the payment (the provider owes it)."""

    provider_id: str
    reason: str
    amount: Decimal
    reference: str | None = None
    fiscal_period_end: date | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """One 835 transaction set: a check or EFT and what it pays."""

    trace_number: str
    payer_ref: str
    """Who paid: TRN03 (payer identifier), else N1*PR's identifier or name."""
    amount: Decimal
    """BPR02, signed (a debit BPR03 = D is negative)."""
    method: str = "ACH"
    handling: str = "I"
    """BPR01: C/U/X payment with remittance, I remittance only, H notification only (zero
    payment), D make payment only and P prenotification (no remittance detail)."""
    payment_date: date | None = None
    payer_name: str | None = None
    control_number: str = ""
    """ST02 of its transaction set."""
    interchange: str = ""
    """ISA13 of its interchange: a file may hold several interchanges whose sets repeat ST02."""
    payer_keys: tuple[str, ...] = ()
    """Every identifier the 835 names its payer by, written one way (``domain.payers``)."""
    payee_ids: tuple[str, ...] = ()
    """Who is paid (1000B): N1*PE N104 (NPI, tax id) and REF*TJ/PQ."""
    claims: tuple[ClaimRemit, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = field(default=())
    held_claims: tuple[HeldClaim, ...] = ()
    """Claim payments held because their loop cannot be read (``HeldClaim``); the rest post."""

    @property
    def payment_only(self) -> bool:
        """A payment order without remittance detail (BPR01 D or P): there is nothing to balance
        BPR02 against, and nothing to post."""
        return (
            self.handling in ("D", "P")
            and not self.claims
            and not self.held_claims
            and not self.provider_adjustments
        )
