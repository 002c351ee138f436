"""Which codes need prior authorization, per payer (payer differences are data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["AuthRequirements"]


@dataclass(frozen=True, slots=True)
class AuthRequirements:
    """Codes a payer authorizes, each with the visits per benefit year allowed before an auth is needed."""

    after_visits: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def requires(self, code: str, *, prior_visits: int) -> bool:
        """True when ``code`` needs an authorization once ``prior_visits`` visits were billed this year."""
        free = self.after_visits.get(code)
        return free is not None and prior_visits >= free

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.after_visits)
