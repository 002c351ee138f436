"""What an edit reports, what it looks at, and the outcome of scrubbing a claim."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.cob import PriorAdjudication
from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.coverage import Authorization, Coverage, EligibilityResult
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.providers import Provider

__all__ = ["Edit", "Finding", "ScrubContext", "ScrubResult", "Severity"]


class Severity(StrEnum):
    """Whether a finding stops the claim."""

    HOLD = "hold"
    """The claim is held and not sent until the cause is fixed."""
    WARN = "warn"
    """Worth a look; the claim still goes."""


class Finding(DomainModel):
    """One problem found by an edit."""

    edit: str = Field(description="Name of the edit that found it.")
    code: str = Field(description="Stable identifier of the problem, e.g. 'npi.check_digit'.")
    severity: Severity
    message: str
    field: str = Field(description="Where on the claim the problem is, e.g. 'rendering.npi' or 'lines[2]'.")
    fix: str = Field(description="How to fix it.")


class ScrubContext(DomainModel):
    """Everything the edits look at besides the claim itself (all projections, no I/O)."""

    today: date
    rules: PayerRules
    providers: tuple[Provider, ...] = Field(description="Rendering and supervising clinicians.")
    coverages: tuple[Coverage, ...] = Field(description="The patient's coverages.")
    eligibility: tuple[EligibilityResult, ...] = ()
    authorizations: tuple[Authorization, ...] = ()
    history: tuple[BilledService, ...] = Field(
        default=(), description="Lines already billed for the patient."
    )
    prior_visits: int = Field(default=0, ge=0, description="Visits this benefit year with this payer.")
    prior_payer_adjudicated: bool = Field(
        default=False, description="The higher-order payer's remit is posted (a COB claim may follow)."
    )
    prior: PriorAdjudication | None = Field(
        default=None, description="A later payer's claim: the prior payer's adjudication it is sent with."
    )

    def provider(self, provider_id: str) -> Provider | None:
        """The provider with ``provider_id``, if known."""
        return next((p for p in self.providers if p.provider_id == provider_id), None)


CheckFunction = Callable[[ClaimDraft, ScrubContext], list[Finding]]


@dataclass(frozen=True, slots=True)
class Edit:
    """A named claim edit: a small function from claim and context to findings."""

    name: str
    checks: str
    run: CheckFunction


class ScrubResult(DomainModel):
    """The findings of every edit; any hold finding holds the claim."""

    claim_key: str
    findings: tuple[Finding, ...] = ()

    @property
    def holds(self) -> tuple[Finding, ...]:
        """Findings that hold the claim."""
        return tuple(f for f in self.findings if f.severity is Severity.HOLD)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings that only warn."""
        return tuple(f for f in self.findings if f.severity is Severity.WARN)

    @property
    def outcome(self) -> Literal["held", "ready"]:
        """'held' when any finding holds the claim, else 'ready'."""
        return "held" if self.holds else "ready"
