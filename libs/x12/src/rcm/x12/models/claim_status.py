"""276/277 claim status (005010X212) and 277CA claim acknowledgment (005010X214).

```
ST  ClaimStatusRequest276 / ClaimStatusResponse277 / ClaimAcknowledgment277CA   BHT
  2000A StatusLevel HL*20 (payer)                2100A StatusParty  NM1*PR PER
    2000B StatusLevel HL*21 (receiver)           2100B StatusParty  NM1*41
      2000C StatusLevel HL*19 (provider)         2100C StatusParty  NM1*1P/85
        2000D StatusLevel HL*22 / PT (subscriber or patient)  DMG
                                                 2100D StatusParty  NM1*IL/QC
          2200D ClaimStatusTracking              TRN STC REF AMT QTY DTP
            2210D/2220D ServiceStatus            SVC STC REF DTP
          2000E StatusLevel HL*23 (dependent) ...
```
The 277CA also puts TRN/STC/QTY/AMT at the 2200A-C levels. One ``StatusLevel``
model serves every HL level; it keeps its loop id, HL03 and whether HL04 was written.
"""

# Pydantic copies mutable field defaults per instance, so `= []` is safe here.
# ruff: noqa: RUF012

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from rcm.x12.models.base import (
    Child,
    Composite,
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
    Amount,
    Contact,
    DatePeriod,
    Demographics,
    EntityName,
    ProcedureCode,
    Quantity,
    Reference,
    Trace,
)
from rcm.x12.segments import Loop

__all__ = [
    "ClaimAcknowledgment277CA",
    "ClaimStatus",
    "ClaimStatusRequest276",
    "ClaimStatusResponse277",
    "ClaimStatusTracking",
    "ServiceLineInfo",
    "ServiceStatus",
    "StatusCode",
    "StatusLevel",
    "StatusParty",
]

_LEVELS = ("2000A", "2000B", "2000C", "2000D", "2000E")
_PARTIES = ("2100A", "2100B", "2100C", "2100D", "2100E")
_TRACKING = ("2200A", "2200B", "2200C", "2200D", "2200E")
_SERVICES = ("2210D", "2210E", "2220B", "2220C", "2220D", "2220E")


class StatusCode(Composite):
    """STC01/10/11: health care claim status category (A1, A2, A3, F1...), status code, entity."""

    category: Annotated[str, El(1)]
    code: Annotated[str | None, El(2)] = None
    entity: Annotated[str | None, El(3)] = None
    code_list_qualifier: Annotated[str | None, El(4)] = None


class ClaimStatus(SegmentModel):
    """STC: a status (up to three composites) with its effective date, amounts and payment data."""

    segment_id: ClassVar[str] = "STC"
    status: Annotated[StatusCode, El(1)]
    effective_date: Annotated[date | None, El(2)] = None
    action_code: Annotated[str | None, El(3)] = None
    charge: Annotated[Decimal | None, El(4)] = None
    paid: Annotated[Decimal | None, El(5)] = None
    payment_date: Annotated[date | None, El(6)] = None
    payment_method: Annotated[str | None, El(7)] = None
    check_date: Annotated[date | None, El(8)] = None
    check_number: Annotated[str | None, El(9)] = None
    second_status: Annotated[StatusCode | None, El(10)] = None
    third_status: Annotated[StatusCode | None, El(11)] = None
    free_text: Annotated[str | None, El(12)] = None

    @property
    def statuses(self) -> list[StatusCode]:
        return [s for s in (self.status, self.second_status, self.third_status) if s is not None]


class ServiceLineInfo(SegmentModel):
    """SVC of a 276/277: the procedure, charge, paid amount, revenue code and units asked or reported."""

    segment_id: ClassVar[str] = "SVC"
    procedure: Annotated[ProcedureCode, El(1)]
    charge: Annotated[Decimal | None, El(2)] = None
    paid: Annotated[Decimal | None, El(3)] = None
    revenue_code: Annotated[str | None, El(4)] = None
    units: Annotated[Decimal | None, El(5)] = None
    original_procedure: Annotated[ProcedureCode | None, El(6)] = None
    original_units: Annotated[Decimal | None, El(7)] = None


class StatusParty(GenericLoop):
    """2100A-E: the payer, receiver, provider, subscriber or patient."""

    name: Annotated[EntityName, Seg("NM1")]
    contacts: Annotated[list[Contact], Seg("PER")] = []
    traces: Annotated[list[Trace], Seg("TRN")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []


class ServiceStatus(GenericLoop):
    """2210D/E (276) or 2220 (277): one service line and its statuses."""

    service: Annotated[ServiceLineInfo, Seg("SVC")]
    statuses: Annotated[list[ClaimStatus], Seg("STC")] = []
    references: Annotated[list[Reference], Seg("REF")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []


class ClaimStatusTracking(GenericLoop):
    """2200A-E: the claim (or batch) tracked by TRN, its statuses, references, amounts and dates."""

    trace: Annotated[Trace | None, Seg("TRN")] = None
    statuses: Annotated[list[ClaimStatus], Seg("STC")] = []
    references: Annotated[list[Reference], Seg("REF")] = []
    quantities: Annotated[list[Quantity], Seg("QTY")] = []
    amounts: Annotated[list[Amount], Seg("AMT")] = []
    dates: Annotated[list[DatePeriod], Seg("DTP")] = []
    services: Annotated[list[ServiceStatus], Child(_SERVICES)] = []

    @property
    def claim_trace(self) -> str | None:
        return self.trace.reference if self.trace else None


class StatusLevel(GenericLevel):
    """2000A-E: one HL level with its parties, tracked claims and lower levels."""

    demographics: Annotated[Demographics | None, Seg("DMG")] = None
    parties: Annotated[list[StatusParty], Child(_PARTIES)] = []
    trackings: Annotated[list[ClaimStatusTracking], Child(_TRACKING)] = []
    levels: Annotated[list[StatusLevel], Child(_LEVELS)] = []


class _StatusTransaction(Transaction):
    header: Annotated[BeginningOfTransaction, Seg("BHT")]
    sources: Annotated[list[StatusLevel], Child("2000A")]

    @classmethod
    def prepare(cls, loop: Loop) -> Loop:
        return nest_hl(loop)

    def trackings(self) -> list[ClaimStatusTracking]:
        """Every tracked claim or batch, in file order."""
        found: list[ClaimStatusTracking] = []

        def visit(level: StatusLevel) -> None:
            found.extend(level.trackings)
            for child in level.levels:
                visit(child)

        for source in self.sources:
            visit(source)
        return found


class ClaimStatusRequest276(_StatusTransaction):
    transaction_code: ClassVar[str] = "276"
    default_version: ClassVar[str] = "005010X212"
    kind: Literal["276"] = "276"


class ClaimStatusResponse277(_StatusTransaction):
    transaction_code: ClassVar[str] = "277"
    default_version: ClassVar[str] = "005010X212"
    kind: Literal["277"] = "277"


class ClaimAcknowledgment277CA(_StatusTransaction):
    transaction_code: ClassVar[str] = "277"
    default_version: ClassVar[str] = "005010X214"
    kind: Literal["277CA"] = "277CA"
