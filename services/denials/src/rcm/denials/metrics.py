"""Business metrics of the denials service, on the service's own registry.

Labels are our payer ids, CAS group codes, CARCs and outcomes: never a claim, patient or member id,
a name or an amount. A CARC or group read from a payer's file becomes a label only when it has the
shape of one (``other`` otherwise), so a malformed 835 cannot grow the series without bound.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter

from rcm.denials.domain.denial import FoundDenial
from rcm.denials.domain.triage import Decision
from rcm.events.models import DenialAction, DenialOutcome

__all__ = ["CLAIM_STATUS", "REJECTION", "DenialsMetrics", "triage_outcome"]

GROUPS = frozenset({"CO", "PR", "OA", "PI", "CR"})
_CARC = re.compile(r"[A-Z]?[0-9]{1,3}[A-Z]?")
REJECTION = "rejection"
"""The group label of a claim rejected before adjudication (999/277CA): it has no CAS group or CARC."""
CLAIM_STATUS = "claim_status"
"""The group label of a denial its CLP02 status opened, no adjustment explaining it."""


def triage_outcome(decision: Decision) -> str:
    """``automatic`` (the service fixes or closes it itself), ``queued`` (a person acts) or ``written_off``."""
    if decision.action is DenialAction.WRITE_OFF:
        return "written_off"
    return "queued" if decision.queued else "automatic"


def _codes(denial: FoundDenial) -> tuple[str, str]:
    deciding = denial.deciding
    if deciding is None and denial.claim_status is not None:
        return CLAIM_STATUS, "none"
    if deciding is None:
        return REJECTION, "none"
    group = deciding.group if deciding.group in GROUPS else "other"
    carc = deciding.carc if _CARC.fullmatch(deciding.carc) else "other"
    return group, carc


class DenialsMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.opened = Counter(
            "rcm_denials_opened",
            "Denials opened and triaged, by payer, deciding CAS group and CARC, and outcome "
            "(automatic, queued for a person, written_off).",
            ["payer", "group", "carc", "outcome"],
            registry=r,
        )
        self.resolved = Counter(
            "rcm_denials_resolved",
            "Denials closed, by payer and outcome (paid, partially_paid, written_off, ...).",
            ["payer", "outcome"],
            registry=r,
        )

    def triaged(self, payer_id: str, denial: FoundDenial, decision: Decision) -> None:
        group, carc = _codes(denial)
        self.opened.labels(payer_id or "unknown", group, carc, triage_outcome(decision)).inc()

    def closed(self, payer_id: str, outcome: DenialOutcome) -> None:
        self.resolved.labels(payer_id or "unknown", outcome.value).inc()
