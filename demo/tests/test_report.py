"""The report's figures come from the ledger's events."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from rcm.demo.ledger import CycleLedger
from rcm.demo.report import build_report, render_html, render_text
from rcm.events import testing as f

pytestmark = pytest.mark.unit


def test_report_counts_clean_claims_denials_and_money() -> None:
    ledger = CycleLedger()
    ledger.apply("s1", f.session_completed(1))
    ledger.apply("c1", f.claim_created(1))
    ledger.apply("c1", f.claim_created(1))  # a duplicate delivery is folded once
    ledger.apply("c2", f.claim_created(2))
    ledger.apply("h2", f.claim_held(2, claim_id=f.claim_created(2).claim_id))
    ledger.apply("r1", f.remit_received(1, claim_id=f.claim_created(1).claim_id))
    ledger.apply("d1", f.denial_opened(1, claim_id=f.claim_created(1).claim_id))
    ledger.apply("p1", f.payment_posted(1, claim_id=f.claim_created(1).claim_id))
    report = build_report(ledger, today=date(2025, 4, 1))
    assert report.claims == 2
    assert report.clean_claim_rate == 50.0
    assert report.denial_rate == 100.0
    assert report.collected == f.payment_posted(1).paid
    assert sum(report.denials_by_carc.values()) >= 1
    assert report.held_now == 1
    assert report.charges == f.claim_created(1).total_charge + f.claim_created(2).total_charge
    assert isinstance(report.ar_aging["0-30"], Decimal)
    assert "Clean-claim rate" in render_html(report)
    assert "clean-claim rate 50.0%" in render_text(report)


def moved_on(n: int, claim_id: str, **fields: Any) -> Any:
    """The remittance service's event: the claim's 25.00 patient share moved on to the next payer."""
    return f.patient_balance_changed(
        n,
        claim_id=claim_id,
        previous_balance="25.00",
        balance="0.00",
        change="-25.00",
        reason="next_payer_billed",
        **fields,
    )


def test_patient_responsibility_leaves_out_what_went_on_to_the_next_payer() -> None:
    ledger = CycleLedger()
    claim_id = f.claim_created(1).claim_id
    ledger.apply("c1", f.claim_created(1))
    ledger.apply("p1", f.payment_posted(1, claim_id=claim_id, patient_responsibility="25.00"))
    owed = f.patient_balance_changed(
        1, claim_id=claim_id, previous_balance="0", balance="25.00", change="25.00"
    )
    ledger.apply("b1", owed)
    moved = moved_on(2, claim_id, patient_id=owed.patient_id)
    ledger.apply("b2", moved)
    ledger.apply("b2", moved)  # folded once
    assert build_report(ledger, today=date(2025, 4, 1)).patient_responsibility == Decimal("0.00")
    assert ledger.patient_balances[owed.patient_id] == Decimal("0.00")


def test_a_session_reported_not_billable_is_accounted_for_and_counted_by_reason() -> None:
    from rcm.demo.invariants import violations

    ledger = CycleLedger()
    ledger.apply("s1", f.session_completed(1))
    ledger.apply("s2", f.session_completed(2))
    ledger.apply("c1", f.claim_created(1))
    assert any("never became a claim" in v for v in violations(ledger))
    ledger.apply("n2", f.session_not_billed(2))
    assert not any("never became a claim" in v for v in violations(ledger))
    report = build_report(ledger, today=date(2025, 4, 1))
    assert report.not_billed == {"under_minimum_time": 1}
    assert "not billable 1 (under_minimum_time 1)" in render_text(report)


def test_aging_counts_the_insurance_balance_the_last_posting_left() -> None:
    ledger = CycleLedger()
    posted_id, waiting_id = f.claim_created(1).claim_id, f.claim_created(2).claim_id
    ledger.apply("c1", f.claim_created(1))
    ledger.apply("c2", f.claim_created(2))
    ledger.apply("s1", f.claim_submitted(1))
    ledger.apply("s2", f.claim_submitted(2, claim_id=waiting_id))
    # claim 1: paid, its patient share moved on to a next payer; still not final here
    ledger.apply("p1", f.payment_posted(1, claim_id=posted_id, claim_balance="0.00"))
    moved = moved_on(1, posted_id)
    ledger.apply("b1", moved)
    sent = ledger.claims[waiting_id].first_submitted
    assert sent is not None
    report = build_report(ledger, today=sent)
    assert report.ar_aging["0-30"] == f.claim_created(2).total_charge  # only the claim never posted
    assert ledger.claims[waiting_id].postings == []
