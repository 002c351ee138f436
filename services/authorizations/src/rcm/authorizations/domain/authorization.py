"""An authorization with its ledger: what the payer approved and what is used or booked."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from rcm.events.models import AuthorizationUnit

__all__ = ["Authorization", "AuthorizationUnit"]


@dataclass(frozen=True, slots=True)
class Authorization:
    """Visits or units a payer approved for one patient, a date window, codes and a provider.

    ``used`` counts what claims consumed, ``reserved`` what booked appointments hold.
    An empty ``procedure_codes`` covers any code; no ``provider_id`` covers any provider;
    no ``end`` means open-ended.
    """

    authorization_id: str
    patient_id: str
    payer_id: str
    coverage_id: str
    auth_number: str
    unit: AuthorizationUnit
    authorized: int
    start: date
    end: date | None = None
    procedure_codes: frozenset[str] = field(default_factory=frozenset)
    provider_id: str | None = None
    used: int = 0
    reserved: int = 0

    @property
    def remaining(self) -> int:
        """Visits or units not yet consumed by claims (the payer's balance)."""
        return max(self.authorized - self.used, 0)

    @property
    def unbooked(self) -> int:
        """What is left once booked appointments are counted as used: what warnings look at."""
        return max(self.remaining - self.reserved, 0)

    def in_window(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def covers(self, *, code: str, day: date, provider_id: str | None) -> bool:
        """True when the code, date of service and rendering provider fall under it (balance aside)."""
        return (
            (not self.procedure_codes or code in self.procedure_codes)
            and self.in_window(day)
            and (self.provider_id is None or self.provider_id == provider_id)
        )

    def billed_to(self, *, payer_id: str, coverage_id: str) -> bool:
        """Issued by the payer billed or for the coverage billed (a carve-out names its own payer)."""
        return self.payer_id == payer_id or self.coverage_id == coverage_id

    def quantity_for(self, units: int) -> int:
        """What one service line of ``units`` uses: one visit, or its units."""
        return 1 if self.unit is AuthorizationUnit.VISITS else units

    def consume(self, quantity: int) -> Authorization:
        return replace(self, used=self.used + quantity)

    def give_back(self, quantity: int) -> Authorization:
        return replace(self, used=max(self.used - quantity, 0))

    def reserve(self, quantity: int) -> Authorization:
        return replace(self, reserved=self.reserved + quantity)

    def unreserve(self, quantity: int) -> Authorization:
        return replace(self, reserved=max(self.reserved - quantity, 0))

    def sort_key(self) -> tuple[date, date, str]:
        """The one expiring first is burned first (open-ended ones last)."""
        return (self.end or date.max, self.start, self.authorization_id)
