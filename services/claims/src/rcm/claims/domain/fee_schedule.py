"""The practice's charge master: a charge per unit by code and modifiers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pydantic import Field

from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.session import Modifier, ProcedureCode

__all__ = ["FeeSchedule", "FeeScheduleRate"]


class FeeScheduleRate(DomainModel):
    """The charge of one code, per unit; ``modifiers`` empty is the base rate."""

    procedure_code: ProcedureCode
    modifiers: tuple[Modifier, ...] = Field(default=(), max_length=4)
    amount: Decimal = Field(ge=0, decimal_places=2)


class FeeSchedule(DomainModel):
    """A set of rates; the most specific rate whose modifiers the line carries wins."""

    rates: tuple[FeeScheduleRate, ...] = ()

    def rate_for(self, code: str, modifiers: Sequence[str]) -> FeeScheduleRate | None:
        """The rate for ``code`` whose modifiers are all on the line, preferring the most modifiers."""
        carried = set(modifiers)
        candidates = [r for r in self.rates if r.procedure_code == code and set(r.modifiers) <= carried]
        return max(candidates, key=lambda r: len(r.modifiers), default=None)

    def charge(self, code: str, modifiers: Sequence[str], units: int) -> Decimal | None:
        """Rate times units, or None when the schedule has no rate for the code."""
        rate = self.rate_for(code, modifiers)
        return None if rate is None else (rate.amount * units).quantize(Decimal("0.01"))
