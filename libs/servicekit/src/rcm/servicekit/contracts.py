"""The runtime meets the event contracts: records in, typed events out."""

from __future__ import annotations

from rcm.events import Event, EventError, decode
from rcm.servicekit.errors import PermanentError
from rcm.servicekit.messages import Record

__all__ = ["decode_event"]


def decode_event(record: Record) -> Event:
    """The record's typed event; an invalid one is a permanent failure (dead letters, with the reason)."""
    try:
        return decode(record.value, record.headers).event
    except EventError as exc:
        raise PermanentError(str(exc)) from exc
