"""270 eligibility inquiry and 271 eligibility response (005010X279A1).

```
ST  EligibilityInquiry270 / EligibilityResponse271     BHT
  2000A InformationSource  HL*20   AAA (271)
    2100A EligibilityParty         NM1*PR PER AAA
    2000B InformationReceiver HL*21
      2100B EligibilityParty       NM1*1P REF N3 N4 AAA PRV
      2000C Subscriber   HL*22     TRN
        2100C EligibilityParty     NM1*IL REF N3 N4 AAA PRV DMG INS HI DTP MPI
          2110C EligibilityInquiryItem (270)  EQ AMT III REF DTP
          2110C BenefitInformation (271)      EB HSD REF DTP AAA MSG III LS
            2120C BenefitRelatedEntity        NM1 N3 N4 PER PRV      (LE closes 2110C)
        2000D Dependent  HL*23     TRN    (2100D/2110D/2120D as above)
```
One ``InformationLevel`` model serves every HL level; it keeps its loop id and HL03.
"""

# Pydantic copies mutable field defaults per instance, so `= []` is safe here.
# ruff: noqa: RUF012

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import model_validator

from rcm.x12.models.base import (
    Child,
    Comps,
    El,
    GenericLevel,
    GenericLoop,
    Reps,
    Seg,
    SegmentModel,
    Transaction,
    nest_hl,
)
from rcm.x12.models.claim_837p import BeginningOfTransaction
from rcm.x12.models.common import (
    Address,
    Amount,
    Contact,
    DatePeriod,
    Demographics,
    EntityName,
    GeoLocation,
    HealthCodes,
    ProcedureCode,
    ProviderTaxonomy,
    Reference,
    Trace,
)
from rcm.x12.segments import Loop

__all__ = [
    "Benefit",
    "BenefitInformation",
    "BenefitRelatedEntity",
    "EligibilityInquiry270",
    "EligibilityInquiryItem",
    "EligibilityParty",
    "EligibilityResponse271",
    "InformationLevel",
    "Inquiry",
    "InsuredBenefit",
    "LoopBoundary",
    "Message",
    "RequestValidation",
]

_PARTY_LOOPS = ("2100A", "2100B", "2100C", "2100D")
_LEVEL_LOOPS = ("2000A", "2000B", "2000C", "2000D")


class RequestValidation(SegmentModel):
    """AAA: a rejection: valid request indicator (N), reject reason (AAA03) and follow-up action (AAA04)."""

    segment_id: ClassVar[str] = "AAA"
    valid: Annotated[str, El(1)] = "N"
    agency_qualifier: Annotated[str | None, El(2)] = None
    reject_reason: Annotated[str | None, El(3)] = None
    follow_up_action: Annotated[str | None, El(4)] = None


class InsuredBenefit(SegmentModel):
    """INS: whether the person is the subscriber (Y/N), the relationship and birth sequence."""

    segment_id: ClassVar[str] = "INS"
    subscriber: Annotated[str, El(1)]
    relationship: Annotated[str, El(2)]
    maintenance_type: Annotated[str | None, El(3)] = None
    maintenance_reason: Annotated[str | None, El(4)] = None
    birth_sequence: Annotated[str | None, El(17)] = None


class Inquiry(SegmentModel):
    """EQ: the service types asked about (EQ01 repeats) or a procedure, and the coverage level."""

    segment_id: ClassVar[str] = "EQ"
    service_types: Annotated[list[str], Reps(1)] = []
    procedure: Annotated[ProcedureCode | None, El(2)] = None
    coverage_level: Annotated[str | None, El(3)] = None
    diagnosis_pointers: Annotated[list[str], Comps(5)] = []


class Benefit(SegmentModel):
    """EB: one benefit: information code (1 active, 6 inactive, A co-insurance, B co-payment, C deductible...)."""

    segment_id: ClassVar[str] = "EB"
    information_code: Annotated[str, El(1)]
    coverage_level: Annotated[str | None, El(2)] = None
    service_types: Annotated[list[str], Reps(3)] = []
    insurance_type: Annotated[str | None, El(4)] = None
    plan_description: Annotated[str | None, El(5, max_len=50)] = None
    time_period: Annotated[str | None, El(6)] = None
    amount: Annotated[Decimal | None, El(7)] = None
    percent: Annotated[Decimal | None, El(8)] = None
    quantity_qualifier: Annotated[str | None, El(9)] = None
    quantity: Annotated[Decimal | None, El(10)] = None
    authorization_required: Annotated[str | None, El(11)] = None
    in_plan_network: Annotated[str | None, El(12)] = None
    procedure: Annotated[ProcedureCode | None, El(13)] = None
    diagnosis_pointers: Annotated[list[str], Comps(14)] = []


class Message(SegmentModel):
    """MSG: free-form message text."""

    segment_id: ClassVar[str] = "MSG"
    text: Annotated[str, El(1, max_len=264)]


class LoopBoundary(SegmentModel):
    """LS/LE: the bounds of a nested 2120 loop; ``segment_id`` is set per instance."""

    segment_id: ClassVar[str] = "LS"
    loop_code: Annotated[str, El(1)] = "2120"


class LoopEnd(LoopBoundary):
    segment_id: ClassVar[str] = "LE"


class EligibilityParty(GenericLoop):
    """2100A-D: a named party with its identifiers, address, validation errors and demographics."""

    name: Annotated[EntityName, Seg("NM1")]
    references: Annotated[list[Reference], Seg("REF")] = []
    address: Annotated[Address | None, Seg("N3")] = None
    location: Annotated[GeoLocation | None, Seg("N4")] = None
    contacts: Annotated[list[Contact], Seg("PER")] = []
    errors: Annotated[list[RequestValidation], Seg("AAA")] = []
    taxonomy: Annotated[ProviderTaxonomy | None, Seg("PRV")] = None
    demographics: Annotated[Demographics | None, Seg("DMG")] = None
    insured: Annotated[InsuredBenefit | None, Seg("INS")] = None
    health_codes: Annotated[list[HealthCodes], Seg("HI")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    inquiries: Annotated[list[EligibilityInquiryItem], Child(("2110C", "2110D"), first="EQ")] = []
    benefits: Annotated[list[BenefitInformation], Child(("2110C", "2110D"), first="EB")] = []


class EligibilityInquiryItem(GenericLoop):
    """2110C/D of a 270: one inquiry."""

    inquiry: Annotated[Inquiry, Seg("EQ")]
    amounts: Annotated[list[Amount], Seg("AMT")] = []
    references: Annotated[list[Reference], Seg("REF")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []


class BenefitRelatedEntity(GenericLoop):
    """2120C/D: a party a benefit refers to (another payer, a primary care provider)."""

    name: Annotated[EntityName, Seg("NM1")]
    address: Annotated[Address | None, Seg("N3")] = None
    location: Annotated[GeoLocation | None, Seg("N4")] = None
    contacts: Annotated[list[Contact], Seg("PER")] = []
    taxonomy: Annotated[ProviderTaxonomy | None, Seg("PRV")] = None


class BenefitInformation(GenericLoop):
    """2110C/D of a 271: one EB with its dates, references, errors, messages and related entities."""

    benefit: Annotated[Benefit, Seg("EB")]
    references: Annotated[list[Reference], Seg("REF")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    errors: Annotated[list[RequestValidation], Seg("AAA")] = []
    messages: Annotated[list[Message], Seg("MSG")] = []
    related_start: Annotated[LoopBoundary | None, Seg("LS")] = None
    related_entities: Annotated[list[BenefitRelatedEntity], Child(("2120C", "2120D"))] = []
    related_end: Annotated[LoopEnd | None, Seg("LE", trailer=True)] = None

    @model_validator(mode="before")
    @classmethod
    def _bounds(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("related_entities"):
            data = dict(data)
            data.setdefault("related_start", LoopBoundary())
            data.setdefault("related_end", LoopEnd())
        return data


class InformationLevel(GenericLevel):
    """2000A-D: one HL level (source 20, receiver 21, subscriber 22, dependent 23)."""

    traces: Annotated[list[Trace], Seg("TRN")] = []
    errors: Annotated[list[RequestValidation], Seg("AAA")] = []
    parties: Annotated[list[EligibilityParty], Child(_PARTY_LOOPS)] = []
    levels: Annotated[list[InformationLevel], Child(_LEVEL_LOOPS)] = []


class _EligibilityTransaction(Transaction):
    header: Annotated[BeginningOfTransaction, Seg("BHT")]
    sources: Annotated[list[InformationLevel], Child("2000A")]

    @classmethod
    def prepare(cls, loop: Loop) -> Loop:
        return nest_hl(loop)


class EligibilityInquiry270(_EligibilityTransaction):
    """A 270: who asks whom about which subscriber or dependent and which service types."""

    transaction_code: ClassVar[str] = "270"
    default_version: ClassVar[str] = "005010X279A1"
    kind: Literal["270"] = "270"


class EligibilityResponse271(_EligibilityTransaction):
    """A 271: coverage and benefits (EB) per subscriber or dependent, or AAA rejections."""

    transaction_code: ClassVar[str] = "271"
    default_version: ClassVar[str] = "005010X279A1"
    kind: Literal["271"] = "271"

    def benefits(self) -> list[Benefit]:
        """Every EB of the response, in file order."""
        found: list[Benefit] = []

        def visit(level: InformationLevel) -> None:
            for party in level.parties:
                found.extend(b.benefit for b in party.benefits)
            for child in level.levels:
                visit(child)

        for source in self.sources:
            visit(source)
        return found
