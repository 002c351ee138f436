"""When recurring patients are checked again: the night before each visit, and the first
visit of each month even when a recent answer is cached (plans and Medicaid months turn over)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["first_visit_of_month", "night_before"]


def night_before(visit_start: datetime, *, hour: int, zone: str | None = None) -> datetime:
    """``hour`` o'clock, local to the patient (else the visit's own zone), on the day before the visit."""
    tz = ZoneInfo(zone) if zone else visit_start.tzinfo
    local = visit_start.astimezone(tz)
    day_before = local.date() - timedelta(days=1)
    return datetime.combine(day_before, time(hour), tzinfo=tz)


def first_visit_of_month(service_date: date, other_dates: Iterable[date]) -> bool:
    """True when no other visit of the patient falls earlier in the same calendar month."""
    return not any(
        d.year == service_date.year and d.month == service_date.month and d < service_date
        for d in other_dates
    )
