"""Errors raised by the event contracts.

``EventError`` is the one base class. ``InvalidEvent`` means a record can never be
processed as it is (a permanent error): the runtime sends it to the dead-letter topic
with :meth:`InvalidEvent.as_headers`. Messages never include field values, only field
locations and error kinds, because values may be PHI.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

__all__ = ["EventError", "InvalidEvent", "InvalidReason", "UnknownEventType"]


class EventError(Exception):
    """Base class of every error raised by ``rcm.events``."""


class UnknownEventType(EventError, LookupError):
    """A catalog lookup named an event type, topic or model that is not in the catalog."""


class InvalidReason(StrEnum):
    """Why an incoming record is not a valid event."""

    MISSING_ATTRIBUTE = "missing_attribute"
    UNSUPPORTED_SPECVERSION = "unsupported_specversion"
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
    BAD_ATTRIBUTE = "bad_attribute"
    UNKNOWN_TYPE = "unknown_type"
    EMPTY_BODY = "empty_body"
    BAD_JSON = "bad_json"
    SCHEMA_VIOLATION = "schema_violation"


class InvalidEvent(EventError):
    """An incoming record is not a valid event; ``reason`` says why, ``errors`` where."""

    def __init__(
        self,
        reason: InvalidReason,
        detail: str,
        *,
        event_type: str | None = None,
        errors: Sequence[str] = (),
    ) -> None:
        self.reason = reason
        self.detail = detail
        self.event_type = event_type
        self.errors = tuple(errors)
        super().__init__(f"{reason.value}: {detail}")

    def as_headers(self) -> list[tuple[str, bytes]]:
        """Headers describing the error, for the copy sent to a dead-letter topic."""
        headers = [
            ("rcm_error_reason", self.reason.value.encode()),
            ("rcm_error_detail", self.detail.encode()[:1000]),
        ]
        if self.event_type is not None:
            headers.append(("rcm_error_event_type", self.event_type.encode()))
        return headers
