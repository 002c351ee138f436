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


# ---------------------------------------------------------------- claims
async def test_interest_paid_within_clp04_is_the_claims_interest_not_its_payment(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0151"), claim_for(2, claim_id="clm-0152")])
    with_interest = Clp(
        "clm-0151",
        "1",
        "170.00",
        "113.42",
        "25.00",
        "ICN-151",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
        amounts=[("I", "3.42")],
    )
    # another payer reports AMT*I for information and pays the interest through PLB L6
    informational = Clp(
        "clm-0152",
        "1",
        "170.00",
        "110.00",
        "25.00",
        "ICN-152",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
        amounts=[("I", "1.10")],
    )
    posted = await ledger.post(remit_835([with_interest, informational], plb=[Plb("L6", "-1.10", "ICN-152")]))
    assert posted.outcome.states == {"posted": 2} and posted.outcome.exceptions == []
    first, second = await ledger.claim("clm-0151"), await ledger.claim("clm-0152")
    assert (first.paid, first.interest) == (D("110.00"), D("3.42"))
    assert (second.paid, second.interest) == (D("110.00"), D("1.10"))
    assert [e.paid for e in posted.of("PaymentPosted")] == [D("110.00"), D("110.00")]

    # the reversal takes the interest back with the payment
    back = Clp(
        "clm-0151",
        "22",
        "-170.00",
        "-113.42",
        "-25.00",
        "ICN-151",
        services=[
            Svc("90837", "-170.00", "-110.00", [Cas("CO", "45", "-35.00"), Cas("PR", "3", "-25.00")], on=DOS)
        ],
        amounts=[("I", "-3.42")],
    )
    reversed_ = await ledger.post(remit_835([back, paid("clm-0152", "ICN-152B")], trace="EFT-R"))
    assert reversed_.outcome.states["posted"] >= 1
    first = await ledger.claim("clm-0151")
    assert (first.paid, first.interest) == (D("0.00"), D("0.00"))


async def test_a_reversal_under_a_new_number_names_the_original_in_ref_f8(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0161")])
    await ledger.post(remit_835([paid("clm-0161", "ICN-161")], trace="EFT-A"))
    await ledger.post(remit_835([paid("clm-0161", "ICN-161X", on=date(2025, 3, 4))], trace="EFT-A2"))
    reversal = paid("clm-0161", "ICN-161R", status="22", sign="-")
    reversal = Clp(**{**_fields(reversal), "refs": [("F8", "ICN-161")]})
    posted = await ledger.post(remit_835([reversal], trace="EFT-B"))
    assert posted.outcome.states == {"posted": 1}
    rows = {r.payer_claim_number: r for r in await ledger.rows(t.claim_payment)}
    assert rows["ICN-161"].reversed_by == rows["ICN-161R"].remit_id
    assert rows["ICN-161X"].reversed_by is None


def _fields(c: Clp) -> dict[str, object]:
    return {name: getattr(c, name) for name in Clp.__dataclass_fields__}


async def test_a_claim_split_in_two_claim_payments_posts_both_parts(ledger: Ledger) -> None:
    # one claim of two identical sessions; the payer splits it (MA15) and pays each part alike
    lines = [("clm-0171:1", "90837", "170.00"), ("clm-0171:2", "90837", "170.00")]
    claim = claim_for(1, claim_id="clm-0171", lines=lines)
    await ledger.add_claims([claim])
    cas = [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")]
    parts = [
        Clp(
            "clm-0171",
            "1",
            "170.00",
            "110.00",
            "25.00",
            f"ICN-171-{n}",
            services=[Svc("90837", "170.00", "110.00", cas, on=DOS, line_key=f"clm-0171:{n}")],
            rarcs=["MA15"],
        )
        for n in (1, 2)
    ]
    posted = await ledger.post(remit_835(parts))
    assert posted.outcome.states == {"posted": 2} and posted.outcome.exceptions == []
    row = await ledger.claim("clm-0171")
    assert (row.paid, row.patient_responsibility) == (D("220.00"), D("50.00"))
    assert sorted(ln.line_key for ln in await ledger.rows(t.posted_line)) == ["clm-0171:1", "clm-0171:2"]
    # the same part again under a third number is still a repeat
    again = Clp(**{**_fields(parts[0]), "icn": "ICN-171-9"})
    repeat = await ledger.post(remit_835([again], trace="EFT-B"))
    assert repeat.outcome.states == {"duplicate": 1}


async def test_lines_match_by_svc06_and_by_a_service_period(ledger: Ledger) -> None:
    lines = [
        ("clm-0181:1", "90837", "170.00"),
        ("clm-0181:2", "90834", "130.00"),
        ("clm-0181:3", "H0004", "40.00"),
    ]
    await ledger.add_claims([claim_for(1, claim_id="clm-0181", lines=lines, on=date(2025, 3, 5))])
    services = [
        # the payer paid 90834 for the 90837 billed: SVC06 names the billed code
        Svc("90834", "170.00", "90.00", [Cas("CO", "45", "80.00")], on=date(2025, 3, 5), original="HC:90837"),
        # no SVC06: the code as billed
        Svc("90834", "130.00", "90.00", [Cas("CO", "45", "40.00")], on=date(2025, 3, 5)),
        # a period instead of a day (DTM*150/151)
        Svc(
            "H0004",
            "40.00",
            "30.00",
            [Cas("CO", "45", "10.00")],
            period=(date(2025, 3, 1), date(2025, 3, 31)),
        ),
    ]
    claim = Clp("clm-0181", "1", "340.00", "210.00", "0", "ICN-181", services=services)
    posted = await ledger.post(remit_835([claim]))
    assert posted.outcome.states == {"posted": 1}
    assert await ledger.rows(t.unmatched) == []
    by_key = {ln.line_key: ln.paid for ln in await ledger.rows(t.posted_line)}
    assert by_key == {"clm-0181:1": D("90.00"), "clm-0181:2": D("90.00"), "clm-0181:3": D("30.00")}


async def test_denied_not_ours_and_zero_payment_835s(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-019{n}") for n in (1, 2)])
    denied = Clp(
        "clm-0191",
        "4",
        "170.00",
        "0",
        "0",
        "ICN-191",
        services=[
            Svc("90837", "170.00", "0", [Cas("CO", "45", "20.00"), Cas("CO", "197", "150.00")], on=DOS)
        ],
    )
    not_ours = Clp("clm-0192", "23", "170.00", "0", "0", "ICN-192", [Cas("OA", "23", "170.00")])
    posted = await ledger.post(remit_835([denied, not_ours], handling="H", method="NON"))
    assert posted.outcome.exceptions == []
    assert posted.outcome.states == {"posted": 1, "recorded": 1}
    (payment,) = await ledger.rows(t.payment)
    assert (payment.amount, payment.method, payment.status) == (D("0"), "NON", "posted")
    first = await ledger.claim("clm-0191")
    assert (first.paid, first.contractual, first.denied) == (D("0"), D("20.00"), D("150.00"))
    second = await ledger.claim("clm-0192")
    assert (second.paid, second.other, second.denied) == (D("0"), D("0"), D("0"))


async def test_a_debit_835_is_negative_and_balances(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0201")])
    await ledger.post(remit_835([paid("clm-0201", "ICN-201")], trace="EFT-A"))
    debit = await ledger.post(
        remit_835([paid("clm-0201", "ICN-201", status="22", sign="-")], trace="EFT-B", credit_debit="D")
    )
    assert debit.outcome.states == {"posted": 1} and debit.outcome.exceptions == []
    (payment,) = await ledger.rows(t.payment, t.payment.c.trace_number == "EFT-B")
    assert payment.amount == D("-110.00")
    assert (await ledger.claim("clm-0201")).paid == D("0.00")


async def test_an_out_of_balance_claim_is_rejected_with_its_reason_and_nothing_of_it_posts(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0211")])
    # the line balances (170 - 60 = 110) but the claim says 112.00
    bad = Clp(
        "clm-0211",
        "1",
        "170.00",
        "112.00",
        "25.00",
        "ICN-211",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
    )
    posted = await ledger.post(remit_835([bad]))
    assert posted.outcome.states == {"unbalanced": 1}
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.kind == "unbalanced_claim" and "CLP04 112.00" in flag.message
    assert await ledger.rows(t.posted_line) == []
    assert (await ledger.claim("clm-0211")).paid == D("0")
    assert posted.of("PaymentPosted") == [] and posted.of("PatientBalanceChanged") == []


async def test_a_payment_order_without_remittance_detail_is_recorded_not_flagged(ledger: Ledger) -> None:
    # BPR01 D: the payer moves money only; the remittance comes in another 835 (BPR01 I)
    order = await ledger.post(remit_835([], trace="EFT-D1", amount="500.00", handling="D"))
    assert order.outcome.exceptions == [] and order.events == []
    (payment,) = await ledger.rows(t.payment)
    assert (payment.status, payment.amount) == ("payment_only", D("500.00"))
    # the same with remittance detail (C) still has to balance
    unbalanced = await ledger.post(
        remit_835([paid("clm-0221", "ICN-221")], trace="EFT-C1", amount="500.00", handling="C")
    )
    assert unbalanced.outcome.exceptions == ["unbalanced_payment"]


# ---------------------------------------------------------------- statement period, CLP02 4, CLP05
async def test_lines_without_dates_match_within_the_claims_statement_period(ledger: Ledger) -> None:
    # two 90837 sessions, 03-03 at 170.00 and 03-10 at 160.00; the 835 dates the claim (DTM*232 and
    # DTM*233) and not its lines, and lists the 03-10 service first
    lines = [("clm-0191:1", "90837", "170.00", DOS), ("clm-0191:2", "90837", "160.00", date(2025, 3, 10))]
    await ledger.add_claims([claim_for(1, claim_id="clm-0191", lines=lines)])
    claim = Clp(
        "clm-0191",
        "1",
        "330.00",
        "220.00",
        "0",
        "ICN-191",
        dates=[("232", DOS), ("233", date(2025, 3, 10))],
        services=[
            Svc("90837", "160.00", "110.00", [Cas("CO", "45", "50.00")]),
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "60.00")]),
        ],
    )
    posted = await ledger.post(remit_835([claim]))
    assert posted.outcome.states == {"posted": 1} and posted.outcome.exceptions == []
    assert await ledger.rows(t.unmatched) == []
    rows = sorted((r.line_key, r.charge, r.contractual) for r in await ledger.rows(t.posted_line))
    assert rows == [("clm-0191:1", D("170.00"), D("60.00")), ("clm-0191:2", D("160.00"), D("50.00"))]


async def test_a_denial_with_money_is_held_and_a_clp05_off_its_pr_adjustments_is_flagged(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0192"), claim_for(2, claim_id="clm-0193")])
    denied_with_money = Clp(
        "clm-0192", "4", "170.00", "110.00", "0", "ICN-192", cas=[Cas("CO", "45", "60.00")]
    )  # CLP02 4 (denied) yet CLP04 110.00
    off = Clp(
        "clm-0193",
        "1",
        "170.00",
        "110.00",
        "30.00",  # CLP05 30.00, the PR adjustments 25.00
        "ICN-193",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
    )
    posted = await ledger.post(remit_835([denied_with_money, off]))
    assert posted.outcome.states == {"held": 1, "posted": 1}
    assert sorted(posted.outcome.exceptions) == [
        "paid_under_a_non_paying_status",
        "patient_responsibility_mismatch",
    ]
    assert (await ledger.claim("clm-0192")).paid == D("0")
    # the PR adjustments (which balance the claim) are the patient's share, not CLP05
    assert (await ledger.claim("clm-0193")).patient_responsibility == D("25.00")
    flags = {f.kind: f.message for f in await ledger.rows(t.remit_exception)}
    assert "CLP02 4" in flags["paid_under_a_non_paying_status"]
    assert "CLP05 30.00" in flags["patient_responsibility_mismatch"]
