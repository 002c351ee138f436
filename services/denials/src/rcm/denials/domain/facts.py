"""What the service knows about a claim when it triages a denial: plain values from its projections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rcm.events.models import CoveragePriority, PayerBillingRules

__all__ = [
    "Acceptance",
    "AuthorizationOnFile",
    "ClaimFacts",
    "ClaimLineFacts",
    "CoverageOnFile",
    "PayerFacts",
    "TriageContext",
]


@dataclass(frozen=True, slots=True)
class ClaimLineFacts:
    """A line as it was billed (from ``claim-created``)."""

    line_key: str
    procedure_code: str
    modifiers: tuple[str, ...]
    place_of_service: str
    service_date: date
    units: int = 1
    charge: Decimal = Decimal("0")
    rendering_provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """A claim as it was billed. ``root_claim_id`` is the original a replacement chain started from."""

    claim_id: str
    root_claim_id: str
    patient_id: str
    payer_id: str
    coverage_id: str
    rendering_provider_id: str
    lines: tuple[ClaimLineFacts, ...]
    authorization_number: str | None = None
    payer_responsibility: CoveragePriority = CoveragePriority.PRIMARY

    def line(self, line_key: str | None, procedure_code: str | None = None) -> ClaimLineFacts | None:
        """The billed line a remit line refers to: by key, else by the only line with that code."""
        if line_key is not None:
            for line in self.lines:
                if line.line_key == line_key:
                    return line
        if procedure_code is not None:
            same_code = [line for line in self.lines if line.procedure_code == procedure_code]
            if len(same_code) == 1:
                return same_code[0]
        if line_key is None and procedure_code is None and len(self.lines) == 1:
            return self.lines[0]
        return None

    @property
    def first_service_date(self) -> date | None:
        return min((line.service_date for line in self.lines), default=None)


@dataclass(frozen=True, slots=True)
class PayerFacts:
    """The payer's type and billing rules (from ``payer-updated``)."""

    payer_id: str
    payer_type: str | None = None
    rules: PayerBillingRules = field(default_factory=PayerBillingRules)


@dataclass(frozen=True, slots=True)
class AuthorizationOnFile:
    """An authorization the payer issued (from ``authorization-received``)."""

    authorization_id: str
    auth_number: str
    payer_id: str
    start: date
    end: date | None
    procedure_codes: tuple[str, ...] = ()
    provider_id: str | None = None

    def covers(
        self, *, payer_id: str, procedure_code: str, service_date: date, provider_id: str | None
    ) -> bool:
        return (
            self.payer_id == payer_id
            and self.start <= service_date
            and (self.end is None or service_date <= self.end)
            and (not self.procedure_codes or procedure_code in self.procedure_codes)
            and (self.provider_id is None or self.provider_id == provider_id)
        )


@dataclass(frozen=True, slots=True)
class CoverageOnFile:
    """A patient's coverage (from ``coverage-updated``)."""

    coverage_id: str
    payer_id: str
    priority: CoveragePriority
    start: date
    end: date | None = None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A 999 or 277CA that accepted one submission of a claim (from ``claim-acknowledged``)."""

    claim_id: str
    received_on: date


@dataclass(frozen=True, slots=True)
class TriageContext:
    """Everything a decision may look at besides the denial itself."""

    today: date
    claim: ClaimFacts | None = None
    payer: PayerFacts | None = None
    authorizations: tuple[AuthorizationOnFile, ...] = ()
    coverages: tuple[CoverageOnFile, ...] = ()
    acceptances: tuple[Acceptance, ...] = ()
    """Acceptances of the claim and of the other submissions in its chain (proof of timely filing)."""
    fixes_tried: frozenset[str] = frozenset()
    """Fix kinds already requested for this claim (its whole replacement chain)."""

    def next_coverage(self) -> CoverageOnFile | None:
        """The coverage that pays after the claim's payer (its secondary, or tertiary after a
        secondary), active on the claim's first date of service with another payer; None if none."""
        claim = self.claim
        if claim is None or claim.first_service_date is None:
            return None
        wanted = _NEXT_PAYER.get(claim.payer_responsibility)
        day = claim.first_service_date
        return next(
            (
                c
                for c in self.coverages
                if c.priority is wanted and c.payer_id != claim.payer_id and c.active_on(day)
            ),
            None,
        )


_NEXT_PAYER = {
    CoveragePriority.PRIMARY: CoveragePriority.SECONDARY,
    CoveragePriority.SECONDARY: CoveragePriority.TERTIARY,
}
