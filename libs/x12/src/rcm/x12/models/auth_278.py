"""278 health care services review request and response (005010X217).

```
ST  ServiceReviewRequest278 / ServiceReviewResponse278   BHT
  2000A ReviewLevel HL*20 (UMO)          2010A ReviewParty NM1*X3 PER AAA
    2000B ReviewLevel HL*21 (requester)  2010B ReviewParty NM1*1P/FA REF N3 N4 PER AAA PRV
      2000C ReviewLevel HL*22 (subscriber)  2010C ReviewParty NM1*IL REF N3 N4 AAA DMG INS
        2000D ReviewLevel HL*23 (dependent) 2010D ...
          2000E ReviewLevel HL*EV (patient event)  TRN AAA UM HCR REF DTP HI HSD ... MSG
                                           2010EA-EC ReviewParty (service/ordering provider...)
            2000F ReviewLevel HL*SS (service)  TRN AAA UM HCR REF DTP SV1 SV2 HSD MSG
                                           2010F ReviewParty
```
One ``ReviewLevel`` model serves every HL level.
"""

# Pydantic copies mutable field defaults per instance, so `= []` is safe here.
# ruff: noqa: RUF012

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from rcm.x12.models.base import (
    Child,
    Comps,
    El,
    GenericLevel,
    GenericLoop,
    Seg,
    SegmentModel,
    Transaction,
    nest_hl,
)
from rcm.x12.models.claim_837p import BeginningOfTransaction
from rcm.x12.models.common import (
    Address,
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
from rcm.x12.models.eligibility import InsuredBenefit, Message, RequestValidation
from rcm.x12.segments import Loop

__all__ = [
    "InstitutionalServiceRequest",
    "ProfessionalServiceRequest",
    "ReviewDecision",
    "ReviewLevel",
    "ReviewParty",
    "ServiceReview",
    "ServiceReviewRequest278",
    "ServiceReviewResponse278",
]

_LEVELS = ("2000A", "2000B", "2000C", "2000D", "2000E", "2000F")
_PARTIES = ("2010A", "2010B", "2010C", "2010D", "2010EA", "2010EB", "2010EC", "2010F", "2010FA", "2010FB")


class ServiceReview(SegmentModel):
    """UM: request category (AR admission, HS health services, SC specialty care), certification type, service type."""

    segment_id: ClassVar[str] = "UM"
    request_category: Annotated[str, El(1)]
    certification_type: Annotated[str, El(2)]
    service_type: Annotated[str | None, El(3)] = None
    facility: Annotated[list[str], Comps(4)] = []
    related_causes: Annotated[list[str], Comps(5)] = []
    level_of_service: Annotated[str | None, El(6)] = None


class ReviewDecision(SegmentModel):
    """HCR: the decision (A1 certified, A3 not certified, A4 pended, A6 modified, C cancelled, CT, NA),
    the authorization number and the decision reason."""

    segment_id: ClassVar[str] = "HCR"
    action: Annotated[str, El(1)]
    authorization_number: Annotated[str | None, El(2, max_len=50)] = None
    reason: Annotated[str | None, El(3)] = None
    second_surgical_opinion: Annotated[str | None, El(4)] = None


class ProfessionalServiceRequest(SegmentModel):
    """SV1 of a 278: the procedure asked for, with optional charge and units."""

    segment_id: ClassVar[str] = "SV1"
    procedure: Annotated[ProcedureCode, El(1)]
    charge: Annotated[Decimal | None, El(2)] = None
    unit_basis: Annotated[str | None, El(3)] = None
    units: Annotated[Decimal | None, El(4)] = None


class InstitutionalServiceRequest(SegmentModel):
    """SV2 of a 278: revenue code and/or procedure, with optional charge and units."""

    segment_id: ClassVar[str] = "SV2"
    revenue_code: Annotated[str | None, El(1)] = None
    procedure: Annotated[ProcedureCode | None, El(2)] = None
    charge: Annotated[Decimal | None, El(3)] = None
    unit_basis: Annotated[str | None, El(4)] = None
    units: Annotated[Decimal | None, El(5)] = None


class ReviewParty(GenericLoop):
    """2010A-F: UMO, requester, subscriber, dependent, or a provider of the event or service."""

    name: Annotated[EntityName, Seg("NM1")]
    references: Annotated[list[Reference], Seg("REF")] = []
    address: Annotated[Address | None, Seg("N3")] = None
    location: Annotated[GeoLocation | None, Seg("N4")] = None
    contacts: Annotated[list[Contact], Seg("PER")] = []
    errors: Annotated[list[RequestValidation], Seg("AAA")] = []
    taxonomy: Annotated[ProviderTaxonomy | None, Seg("PRV")] = None
    demographics: Annotated[Demographics | None, Seg("DMG")] = None
    insured: Annotated[InsuredBenefit | None, Seg("INS")] = None


class ReviewLevel(GenericLevel):
    """2000A-F: one HL level; at the event (EV) and service (SS) levels, the review itself."""

    traces: Annotated[list[Trace], Seg("TRN")] = []
    errors: Annotated[list[RequestValidation], Seg("AAA")] = []
    review: Annotated[ServiceReview | None, Seg("UM")] = None
    decision: Annotated[ReviewDecision | None, Seg("HCR")] = None
    references: Annotated[list[Reference], Seg("REF")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    health_codes: Annotated[list[HealthCodes], Seg("HI")] = []
    professional_service: Annotated[ProfessionalServiceRequest | None, Seg("SV1")] = None
    institutional_service: Annotated[InstitutionalServiceRequest | None, Seg("SV2")] = None
    messages: Annotated[list[Message], Seg("MSG")] = []
    parties: Annotated[list[ReviewParty], Child(_PARTIES)] = []
    levels: Annotated[list[ReviewLevel], Child(_LEVELS)] = []

    @property
    def authorization_number(self) -> str | None:
        """HCR02, or REF*BB (authorization number) when the decision does not carry it."""
        if self.decision and self.decision.authorization_number:
            return self.decision.authorization_number
        return next((r.value for r in self.references if r.qualifier == "BB"), None)


class _ReviewTransaction(Transaction):
    header: Annotated[BeginningOfTransaction, Seg("BHT")]
    sources: Annotated[list[ReviewLevel], Child("2000A")]

    @classmethod
    def prepare(cls, loop: Loop) -> Loop:
        return nest_hl(loop)

    def reviews(self) -> list[ReviewLevel]:
        """Every level carrying a UM (patient event or service), in file order."""
        found: list[ReviewLevel] = []

        def visit(level: ReviewLevel) -> None:
            if level.review is not None:
                found.append(level)
            for child in level.levels:
                visit(child)

        for source in self.sources:
            visit(source)
        return found


class ServiceReviewRequest278(_ReviewTransaction):
    transaction_code: ClassVar[str] = "278"
    default_version: ClassVar[str] = "005010X217"
    kind: Literal["278"] = "278"


class ServiceReviewResponse278(_ReviewTransaction):
    """A 278 response: BHT02 11, HCR decisions."""

    transaction_code: ClassVar[str] = "278"
    default_version: ClassVar[str] = "005010X217"
    kind: Literal["278R"] = "278R"
