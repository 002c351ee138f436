"""The 999 (or TA1) answering a received batch, written by ``rcm.x12.ack`` from validation findings.

Which transaction sets the payer goes on to adjudicate is read back from that same
acknowledgement, so the submitter and the payer never disagree about what was accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rcm.x12.ack import acknowledge
from rcm.x12.convert import read_interchanges
from rcm.x12.models.ack_999 import ImplementationAck999
from rcm.x12.reader import ReadResult

__all__ = ["BatchAck", "acknowledge_batch"]

_ACCEPTED_SET = frozenset({"A", "E"})  # IK501: accepted, accepted with errors noted
_ACCEPTED_GROUP = frozenset({"A", "E", "P"})  # AK901: P = some sets accepted


@dataclass(frozen=True, slots=True)
class BatchAck:
    """The acknowledgement file and the transaction sets it accepted, as ``(GS06, ST02)`` pairs."""

    kind: str  # "999", or "TA1" when the interchange was rejected before its groups were read
    content: str
    accepted: frozenset[tuple[str, str]]


def acknowledge_batch(result: ReadResult, *, control_number: int, now: datetime) -> BatchAck:
    """Acknowledge everything ``result`` holds (X12Error when it holds no interchange)."""
    content = acknowledge(result, control_number=control_number, now=now)
    accepted: set[tuple[str, str]] = set()
    kind = "TA1"
    for interchange, _ in read_interchanges(content):
        for group in interchange.groups:
            for ack in group.transactions:
                if not isinstance(ack, ImplementationAck999):
                    continue
                kind = "999"
                if ack.trailer.status not in _ACCEPTED_GROUP:
                    continue
                accepted.update(
                    (ack.group.control_number, response.header.control_number)
                    for response in ack.sets
                    if response.trailer.status in _ACCEPTED_SET
                )
    return BatchAck(kind, content, frozenset(accepted))
