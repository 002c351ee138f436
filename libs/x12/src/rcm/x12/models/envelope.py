"""The interchange envelope: ISA/IEA, GS/GE and the TA1 interchange acknowledgment."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from rcm.x12.errors import X12Error
from rcm.x12.models.base import El, SegmentModel, X12Model, format_date, parse_date
from rcm.x12.segments import DEFAULT_DELIMITERS, Delimiters, Segment

__all__ = ["GroupHeader", "InterchangeAck", "InterchangeHeader"]

# ISA element widths (ISA01..ISA16), fixed by the standard.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def parse_yymmdd(text: str) -> date:
    if len(text) != 6 or not (text.isascii() and text.isdigit()):
        raise X12Error(f"{text!r} is not a YYMMDD date")
    return parse_date("20" + text)


def format_yymmdd(value: date) -> str:
    return format_date(value)[2:]


class InterchangeHeader(X12Model):
    """ISA: who sends to whom, when, the control number and usage (P production, T test).

    The repetition and component separators (ISA11, ISA16) come from the delimiters the
    interchange is written with.
    """

    authorization_qualifier: str = "00"
    authorization: str = ""
    security_qualifier: str = "00"
    security: str = ""
    sender_qualifier: str = "ZZ"
    sender_id: str
    receiver_qualifier: str = "ZZ"
    receiver_id: str
    date: date
    time: str
    version: str = "00501"
    control_number: int = Field(ge=0, le=999_999_999)
    ack_requested: str = "0"
    usage: str = "P"

    @classmethod
    def from_segment(cls, segment: Segment) -> InterchangeHeader:
        if segment.id != "ISA" or len(segment.elements) < 16:
            raise X12Error("an interchange starts with an ISA segment of 16 elements")
        e = [x.strip() for x in segment.elements]
        if not (e[12].isascii() and e[12].isdigit()):
            raise X12Error(f"ISA13 {e[12]!r} is not a control number")
        return cls(
            authorization_qualifier=e[0],
            authorization=e[1],
            security_qualifier=e[2],
            security=e[3],
            sender_qualifier=e[4],
            sender_id=e[5],
            receiver_qualifier=e[6],
            receiver_id=e[7],
            date=parse_yymmdd(e[8]),
            time=e[9],
            version=e[11],
            control_number=int(e[12]),
            ack_requested=e[13],
            usage=e[14],
        )

    def to_segment(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Segment:
        values = [
            self.authorization_qualifier,
            self.authorization,
            self.security_qualifier,
            self.security,
            self.sender_qualifier,
            self.sender_id,
            self.receiver_qualifier,
            self.receiver_id,
            format_yymmdd(self.date),
            self.time,
            delimiters.repetition or "U",
            self.version,
            f"{self.control_number:09d}",
            self.ack_requested,
            self.usage,
            delimiters.component,
        ]
        elements = []
        for index, (value, width) in enumerate(zip(values, _ISA_WIDTHS, strict=True), 1):
            if len(value) > width:
                raise X12Error(f"ISA{index:02d} {value!r} is longer than {width} characters")
            if index not in (11, 16):
                for sep in (delimiters.element, delimiters.component, delimiters.segment):
                    if sep in value:
                        raise X12Error(f"ISA{index:02d} {value!r} contains the delimiter {sep!r}")
            elements.append(value.ljust(width))
        return Segment("ISA", elements)


class GroupHeader(X12Model):
    """GS: functional identifier (HC, HP, HS, HB, HN, HR, HI, FA), application ids, date, version."""

    functional_id: str
    sender: str
    receiver: str
    date: date
    time: str
    control_number: str = Field(pattern=r"^\d{1,9}$")
    agency: str = "X"
    version: str

    @classmethod
    def from_segment(cls, segment: Segment) -> GroupHeader:
        if segment.id != "GS":
            raise X12Error(f"expected GS, got {segment.id}")
        if not (segment.get(6).isascii() and segment.get(6).isdigit()):
            raise X12Error(f"GS06 {segment.get(6)!r} is not a control number")
        return cls(
            functional_id=segment.get(1),
            sender=segment.get(2),
            receiver=segment.get(3),
            date=parse_date(segment.get(4)),
            time=segment.get(5),
            control_number=segment.get(6),
            agency=segment.get(7),
            version=segment.get(8),
        )

    def to_segment(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Segment:
        values = [
            self.functional_id,
            self.sender,
            self.receiver,
            format_date(self.date),
            self.time,
            self.control_number,
            self.agency,
            self.version,
        ]
        for index, value in enumerate(values, 1):
            if not value:
                raise X12Error(f"GS{index:02d} is required")
            for sep in (delimiters.element, delimiters.component, delimiters.segment):
                if sep in value:
                    raise X12Error(f"GS{index:02d} {value!r} contains the delimiter {sep!r}")
        if not 2 <= len(self.sender) <= 15 or not 2 <= len(self.receiver) <= 15:
            raise X12Error("GS02 and GS03 must be 2 to 15 characters")
        return Segment("GS", values)


class InterchangeAck(SegmentModel):
    """TA1: the acknowledgment of one interchange (A accepted, E accepted with errors, R rejected)."""

    segment_id: ClassVar[str] = "TA1"
    control_number: Annotated[int, El(1)]
    interchange_date: Annotated[str, El(2)]
    interchange_time: Annotated[str, El(3)]
    status: Annotated[str, El(4)]
    note_code: Annotated[str, El(5)] = "000"

    @model_validator(mode="after")
    def _codes(self) -> Self:
        if self.status not in {"A", "E", "R"}:
            raise ValueError(f"TA104 {self.status!r} must be A, E or R")
        if len(self.note_code) != 3 or not (self.note_code.isascii() and self.note_code.isdigit()):
            raise ValueError(f"TA105 {self.note_code!r} must be a three-digit note code")
        return self

    def to_segment(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> Segment:
        segment = super().to_segment(delimiters)
        segment.elements[0] = f"{self.control_number:09d}"
        return segment
