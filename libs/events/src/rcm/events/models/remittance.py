"""Money coming in: 835 remittances per claim, their posting, and patient payments and balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from rcm.events.models._base import Event, EventModel
from rcm.events.models.common import Adjustment
from rcm.events.types import (
    Id,
    Modifier,
    Money,
    NonNegativeMoney,
    ProcedureCode,
    RarcCode,
    Timestamp,
)

__all__ = [
    "CONTRACTUAL_CARCS",
    "DEACTIVATED_CONTRACTUAL_CARCS",
    "DENYING_GROUPS",
    "PRIOR_PAYER_CARCS",
    "BalanceChangeReason",
    "ClaimPaymentStatus",
    "OutpatientAdjudication",
    "PatientBalanceChanged",
    "PatientPaymentReceived",
    "PaymentMethod",
    "PaymentPosted",
    "PostedLine",
    "RemitLine",
    "RemitReceived",
    "RemitUnmatched",
    "UnmatchedReason",
    "prior_payer_impact",
    "written_off_by_contract",
]

CONTRACTUAL_CARCS = frozenset({"45", "253", "237", "104", "131", "246", "W1", "P12"})
"""The reasons (CARC) that, under group CO, are the contract's or the law's cut of the charge rather
than a refusal of it (X12 Claim Adjustment Reason Codes): 45 charge over the fee schedule or
contracted/legislated fee arrangement, 253 sequestration, 237 legislated/regulatory penalty, 104
managed care withholding, 131 claim-specific negotiated discount, 246 a non-payable code for required
reporting only, W1/P12 workers' compensation jurisdictional fee schedule. The same codes as the
denials playbook's normal-adjudication ``contractual`` row, for which no denial is opened."""


DEACTIVATED_CONTRACTUAL_CARCS = frozenset({"41", "42", "A2"})
"""Deactivated reasons some payers still send whose meaning is contractual (X12 CARC list: 41
discount agreed to in a preferred provider contract, 42 charges exceed the fee schedule, A2
contractual adjustment; all replaced by 45). The denials playbook reads them as 45 and opens no
denial, so they are written off like 45, never left open waiting for a decision no one makes."""

DENYING_GROUPS = frozenset({"CO", "PI"})
"""Adjustment groups whose amounts the provider may not bill the patient for: contractual
obligations (CO) and payer-initiated reductions (PI, read as CO, as the denials playbook reads it:
PI-197 from a Medicaid managed-care plan is a denial as CO-197 is)."""


PRIOR_PAYER_CARCS = frozenset({"23", "71"})
"""The impact of a prior payer's adjudication (CARC 23; the deactivated 71, primary payer amount,
read as 23): what an earlier payer paid or adjusted, under any group. Neither a refusal nor the
contract's cut: the denials playbook opens no denial for it (its ``*-23`` row), so it closes the
amount, never leaves it open."""


def prior_payer_impact(group: str, carc: str) -> bool:
    """Whether a CAS adjustment is a prior payer's impact (``PRIOR_PAYER_CARCS``) under CO, PI or OA:
    closed, never denied."""
    return group.upper() in {*DENYING_GROUPS, "OA"} and carc.upper() in PRIOR_PAYER_CARCS


def written_off_by_contract(group: str, carc: str) -> bool:
    """Whether a CAS adjustment is a contractual write-off: group CO or PI (``DENYING_GROUPS``) with
    a ``CONTRACTUAL_CARCS`` reason, or a deactivated contractual one. Any other CO or PI amount (197
    precertification absent, 50 not medically necessary, 96 non-covered...) is a denial of that
    amount: the provider may not bill the patient for it, yet it stays open until it is appealed,
    corrected or written off."""
    code = carc.upper()
    return group.upper() in DENYING_GROUPS and (
        code in CONTRACTUAL_CARCS or code in DEACTIVATED_CONTRACTUAL_CARCS
    )


class ClaimPaymentStatus(StrEnum):
    """CLP02 claim status code."""

    PROCESSED_PRIMARY = "1"
    PROCESSED_SECONDARY = "2"
    PROCESSED_TERTIARY = "3"
    DENIED = "4"
    PROCESSED_PRIMARY_FORWARDED = "19"
    PROCESSED_SECONDARY_FORWARDED = "20"
    PROCESSED_TERTIARY_FORWARDED = "21"
    REVERSAL = "22"
    NOT_OUR_CLAIM_FORWARDED = "23"
    PREDETERMINATION = "25"


class RemitLine(EventModel):
    """Adjudication of one service line (SVC with its CAS, AMT and LQ)."""

    line_key: Id | None = Field(default=None, description="Our line key (REF*6R), when the payer echoed it.")
    procedure_code: ProcedureCode = Field(description="Code adjudicated (SVC01).")
    modifiers: list[Modifier] = Field(
        default_factory=list, max_length=4, description="Modifiers adjudicated."
    )
    service_date: date | None = Field(default=None, description="Date of service (DTM*472).")
    charge: Money = Field(description="Line charge (SVC02).")
    paid: Money = Field(description="Line payment (SVC03).")
    allowed: Money | None = Field(default=None, description="Allowed amount (AMT*B6), when reported.")
    units_paid: int | None = Field(default=None, description="Units paid (SVC05).")
    adjustments: list[Adjustment] = Field(default_factory=list, description="Every line adjustment (CAS).")
    rarcs: list[RarcCode] = Field(default_factory=list, description="Line remark codes (LQ*HE).")


class OutpatientAdjudication(EventModel):
    """The payer's claim-level outpatient adjudication information (835 MOA), as reported: a next
    payer's 837P repeats it in loop 2320 MOA."""

    reimbursement_rate: Decimal | None = Field(
        default=None, ge=0, max_digits=10, description="Reimbursement rate, a decimal percentage (MOA01)."
    )
    hcpcs_payable: Money | None = Field(default=None, description="Claim HCPCS payable amount (MOA02).")
    remark_codes: list[RarcCode] = Field(
        default_factory=list, max_length=5, description="Claim payment remark codes (MOA03-07)."
    )
    esrd_payment: Money | None = Field(default=None, description="ESRD payment amount (MOA08).")
    nonpayable_professional: Money | None = Field(
        default=None, description="Professional component amount billed but not payable (MOA09)."
    )


class RemitReceived(Event):
    """One claim payment (CLP loop) of an 835, matched to our claim."""

    remit_id: Id = Field(description="Opaque id of this claim payment.")
    claim_id: Id = Field(description="Our claim (from CLP01).")
    patient_id: Id = Field(description="Patient of the claim.")
    payer_id: Id = Field(description="Payer that paid.")
    payer_claim_number: str = Field(
        min_length=1, max_length=50, description="Payer claim control number (CLP07)."
    )
    status: ClaimPaymentStatus = Field(description="CLP02 claim status.")
    charge: Money = Field(description="Total claim charge (CLP03).")
    paid: Money = Field(description="Claim payment (CLP04).")
    patient_responsibility: Money = Field(description="Patient responsibility (CLP05).")
    claim_adjustments: list[Adjustment] = Field(default_factory=list, description="Claim-level CAS.")
    lines: list[RemitLine] = Field(default_factory=list, description="Service-line adjudications.")
    rarcs: list[RarcCode] = Field(default_factory=list, description="Claim-level remark codes (MOA/MIA).")
    outpatient: OutpatientAdjudication | None = Field(
        default=None,
        description="The claim's MOA as the payer reported it (none without one): ``rarcs`` mixes its "
        "remarks with MIA's.",
    )
    crossover_payer_name: str | None = Field(
        default=None, max_length=60, description="Payer the claim was forwarded to (NM1*TT), if any."
    )
    payment_trace_number: str = Field(
        min_length=1, max_length=50, description="Check or EFT trace number (TRN02)."
    )
    payment_date: date = Field(description="Check or EFT effective date (BPR16).")
    file_name: str = Field(min_length=1, max_length=255, description="835 file it came from.")
    received_at: Timestamp = Field(description="When the file was received.")


class UnmatchedReason(StrEnum):
    """Why a claim payment could not be matched to a claim."""

    NO_CLAIM = "no_claim"
    AMBIGUOUS = "ambiguous"
    CHARGE_MISMATCH = "charge_mismatch"


class RemitUnmatched(Event):
    """A claim payment of an 835 matched no claim; a person must place it."""

    remit_id: Id = Field(description="Opaque id of this claim payment.")
    payer_id: Id = Field(description="Payer that paid.")
    patient_control_number: str = Field(min_length=1, max_length=38, description="CLP01 as received.")
    payer_claim_number: str | None = Field(default=None, max_length=50, description="CLP07.")
    charge: Money = Field(description="Claim charge (CLP03).")
    paid: Money = Field(description="Claim payment (CLP04).")
    reason: UnmatchedReason = Field(description="Why matching failed.")
    file_name: str = Field(min_length=1, max_length=255, description="835 file it came from.")
    received_at: Timestamp = Field(description="When the file was received.")


class PostedLine(EventModel):
    """How one line was posted."""

    line_key: Id = Field(description="Line posted.")
    paid: Money = Field(description="Payment applied.")
    contractual_adjustment: Money = Field(
        description="CO (and PI) adjustments with a contractual reason (``CONTRACTUAL_CARCS``), written "
        "off; the line's other CO and PI amounts are denied, not in this amount."
    )
    patient_responsibility: Money = Field(description="PR amount moved to the patient or next payer.")
    expected_allowed: Money | None = Field(default=None, description="Contracted allowed amount, if known.")
    underpaid: Money | None = Field(
        default=None, description="Shortfall against the contract, when the payer allowed less."
    )


class PaymentPosted(Event):
    """A remit was applied to the claim's ledger."""

    posting_id: Id = Field(description="Opaque posting id.")
    remit_id: Id = Field(description="Remit posted.")
    claim_id: Id = Field(description="Claim posted to.")
    patient_id: Id = Field(description="Patient of the claim.")
    payer_id: Id = Field(description="Payer that paid.")
    paid: Money = Field(description="Total payment applied.")
    contractual_adjustment: Money = Field(
        description="Total CO and PI adjustments with a contractual reason (``CONTRACTUAL_CARCS``: "
        "fee schedule, sequestration...), written off. Not the other CO and PI amounts: those are "
        "``denied``."
    )
    patient_responsibility: Money = Field(description="Total PR amount.")
    claim_balance: Money = Field(
        description="Insurance balance left on the claim afterwards: its denied amounts not written off "
        "are in it."
    )
    lines: list[PostedLine] = Field(default_factory=list, description="Per-line posting.")
    posted_at: Timestamp = Field(description="When it was posted.")
    denied: Money | None = Field(
        default=None,
        description="Total CO and PI adjustments without a contractual reason (CO-197, CO-50, PI-197...): "
        "refused by the payer, not billable to the patient, left open in ``claim_balance`` until a later "
        "adjudication or a write-off of the denial closes them. Absent from older publishers.",
    )
    written_off: Money | None = Field(
        default=None,
        description="Denied amount of the claim a write-off of its denial (claim-write-off-requested) "
        "closed with this posting; negative when a later adjudication (a reversal, a payment on appeal) "
        "leaves less denied for it to close. A posting of a write-off itself carries only this, its "
        "``remit_id`` and ``posting_id`` being the write-off's. Absent from older publishers.",
    )


class PaymentMethod(StrEnum):
    """How a patient paid."""

    CARD = "card"
    CASH = "cash"
    CHECK = "check"
    ACH = "ach"
    OTHER = "other"


class PatientPaymentReceived(Event):
    """The patient paid (copay at the visit, statement payment...)."""

    payment_id: Id = Field(description="Opaque payment id.")
    patient_id: Id = Field(description="Patient who paid.")
    amount: NonNegativeMoney = Field(gt=0, description="Amount paid.")
    method: PaymentMethod = Field(description="Payment method.")
    claim_id: Id | None = Field(default=None, description="Claim the payment is for, if known.")
    session_id: Id | None = Field(default=None, description="Session the payment is for (copay), if known.")
    reference: str | None = Field(default=None, max_length=50, description="Processor or check reference.")
    received_at: Timestamp = Field(description="When it was received.")


class BalanceChangeReason(StrEnum):
    """Why a patient's balance moved."""

    REMIT_POSTED = "remit_posted"
    PATIENT_PAYMENT = "patient_payment"
    TRANSFER_TO_PATIENT = "transfer_to_patient"
    NEXT_PAYER_BILLED = "next_payer_billed"
    """The prior payer's patient share went to the next payer's claim: the patient owes what that
    payer leaves."""
    WRITE_OFF = "write_off"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class PatientBalanceChanged(Event):
    """The amount the patient owes changed (drives statements and portals)."""

    patient_id: Id = Field(description="Patient concerned.")
    claim_id: Id | None = Field(default=None, description="Claim the change belongs to, if any.")
    previous_balance: Money = Field(description="Balance before.")
    balance: Money = Field(description="Balance after; negative is a credit.")
    change: Money = Field(description="balance - previous_balance.")
    reason: BalanceChangeReason = Field(description="Why it changed.")
    source_id: Id | None = Field(default=None, description="Remit, payment or denial that caused it.")
    changed_at: Timestamp = Field(description="When it changed.")

    @model_validator(mode="after")
    def _change_is_difference(self) -> Self:
        if self.balance - self.previous_balance != self.change:
            raise ValueError("change is not balance - previous_balance")
        return self
