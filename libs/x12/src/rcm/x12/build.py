"""Writing typed models as X12: segments in document order, envelopes, counts and bytes.

The builder computes what a writer should never type by hand: HL numbers, parents and
child codes, LX line numbers, SE01 segment counts, GE01/IEA01 counts and the trailer
control numbers. Control numbers themselves are the caller's: they come in as
parameters (or from the models read from a file).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from rcm.x12.collector import collector_paused
from rcm.x12.errors import X12Error
from rcm.x12.models.base import BuildContext, Transaction
from rcm.x12.models.envelope import GroupHeader, InterchangeAck, InterchangeHeader
from rcm.x12.models.interchange import FUNCTIONAL_IDS, FunctionalGroup, Interchange
from rcm.x12.segments import Delimiters, Loop, Segment

__all__ = [
    "TRAILERS",
    "build",
    "build_interchange",
    "check_delimiters",
    "document_order",
    "interchange_segments",
    "serialize",
    "transaction_segments",
]

# Segments that close their loop: they follow the loop's child loops in the file.
TRAILERS = frozenset({"SE", "LE", "IK5", "AK9", "PLB"})


def document_order(loop: Loop) -> Iterator[Segment]:
    """The segments of a loop tree in file order (trailers after the child loops)."""
    yield from (s for s in loop.segments if s.id not in TRAILERS)
    for child in loop.loops:
        yield from document_order(child)
    yield from (s for s in loop.segments if s.id in TRAILERS)


def check_delimiters(delimiters: Delimiters) -> None:
    """Raise X12Error unless the delimiters are distinct single non-alphanumeric characters.

    An empty repetition separator means none (ISA11 is then written as ``U``).
    """
    values = [delimiters.element, delimiters.component, delimiters.segment]
    if delimiters.repetition:  # none before version 00501
        values.append(delimiters.repetition)
    for value in values:
        if len(value) != 1 or value.isalnum() or value == " ":
            raise X12Error(f"delimiter {value!r} must be one character, neither a letter, digit nor space")
    if len(set(values)) != len(values):
        raise X12Error(f"delimiters must differ from each other: {values}")


def transaction_segments(transaction: Transaction, delimiters: Delimiters = Delimiters()) -> list[Segment]:
    """ST ... SE for one transaction set, SE01 counted."""
    with collector_paused():
        loop = transaction.to_loop(BuildContext(delimiters))
        segments = list(document_order(loop))
        segments.append(Segment("SE", [str(len(segments) + 1), transaction.control_number]))
        return segments


def _group_segments(group: FunctionalGroup, delimiters: Delimiters) -> list[Segment]:
    seen: set[str] = set()
    segments = [group.header.to_segment(delimiters)]
    for transaction in group.transactions:
        if transaction.control_number in seen:
            raise X12Error(
                f"ST02 {transaction.control_number} is used twice in group {group.header.control_number}"
            )
        seen.add(transaction.control_number)
        segments.extend(transaction_segments(transaction, delimiters))
    segments.append(Segment("GE", [str(len(group.transactions)), group.header.control_number]))
    return segments


def interchange_segments(interchange: Interchange, delimiters: Delimiters = Delimiters()) -> list[Segment]:
    """ISA ... IEA for an interchange, GE and IEA counts computed."""
    with collector_paused():
        return _interchange_segments(interchange, delimiters)


def _interchange_segments(interchange: Interchange, delimiters: Delimiters) -> list[Segment]:
    check_delimiters(delimiters)
    segments = [interchange.header.to_segment(delimiters)]
    segments.extend(ack.to_segment(delimiters) for ack in interchange.acknowledgments)
    numbers: set[str] = set()
    for group in interchange.groups:
        if group.header.control_number in numbers:
            raise X12Error(f"GS06 {group.header.control_number} is used twice in the interchange")
        numbers.add(group.header.control_number)
        segments.extend(_group_segments(group, delimiters))
    segments.append(
        Segment("IEA", [str(len(interchange.groups)), f"{interchange.header.control_number:09d}"])
    )
    return segments


def serialize(
    segments: Iterable[Segment], delimiters: Delimiters = Delimiters(), *, line_breaks: bool = False
) -> bytes:
    """Segments as bytes, each ended by the segment terminator (and a newline when asked)."""
    end = "\n" if line_breaks and delimiters.segment != "\n" else ""
    return "".join(s.to_x12(delimiters) + end for s in segments).encode("utf-8")


def build_interchange(
    interchange: Interchange, delimiters: Delimiters = Delimiters(), *, line_breaks: bool = False
) -> bytes:
    """An interchange model written as X12 bytes with ``delimiters``."""
    with collector_paused():
        return serialize(interchange_segments(interchange, delimiters), delimiters, line_breaks=line_breaks)


def build(
    transactions: Sequence[Transaction],
    *,
    sender_id: str,
    receiver_id: str,
    interchange_control_number: int,
    group_control_number: int,
    created: datetime,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    application_sender: str | None = None,
    application_receiver: str | None = None,
    usage: str = "P",
    ack_requested: bool = False,
    acknowledgments: Sequence[InterchangeAck] = (),
    delimiters: Delimiters = Delimiters(),
    line_breaks: bool = False,
) -> bytes:
    """One interchange with one functional group holding ``transactions`` (all of one kind and version).

    ST02 comes from each transaction's ``control_number``; GS01 and GS08 from the transactions.
    """
    if usage not in {"P", "T"}:
        raise X12Error(f"ISA15 usage {usage!r} must be P or T")
    groups: list[FunctionalGroup] = []
    if transactions:
        codes = {type(t).transaction_code for t in transactions}
        versions = {t.version or type(t).default_version for t in transactions}
        if len(codes) != 1 or len(versions) != 1:
            raise X12Error("one functional group holds transaction sets of one kind and version")
        code = codes.pop()
        header = GroupHeader(
            functional_id=FUNCTIONAL_IDS[code],
            sender=application_sender or sender_id,
            receiver=application_receiver or receiver_id,
            date=created.date(),
            time=created.strftime("%H%M"),
            control_number=str(group_control_number),
            version=versions.pop(),
        )
        groups.append(FunctionalGroup(header=header, transactions=list(transactions)))
    interchange = Interchange(
        header=InterchangeHeader(
            sender_qualifier=sender_qualifier,
            sender_id=sender_id,
            receiver_qualifier=receiver_qualifier,
            receiver_id=receiver_id,
            date=created.date(),
            time=created.strftime("%H%M"),
            control_number=interchange_control_number,
            ack_requested="1" if ack_requested else "0",
            usage=usage,
        ),
        acknowledgments=list(acknowledgments),
        groups=groups,
    )
    return build_interchange(interchange, delimiters, line_breaks=line_breaks)
