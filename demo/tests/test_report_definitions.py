"""The report's figures follow the HFMA MAP Keys definitions the report states (report.DEFINITIONS)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from rcm.demo.invariants import violations
from rcm.demo.ledger import CycleLedger
from rcm.demo.report import DEFINITIONS, build_report, render_html, render_text
from rcm.events import testing as f

pytestmark = pytest.mark.unit

_ids = count()
LINE = f.remit_received(1).lines[0].model_dump()


def ap(ledger: CycleLedger, event: Any) -> None:
    ledger.apply(f"e{next(_ids)}", event)


def cid(n: int) -> str:
    return f.claim_created(n).claim_id


def fee(ledger: CycleLedger, rates: list[dict[str, Any]]) -> None:
    i = f.ids(1)
    ap(
        ledger,
        f.fee_schedule_updated(1, payer_id=i["payer_id"], organization_id=i["organization_id"], rates=rates),
    )


def denied_remit(n: int, carc: str = "50", **over: Any) -> Any:
    line = {
        **LINE,
        "paid": "0.00",
        "allowed": None,
        "adjustments": [{"group": "CO", "carc": carc, "amount": "170.00"}],
    }
    return f.remit_received(n, status="4", paid="0.00", patient_responsibility="0.00", lines=[line], **over)


def status(ledger: CycleLedger, n: int, to: str, claim_id: str | None = None) -> None:
    ap(ledger, f.claim_status_changed(n, claim_id=claim_id or cid(n), to_status=to, from_status="submitted"))


def test_a_denied_claim_under_appeal_stays_in_ar_aged_from_first_submission() -> None:
    ledger = CycleLedger()
    ap(ledger, f.claim_created(1))
    ap(ledger, f.claim_submitted(1))
    ap(ledger, denied_remit(1))
    ap(
        ledger,
        f.payment_posted(
            1,
            paid="0.00",
            contractual_adjustment="0.00",
            patient_responsibility="0.00",
            claim_balance="170.00",
            lines=[],
        ),
    )
    status(ledger, 1, "denied")
    ap(
        ledger,
        f.denial_opened(1, action="appeal", reasons=[{"group": "CO", "carc": "50", "amount": "170.00"}]),
    )
    ap(ledger, f.claim_created(2))  # held, never submitted: unbilled, not A/R
    ap(ledger, f.claim_held(2, claim_id=cid(2)))
    sent = ledger.claims[cid(1)].first_submitted
    assert sent is not None
    report = build_report(ledger, today=sent + timedelta(days=95))
    assert list(report.ar_aging) == ["0-30", "31-60", "61-90", "91-120", "120+"]
    assert report.ar_aging["91-120"] == Decimal("170.00")
    assert sum(report.ar_aging.values()) == Decimal("170.00")
    assert (report.unbilled, report.unbilled_claims) == (Decimal("170.00"), 1)


def test_an_unremitted_secondary_claim_is_owed_what_the_primary_left() -> None:
    ledger = CycleLedger()
    ap(ledger, f.claim_created(1))
    ap(ledger, f.remit_received(1))
    ap(ledger, f.payment_posted(1))  # paid 110, patient 25
    status(ledger, 1, "paid")
    ap(
        ledger,
        f.claim_created(1, claim_id="clm-sec-1", payer_responsibility="secondary", payer_id="payer-sec"),
    )
    status(ledger, 1, "submitted", "clm-sec-1")
    report = build_report(ledger, today=date(2025, 3, 20))
    assert sum(report.ar_aging.values()) == Decimal("25.00")


def _denied_then_replaced() -> CycleLedger:
    ledger = CycleLedger()
    fee(ledger, [{"procedure_code": "90837", "amount": "135.00"}])
    ap(ledger, f.claim_created(1))
    ap(ledger, denied_remit(1, carc="4"))
    ap(
        ledger,
        f.denial_opened(
            1, action="resubmit_replacement", reasons=[{"group": "CO", "carc": "4", "amount": "170.00"}]
        ),
    )
    ap(
        ledger,
        f.remit_received(
            1,
            remit_id="rmt-rev",
            status="22",
            paid="0.00",
            charge="-170.00",
            patient_responsibility="0.00",
            lines=[],
        ),
    )
    status(ledger, 1, "replaced")
    ap(
        ledger,
        f.claim_created(
            1, claim_id="clm-repl", frequency_code="7", replaces_claim_id=cid(1), payer_claim_number="PCN1"
        ),
    )
    ap(ledger, f.remit_received(1, remit_id="rmt-repl", claim_id="clm-repl"))
    ap(ledger, f.payment_posted(1, posting_id="p-r", remit_id="rmt-repl", claim_id="clm-repl"))
    return ledger


def test_initial_denial_rate_counts_the_encounter_chain_once_by_count_and_dollars() -> None:
    report = build_report(_denied_then_replaced(), today=date(2025, 4, 1))
    assert (report.claims_with_remit, report.denial_rate) == (1, 100.0)
    assert report.denial_rate_dollars == 100.0
    assert report.claims == 1 and report.charges == Decimal("170.00")
    assert report.denials_automatic == 1


def test_expected_counts_a_replaced_chain_once_and_honours_modifier_rates() -> None:
    report = build_report(_denied_then_replaced(), today=date(2025, 4, 1))
    assert report.expected == Decimal("135.00")
    assert report.primary_allowed == Decimal("135.00")  # paid 110 + patient 25
    ledger = CycleLedger()
    fee(
        ledger,
        [
            {"procedure_code": "90837", "amount": "135.00"},
            {"procedure_code": "90837", "modifiers": ["95"], "amount": "120.00"},
        ],
    )
    ap(ledger, f.claim_created(1))  # billed with modifier 95
    ap(ledger, f.remit_received(1, lines=[{**LINE, "allowed": "120.00"}]))
    report = build_report(ledger, today=date(2025, 4, 1))
    assert report.expected == Decimal("120.00") and report.underpaid == Decimal("0.00")


def test_underpaid_leaves_out_a_reversed_remit() -> None:
    ledger = CycleLedger()
    fee(ledger, [{"procedure_code": "90837", "amount": "135.00"}])
    ap(ledger, f.claim_created(1))
    ap(
        ledger,
        f.remit_received(
            1, remit_id="r1", paid="95.00", lines=[{**LINE, "paid": "95.00", "allowed": "120.00"}]
        ),
    )
    ap(
        ledger,
        f.remit_received(
            1,
            remit_id="r2",
            status="22",
            paid="-95.00",
            charge="-170.00",
            patient_responsibility="-25.00",
            lines=[{**LINE, "paid": "-95.00", "allowed": "-120.00", "charge": "-170.00"}],
        ),
    )
    ap(
        ledger,
        f.remit_received(
            1, remit_id="r3", paid="85.00", lines=[{**LINE, "paid": "85.00", "allowed": "110.00"}]
        ),
    )
    assert build_report(ledger, today=date(2025, 4, 1)).underpaid == Decimal("25.00")


def test_write_offs_and_patient_transfers_are_not_fixed_nor_a_refused_correction() -> None:
    ledger = CycleLedger()
    for n, action in ((1, "write_off"), (2, "transfer_to_patient"), (3, "resubmit_replacement")):
        ap(ledger, f.claim_created(n))
        ap(ledger, f.remit_received(n))
        ap(ledger, f.denial_opened(n, action=action))
    d3 = f.denial_opened(3)
    ap(ledger, f.claim_correction_refused(3, claim_id=d3.claim_id, denial_id=d3.denial_id))
    report = build_report(ledger, today=date(2025, 4, 1))
    assert report.denials_automatic == 0
    assert (report.denials_written_off, report.denials_to_patient, report.denials_refused) == (1, 1, 1)
    assert "written off 1" in render_text(report)


def test_first_pass_acceptance_needs_the_999_and_the_277ca() -> None:
    ledger = CycleLedger()
    ap(ledger, f.claim_created(1))
    ap(ledger, f.claim_acknowledged(1, source="999", status="accepted", file_name="999_1"))
    ap(
        ledger,
        f.claim_acknowledged(
            1,
            source="277CA",
            status="rejected",
            file_name="277_1",
            reasons=[{"code": "A3:33"}],
            payer_claim_number=None,
        ),
    )
    ap(ledger, f.claim_created(2))
    ap(ledger, f.claim_acknowledged(2, source="999", status="accepted_with_errors", file_name="999_2"))
    ap(ledger, f.claim_acknowledged(2, source="277CA", status="accepted", file_name="277_2"))
    report = build_report(ledger, today=date(2025, 4, 1))
    assert (report.claims_acknowledged, report.first_pass_acceptance) == (2, 50.0)
    assert report.rejections == 1


def test_an_automatic_eligibility_hold_is_clean_and_unscrubbed_claims_are_left_out() -> None:
    ledger = CycleLedger()
    ap(ledger, f.claim_created(1))
    ap(
        ledger,
        f.claim_held(1, claim_id=cid(1), reasons=[{"code": "eligibility_unknown", "message": "no 271 yet"}]),
    )
    ap(ledger, f.claim_released(1, claim_id=cid(1), released_by="claims"))
    ap(ledger, f.claim_submitted(1))
    ap(ledger, f.claim_created(2))  # not scrubbed yet
    report = build_report(ledger, today=date(2025, 4, 1))
    assert (report.claims_scrubbed, report.clean_claim_rate) == (1, 100.0)


def test_a_correction_sent_as_a_new_original_is_not_a_second_claim() -> None:
    ledger = CycleLedger()
    ap(ledger, f.session_completed(1))
    ap(ledger, f.claim_created(1))
    ap(ledger, f.claim_created(1, claim_id="clm-new-orig", replaces_claim_id=cid(1)))
    report = build_report(ledger, today=date(2025, 4, 1))
    assert (report.claims, report.charges) == (1, Decimal("170.00"))
    assert not any("more than one original claim" in v for v in violations(ledger))


def test_denials_by_carc_count_the_deciding_reason_and_by_modifier_has_a_denominator() -> None:
    ledger = CycleLedger()
    ap(ledger, f.claim_created(1))
    remit = f.remit_received(
        1,
        status="4",
        paid="0.00",
        patient_responsibility="30.00",
        lines=[
            {
                **LINE,
                "paid": "0.00",
                "allowed": None,
                "adjustments": [
                    {"group": "CO", "carc": "45", "amount": "140.00"},
                    {"group": "PR", "carc": "1", "amount": "30.00"},
                ],
            }
        ],
    )
    ap(ledger, remit)
    ap(
        ledger,
        f.denial_opened(
            1,
            action="human_review",
            reasons=[
                {"group": "CO", "carc": "45", "amount": "140.00"},
                {"group": "PR", "carc": "1", "amount": "30.00"},
            ],
        ),
    )
    ap(ledger, f.claim_created(2))
    ap(ledger, f.remit_received(2))
    ap(ledger, f.denial_opened(2))  # CO-197 on line ses-0002:1
    report = build_report(ledger, today=date(2025, 4, 1))
    assert "CO-45" not in report.denials_by_carc and "PR-1" not in report.denials_by_carc
    assert report.denials_by_carc["CO-197"] == 1
    assert report.lines_by_modifier["95"] == 2 and report.denials_by_modifier["95"] == 1
    assert report.denial_rate_by_modifier["95"] == 50.0
    assert report.denials_claim_level == 1


def test_the_report_states_its_definitions() -> None:
    report = build_report(CycleLedger(), today=date(2025, 4, 1))
    text, page = render_text(report), render_html(report)
    for name in ("initial denial rate", "A/R", "first-pass acceptance", "clean-claim rate"):
        assert name in DEFINITIONS
        assert DEFINITIONS[name][:40] in text
        assert name in page
