"""Appeal and timely-filing dates, from per-payer settings."""

from __future__ import annotations

from datetime import date, timedelta

from rcm.denials.domain.facts import PayerFacts
from rcm.denials.domain.playbook import Playbook
from rcm.events.models import PayerBillingRules, TimelyFilingClock

__all__ = ["appeal_deadline", "filing_deadline", "has_proof_of_timely_filing"]


def appeal_deadline(playbook: Playbook, payer: PayerFacts | None, adjudicated_on: date) -> date:
    """Last day to file a first-level appeal: the payer's window from the remit date."""
    days = playbook.appeal_days_for(payer.payer_id if payer else None, payer.payer_type if payer else None)
    return adjudicated_on + timedelta(days=days)


def filing_deadline(
    rules: PayerBillingRules,
    *,
    service_date: date,
    primary_remit_date: date | None = None,
    corrected: bool = False,
) -> date:
    """Last day to file: the corrected-claim window for corrections, else the original window."""
    days = rules.corrected_claim_filing_days if corrected and rules.corrected_claim_filing_days else None
    days = days or rules.timely_filing_days
    start = service_date
    if rules.timely_filing_clock is TimelyFilingClock.PRIMARY_REMIT_DATE and primary_remit_date is not None:
        start = primary_remit_date
    return start + timedelta(days=days)


def has_proof_of_timely_filing(
    rules: PayerBillingRules, *, service_date: date | None, accepted_on: tuple[date, ...]
) -> bool:
    """True when a 999/277CA accepted the claim within the payer's original filing window."""
    if service_date is None:
        return False
    deadline = filing_deadline(rules, service_date=service_date)
    return any(day <= deadline for day in accepted_on)
