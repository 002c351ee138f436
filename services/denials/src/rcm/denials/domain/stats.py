"""Denial analytics: counts and amounts by payer, CARC, code, modifier, provider and state.

A scope is a (dimension, value) pair; ``("all", "all")`` is everything. Figures cover a
window of days; the service recomputes them on a timer and publishes one
``denial-stats-updated`` per scope (compacted: the latest per scope survives).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "DIMENSIONS",
    "Adjudication",
    "DenialFact",
    "Scope",
    "Tally",
    "aggregate",
    "scope_id",
]

DIMENSIONS = ("payer", "carc", "procedure", "modifier", "provider", "state")

Scope = tuple[str, str]

REJECTION_SOURCE = "acknowledgment"


@dataclass(frozen=True, slots=True)
class DenialFact:
    """One denial as the statistics see it (opaque ids and codes only)."""

    denial_id: str
    claim_id: str
    payer_id: str
    opened_on: date
    amount: Decimal
    group: str | None = None
    carc: str | None = None
    procedure_code: str | None = None
    modifiers: tuple[str, ...] = ()
    provider_id: str | None = None
    state: str | None = None
    resolved_on: date | None = None
    recovered: Decimal = Decimal("0")
    written_off: Decimal = Decimal("0")
    source: str = "remit"
    """``remit`` (a payer's adjudication) or ``acknowledgment`` (a 999/277CA front-end rejection)."""

    @property
    def rejection(self) -> bool:
        return self.source == REJECTION_SOURCE

    def scopes(self) -> list[Scope]:
        return _scopes(
            payer=self.payer_id,
            carc=f"{self.group}-{self.carc}" if self.carc else None,
            procedure=self.procedure_code,
            modifiers=self.modifiers,
            provider=self.provider_id,
            state=self.state,
        )


@dataclass(frozen=True, slots=True)
class Adjudication:
    """One adjudicated line (or claim without lines) of a remit: the denominators."""

    claim_id: str
    payer_id: str
    adjudicated_on: date
    procedure_code: str | None = None
    modifiers: tuple[str, ...] = ()
    provider_id: str | None = None
    state: str | None = None
    remit_id: str = ""
    charge: Decimal | None = None
    """The line's charge (the claim's without lines); none on rows older than the column."""

    def scopes(self) -> list[Scope]:
        return _scopes(
            payer=self.payer_id,
            carc=None,
            procedure=self.procedure_code,
            modifiers=self.modifiers,
            provider=self.provider_id,
            state=self.state,
        )


def _scopes(
    *,
    payer: str,
    carc: str | None,
    procedure: str | None,
    modifiers: tuple[str, ...],
    provider: str | None,
    state: str | None,
) -> list[Scope]:
    scopes: list[Scope] = [("all", "all"), ("payer", payer)]
    if carc:
        scopes.append(("carc", carc))
    if procedure:
        scopes.append(("procedure", procedure))
        scopes.extend(("modifier", m) for m in (modifiers or ("none",)))
    if provider:
        scopes.append(("provider", provider))
    if state:
        scopes.append(("state", state))
    return scopes


@dataclass(slots=True)
class Tally:
    """The figures of one scope over the window.

    Denials are payer adjudications only: ``claims_denied`` counts the claims adjudicated in the
    window with a denial opened from their remit, over ``claims_adjudicated`` (a CARC scope has
    the window's claims adjudicated as its denominator, so its rate is that CARC's share). Front-end
    rejections (999/277CA) never reached the payer: they are counted apart, over the claims
    submitted (known here as adjudicated or rejected).

    By dollars, the denied amounts are over the charges adjudicated: a claim's charges in the
    scope (its lines there) count once, from its largest adjudication in the window, so a claim
    the payer adjudicated again (a reprocessing) is not counted twice.
    """

    denials: int = 0
    denied_claims: set[str] = field(default_factory=set)
    adjudicated_claims: set[str] = field(default_factory=set)
    denied_amount: Decimal = Decimal("0")
    resolved: int = 0
    recovered: Decimal = Decimal("0")
    written_off: Decimal = Decimal("0")
    by_carc: dict[tuple[str, str], tuple[set[str], Decimal]] = field(default_factory=dict)
    rejections: int = 0
    rejected_claims: set[str] = field(default_factory=set)
    rejected_amount: Decimal = Decimal("0")
    charges: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """Charges adjudicated, per claim and per remit (summed over the scope's lines)."""

    def add_charge(self, adjudication: Adjudication) -> None:
        if adjudication.charge is None:
            return
        per_remit = self.charges.setdefault(adjudication.claim_id, {})
        per_remit[adjudication.remit_id] = (
            per_remit.get(adjudication.remit_id, Decimal("0")) + adjudication.charge
        )

    @property
    def charges_adjudicated(self) -> Decimal:
        return sum((max(per_remit.values()) for per_remit in self.charges.values()), Decimal("0"))

    @property
    def denial_rate_by_amount(self) -> Decimal | None:
        """Denied dollars over the dollars adjudicated (HFMA's initial denial rate by dollars)."""
        charges = self.charges_adjudicated
        if charges <= 0:
            return None
        return (self.denied_amount / charges).quantize(Decimal("0.0001"))

    @property
    def claims_denied(self) -> int:
        return len(self.denied_claims)

    @property
    def claims_adjudicated(self) -> int:
        # a payer's denial seen without its remit row (the remit's adjudication) still counts
        return len(self.adjudicated_claims | self.denied_claims)

    @property
    def claims_rejected(self) -> int:
        return len(self.rejected_claims)

    @property
    def claims_submitted(self) -> int:
        return len(self.adjudicated_claims | self.denied_claims | self.rejected_claims)

    @property
    def rejection_rate(self) -> Decimal | None:
        if not self.claims_submitted:
            return None
        return (Decimal(self.claims_rejected) / Decimal(self.claims_submitted)).quantize(Decimal("0.0001"))

    @property
    def denial_rate(self) -> Decimal | None:
        if not self.claims_adjudicated:
            return None
        return (Decimal(self.claims_denied) / Decimal(self.claims_adjudicated)).quantize(Decimal("0.0001"))


def aggregate(
    denials: Iterable[DenialFact], adjudications: Iterable[Adjudication], *, start: date, end: date
) -> dict[Scope, Tally]:
    """Tallies per scope for denials opened (and resolutions made) between ``start`` and ``end``."""
    tallies: dict[Scope, Tally] = defaultdict(Tally)
    for adj in adjudications:
        if start <= adj.adjudicated_on <= end:
            for scope in adj.scopes():
                tallies[scope].adjudicated_claims.add(adj.claim_id)
                tallies[scope].add_charge(adj)
    for fact in denials:
        opened = start <= fact.opened_on <= end
        resolved = fact.resolved_on is not None and start <= fact.resolved_on <= end
        if not (opened or resolved):
            continue
        for scope in fact.scopes():
            tally = tallies[scope]
            if opened and fact.rejection:
                tally.rejections += 1
                tally.rejected_claims.add(fact.claim_id)
                tally.rejected_amount += fact.amount
            elif opened:
                tally.denials += 1
                tally.denied_claims.add(fact.claim_id)
                tally.denied_amount += fact.amount
                if fact.group and fact.carc:
                    claims, amount = tally.by_carc.get((fact.group, fact.carc), (set(), Decimal("0")))
                    claims.add(fact.claim_id)
                    tally.by_carc[(fact.group, fact.carc)] = (claims, amount + fact.amount)
            if resolved:
                tally.resolved += 1
                tally.recovered += fact.recovered
                tally.written_off += fact.written_off
    # a CARC's share is of every claim adjudicated in the window, like the overall rate
    everything = tallies.get(("all", "all"))
    for (dimension, _), tally in tallies.items():
        if dimension == "carc" and everything is not None:
            tally.adjudicated_claims = everything.adjudicated_claims | everything.denied_claims
            tally.charges = everything.charges
    return dict(tallies)


def scope_id(scope: Scope) -> str:
    """The ``scope_id`` on ``denial-stats-updated``: 'all', the payer id, or '<dimension>:<value>'."""
    dimension, value = scope
    if dimension == "all":
        return "all"
    if dimension == "payer":
        return value
    return f"{dimension}:{value}"
