"""The X12 5010 engine: read, validate and build HIPAA transactions.

Reading side (this package's core):

- ``read(source)`` -> ``ReadResult``: one ``Loop`` tree per transaction set with
  its interchange/group context, and every ``Finding``.
- ``read_claims(source)`` -> ``ClaimStream``: one claim loop at a time (835 2100,
  837 2300...) with its header context, memory bounded by one claim; ``stream.trailers``
  has what follows each set's last claim (835 PLB) with the set's header.
- ``validate(source)`` -> ``list[Finding]``; ``check_envelope(source)`` for the
  envelope alone.
- ``acknowledge(source_or_result)`` -> the 999 (and TA1) as X12 text;
  ``acknowledgement(...)`` -> ``Acknowledgement``: the text and its typed models.
- ``tokenize``/``iter_segments``/``Tokenizer`` for raw segments.
"""

from __future__ import annotations

from rcm.x12.ack import Acknowledgement, acknowledge, acknowledgement, build_999, build_ta1
from rcm.x12.balancing import Imbalance, imbalances
from rcm.x12.envelope import GroupHeader, InterchangeHeader, SetHeader, check_envelope
from rcm.x12.errors import X12Error
from rcm.x12.findings import (
    ElementError,
    Finding,
    FindingKind,
    GroupError,
    InterchangeNote,
    SegmentError,
    SetError,
    Severity,
)
from rcm.x12.reader import ClaimItem, ClaimStream, ReadResult, TrailerItem, TransactionSet, read, read_claims
from rcm.x12.schema import Guide, guide_for
from rcm.x12.segments import Delimiters, Loop, Segment
from rcm.x12.tokenizer import Tokenizer, decode, iter_segments, tokenize
from rcm.x12.validate import validate

__all__ = [
    "Acknowledgement",
    "ClaimItem",
    "ClaimStream",
    "Delimiters",
    "ElementError",
    "Finding",
    "FindingKind",
    "GroupError",
    "GroupHeader",
    "Guide",
    "Imbalance",
    "InterchangeHeader",
    "InterchangeNote",
    "Loop",
    "ReadResult",
    "Segment",
    "SegmentError",
    "SetError",
    "SetHeader",
    "Severity",
    "Tokenizer",
    "TrailerItem",
    "TransactionSet",
    "X12Error",
    "acknowledge",
    "acknowledgement",
    "build_999",
    "build_ta1",
    "check_envelope",
    "decode",
    "guide_for",
    "imbalances",
    "iter_segments",
    "read",
    "read_claims",
    "tokenize",
    "validate",
]
