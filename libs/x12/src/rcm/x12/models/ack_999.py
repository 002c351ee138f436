"""999 implementation acknowledgment (005010X231A1).

```
ST  ImplementationAck999          AK1
  2000 SetResponse                AK2            (IK5 closes the loop)
    2100 SegmentError             IK3 CTX
      2110 ElementError           IK4 CTX
AK9 (after the 2000 loops)
```
"""

# Pydantic copies mutable field defaults per instance, so `= []` is safe here.
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from rcm.x12.models.base import (
    Child,
    Composite,
    Comps,
    El,
    Reps,
    Seg,
    SegmentModel,
    Spread,
    Transaction,
    X12Loop,
)

__all__ = [
    "Context",
    "ContextName",
    "ElementError",
    "ElementNote",
    "GroupResponse",
    "GroupTrailer",
    "ImplementationAck999",
    "SegmentError",
    "SegmentNote",
    "SetResponse",
    "SetResponseHeader",
    "SetTrailer",
]


class GroupResponse(SegmentModel):
    """AK1: the functional group acknowledged: GS01, GS06 and GS08."""

    segment_id: ClassVar[str] = "AK1"
    functional_id: Annotated[str, El(1)]
    control_number: Annotated[str, El(2)]
    version: Annotated[str | None, El(3)] = None


class SetResponseHeader(SegmentModel):
    """AK2: the transaction set acknowledged: ST01, ST02 and ST03."""

    segment_id: ClassVar[str] = "AK2"
    transaction_code: Annotated[str, El(1)]
    control_number: Annotated[str, El(2)]
    version: Annotated[str | None, El(3)] = None


class SegmentNote(SegmentModel):
    """IK3: a segment in error: its id, position in the set, loop id and error code."""

    segment_id: ClassVar[str] = "IK3"
    segment: Annotated[str, El(1)]
    position: Annotated[int, El(2)]
    loop: Annotated[str | None, El(3)] = None
    error_code: Annotated[str, El(4)]


class ContextName(Composite):
    """CTX01 (C998): the context's name (CLM01, TRN02, SITUATIONAL TRIGGER) and reference (a claim id)."""

    name: Annotated[str, El(1)]
    reference: Annotated[str | None, El(2)] = None


class Context(SegmentModel):
    """CTX: business unit or segment context of an error; CTX01 repeats."""

    segment_id: ClassVar[str] = "CTX"
    context: Annotated[list[ContextName], Reps(1)] = []
    segment: Annotated[str | None, El(2)] = None
    position: Annotated[int | None, El(3)] = None
    loop: Annotated[str | None, El(4)] = None
    element_position: Annotated[list[str], Comps(5)] = []
    reference: Annotated[list[str], Comps(6)] = []


class ElementNote(SegmentModel):
    """IK4: an element in error: position (element:component:repeat), reference number, code, bad value."""

    segment_id: ClassVar[str] = "IK4"
    position: Annotated[list[str], Comps(1)]
    reference: Annotated[str | None, El(2)] = None
    error_code: Annotated[str, El(3)]
    bad_value: Annotated[str | None, El(4)] = None


class SetTrailer(SegmentModel):
    """IK5: the set's status (A, E, M, P, R, W, X) and up to five syntax error codes."""

    segment_id: ClassVar[str] = "IK5"
    status: Annotated[str, El(1)]
    error_codes: Annotated[list[str], Spread(2, 6)] = []


class GroupTrailer(SegmentModel):
    """AK9: the group's status, sets included/received/accepted and up to five error codes."""

    segment_id: ClassVar[str] = "AK9"
    status: Annotated[str, El(1)]
    included: Annotated[int, El(2)]
    received: Annotated[int, El(3)]
    accepted: Annotated[int, El(4)]
    error_codes: Annotated[list[str], Spread(5, 9)] = []


class ElementError(X12Loop):
    """2110: IK4 with its context."""

    loop_id: ClassVar[str] = "2110"
    note: Annotated[ElementNote, Seg("IK4")]
    contexts: Annotated[list[Context], Seg("CTX")] = []


class SegmentError(X12Loop):
    """2100: IK3 with its context and element errors."""

    loop_id: ClassVar[str] = "2100"
    note: Annotated[SegmentNote, Seg("IK3")]
    contexts: Annotated[list[Context], Seg("CTX")] = []
    elements: Annotated[list[ElementError], Child("2110")] = []


class SetResponse(X12Loop):
    """2000: the response for one transaction set: AK2, segment errors, IK5."""

    loop_id: ClassVar[str] = "2000"
    header: Annotated[SetResponseHeader, Seg("AK2")]
    segment_errors: Annotated[list[SegmentError], Child("2100")] = []
    trailer: Annotated[SetTrailer, Seg("IK5", trailer=True)]


class ImplementationAck999(Transaction):
    """A 999: AK1, a 2000 loop per acknowledged set, AK9."""

    transaction_code: ClassVar[str] = "999"
    default_version: ClassVar[str] = "005010X231A1"
    kind: Literal["999"] = "999"
    group: Annotated[GroupResponse, Seg("AK1")]
    sets: Annotated[list[SetResponse], Child("2000")] = []
    trailer: Annotated[GroupTrailer, Seg("AK9", trailer=True)]
