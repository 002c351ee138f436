"""The runtime meets the event contracts: records in, typed events out."""

from __future__ import annotations

from collections.abc import Callable, Collection
from enum import Enum

from rcm.events import Event, EventError, decode, spec_for_name
from rcm.servicekit.errors import PermanentError
from rcm.servicekit.messages import Record

__all__ = ["RecordFilter", "all_of", "decode_event", "only_when"]

RecordFilter = Callable[[Record], bool]
"""Whether a consumer acts on a record, told from its headers alone (before decoding it)."""


def decode_event(record: Record) -> Event:
    """The record's typed event; an invalid one is a permanent failure (dead letters, with the reason)."""
    try:
        return decode(record.value, record.headers).event
    except EventError as exc:
        raise PermanentError(str(exc)) from exc


def only_when(event_name: str, **attributes: Collection[str | Enum]) -> RecordFilter:
    """A filter passing the records of ``event_name`` whose extension attributes (the catalog's
    ``attributes``, e.g. ``to_status``) hold one of the given values, and every other record.

    A record of that type whose attribute says otherwise is skipped: not decoded, no inbox row,
    its offset committed with the batch. A record without the attribute (an older producer)
    passes and is decoded, so nothing is skipped on a guess, and a malformed record still goes
    to dead letters.
    """
    spec = spec_for_name(event_name)
    unknown = set(attributes) - set(spec.attributes)
    if unknown:
        raise ValueError(f"{event_name} carries no extension attribute {sorted(unknown)}")
    ce_type = spec.type
    wanted = {
        spec.attribute_header(name): frozenset(v.value if isinstance(v, Enum) else v for v in values)
        for name, values in attributes.items()
    }

    def accept(record: Record) -> bool:
        if record.header("ce_type") != ce_type:
            return True
        for header, values in wanted.items():
            value = record.header(header)
            if value is not None and value not in values:
                return False
        return True

    return accept


def all_of(*filters: RecordFilter) -> RecordFilter:
    """A filter passing the records every one of ``filters`` passes."""

    def accept(record: Record) -> bool:
        return all(f(record) for f in filters)

    return accept
