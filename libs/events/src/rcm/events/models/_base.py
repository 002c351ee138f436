"""The two base classes every contract model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Event", "EventModel"]


class EventModel(BaseModel):
    """A value inside an event body.

    Unknown fields are **ignored** on read (``extra="ignore"``): producers may add optional
    fields within a schema version, and consumers built against the older model keep
    working. Models are frozen, since an event is a fact that does not change.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class Event(EventModel):
    """The body of one event; its type, topic and key are defined in :mod:`rcm.events.catalog`."""
