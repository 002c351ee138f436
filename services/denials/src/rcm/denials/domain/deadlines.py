"""Appeal and timely-filing dates, from per-payer settings."""

from __future__ import annotations

from datetime import date, timedelta

from rcm.denials.domain.facts import Acceptance, PayerFacts
from rcm.denials.domain.playbook import Playbook
from rcm.events.models import PayerBillingRules, TimelyFilingClock, filing_window_end

__all__ = [
    "accepted_in_window",
    "adjudicated_in_window",
    "appeal_deadline",
    "filing_deadline",
    "timely_filing_proof",
]


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
    start = service_date
    if rules.timely_filing_clock is TimelyFilingClock.PRIMARY_REMIT_DATE and primary_remit_date is not None:
        start = primary_remit_date
    if corrected and rules.corrected_claim_filing_days:
        return start + timedelta(days=rules.corrected_claim_filing_days)
    return filing_window_end(start, days=rules.timely_filing_days, months=rules.timely_filing_months)


def timely_filing_proof(
    rules: PayerBillingRules,
    *,
    denied_claim_id: str | None,
    service_date: date | None,
    acceptances: tuple[Acceptance, ...],
) -> tuple[Acceptance, ...]:
    """The acceptances that prove a claim denied CO-29 was filed in time (none: no proof).

    A CO-29 judges the receipt date of the very submission it denies, so that submission's
    own acceptance proves nothing. Proof is an earlier submission of the same claim (the
    original before a replacement, an earlier claim of the same chain) that a 999/277CA
    accepted within the payer's original filing window. Without the denied claim's id the
    submissions cannot be told apart, and nothing counts.
    """
    if service_date is None or denied_claim_id is None:
        return ()
    deadline = filing_deadline(rules, service_date=service_date)
    return tuple(a for a in acceptances if a.claim_id != denied_claim_id and a.received_on <= deadline)


def accepted_in_window(
    rules: PayerBillingRules,
    *,
    denied_claim_id: str | None,
    service_date: date | None,
    acceptances: tuple[Acceptance, ...],
) -> tuple[Acceptance, ...]:
    """The denied submission's own acceptances dated within the payer's original filing window.

    Not proof the payer must take (it judged that very receipt late), but a contradiction: the
    payer's acknowledgment says it had the claim in time, so either the payer erred or the
    window on file is wrong. Either way the money is not written off unseen.
    """
    if service_date is None or denied_claim_id is None:
        return ()
    deadline = filing_deadline(rules, service_date=service_date)
    return tuple(a for a in acceptances if a.claim_id == denied_claim_id and a.received_on <= deadline)


def adjudicated_in_window(
    rules: PayerBillingRules, *, service_date: date | None, adjudicated_on: date | None
) -> date | None:
    """The end of the payer's original filing window when it adjudicated the claim within it.

    A payer adjudicates only a claim it received: a remit dated within the window says the claim
    was in its hands in time, whatever its CO-29 says (like its own acknowledgment of the
    submission, :func:`accepted_in_window`). None when the date is after the window or unknown.
    """
    if service_date is None or adjudicated_on is None:
        return None
    deadline = filing_deadline(rules, service_date=service_date)
    return deadline if adjudicated_on <= deadline else None
