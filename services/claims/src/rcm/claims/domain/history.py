"""Services already billed: what duplicate checks and same-day bundling look at."""

from __future__ import annotations

from datetime import date

from rcm.claims.domain.common import DomainModel

__all__ = ["BilledService"]


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
