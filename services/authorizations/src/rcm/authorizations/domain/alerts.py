"""When an authorization needs attention: few left, ending soon, used up, ended.

Each condition is raised once per authorization; the store keeps one row per
(authorization, condition), so :func:`alerts_due` only says what holds now and was not
raised before.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from rcm.authorizations.domain.authorization import Authorization
from rcm.events.models import AlertKind

__all__ = ["AlertPolicy", "alerts_due", "conditions"]


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Thresholds of the warnings (practice settings, not code)."""

    low_remaining: int = 2
    """Warn when this many visits/units or fewer are left..."""
    low_used_fraction: float = 0.8
    """...or when this share of the authorized amount is used or booked."""
    expiring_within_days: int = 21
    """Warn this many days before the last covered date."""


def conditions(auth: Authorization, *, today: date, policy: AlertPolicy) -> frozenset[AlertKind]:
    """What holds for the authorization on ``today``. An ended authorization is only 'expired'."""
    if auth.end is not None and auth.end < today:
        return frozenset({AlertKind.EXPIRED})
    found: set[AlertKind] = set()
    if auth.end is not None and auth.end <= today + timedelta(days=policy.expiring_within_days):
        found.add(AlertKind.EXPIRING)
    left = auth.unbooked
    if left == 0:
        found.add(AlertKind.EXHAUSTED)
    elif (
        left <= policy.low_remaining or (auth.authorized - left) >= policy.low_used_fraction * auth.authorized
    ):
        found.add(AlertKind.LOW_REMAINING)
    return frozenset(found)


def alerts_due(
    auth: Authorization, *, today: date, policy: AlertPolicy, raised: Collection[str] = ()
) -> list[AlertKind]:
    """Conditions that hold and were not raised for this authorization yet, in a stable order."""
    order = list(AlertKind)
    return sorted(
        conditions(auth, today=today, policy=policy) - {AlertKind(k) for k in raised}, key=order.index
    )
