"""The envelope every sandbox file is written in, and the value conventions shared by the writers.

Each file is one interchange with one functional group, built by ``rcm.x12.build``:
the builder counts segments, numbers HL and LX loops and writes the trailers; the
sandbox only picks who sends to whom and the control number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from rcm.x12.build import build
from rcm.x12.convert import read_interchanges
from rcm.x12.models.base import Transaction
from rcm.x12.models.common import DatePeriod, EntityName
from rcm.x12.segments import Delimiters

__all__ = [
    "DELIMITERS",
    "Interchange",
    "chunks",
    "date_period",
    "money",
    "organization",
    "person",
    "transactions",
    "write",
]

DELIMITERS = Delimiters(element="*", component=":", repetition="^", segment="~")
_CENT = Decimal("0.01")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Interchange:
    """Who sends and receives an interchange, and its control number (ISA13 and GS06)."""

    sender_id: str
    receiver_id: str
    control_number: int
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: str = "P"
    when: datetime = field(default_factory=datetime.now)


def write(transactions: Sequence[Transaction], interchange: Interchange) -> str:
    """The transactions as one interchange (one segment per line), as text."""
    return build(
        transactions,
        sender_id=interchange.sender_id,
        receiver_id=interchange.receiver_id,
        interchange_control_number=interchange.control_number,
        group_control_number=interchange.control_number,
        created=interchange.when,
        sender_qualifier=interchange.sender_qualifier,
        receiver_qualifier=interchange.receiver_qualifier,
        usage=interchange.usage,
        delimiters=DELIMITERS,
        line_breaks=True,
    ).decode()


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in runs of at most ``size`` (segments that hold a fixed number of repeats)."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def transactions(text: str, kind: type[T]) -> Iterator[T]:
    """Every transaction set of ``text`` read as the typed model ``kind`` (X12Error when unreadable)."""
    for interchange, _ in read_interchanges(text):
        for group in interchange.groups:
            yield from (t for t in group.transactions if isinstance(t, kind))


def money(value: Decimal) -> Decimal:
    """An amount in cents written the short X12 way: 120.00 as 120, 19.50 as 19.5."""
    cents = value.quantize(_CENT)
    return cents.normalize() if cents else Decimal(0)


def organization(entity_code: str, name: str, qualifier: str, identifier: str) -> EntityName:
    """NM1 of an organisation (NM102 2) with its identifier."""
    return EntityName(
        entity_code=entity_code,
        entity_type="2",
        last_or_organization=name,
        id_qualifier=qualifier,
        identifier=identifier,
    )


def person(entity_code: str, last: str, first: str | None, qualifier: str, identifier: str) -> EntityName:
    """NM1 of a person (NM102 1) with its identifier."""
    return EntityName(
        entity_code=entity_code,
        entity_type="1",
        last_or_organization=last,
        first=first or None,
        id_qualifier=qualifier,
        identifier=identifier,
    )


def date_period(qualifier: str, start: date, end: date | None = None) -> DatePeriod:
    """DTP with one date (D8), or a range (RD8) when ``end`` differs from ``start``."""
    if end is None or end == start:
        return DatePeriod(qualifier=qualifier, start=start)
    return DatePeriod(qualifier=qualifier, format="RD8", start=start, end=end)
