"""What must hold after any run of the cycle, quiet or faulty: nothing lost, nothing twice, money balanced."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from rcm.demo.ledger import ZERO, CycleLedger

__all__ = ["violations"]


def violations(ledger: CycleLedger) -> list[str]:
    """Every broken invariant, in words; an empty list when the run is sound."""
    found: list[str] = []
    claimed = ledger.claimed_sessions()
    # a session the claims service reported not billable (session-not-billed) is accounted for
    missing = set(ledger.sessions) - set(claimed) - set(ledger.not_billed)
    if missing:
        found.append(f"{len(missing)} sessions never became a claim nor were reported not billable")
    twice = [s for s, n in claimed.items() if n > 1]
    if twice:
        found.append(f"{len(twice)} sessions are on more than one original claim")
    if not ledger.settled():
        states = Counter(c.status for c in ledger.claims.values())
        waiting = {e.remit_id for e in ledger.unmatched}
        found.append(
            f"claims still in flight: {dict(states)}"
            + (f"; {len(waiting)} claim payments went to the unmatched queue" if waiting else "")
        )
    remits = [r for c in ledger.claims.values() for r in c.remits]
    if not remits:
        found.append("no remit was received")
    unposted = {r.remit_id for r in remits} - set(ledger.postings_by_remit)
    if unposted:
        found.append(f"{len(unposted)} remits were never posted")
    posted_twice = [k for k, n in ledger.postings_by_remit.items() if n > 1]
    if posted_twice:
        found.append(f"{len(posted_twice)} remits were posted more than once")
    for r in remits:
        adjustments = sum((a.amount for a in r.claim_adjustments), ZERO) + sum(
            (a.amount for line in r.lines for a in line.adjustments), ZERO
        )
        if r.charge != r.paid + adjustments:
            found.append(
                f"remit {r.remit_id}: charge {r.charge} != paid {r.paid} + adjustments {adjustments}"
            )
    posted = sum((p.paid for c in ledger.claims.values() for p in c.postings), ZERO)
    received = sum((r.paid for r in remits), ZERO)
    if posted != received:
        found.append(f"posted {posted} != paid by payers {received}")
    if remits and posted <= Decimal("0"):
        found.append("nothing was paid")
    return found
