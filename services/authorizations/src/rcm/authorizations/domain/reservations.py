"""Booking a visit against an authorization when an appointment is scheduled."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from rcm.authorizations.domain.authorization import Authorization, AuthorizationUnit

__all__ = ["authorization_to_reserve"]


def authorization_to_reserve(
    authorizations: Iterable[Authorization],
    *,
    patient_id: str,
    day: date,
    provider_id: str,
    expected_codes: Sequence[str],
    authorization_id: str | None = None,
) -> Authorization | None:
    """The visit-counted authorization an appointment books a visit on, if any.

    The one the scheduler named wins when it covers the visit; otherwise the one expiring
    first among those covering every expected code (any code when none is expected) with
    a visit not yet booked. Unit-counted authorizations are not reserved: the units are
    only known once the claim is coded.
    """
    usable = [
        a
        for a in authorizations
        if a.patient_id == patient_id
        and a.unit is AuthorizationUnit.VISITS
        and a.unbooked > 0
        and a.in_window(day)
        and (a.provider_id is None or a.provider_id == provider_id)
        and all(a.covers(code=code, day=day, provider_id=provider_id) for code in expected_codes)
    ]
    named = [a for a in usable if a.authorization_id == authorization_id]
    return named[0] if named else min(usable, key=Authorization.sort_key, default=None)
