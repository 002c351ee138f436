"""Business metrics of the remittance service (labels are outcomes and kinds, never ids or PHI)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["RemitMetrics"]


class RemitMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry or CollectorRegistry()
        self.files = Counter("rcm_remit_files", "835 files received, by outcome.", ["outcome"], registry=r)
        self.claim_payments = Counter(
            "rcm_remit_claim_payments", "Claim payments (CLP) by resulting state.", ["state"], registry=r
        )
        self.exceptions = Counter(
            "rcm_remit_exceptions", "Remittance exceptions flagged for review, by kind.", ["kind"], registry=r
        )
