"""Business metrics for dashboards, on the service's own registry. Labels never carry PHI:
payer ids, reason codes and results only."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["ClaimsMetrics"]


class ClaimsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.created = Counter("rcm_claims_created_total", "Claims created from sessions.", registry=registry)
        self.held = Counter(
            "rcm_claims_held_total", "Claims held, by hold reason code.", ["reason"], registry=registry
        )
        self.released = Counter("rcm_claims_released_total", "Held claims released.", registry=registry)
        self.submitted = Counter(
            "rcm_claims_submitted_total",
            "Claims uploaded in an 837P batch, by payer.",
            ["payer"],
            registry=registry,
        )
        self.acknowledged = Counter(
            "rcm_claims_acknowledged_total",
            "Claim acknowledgements (999/277CA), by result.",
            ["source", "result"],
            registry=registry,
        )
        self.clean_claim_rate = Gauge(
            "rcm_claims_clean_claim_ratio",
            "Share of claims created by this process that passed every edit on the first pass.",
            registry=registry,
        )
        self._first_pass = 0
        self._clean = 0

    def first_pass(self, *, clean: bool) -> None:
        self._first_pass += 1
        self._clean += clean
        self.clean_claim_rate.set(self._clean / self._first_pass)
