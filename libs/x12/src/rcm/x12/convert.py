"""X12 <-> typed models <-> JSON.

``read_interchanges`` turns X12 input into ``Interchange`` models (the reader shapes
each transaction set into loops; the models map the loops); ``to_json`` and
``from_json`` carry an interchange as JSON; ``build_interchange`` (in ``build``) writes
it back as X12.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import ValidationError

from rcm.x12.collector import collector_paused
from rcm.x12.errors import X12Error
from rcm.x12.models.base import Transaction, Unread, reading_leniently
from rcm.x12.models.envelope import GroupHeader, InterchangeAck, InterchangeHeader
from rcm.x12.models.interchange import FunctionalGroup, Interchange, read_transaction
from rcm.x12.reader import ReadResult, TransactionSet, read
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import Source

__all__ = [
    "from_json",
    "read_interchange",
    "read_interchanges",
    "read_interchanges_leniently",
    "to_json",
    "transaction_model",
]


def transaction_model(transaction_set: TransactionSet) -> Transaction:
    """The typed model of one transaction set the reader produced."""
    with collector_paused():
        return read_transaction(transaction_set.root, transaction_set.delimiters, transaction_set.version)


def read_interchanges(source: Source) -> list[tuple[Interchange, Delimiters]]:
    """Every interchange of ``source`` as a typed model, with the delimiters it was written with.

    Raises X12Error when there is no interchange or a transaction set cannot be mapped
    to its model (a required segment or loop missing, a malformed value).
    """
    data: str | bytes | bytearray | memoryview = (
        source if isinstance(source, str | bytes | bytearray | memoryview) else source.read()
    )
    with collector_paused():
        return _read_interchanges(data)


def read_interchanges_leniently(source: Source) -> tuple[list[tuple[Interchange, Delimiters]], list[Unread]]:
    """``read_interchanges``, keeping what can be read: a segment whose values cannot be read
    (a malformed date, amount or composite) is left out of its loop, a child loop that cannot
    be made without it is left out whole, and both are listed (see ``reading_leniently``).
    Each ``Unread`` names its transaction set (``transaction``, in file order); a TA1 whose
    values cannot be read is left out of its interchange's ``acknowledgments`` and listed with
    segment ``TA1``. For answers where the rest still counts (271, 277; 999 and 277CA, whose
    reader sets aside what an unread part belongs to); X12Error still when there is no
    interchange or a set's own required parts are missing.
    ``Unread.error`` may quote values (PHI): never log it."""
    data: str | bytes | bytearray | memoryview = (
        source if isinstance(source, str | bytes | bytearray | memoryview) else source.read()
    )
    with collector_paused(), reading_leniently() as unread:
        return _read_interchanges(data, unread), unread


def _read_interchanges(
    data: str | bytes | bytearray | memoryview, unread: list[Unread] | None = None
) -> list[tuple[Interchange, Delimiters]]:
    result = read(data)
    envelopes = _envelopes(result)
    if not envelopes:
        raise X12Error("no ISA segment: the input is not an X12 interchange")
    sets = iter(result.transactions)
    pending = next(sets, None)
    interchanges = []
    index = 0
    for isa, delimiters, group_segments, acks in envelopes:
        groups = []
        for gs, set_count in group_segments:
            transactions = []
            for _ in range(set_count):
                if pending is None:
                    raise X12Error(f"group {gs.get(6)}: a transaction set could not be read")
                before = len(unread) if unread is not None else 0
                transactions.append(transaction_model(pending))
                if unread is not None:
                    unread[before:] = [replace(u, transaction=index) for u in unread[before:]]
                index += 1
                pending = next(sets, None)
            groups.append(FunctionalGroup(header=GroupHeader.from_segment(gs), transactions=transactions))
        interchange = Interchange(
            header=InterchangeHeader.from_segment(isa),
            acknowledgments=_acknowledgments(acks, delimiters, unread),
            groups=groups,
        )
        interchanges.append((interchange, delimiters))
    return interchanges


def _acknowledgments(
    acks: list[Segment], delimiters: Delimiters, unread: list[Unread] | None
) -> list[InterchangeAck]:
    """The TA1s of an interchange; read leniently (``unread`` given), one that cannot be read is listed."""
    found = []
    for ta1 in acks:
        try:
            found.append(InterchangeAck.from_segment(ta1, delimiters))
        except X12Error as exc:
            if unread is None:
                raise
            unread.append(Unread("ISA", "TA1", ta1.position, str(exc)))
    return found


def read_interchange(source: Source) -> tuple[Interchange, Delimiters]:
    """The one interchange of ``source`` (X12Error if there are none or several)."""
    interchanges = read_interchanges(source)
    if len(interchanges) != 1:
        raise X12Error(f"expected one interchange, found {len(interchanges)}")
    return interchanges[0]


_Envelope = tuple[Segment, Delimiters, list[tuple[Segment, int]], list[Segment]]


def _envelopes(result: ReadResult) -> list[_Envelope]:
    """ISA, delimiters, (GS, number of ST) per group and TA1s of each interchange, in order."""
    found: list[_Envelope] = []
    for seg, delimiters in result.headers:
        if seg.id == "ISA":
            found.append((seg, delimiters or Delimiters(), [], []))
        elif not found:
            continue
        elif seg.id == "TA1":
            found[-1][3].append(seg)
        elif seg.id == "GS":
            found[-1][2].append((seg, 0))
        elif seg.id == "ST" and found[-1][2]:
            gs, count = found[-1][2][-1]
            found[-1][2][-1] = (gs, count + 1)
    return found


def to_json(interchange: Interchange, *, indent: int | None = 2) -> str:
    """The interchange model as JSON (money as decimal strings, dates as ISO dates)."""
    return interchange.model_dump_json(indent=indent, exclude_defaults=False)


def from_json(text: str | bytes) -> Interchange:
    """An interchange model from ``to_json`` output (X12Error when the JSON does not fit the model)."""
    try:
        return Interchange.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise X12Error(f"the JSON is not an interchange model: {where}: {err['msg']}") from None
