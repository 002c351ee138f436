"""Business metrics of the remittance service. Labels are outcomes, kinds, CLP02 statuses, CAS groups
and our payer ids: never a claim, patient or member id, a name or an amount."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter

from rcm.remittance.domain.posting import ClaimPosting
from rcm.remittance.domain.remit import ClaimStatus, Group

__all__ = ["RemitMetrics", "clp_status_label", "group_label"]

_GROUPS = frozenset(g.value for g in Group)


def clp_status_label(status: str) -> str:
    """CLP02 as a label: ``primary``, ``denied``, ``reversal``... and ``other`` for a code outside the
    list (an 835 is outside input: a label never takes its text as is)."""
    try:
        return ClaimStatus(status).name.lower()
    except ValueError:
        return "other"


def group_label(group: str) -> str:
    """CAS01 as a label: CO, PR, OA, PI, CR, or ``other``."""
    return group if group in _GROUPS else "other"


def _payer_label(payer_id: str | None) -> str:
    return payer_id or "unknown"


class RemitMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.files = Counter("rcm_remit_files", "835 files received, by outcome.", ["outcome"], registry=r)
        self.claim_payments = Counter(
            "rcm_remit_claim_payments", "Claim payments (CLP) by resulting state.", ["state"], registry=r
        )
        self.exceptions = Counter(
            "rcm_remit_exceptions", "Remittance exceptions flagged for review, by kind.", ["kind"], registry=r
        )
        self.adjudicated = Counter(
            "rcm_remit_claims_adjudicated",
            "Claim payments posted to a claim, by payer and CLP02 status.",
            ["payer", "status"],
            registry=r,
        )
        self.paid = Counter(
            "rcm_remit_paid_dollars",
            "Payer payments posted to claims, in dollars; direction reversed: taken back by a reversal.",
            ["payer", "direction"],
            registry=r,
        )
        self.adjustments = Counter(
            "rcm_remit_adjustment_dollars",
            "CAS adjustments posted to claims, in dollars, by payer and group; direction reversed: "
            "undone by a reversal.",
            ["payer", "group", "direction"],
            registry=r,
        )

    def posted(self, payer_id: str | None, status: str, posting: ClaimPosting) -> None:
        """A claim payment applied to a claim: its CLP02 status, the money paid and adjusted.

        Amounts are counted by sign: positive as ``posted``, negative (a reversal's) as ``reversed``,
        so the net is posted minus reversed."""
        payer = _payer_label(payer_id)
        self.adjudicated.labels(payer, clp_status_label(status)).inc()
        for line in posting.lines:
            self._money(self.paid, line.paid, payer)
            for adjustment in line.adjustments:
                self._money(self.adjustments, adjustment.amount, payer, group_label(adjustment.group))

    @staticmethod
    def _money(counter: Counter, amount: Decimal, *labels: str) -> None:
        if amount > 0:
            counter.labels(*labels, "posted").inc(float(amount))
        elif amount < 0:
            counter.labels(*labels, "reversed").inc(float(-amount))
