"""835 health care claim payment/advice (005010X221A1).

```
ST  Remittance835                  BPR TRN CUR REF DTM
  1000A PayerIdentification        N1*PR N3 N4 REF PER*CX/BL/IC
  1000B PayeeIdentification        N1*PE N3 N4 REF RDM
  2000 ClaimGroup                  LX TS3 TS2
    2100 ClaimPayment              CLP CAS NM1*QC/IL/74/82/TT/PR/GB MIA MOA REF DTM PER AMT QTY
      2110 ServicePayment          SVC DTM CAS REF AMT QTY LQ
PLB ProviderAdjustment (after the 2000 loops)
```
"""

# Pydantic copies mutable field defaults per instance, so `= []` is safe here.
# ruff: noqa: RUF012

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Self

from pydantic import model_validator

from rcm.x12.models.base import Child, Composite, El, Group, Seg, SegmentModel, Spread, Transaction, X12Loop
from rcm.x12.models.common import (
    Address,
    Adjustment,
    AdjustmentGroup,
    Amount,
    Contact,
    DateTime,
    EntityName,
    GeoLocation,
    ProcedureCode,
    Quantity,
    Reference,
    Trace,
)

__all__ = [
    "ClaimGroup",
    "ClaimPayment",
    "ClaimPaymentInfo",
    "HeaderNumber",
    "InpatientAdjudication",
    "OutpatientAdjudication",
    "PartyId",
    "PartyName",
    "PayeeIdentification",
    "PayerIdentification",
    "PaymentInformation",
    "ProviderAdjustment",
    "ProviderAdjustmentAmount",
    "ProviderAdjustmentReason",
    "Remark",
    "Remittance835",
    "ServicePayment",
    "ServicePaymentInfo",
]

REVERSAL = "22"
FORWARDED = {"19": "primary", "20": "secondary", "21": "tertiary"}


class PaymentInformation(SegmentModel):
    """BPR: total payment, credit/debit, method (ACH, CHK, NON, FWT, BOP), bank data, payment date."""

    segment_id: ClassVar[str] = "BPR"
    handling_code: Annotated[str, El(1)]
    amount: Annotated[Decimal, El(2)]
    credit_debit: Annotated[str | None, El(3)] = "C"
    method: Annotated[str, El(4)]
    payment_format: Annotated[str | None, El(5)] = None
    sender_dfi_qualifier: Annotated[str | None, El(6)] = None
    sender_dfi: Annotated[str | None, El(7)] = None
    sender_account_qualifier: Annotated[str | None, El(8)] = None
    sender_account: Annotated[str | None, El(9)] = None
    originating_company_id: Annotated[str | None, El(10)] = None
    originating_company_code: Annotated[str | None, El(11)] = None
    receiver_dfi_qualifier: Annotated[str | None, El(12)] = None
    receiver_dfi: Annotated[str | None, El(13)] = None
    receiver_account_qualifier: Annotated[str | None, El(14)] = None
    receiver_account: Annotated[str | None, El(15)] = None
    payment_date: Annotated[date | None, El(16)] = None


class PartyId(SegmentModel):
    """N1: a party by entity code (PR payer, PE payee), name and identifier."""

    segment_id: ClassVar[str] = "N1"
    entity_code: Annotated[str, El(1)]
    name: Annotated[str | None, El(2, max_len=60)] = None
    id_qualifier: Annotated[str | None, El(3)] = None
    identifier: Annotated[str | None, El(4, max_len=80)] = None


class ClaimPaymentInfo(SegmentModel):
    """CLP: patient control number, status (1-4, 19-23; 22 reversal), charge, paid, patient share."""

    segment_id: ClassVar[str] = "CLP"
    patient_control_number: Annotated[str, El(1, max_len=38)]
    status: Annotated[str, El(2)]
    charge: Annotated[Decimal, El(3)]
    paid: Annotated[Decimal, El(4)]
    patient_responsibility: Annotated[Decimal | None, El(5)] = None
    filing_indicator: Annotated[str | None, El(6)] = None
    payer_claim_control_number: Annotated[str | None, El(7, max_len=50)] = None
    facility_type: Annotated[str | None, El(8)] = None
    frequency_code: Annotated[str | None, El(9)] = None
    drg_code: Annotated[str | None, El(11)] = None
    drg_weight: Annotated[Decimal | None, El(12)] = None
    discharge_fraction: Annotated[Decimal | None, El(13)] = None


class InpatientAdjudication(SegmentModel):
    """MIA: inpatient adjudication; covered days, DRG amount and remark codes (MIA05, MIA20-23)."""

    segment_id: ClassVar[str] = "MIA"
    covered_days: Annotated[Decimal | None, El(1)] = None
    pps_operating_outlier: Annotated[Decimal | None, El(2)] = None
    lifetime_psychiatric_days: Annotated[Decimal | None, El(3)] = None
    drg_amount: Annotated[Decimal | None, El(4)] = None
    remark_code: Annotated[str | None, El(5)] = None
    more_remark_codes: Annotated[list[str], Spread(20, 23)] = []

    @property
    def remark_codes(self) -> list[str]:
        return [c for c in [self.remark_code, *self.more_remark_codes] if c]


class OutpatientAdjudication(SegmentModel):
    """MOA: outpatient adjudication; reimbursement rate, HCPCS payable and remark codes MOA03-07."""

    segment_id: ClassVar[str] = "MOA"
    reimbursement_rate: Annotated[Decimal | None, El(1)] = None
    hcpcs_payable: Annotated[Decimal | None, El(2)] = None
    remark_codes: Annotated[list[str], Spread(3, 7)] = []
    esrd_payment: Annotated[Decimal | None, El(8)] = None
    nonpayable_professional: Annotated[Decimal | None, El(9)] = None


class ServicePaymentInfo(SegmentModel):
    """SVC: the adjudicated procedure (with modifiers), charge, paid, revenue code, units."""

    segment_id: ClassVar[str] = "SVC"
    procedure: Annotated[ProcedureCode, El(1)]
    charge: Annotated[Decimal, El(2)]
    paid: Annotated[Decimal, El(3)]
    revenue_code: Annotated[str | None, El(4)] = None
    units: Annotated[Decimal | None, El(5)] = None
    original_procedure: Annotated[ProcedureCode | None, El(6)] = None
    original_units: Annotated[Decimal | None, El(7)] = None


class Remark(SegmentModel):
    """LQ: a remark code; HE = RARC, RX = NCPDP reject code."""

    segment_id: ClassVar[str] = "LQ"
    qualifier: Annotated[str, El(1)]
    code: Annotated[str, El(2)]


class ProviderAdjustmentReason(Composite):
    """PLB03-1/-2: the adjustment reason (WO, L6, FB, CS, 72...) and its reference."""

    code: Annotated[str, El(1)]
    reference: Annotated[str | None, El(2, max_len=50)] = None


class ProviderAdjustmentAmount(Group):
    """One PLB pair: reason composite and amount (positive reduces the payment)."""

    reason: Annotated[ProviderAdjustmentReason, El(1)]
    amount: Annotated[Decimal, El(2)]


class ProviderAdjustment(SegmentModel):
    """PLB: provider-level adjustments for a fiscal period, up to six reason/amount pairs."""

    segment_id: ClassVar[str] = "PLB"
    provider_id: Annotated[str, El(1, max_len=50)]
    fiscal_period_end: Annotated[date, El(2)]
    adjustments: Annotated[list[ProviderAdjustmentAmount], Spread(3, 14, 2)]

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.adjustments:
            raise ValueError("PLB needs at least one adjustment")
        return self


class PartyName(X12Loop):
    """An N1 loop: the party, its address, references and contacts."""

    party: Annotated[PartyId, Seg("N1")]
    address: Annotated[Address | None, Seg("N3")] = None
    location: Annotated[GeoLocation | None, Seg("N4")] = None
    references: Annotated[list[Reference], Seg("REF")] = []
    contacts: Annotated[list[Contact], Seg("PER")] = []


class PayerIdentification(PartyName):
    """1000A: N1*PR with PER*CX (claims office), PER*BL (technical contact), PER*IC (web site)."""

    loop_id: ClassVar[str] = "1000A"

    @property
    def technical_contact(self) -> Contact | None:
        return next((c for c in self.contacts if c.function == "BL"), None)


class PayeeIdentification(PartyName):
    loop_id: ClassVar[str] = "1000B"


class ServicePayment(X12Loop):
    """2110: one adjudicated service line."""

    loop_id: ClassVar[str] = "2110"
    service: Annotated[ServicePaymentInfo, Seg("SVC")]
    dates: Annotated[list[DateTime], Seg("DTM")] = []
    adjustments: Annotated[list[AdjustmentGroup], Seg("CAS")] = []
    references: Annotated[list[Reference], Seg("REF")] = []
    amounts: Annotated[list[Amount], Seg("AMT")] = []
    quantities: Annotated[list[Quantity], Seg("QTY")] = []
    remarks: Annotated[list[Remark], Seg("LQ")] = []

    @property
    def line_item_control_number(self) -> str | None:
        return next((r.value for r in self.references if r.qualifier == "6R"), None)

    @property
    def allowed_amount(self) -> Decimal | None:
        return next((a.amount for a in self.amounts if a.qualifier == "B6"), None)

    @property
    def remark_codes(self) -> list[str]:
        return [r.code for r in self.remarks if r.qualifier == "HE"]

    @property
    def service_date(self) -> date | None:
        return next((d.value for d in self.dates if d.qualifier in {"472", "150"}), None)


class ClaimPayment(X12Loop):
    """2100: one adjudicated claim."""

    loop_id: ClassVar[str] = "2100"
    claim: Annotated[ClaimPaymentInfo, Seg("CLP")]
    adjustments: Annotated[list[AdjustmentGroup], Seg("CAS")] = []
    patient: Annotated[EntityName | None, Seg("NM1", "QC")] = None
    insured: Annotated[EntityName | None, Seg("NM1", "IL")] = None
    corrected_patient: Annotated[EntityName | None, Seg("NM1", "74")] = None
    service_provider: Annotated[EntityName | None, Seg("NM1", "82")] = None
    crossover_carrier: Annotated[EntityName | None, Seg("NM1", "TT")] = None
    corrected_priority_payer: Annotated[EntityName | None, Seg("NM1", "PR")] = None
    other_subscriber: Annotated[EntityName | None, Seg("NM1", "GB")] = None
    inpatient: Annotated[InpatientAdjudication | None, Seg("MIA")] = None
    outpatient: Annotated[OutpatientAdjudication | None, Seg("MOA")] = None
    references: Annotated[list[Reference], Seg("REF")] = []
    dates: Annotated[list[DateTime], Seg("DTM")] = []
    contacts: Annotated[list[Contact], Seg("PER")] = []
    amounts: Annotated[list[Amount], Seg("AMT")] = []
    quantities: Annotated[list[Quantity], Seg("QTY")] = []
    services: Annotated[list[ServicePayment], Child("2110")] = []

    @property
    def is_reversal(self) -> bool:
        return self.claim.status == REVERSAL

    @property
    def forwarded_to(self) -> str | None:
        """``primary``/``secondary``/``tertiary`` when CLP02 19-21 says the claim was forwarded."""
        return FORWARDED.get(self.claim.status)

    def all_adjustments(self) -> Iterator[tuple[str, Adjustment]]:
        """Every claim-level (group, adjustment) pair."""
        for group in self.adjustments:
            for adjustment in group.adjustments:
                yield group.group, adjustment


class HeaderNumber(SegmentModel):
    """LX: the assigned number of a claim group."""

    segment_id: ClassVar[str] = "LX"
    number: Annotated[str, El(1, max_len=6)]


class ClaimGroup(X12Loop):
    """2000: a header number (LX) grouping claims, with optional TS3/TS2 provider summaries."""

    loop_id: ClassVar[str] = "2000"
    header_number: Annotated[HeaderNumber | None, Seg("LX")] = None
    claims: Annotated[list[ClaimPayment], Child("2100")] = []


class Remittance835(Transaction):
    """An 835: the payment (BPR), its trace (TRN), payer, payee, claims and provider adjustments."""

    transaction_code: ClassVar[str] = "835"
    default_version: ClassVar[str] = "005010X221A1"
    st03_used: ClassVar[bool] = False
    kind: Literal["835"] = "835"
    payment: Annotated[PaymentInformation, Seg("BPR")]
    trace: Annotated[Trace, Seg("TRN")]
    references: Annotated[list[Reference], Seg("REF")] = []
    dates: Annotated[list[DateTime], Seg("DTM")] = []
    payer: Annotated[PayerIdentification, Child("1000A")]
    payee: Annotated[PayeeIdentification, Child("1000B")]
    claim_groups: Annotated[list[ClaimGroup], Child("2000")] = []
    provider_adjustments: Annotated[list[ProviderAdjustment], Seg("PLB", trailer=True)] = []

    def claims(self) -> Iterator[ClaimPayment]:
        for group in self.claim_groups:
            yield from group.claims
