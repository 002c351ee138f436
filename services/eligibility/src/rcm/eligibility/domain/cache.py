"""Which checks are the same check: the cache key, and how long a result stays good.

A result is reused for the same patient, payer and date of service while it is fresh,
as long as the request would be the same: the fingerprint covers what goes into the
270 (member id, names, date of birth, payer and provider ids, service types), so a
corrected member id is a new check while a replayed appointment is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta

__all__ = ["cache_key", "is_fresh", "request_fingerprint"]


def request_fingerprint(parts: Sequence[str | None]) -> str:
    """A one-way digest of the request data (no PHI is stored in the key itself)."""
    text = "\x1f".join("" if p is None else p.strip().upper() for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cache_key(*, patient_id: str, payer_id: str, service_date: date, fingerprint: str) -> str:
    return f"{patient_id}|{payer_id}|{service_date.isoformat()}|{fingerprint}"


def is_fresh(
    checked_at: datetime, *, now: datetime, window: timedelta, not_before: datetime | None = None
) -> bool:
    """True when a result checked at ``checked_at`` can answer a request made at ``now``.

    ``not_before`` makes older results stale (a re-check requested after a denial wants an
    answer newer than the request).
    """
    if not_before is not None and checked_at < not_before:
        return False
    return now - checked_at <= window
