"""Segments shared by several transactions: names, addresses, references, dates, amounts."""

# Pydantic copies mutable field defaults per instance, so `= []` is safe here.
# ruff: noqa: RUF012

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self

from pydantic import model_validator

from rcm.x12.errors import X12Error
from rcm.x12.models.base import (
    Composite,
    Comps,
    El,
    Group,
    SegmentModel,
    Spread,
    _maker,
    format_date,
    parse_date,
)
from rcm.x12.segments import DEFAULT_DELIMITERS, Delimiters, Segment

__all__ = [
    "Address",
    "Adjustment",
    "AdjustmentGroup",
    "Amount",
    "Communication",
    "Contact",
    "DatePeriod",
    "DateTime",
    "Demographics",
    "EntityName",
    "GeoLocation",
    "Note",
    "ProviderTaxonomy",
    "Quantity",
    "Reference",
    "Trace",
]


class EntityName(SegmentModel):
    """NM1: who a loop is about (NM101 entity code, NM108/NM109 identifier such as XX = NPI)."""

    segment_id: ClassVar[str] = "NM1"
    entity_code: Annotated[str, El(1)]
    entity_type: Annotated[str | None, El(2)] = None
    last_or_organization: Annotated[str | None, El(3, max_len=60)] = None
    first: Annotated[str | None, El(4, max_len=35)] = None
    middle: Annotated[str | None, El(5, max_len=25)] = None
    prefix: Annotated[str | None, El(6)] = None
    suffix: Annotated[str | None, El(7, max_len=10)] = None
    id_qualifier: Annotated[str | None, El(8)] = None
    identifier: Annotated[str | None, El(9, max_len=80)] = None
    relationship_code: Annotated[str | None, El(10)] = None
    entity_relationship: Annotated[str | None, El(11)] = None
    last_name_2: Annotated[str | None, El(12)] = None

    @model_validator(mode="after")
    def _identifier_pair(self) -> Self:
        if bool(self.id_qualifier) != bool(self.identifier):
            raise ValueError("NM108 and NM109 go together")
        return self


class Address(SegmentModel):
    """N3: street lines."""

    segment_id: ClassVar[str] = "N3"
    line1: Annotated[str, El(1, max_len=55)]
    line2: Annotated[str | None, El(2, max_len=55)] = None


class GeoLocation(SegmentModel):
    """N4: city, state, postal code."""

    segment_id: ClassVar[str] = "N4"
    city: Annotated[str | None, El(1, max_len=30, min_len=2)] = None
    state: Annotated[str | None, El(2, max_len=2, min_len=2)] = None
    postal_code: Annotated[str | None, El(3, max_len=15)] = None
    country: Annotated[str | None, El(4)] = None
    location_qualifier: Annotated[str | None, El(5)] = None
    location_id: Annotated[str | None, El(6)] = None
    country_subdivision: Annotated[str | None, El(7)] = None


class Reference(SegmentModel):
    """REF: a qualified reference number (EI tax id, G1 prior authorization, F8 original claim...)."""

    segment_id: ClassVar[str] = "REF"
    qualifier: Annotated[str, El(1)]
    value: Annotated[str | None, El(2, max_len=50)] = None
    description: Annotated[str | None, El(3)] = None
    identifiers: Annotated[list[str], Comps(4)] = []


class Communication(Group):
    """One PER number: its qualifier (TE, EM, FX, UR, EX) and value."""

    qualifier: Annotated[str, El(1)]
    number: Annotated[str, El(2, max_len=256)]


class Contact(SegmentModel):
    """PER: a contact (IC information contact, BL technical contact, CX payer claims office)."""

    segment_id: ClassVar[str] = "PER"
    function: Annotated[str, El(1)]
    name: Annotated[str | None, El(2, max_len=60)] = None
    numbers: Annotated[list[Communication], Spread(3, 8, 2)] = []
    inquiry_reference: Annotated[str | None, El(9)] = None


class Note(SegmentModel):
    """NTE: free text with a reference code (ADD, CER, DCP, PMT, TPO)."""

    segment_id: ClassVar[str] = "NTE"
    code: Annotated[str | None, El(1)] = None
    text: Annotated[str, El(2, max_len=80)]


class ProviderTaxonomy(SegmentModel):
    """PRV: provider code (BI billing, PE performing...), PXC and the taxonomy code."""

    segment_id: ClassVar[str] = "PRV"
    provider_code: Annotated[str, El(1)]
    qualifier: Annotated[str | None, El(2)] = None
    taxonomy: Annotated[str | None, El(3, max_len=50)] = None


class Amount(SegmentModel):
    """AMT: a qualified monetary amount."""

    segment_id: ClassVar[str] = "AMT"
    qualifier: Annotated[str, El(1)]
    amount: Annotated[Decimal, El(2)]
    credit_debit: Annotated[str | None, El(3)] = None


class Quantity(SegmentModel):
    """QTY: a qualified quantity."""

    segment_id: ClassVar[str] = "QTY"
    qualifier: Annotated[str, El(1)]
    quantity: Annotated[Decimal | None, El(2)] = None
    unit: Annotated[list[str], Comps(3)] = []
    free_form: Annotated[str | None, El(4)] = None


class Demographics(SegmentModel):
    """DMG: birth date and administrative gender."""

    segment_id: ClassVar[str] = "DMG"
    date_format: Annotated[str | None, El(1)] = None
    birth_date: Annotated[date | None, El(2)] = None
    gender: Annotated[str | None, El(3)] = None
    marital_status: Annotated[str | None, El(4)] = None


class Trace(SegmentModel):
    """TRN: a trace number (TRN01 1 = current transaction, 2 = referenced)."""

    segment_id: ClassVar[str] = "TRN"
    trace_type: Annotated[str, El(1)]
    reference: Annotated[str, El(2, max_len=50)]
    originator: Annotated[str | None, El(3, max_len=10)] = None
    supplemental: Annotated[str | None, El(4, max_len=50)] = None


class Adjustment(Group):
    """One CAS triple: a reason code (CARC), its amount and quantity."""

    reason: Annotated[str, El(1, max_len=5)]
    amount: Annotated[Decimal, El(2)]
    quantity: Annotated[Decimal | None, El(3)] = None


class AdjustmentGroup(SegmentModel):
    """CAS: every adjustment of one group (CO, PR, OA, PI, CR), up to six triples."""

    segment_id: ClassVar[str] = "CAS"
    group: Annotated[str, El(1)]
    adjustments: Annotated[list[Adjustment], Spread(2, 19, 3)]

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.adjustments:
            raise ValueError("CAS needs at least one reason code and amount")
        return self


class DateTime(SegmentModel):
    """DTM (835, 277): a qualified date with optional time."""

    segment_id: ClassVar[str] = "DTM"
    qualifier: Annotated[str, El(1)]
    value: Annotated[date | None, El(2)] = None
    time: Annotated[str | None, El(3)] = None
    time_code: Annotated[str | None, El(4)] = None
    period_format: Annotated[str | None, El(5)] = None
    period: Annotated[str | None, El(6)] = None


class DatePeriod(SegmentModel):
    """DTP: a qualified date (D8), date range (RD8) or other date/time (``text``).

    ``start``/``end`` hold D8 and RD8 values as dates; other formats (DT, TM, RD8 with
    times...) keep their text in ``text``.
    """

    segment_id: ClassVar[str] = "DTP"
    qualifier: str
    format: str = "D8"
    start: date | None = None
    end: date | None = None
    text: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "format" not in self.model_fields_set and self.end is not None:
            # a period given without a format is an RD8 range (an after-validator, so that
            # reading, which always gives the format, makes no before-validation pass)
            self.__dict__["format"] = "RD8"
            self.model_fields_set.add("format")
        if self.format == "D8" and self.text is None and (self.start is None or self.end is not None):
            raise ValueError("a D8 date needs start and no end")
        if self.format == "RD8" and self.text is None and (self.start is None or self.end is None):
            raise ValueError("an RD8 period needs start and end")
        if self.end is not None and self.start is not None and self.end < self.start:
            raise ValueError("the period ends before it starts")
        return self

    @classmethod
    def from_segment(cls, segment: Segment, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Self:
        if segment.id != "DTP":
            raise X12Error(f"expected a DTP segment, got {segment.id}")
        qualifier, fmt, value = segment.get(1), segment.get(2), segment.get(3)
        other = {i: e for i, e in enumerate(segment.elements, 1) if e and i > 3}
        values: dict[str, Any] = {"qualifier": qualifier, "format": fmt, "other_elements": other}
        if fmt == "D8" and len(value) == 8:
            values["start"] = parse_date(value)
        elif fmt == "RD8" and len(value) == 17 and value[8] == "-":
            values["start"] = parse_date(value[:8])
            values["end"] = parse_date(value[9:])
        else:
            values["text"] = value
        try:
            result: Self = _maker(cls).make(values)
            return result
        except ValueError as exc:
            raise X12Error(f"DTP*{qualifier}: {exc}") from None

    def to_segment(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Segment:
        if not self.qualifier or not self.format:
            raise X12Error("DTP01 and DTP02 are required")
        if self.text is not None:
            value = self.text
        elif self.format == "RD8" and self.start and self.end:
            value = f"{format_date(self.start)}-{format_date(self.end)}"
        elif self.start:
            value = format_date(self.start)
        else:
            raise X12Error(f"DTP*{self.qualifier}: no date")
        elements = [self.qualifier, self.format, value]
        for index, text in sorted(self.other_elements.items()):
            while len(elements) < index:
                elements.append("")
            elements[index - 1] = text
        return Segment("DTP", elements)


class ProcedureCode(Composite):
    """A procedure composite (SV1-01, SVC01, SVD03): qualifier (HC, ER...), code, up to four modifiers."""

    qualifier: Annotated[str, El(1)]
    code: Annotated[str, El(2, max_len=48)]
    modifiers: Annotated[list[str], Comps(3, 6)] = []
    description: Annotated[str | None, El(7, max_len=80)] = None
    product_id: Annotated[str | None, El(8)] = None

    @model_validator(mode="after")
    def _modifiers(self) -> Self:
        for modifier in self.modifiers:
            if modifier and len(modifier) != 2:
                raise ValueError("procedure modifiers are two characters")
        return self


__all__ += ["HealthCode", "HealthCodes", "ProcedureCode"]


class HealthCode(Composite):
    """One HI code: its list qualifier (ABK principal, ABF other diagnosis, BK/BF for ICD-9), the code."""

    qualifier: Annotated[str, El(1)]
    code: Annotated[str, El(2, max_len=30)]
    date_format: Annotated[str | None, El(3)] = None
    date_value: Annotated[str | None, El(4)] = None
    amount: Annotated[Decimal | None, El(5)] = None
    quantity: Annotated[Decimal | None, El(6)] = None
    version: Annotated[str | None, El(7)] = None
    industry_code: Annotated[str | None, El(8)] = None
    present_on_admission: Annotated[str | None, El(9)] = None


class HealthCodes(SegmentModel):
    """HI: up to twelve health-care codes (diagnoses, condition codes, anesthesia procedures)."""

    segment_id: ClassVar[str] = "HI"
    codes: Annotated[list[HealthCode], Spread(1, 12)]
