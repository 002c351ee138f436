"""005010X221A1 rules and payer practice, each with a synthetic 835 (invented ids and amounts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rcm.remittance import store as t
from rcm.remittance.testing import Cas, CasSegment, Clp, Ledger, Plb, Svc, claim_for, paid, remit_835

D = Decimal
DOS = date(2025, 3, 3)


async def _plb_rows(ledger: Ledger) -> list[tuple[str, str, Decimal, str | None]]:
    rows = await ledger.rows(t.provider_adjustment)
    return sorted((r.reason, r.kind, r.amount, r.claim_id) for r in rows)


# ---------------------------------------------------------------- PLB
async def test_a_delayed_overpayment_recovery_moves_the_claim_once(ledger: Ledger) -> None:
    # 835 #1 paid 110.00; 835 #2 reverses it and corrects to 70.00, deferring the 40.00 owed with a
    # negative WO under the claim's CLP07; 835 #3 takes it with a positive WO under the same reference
    await ledger.add_claims([claim_for(1, claim_id="clm-0101"), claim_for(2, claim_id="clm-0102")])
    await ledger.post(remit_835([paid("clm-0101", "ICN-101")], trace="EFT-A"))
    corrected = Clp(
        "clm-0101",
        "1",
        "170.00",
        "70.00",
        "25.00",
        "ICN-101B",
        services=[
            Svc("90837", "170.00", "70.00", [Cas("CO", "45", "75.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
    )
    second = await ledger.post(
        remit_835(
            [paid("clm-0101", "ICN-101", status="22", sign="-"), corrected],
            trace="EFT-B",
            plb=[Plb("WO", "-40.00", "ICN-101B")],
        )
    )
    assert second.outcome.exceptions == []
    claim = await ledger.claim("clm-0101")
    assert (claim.paid, claim.contractual) == (D("70.00"), D("75.00"))

    third = await ledger.post(
        remit_835([paid("clm-0102", "ICN-102")], trace="EFT-C", plb=[Plb("WO", "40.00", "ICN-101B")])
    )
    assert third.outcome.exceptions == []
    assert (await ledger.claim("clm-0101")).paid == D("70.00")  # the reversal already moved it
    assert third.of("PaymentPosted")[0].claim_id == "clm-0102"
    assert await _plb_rows(ledger) == [
        ("WO", "deferral", D("-40.00"), None),
        ("WO", "recovery", D("40.00"), None),
    ]


async def test_a_forwarding_balance_stays_on_the_account(ledger: Ledger) -> None:
    # the reversal leaves the 835 negative: FB -110.00 carries it to the next 835, which takes it back
    await ledger.add_claims([claim_for(1, claim_id="clm-0111"), claim_for(2, claim_id="clm-0112")])
    await ledger.post(remit_835([paid("clm-0111", "ICN-111")], trace="EFT-A"))
    reversed_ = await ledger.post(
        remit_835(
            [paid("clm-0111", "ICN-111", status="22", sign="-")],
            trace="EFT-B",
            plb=[Plb("FB", "-110.00", "ICN-111")],
            handling="H",
            method="NON",
        )
    )
    assert reversed_.outcome.states == {"posted": 1} and reversed_.outcome.exceptions == []
    assert (await ledger.claim("clm-0111")).paid == D("0.00")
    taken = await ledger.post(
        remit_835([paid("clm-0112", "ICN-112")], trace="EFT-C", plb=[Plb("FB", "110.00", "ICN-111")])
    )
    assert taken.outcome.exceptions == []
    assert (await ledger.claim("clm-0111")).paid == D("0.00")
    assert (await ledger.claim("clm-0112")).paid == D("110.00")
    assert await _plb_rows(ledger) == [
        ("FB", "forwarding", D("-110.00"), None),
        ("FB", "forwarding", D("110.00"), None),
    ]


async def test_a_refund_check_acknowledged_with_72_and_wo_moves_the_claim_once(ledger: Ledger) -> None:
    # the provider returned 30.00 by check after a letter; the payer acknowledges it with WO +30.00
    # (the recovery on the claim) offset by 72 -30.00 (the check): net zero in the 835
    await ledger.add_claims([claim_for(1, claim_id="clm-0121"), claim_for(2, claim_id="clm-0122")])
    await ledger.post(remit_835([paid("clm-0121", "ICN-121")], trace="EFT-A"))
    ack = await ledger.post(
        remit_835(
            [paid("clm-0122", "ICN-122")],
            trace="EFT-B",
            plb=[Plb("WO", "30.00", "ICN-121"), Plb("72", "-30.00", "ICN-121")],
        )
    )
    assert ack.outcome.exceptions == []
    assert (await ledger.claim("clm-0121")).paid == D("80.00")
    assert await _plb_rows(ledger) == [
        ("72", "refund", D("-30.00"), None),
        ("WO", "recoupment", D("30.00"), "clm-0121"),
    ]


async def test_plb_interest_nonreimbursable_and_adjustments(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0131")])
    posted = await ledger.post(
        remit_835(
            [paid("clm-0131", "ICN-131")],
            trace="EFT-A",
            plb=[
                Plb("L6", "-2.15", "ICN-131"),
                Plb("J1", "5.00", "ICN-131"),
                Plb("CS", "-3.00", "SETTLEMENT 77"),
                Plb("L6", "-0.40"),
            ],
        )
    )
    assert posted.outcome.exceptions == []
    (payment,) = await ledger.rows(t.payment)
    assert payment.amount == D("110.00") + D("2.15") - D("5.00") + D("3.00") + D("0.40")
    claim = await ledger.claim("clm-0131")
    assert (claim.paid, claim.interest) == (D("110.00"), D("2.15"))
    assert await _plb_rows(ledger) == [
        ("CS", "other", D("-3.00"), None),
        ("J1", "other", D("5.00"), None),
        ("L6", "interest", D("-2.15"), "clm-0131"),
        ("L6", "interest", D("-0.40"), None),
    ]


# ---------------------------------------------------------------- CAS
async def test_cas_with_several_triplets_and_several_segments_posts_every_amount(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0141", lines=[("clm-0141:1", "90837", "200.00")])])
    line = Svc(
        "90837",
        "200.00",
        "104.00",
        [
            CasSegment("CO", [("45", "41.80"), ("253", "2.20")]),
            CasSegment("PR", [("1", "30.00"), ("2", "10.00"), ("3", "5.00"), ("96", "1.00")]),
            CasSegment(
                "OA",
                [("94", "0.50"), ("B13", "0.25"), ("59", "0.25"), ("A1", "0"), ("B10", "0"), ("97", "5.00")],
            ),
        ],
        on=DOS,
    )
    claim = Clp("clm-0141", "1", "200.00", "104.00", "46.00", "ICN-141", services=[line])
    posted = await ledger.post(remit_835([claim]))
    assert posted.outcome.states == {"posted": 1} and posted.outcome.exceptions == []
    row = await ledger.claim("clm-0141")
    assert (row.paid, row.contractual, row.patient_responsibility, row.other) == (
        D("104.00"),
        D("44.00"),
        D("46.00"),
        D("6.00"),
    )
    adjustments = sorted((a.group_code, a.carc, a.amount) for a in await ledger.rows(t.posted_adjustment))
    assert len(adjustments) == 12
    assert ("OA", "97", D("5.00")) in adjustments and ("PR", "96", D("1.00")) in adjustments
    (balance,) = posted.of("PatientBalanceChanged")
    assert balance.balance == D("46.00")
