"""Services already billed: what duplicate checks and same-day bundling look at."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from rcm.claims.domain.common import DomainModel

__all__ = ["BilledService", "capped_lines", "units_billed"]


class BilledService(DomainModel):
    """One line of a claim already created or submitted for a patient."""

    claim_key: str
    patient_id: str
    rendering_provider_id: str
    date_of_service: date
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    voided: bool = False
    """Voided, or replaced by a corrected claim (the session's replacement is not in the history)."""
    replaced: bool = False
    """Voided because a corrected claim replaced it: the session is still billed, with about these units."""
    session_id: str = ""
    payer_id: str = ""


def capped_lines(
    services: Iterable[BilledService], code: str, *, payer_id: str | None
) -> list[BilledService]:
    """The lines of ``code`` in ``services`` (one patient's day) that a payer's daily cap counts: a
    session replaced by a corrected claim still, a voided one not, and only what went to
    ``payer_id`` when known."""
    return [
        s
        for s in services
        if s.code == code
        and (not s.voided or s.replaced)
        and not (payer_id and s.payer_id and s.payer_id != payer_id)
    ]


def units_billed(services: Iterable[BilledService], code: str, *, payer_id: str | None) -> int:
    """The units of :func:`capped_lines`, each session once (its claims to the primary and to the
    next payer are the same service)."""
    by_session: dict[str, int] = {}
    for s in capped_lines(services, code, payer_id=payer_id):
        key = s.session_id or s.claim_key
        by_session[key] = max(by_session.get(key, 0), s.units)
    return sum(by_session.values())
