"""Which prior authorization, if any, a claim is billed under (REF*G1)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from rcm.claims.domain.coverage import Authorization

__all__ = ["matching_authorization"]


def matching_authorization(
    authorizations: Iterable[Authorization],
    *,
    patient_id: str,
    payer_id: str,
    codes: Sequence[str],
    day: date,
    provider_id: str,
    preferred_id: str | None = None,
) -> Authorization | None:
    """An authorization covering every code on the date for the provider, with visits left.

    The one the clinician recorded (``preferred_id``) wins when it qualifies; otherwise the
    one ending soonest, so the oldest authorization is used up first.
    """
    usable = [
        auth
        for auth in authorizations
        if auth.patient_id == patient_id
        and auth.payer_id == payer_id
        and auth.remaining > 0
        and all(auth.covers(code=code, day=day, provider_id=provider_id) for code in codes)
    ]
    preferred = [auth for auth in usable if auth.authorization_id == preferred_id]
    if preferred:
        return preferred[0]
    return min(usable, key=lambda auth: (auth.valid.end or date.max, auth.authorization_id), default=None)
