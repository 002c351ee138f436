"""837P professional claim (005010X222A1).

```
ST  Claim837P                      BHT
  1000A Submitter                  NM1*41 PER
  1000B Receiver                   NM1*40
  2000A BillingProviderLevel  HL*20  PRV*BI
    2010AA BillingProvider         NM1*85 N3 N4 REF*EI/SY PER
    2010AB PayToAddress            NM1*87 N3 N4
    2010AC PayToPlan               NM1*PE N3 N4 REF
    2000B SubscriberLevel     HL*22  SBR PAT
      2010BA Subscriber            NM1*IL N3 N4 DMG REF PER
      2010BB Payer                 NM1*PR N3 N4 REF
      2300 Claim                   CLM DTP AMT REF NTE HI
        2310A ReferringProvider    NM1*DN/P3 REF
        2310B RenderingProvider    NM1*82 PRV*PE REF
        2310C ServiceFacility      NM1*77 N3 N4 REF PER
        2310D SupervisingProvider  NM1*DQ REF
        2320 OtherSubscriber       SBR CAS AMT OI MOA
          2330A OtherSubscriberName  NM1*IL N3 N4 REF
          2330B OtherPayer           NM1*PR N3 N4 DTP REF
        2400 ServiceLine           LX SV1 DTP*472 QTY REF*6R AMT NTE
          2420A-H line providers   NM1 PRV N3 N4 REF PER
          2430 LineAdjudication    SVD CAS DTP*573 AMT
      2000C PatientLevel      HL*23  PAT
        2010CA Patient             NM1*QC N3 N4 DMG REF PER
        2300 Claim ...
```
Loops and segments not listed here are kept as they were read (``other_loops``,
``other_segments``).
"""

# Pydantic copies mutable field defaults per instance, so `= []` is safe here.
# ruff: noqa: RUF012

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from rcm.x12.errors import X12Error
from rcm.x12.models.base import (
    BuildContext,
    Child,
    Composite,
    Comps,
    El,
    Seg,
    SegmentModel,
    Spread,
    Transaction,
    X12Loop,
    nest_hl,
)
from rcm.x12.models.common import (
    Address,
    AdjustmentGroup,
    Amount,
    Contact,
    DatePeriod,
    Demographics,
    EntityName,
    GeoLocation,
    HealthCode,
    HealthCodes,
    Note,
    ProcedureCode,
    ProviderTaxonomy,
    Quantity,
    Reference,
)
from rcm.x12.segments import Loop, Segment

__all__ = [
    "BeginningOfTransaction",
    "BillingProvider",
    "BillingProviderLevel",
    "Claim",
    "Claim837P",
    "ClaimFacility",
    "ClaimInformation",
    "HealthCode",
    "HealthCodes",
    "LineAdjudication",
    "LineAdjudicationInfo",
    "OtherInsurance",
    "OtherPayer",
    "OtherSubscriber",
    "OtherSubscriberName",
    "Party",
    "PatientInformation",
    "PatientLevel",
    "Payer",
    "PaymentAdvice",
    "ProfessionalService",
    "Receiver",
    "ReferringProvider",
    "RenderingProvider",
    "ServiceFacility",
    "ServiceLine",
    "Submitter",
    "Subscriber",
    "SubscriberInformation",
    "SubscriberLevel",
    "SupervisingProvider",
]


# ----------------------------------------------------------------- segments


class BeginningOfTransaction(SegmentModel):
    """BHT: hierarchical structure, purpose (00 original, 18 reissue), batch id, creation date/time."""

    segment_id: ClassVar[str] = "BHT"
    structure_code: Annotated[str, El(1)] = "0019"
    purpose: Annotated[str, El(2)] = "00"
    reference: Annotated[str | None, El(3, max_len=50)] = None
    created_on: Annotated[date | None, El(4)] = None
    created_at: Annotated[str | None, El(5)] = None
    transaction_type: Annotated[str | None, El(6)] = None


class SubscriberInformation(SegmentModel):
    """SBR: payer responsibility (P, S, T...), relationship (18 self), group, claim filing indicator."""

    segment_id: ClassVar[str] = "SBR"
    payer_responsibility: Annotated[str, El(1)]
    relationship: Annotated[str | None, El(2)] = None
    group_number: Annotated[str | None, El(3, max_len=50)] = None
    group_name: Annotated[str | None, El(4, max_len=60)] = None
    insurance_type: Annotated[str | None, El(5)] = None
    coordination_of_benefits: Annotated[str | None, El(6)] = None
    employment_status: Annotated[str | None, El(8)] = None
    claim_filing_indicator: Annotated[str | None, El(9)] = None

    @model_validator(mode="after")
    def _responsibility(self) -> Self:
        allowed = {"P", "S", "T", "A", "B", "C", "D", "E", "F", "G", "H", "U"}
        if self.payer_responsibility not in allowed:
            raise ValueError(f"SBR01 {self.payer_responsibility!r} is not a payer responsibility code")
        return self


class PatientInformation(SegmentModel):
    """PAT: relationship to the subscriber (2000C), or death date / weight / pregnancy (2000B)."""

    segment_id: ClassVar[str] = "PAT"
    relationship: Annotated[str | None, El(1)] = None
    date_format: Annotated[str | None, El(5)] = None
    death_date: Annotated[str | None, El(6)] = None
    weight_unit: Annotated[str | None, El(7)] = None
    weight: Annotated[Decimal | None, El(8)] = None
    pregnant: Annotated[str | None, El(9)] = None


class ClaimFacility(Composite):
    """CLM05: place of service, its qualifier (B) and the claim frequency code (1, 7, 8)."""

    place_of_service: Annotated[str, El(1)]
    qualifier: Annotated[str | None, El(2)] = "B"
    frequency_code: Annotated[str | None, El(3)] = "1"


class ClaimInformation(SegmentModel):
    """CLM: the claim id (patient control number), total charge and claim-level indicators."""

    segment_id: ClassVar[str] = "CLM"
    claim_id: Annotated[str, El(1, max_len=38)]
    total_charge: Annotated[Decimal, El(2)]
    facility: Annotated[ClaimFacility, El(5)]
    provider_signature: Annotated[str | None, El(6)] = "Y"
    assignment: Annotated[str | None, El(7)] = "A"
    benefits_assigned: Annotated[str | None, El(8)] = "Y"
    release_of_information: Annotated[str | None, El(9)] = "Y"
    patient_signature_source: Annotated[str | None, El(10)] = None
    related_causes: Annotated[list[str], Comps(11)] = []
    special_program: Annotated[str | None, El(12)] = None
    delay_reason: Annotated[str | None, El(20)] = None


class OtherInsurance(SegmentModel):
    """OI: benefits assignment, patient signature source and release of information of another payer."""

    segment_id: ClassVar[str] = "OI"
    benefits_assigned: Annotated[str | None, El(3)] = None
    patient_signature_source: Annotated[str | None, El(4)] = None
    release_of_information: Annotated[str | None, El(6)] = None


class PaymentAdvice(SegmentModel):
    """MOA: outpatient adjudication information (remark codes MOA03-07)."""

    segment_id: ClassVar[str] = "MOA"
    reimbursement_rate: Annotated[Decimal | None, El(1)] = None
    hcpcs_payable: Annotated[Decimal | None, El(2)] = None
    remark_codes: Annotated[list[str], Spread(3, 7)] = []
    esrd_payment: Annotated[Decimal | None, El(8)] = None
    nonpayable_professional: Annotated[Decimal | None, El(9)] = None


class ProfessionalService(SegmentModel):
    """SV1: procedure and modifiers, charge, unit basis (UN/MJ), units, place of service, dx pointers."""

    segment_id: ClassVar[str] = "SV1"
    procedure: Annotated[ProcedureCode, El(1)]
    charge: Annotated[Decimal, El(2)]
    unit_basis: Annotated[str | None, El(3)] = "UN"
    units: Annotated[Decimal, El(4)]
    place_of_service: Annotated[str | None, El(5)] = None
    diagnosis_pointers: Annotated[list[str], Comps(7, 4)] = []
    emergency: Annotated[str | None, El(9)] = None
    epsdt: Annotated[str | None, El(11)] = None
    family_planning: Annotated[str | None, El(12)] = None
    copay_exempt: Annotated[str | None, El(15)] = None

    @model_validator(mode="after")
    def _pointers(self) -> Self:
        for pointer in self.diagnosis_pointers:
            if pointer and not (pointer.isascii() and pointer.isdigit() and 1 <= int(pointer) <= 12):
                raise ValueError(f"diagnosis pointer {pointer!r} must be 1-12")
        return self


class LineAdjudicationInfo(SegmentModel):
    """SVD: the other payer's adjudication of a line: payer id, paid amount, procedure, units."""

    segment_id: ClassVar[str] = "SVD"
    payer_id: Annotated[str, El(1, max_len=80)]
    paid: Annotated[Decimal, El(2)]
    procedure: Annotated[ProcedureCode, El(3)]
    units: Annotated[Decimal, El(5)]
    bundled_line_number: Annotated[int | None, El(6)] = None


# ----------------------------------------------------------------- parties


class Party(X12Loop):
    """A named party loop: NM1 with its address, taxonomy, demographics, references and contacts."""

    name: Annotated[EntityName, Seg("NM1")]
    taxonomy: Annotated[ProviderTaxonomy | None, Seg("PRV")] = None
    address: Annotated[Address | None, Seg("N3")] = None
    location: Annotated[GeoLocation | None, Seg("N4")] = None
    demographics: Annotated[Demographics | None, Seg("DMG")] = None
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    references: Annotated[list[Reference], Seg("REF")] = []
    contacts: Annotated[list[Contact], Seg("PER")] = []

    @property
    def npi(self) -> str | None:
        return self.name.identifier if self.name.id_qualifier == "XX" else None

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)


class Submitter(Party):
    loop_id: ClassVar[str] = "1000A"


class Receiver(Party):
    loop_id: ClassVar[str] = "1000B"


class BillingProvider(Party):
    """2010AA: NM1*85 with NPI, address, REF*EI (TIN) or REF*SY, PER."""

    loop_id: ClassVar[str] = "2010AA"

    @property
    def tax_id(self) -> str | None:
        return self.reference("EI") or self.reference("SY")


class PayToAddress(Party):
    loop_id: ClassVar[str] = "2010AB"


class PayToPlan(Party):
    loop_id: ClassVar[str] = "2010AC"


class Subscriber(Party):
    loop_id: ClassVar[str] = "2010BA"


class Payer(Party):
    loop_id: ClassVar[str] = "2010BB"


class PatientName(Party):
    loop_id: ClassVar[str] = "2010CA"


class ReferringProvider(Party):
    loop_id: ClassVar[str] = "2310A"


class RenderingProvider(Party):
    loop_id: ClassVar[str] = "2310B"


class ServiceFacility(Party):
    loop_id: ClassVar[str] = "2310C"


class SupervisingProvider(Party):
    loop_id: ClassVar[str] = "2310D"


class OtherSubscriberName(Party):
    loop_id: ClassVar[str] = "2330A"


class OtherPayer(Party):
    loop_id: ClassVar[str] = "2330B"


class LineRenderingProvider(Party):
    loop_id: ClassVar[str] = "2420A"


class LineServiceFacility(Party):
    loop_id: ClassVar[str] = "2420C"


class LineSupervisingProvider(Party):
    loop_id: ClassVar[str] = "2420D"


class LineOrderingProvider(Party):
    loop_id: ClassVar[str] = "2420E"


class LineReferringProvider(Party):
    loop_id: ClassVar[str] = "2420F"


# ----------------------------------------------------------------- claim


class LineAdjudication(X12Loop):
    """2430: how a prior payer adjudicated one line (SVD, CAS, DTP*573 adjudication date, AMT*EAF)."""

    loop_id: ClassVar[str] = "2430"
    adjudication: Annotated[LineAdjudicationInfo, Seg("SVD")]
    adjustments: Annotated[list[AdjustmentGroup], Seg("CAS")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    amounts: Annotated[list[Amount], Seg("AMT")] = []

    @property
    def adjudicated_on(self) -> date | None:
        return next((d.start for d in self.dates if d.qualifier == "573"), None)


class ServiceLine(X12Loop):
    """2400: one service line; LX is numbered by the builder."""

    loop_id: ClassVar[str] = "2400"
    service: Annotated[ProfessionalService, Seg("SV1")]
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    quantities: Annotated[list[Quantity], Seg("QTY")] = []
    references: Annotated[list[Reference], Seg("REF")] = []
    amounts: Annotated[list[Amount], Seg("AMT")] = []
    notes: Annotated[list[Note], Seg("NTE")] = []
    rendering_provider: Annotated[LineRenderingProvider | None, Child("2420A")] = None
    service_facility: Annotated[LineServiceFacility | None, Child("2420C")] = None
    supervising_provider: Annotated[LineSupervisingProvider | None, Child("2420D")] = None
    ordering_provider: Annotated[LineOrderingProvider | None, Child("2420E")] = None
    referring_providers: Annotated[list[LineReferringProvider], Child("2420F")] = []
    adjudications: Annotated[list[LineAdjudication], Child("2430")] = []

    @classmethod
    def structural_segments(cls, loop: Loop) -> int:
        return 1 if loop.segments and loop.segments[0].id == "LX" else 0

    def structure(self, context: BuildContext) -> list[Segment]:
        return [Segment("LX", [str(context.next("LX"))])]

    @property
    def service_date(self) -> DatePeriod | None:
        return next((d for d in self.dates if d.qualifier == "472"), None)

    @property
    def line_item_control_number(self) -> str | None:
        return next((r.value for r in self.references if r.qualifier == "6R"), None)


class OtherSubscriber(X12Loop):
    """2320: another payer's coverage of this claim (SBR), its claim-level CAS and AMT*D paid."""

    loop_id: ClassVar[str] = "2320"
    coverage: Annotated[SubscriberInformation, Seg("SBR")]
    adjustments: Annotated[list[AdjustmentGroup], Seg("CAS")] = []
    amounts: Annotated[list[Amount], Seg("AMT")] = []
    other_insurance: Annotated[OtherInsurance | None, Seg("OI")] = None
    payment_advice: Annotated[PaymentAdvice | None, Seg("MOA")] = None
    subscriber: Annotated[OtherSubscriberName, Child("2330A")]
    payer: Annotated[OtherPayer, Child("2330B")]

    @property
    def paid_amount(self) -> Decimal | None:
        return next((a.amount for a in self.amounts if a.qualifier == "D"), None)


class Claim(X12Loop):
    """2300: one claim with its diagnoses, dates, references, providers, COB and service lines."""

    loop_id: ClassVar[str] = "2300"
    claim: Annotated[ClaimInformation, Seg("CLM")]
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    amounts: Annotated[list[Amount], Seg("AMT")] = []
    references: Annotated[list[Reference], Seg("REF")] = []
    notes: Annotated[list[Note], Seg("NTE")] = []
    health_codes: Annotated[list[HealthCodes], Seg("HI")] = []
    referring_providers: Annotated[list[ReferringProvider], Child("2310A")] = []
    rendering_provider: Annotated[RenderingProvider | None, Child("2310B")] = None
    service_facility: Annotated[ServiceFacility | None, Child("2310C")] = None
    supervising_provider: Annotated[SupervisingProvider | None, Child("2310D")] = None
    other_subscribers: Annotated[list[OtherSubscriber], Child("2320")] = []
    service_lines: Annotated[list[ServiceLine], Child("2400")] = Field(min_length=1)

    @property
    def frequency_code(self) -> str:
        return self.claim.facility.frequency_code or ""

    @property
    def prior_authorization(self) -> str | None:
        return self.reference("G1")

    @property
    def original_reference(self) -> str | None:
        """REF*F8: the payer claim control number a replacement (7) or void (8) refers to."""
        return self.reference("F8")

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)

    @property
    def diagnoses(self) -> list[HealthCode]:
        """Every diagnosis code, principal first (ABK/BK, then ABF/BF), in file order."""
        kinds = {"ABK", "ABF", "BK", "BF", "APR", "PR"}
        return [c for hi in self.health_codes for c in hi.codes if c.qualifier in kinds]

    def to_loop(self, context: BuildContext | None = None) -> Loop:
        context = context or BuildContext()
        if self.frequency_code not in {"1", "7", "8"}:
            raise X12Error(f"claim {self.claim.claim_id}: frequency code must be 1, 7 or 8")
        if self.frequency_code in {"7", "8"} and not self.original_reference:
            raise X12Error(
                f"claim {self.claim.claim_id}: a replacement or void (frequency "
                f"{self.frequency_code}) needs REF*F8 with the payer's claim number"
            )
        if self.diagnoses and self.diagnoses[0].qualifier not in {"ABK", "BK"}:
            raise X12Error(f"claim {self.claim.claim_id}: the first diagnosis must be principal (ABK)")
        context.counters["LX"] = 0
        return super().to_loop(context)


class PatientLevel(X12Loop):
    """2000C: the patient when not the subscriber, and their claims."""

    loop_id: ClassVar[str] = "2000C"
    hl_level: ClassVar[str] = "23"
    patient_information: Annotated[PatientInformation, Seg("PAT")]
    patient: Annotated[PatientName, Child("2010CA")]
    claims: Annotated[list[Claim], Child("2300")] = []


class SubscriberLevel(X12Loop):
    """2000B: the subscriber, their payer, their own claims and their dependents."""

    loop_id: ClassVar[str] = "2000B"
    hl_level: ClassVar[str] = "22"
    coverage: Annotated[SubscriberInformation, Seg("SBR")]
    patient_information: Annotated[PatientInformation | None, Seg("PAT")] = None
    subscriber: Annotated[Subscriber, Child("2010BA")]
    payer: Annotated[Payer, Child("2010BB")]
    claims: Annotated[list[Claim], Child("2300")] = []
    patients: Annotated[list[PatientLevel], Child("2000C")] = []


class BillingProviderLevel(X12Loop):
    """2000A: the billing provider (with its taxonomy), pay-to and the subscribers below it."""

    loop_id: ClassVar[str] = "2000A"
    hl_level: ClassVar[str] = "20"
    taxonomy: Annotated[ProviderTaxonomy | None, Seg("PRV")] = None
    provider: Annotated[BillingProvider, Child("2010AA")]
    pay_to: Annotated[PayToAddress | None, Child("2010AB")] = None
    pay_to_plan: Annotated[PayToPlan | None, Child("2010AC")] = None
    subscribers: Annotated[list[SubscriberLevel], Child("2000B")] = []


class Claim837P(Transaction):
    """An 837P transaction set: submitter, receiver and the billing-provider hierarchy."""

    transaction_code: ClassVar[str] = "837"
    default_version: ClassVar[str] = "005010X222A1"
    kind: Literal["837P"] = "837P"
    header: Annotated[BeginningOfTransaction, Seg("BHT")]
    submitter: Annotated[Submitter, Child("1000A")]
    receiver: Annotated[Receiver, Child("1000B")]
    billing_providers: Annotated[list[BillingProviderLevel], Child("2000A")] = Field(min_length=1)

    @classmethod
    def prepare(cls, loop: Loop) -> Loop:
        return nest_hl(loop)

    def claims(self) -> Iterator[tuple[BillingProviderLevel, SubscriberLevel, PatientLevel | None, Claim]]:
        """Every claim with the billing provider, subscriber and (dependent) patient it belongs to."""
        for provider in self.billing_providers:
            for subscriber in provider.subscribers:
                for claim in subscriber.claims:
                    yield provider, subscriber, None, claim
                for patient in subscriber.patients:
                    for claim in patient.claims:
                        yield provider, subscriber, patient, claim
