"""835 edge cases against 005010X221A1 and payer practice, each with a synthetic 835 (invented
ids and amounts): split and unbundled lines, claim-level CAS, reversals with a denied
correction, PLB naming our control number, BPR amounts the guide does not allow, remarks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rcm.remittance import store as t
from rcm.remittance.testing import Cas, Clp, Ledger, Plb, Svc, claim_for, paid, remit_835

D = Decimal
DOS = date(2025, 3, 3)


async def _lines(ledger: Ledger) -> list[tuple[str | None, Decimal]]:
    return [(r.line_key, r.paid) for r in await ledger.rows(t.posted_line)]


# ---------------------------------------------------------------- (f) split and unbundled lines
async def test_an_unbundled_service_reported_under_the_billed_code_posts_to_its_line(ledger: Ledger) -> None:
    # one billed 90837; the payer unbundles it: the first service keeps the billed charge, the
    # other is reported with a zero charge and the billed code in SVC06
    await ledger.add_claims([claim_for(1, claim_id="clm-0301")])
    services = [
        Svc("90837", "170.00", "100.00", [Cas("CO", "45", "70.00")], on=DOS),
        Svc("90785", "0", "10.00", [Cas("OA", "94", "-10.00")], on=DOS, original="HC:90837"),
    ]
    claim = Clp("clm-0301", "1", "170.00", "110.00", "0", "ICN-301", services=services)
    posted = await ledger.post(remit_835([claim]))
    assert posted.outcome.states == {"posted": 1} and posted.outcome.exceptions == []
    assert await ledger.rows(t.unmatched) == []
    assert await _lines(ledger) == [("clm-0301:1", D("100.00")), ("clm-0301:1", D("10.00"))]
    assert (await ledger.claim("clm-0301")).paid == D("110.00")
    (remit,) = posted.of("RemitReceived")
    assert [ln.line_key for ln in remit.lines] == ["clm-0301:1", "clm-0301:1"]


async def test_the_parts_of_a_split_line_that_echo_its_ref_6r_post_to_that_line(ledger: Ledger) -> None:
    # four units billed on one line; the payer splits it in two services of two units (SVC07 4),
    # each echoing the line's REF*6R: one paid, one refused
    await ledger.add_claims([claim_for(1, claim_id="clm-0302", lines=[("clm-0302:1", "H0004", "160.00")])])
    split = {"on": DOS, "line_key": "clm-0302:1", "units": "2", "original_units": "4"}
    services = [
        Svc("H0004", "80.00", "60.00", [Cas("CO", "45", "20.00")], **split),  # type: ignore[arg-type]
        Svc("H0004", "80.00", "0", [Cas("CO", "119", "80.00")], **split),  # type: ignore[arg-type]
    ]
    posted = await ledger.post(
        remit_835([Clp("clm-0302", "1", "160.00", "60.00", "0", "ICN-302", services=services)])
    )
    assert posted.outcome.exceptions == [] and await ledger.rows(t.unmatched) == []
    assert await _lines(ledger) == [("clm-0302:1", D("60.00")), ("clm-0302:1", D("0.00"))]
    (remit,) = posted.of("RemitReceived")
    assert [(ln.line_key, ln.paid) for ln in remit.lines] == [
        ("clm-0302:1", D("60.00")),
        ("clm-0302:1", D("0")),
    ]


async def test_a_split_line_without_ref_6r_is_told_by_its_billed_units(ledger: Ledger) -> None:
    await ledger.add_claims(
        [
            claim_for(
                1,
                claim_id="clm-0303",
                lines=[("clm-0303:1", "H0004", "160.00"), ("clm-0303:2", "90785", "20.00")],
            )
        ]
    )
    services = [
        Svc("H0004", "80.00", "60.00", [Cas("CO", "45", "20.00")], on=DOS, units="2", original_units="4"),
        Svc("H0004", "80.00", "60.00", [Cas("CO", "45", "20.00")], on=DOS, units="2", original_units="4"),
        Svc("90785", "20.00", "15.00", [Cas("CO", "45", "5.00")], on=DOS),
    ]
    posted = await ledger.post(
        remit_835([Clp("clm-0303", "1", "180.00", "135.00", "0", "ICN-303", services=services)])
    )
    assert posted.outcome.exceptions == [] and await ledger.rows(t.unmatched) == []
    assert sorted(await _lines(ledger), key=str) == [
        ("clm-0303:1", D("60.00")),
        ("clm-0303:1", D("60.00")),
        ("clm-0303:2", D("15.00")),
    ]


async def test_a_second_service_of_a_line_that_is_no_part_of_it_still_waits_for_a_person(
    ledger: Ledger,
) -> None:
    # the same code twice with a charge each and no SVC06/SVC07: not a split, the line is used once
    await ledger.add_claims([claim_for(1, claim_id="clm-0304")])
    services = [Svc("90837", "170.00", "110.00", [Cas("CO", "45", "60.00")], on=DOS)] * 2
    posted = await ledger.post(
        remit_835([Clp("clm-0304", "1", "340.00", "220.00", "0", "ICN-304", services=services)])
    )
    assert posted.outcome.states == {"posted": 1}
    (queued,) = await ledger.rows(t.unmatched)
    assert queued.reason == "no_line"


# ---------------------------------------------------------------- (c) claim-level CAS
async def test_claim_level_cas_beside_line_cas_posts_at_claim_level_and_balances(ledger: Ledger) -> None:
    # sequestration (CO-253) taken off the claim, below the sum of the lines' SVC03
    await ledger.add_claims([claim_for(1, claim_id="clm-0311")])
    claim = Clp(
        "clm-0311",
        "1",
        "170.00",
        "107.80",
        "25.00",
        "ICN-311",
        cas=[Cas("CO", "253", "2.20")],
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
    )
    posted = await ledger.post(remit_835([claim]))
    assert posted.outcome.states == {"posted": 1} and posted.outcome.exceptions == []
    row = await ledger.claim("clm-0311")
    assert (row.paid, row.contractual, row.patient_responsibility) == (D("107.80"), D("37.20"), D("25.00"))
    assert await _lines(ledger) == [("clm-0311:1", D("110.00")), (None, D("-2.20"))]
    (event,) = posted.of("PaymentPosted")
    assert (event.paid, event.claim_balance) == (D("107.80"), D("0.00"))


# ---------------------------------------------------------------- (a) reversal and correction
async def test_a_reversal_with_a_denied_correction_nets_once_and_a_regenerated_copy_posts_nothing(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0321")])
    await ledger.post(remit_835([paid("clm-0321", "ICN-321")], trace="EFT-A"))
    denied = Clp(
        "clm-0321",
        "4",
        "170.00",
        "0",
        "0",
        "ICN-321",
        services=[Svc("90837", "170.00", "0", [Cas("CO", "50", "170.00")], on=DOS)],
    )
    back = paid("clm-0321", "ICN-321", status="22", sign="-")
    # the 835 nets negative: the payer carries it forward (PLB FB), BPR02 zero, no payment
    first = await ledger.post(
        remit_835(
            [back, denied], trace="EFT-B", plb=[Plb("FB", "-110.00", "EFT-B")], handling="H", method="NON"
        )
    )
    assert first.outcome.states == {"posted": 2} and first.outcome.exceptions == []
    row = await ledger.claim("clm-0321")
    assert (row.paid, row.contractual, row.denied, row.patient_responsibility) == (
        D("0.00"),
        D("0.00"),
        D("170.00"),
        D("0.00"),
    )
    # the payer regenerates the same adjudication under another trace: nothing moves twice
    again = await ledger.post(
        remit_835(
            [back, denied], trace="EFT-B2", plb=[Plb("FB", "-110.00", "EFT-B2")], handling="H", method="NON"
        )
    )
    # the reversal again is a repeat of the one posted, not a reversal waiting for a payment to come
    assert again.outcome.states == {"duplicate": 2}
    assert again.outcome.exceptions == ["duplicate_claim_payment", "duplicate_claim_payment"]
    row = await ledger.claim("clm-0321")
    assert (row.paid, row.denied) == (D("0.00"), D("170.00"))


async def test_a_reversal_and_its_correction_in_two_later_835s_post_net_once(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0322")])
    await ledger.post(remit_835([paid("clm-0322", "ICN-322")], trace="EFT-A"))
    reversal = await ledger.post(
        remit_835(
            [paid("clm-0322", "ICN-322", status="22", sign="-")],
            trace="EFT-B",
            plb=[Plb("FB", "-110.00", "EFT-B")],
            handling="H",
            method="NON",
        )
    )
    assert reversal.outcome.exceptions == []
    assert (await ledger.claim("clm-0322")).paid == D("0.00")
    # the correction repeats the original's number and money: the original is reversed, so it posts
    correction = await ledger.post(
        remit_835([paid("clm-0322", "ICN-322")], trace="EFT-C", plb=[Plb("FB", "110.00", "EFT-B")])
    )
    assert correction.outcome.states == {"posted": 1} and correction.outcome.exceptions == []
    row = await ledger.claim("clm-0322")
    assert (row.paid, row.contractual, row.patient_responsibility) == (D("110.00"), D("35.00"), D("25.00"))


async def test_a_reversal_then_a_correction_repeating_the_original_in_one_835_nets_to_it(
    ledger: Ledger,
) -> None:
    # the payer reprocessed and came to the same result: same CLP07 and money, reversal first
    await ledger.add_claims([claim_for(1, claim_id="clm-0323")])
    await ledger.post(remit_835([paid("clm-0323", "ICN-323")], trace="EFT-A"))
    both = await ledger.post(
        remit_835(
            [paid("clm-0323", "ICN-323", status="22", sign="-"), paid("clm-0323", "ICN-323")],
            trace="EFT-B",
            handling="H",
            method="NON",
        )
    )
    assert both.outcome.states == {"posted": 2} and both.outcome.exceptions == []
    row = await ledger.claim("clm-0323")
    assert (row.paid, row.contractual, row.patient_responsibility) == (D("110.00"), D("35.00"), D("25.00"))
    open_ = [r for r in await ledger.rows(t.claim_payment) if r.status == "1" and r.reversed_by is None]
    assert len(open_) == 1


# ---------------------------------------------------------------- (d) a claim split across 835s
async def test_a_claim_split_across_two_835s_posts_each_part_to_its_line(ledger: Ledger) -> None:
    lines = [("clm-0331:1", "90837", "170.00"), ("clm-0331:2", "90785", "20.00")]
    await ledger.add_claims([claim_for(1, claim_id="clm-0331", lines=lines)])
    first = Clp(
        "clm-0331",
        "1",
        "170.00",
        "110.00",
        "25.00",
        "ICN-331-A",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
        rarcs=["MA15"],
    )
    second = Clp(
        "clm-0331",
        "4",
        "20.00",
        "0",
        "0",
        "ICN-331-B",
        services=[Svc("90785", "20.00", "0", [Cas("CO", "197", "20.00")], on=DOS)],
        rarcs=["MA15"],
    )
    a = await ledger.post(remit_835([first], trace="EFT-A"))
    b = await ledger.post(remit_835([second], trace="EFT-B", handling="H", method="NON"))
    assert (a.outcome.states, b.outcome.states) == ({"posted": 1}, {"posted": 1})
    assert b.outcome.exceptions == []
    row = await ledger.claim("clm-0331")
    assert (row.paid, row.denied, row.patient_responsibility) == (D("110.00"), D("20.00"), D("25.00"))
    assert await _lines(ledger) == [("clm-0331:1", D("110.00")), ("clm-0331:2", D("0.00"))]
    # the later part's remit names only its own line, with the split remark
    (remit,) = b.of("RemitReceived")
    assert [ln.line_key for ln in remit.lines] == ["clm-0331:2"] and remit.rarcs == ["MA15"]
    # reversing one part takes back that part only
    back = Clp(
        "clm-0331",
        "22",
        "-170.00",
        "-110.00",
        "-25.00",
        "ICN-331-A",
        services=[
            Svc("90837", "-170.00", "-110.00", [Cas("CO", "45", "-35.00"), Cas("PR", "3", "-25.00")], on=DOS)
        ],
    )
    await ledger.post(
        remit_835([back], trace="EFT-C", plb=[Plb("FB", "-110.00", "EFT-C")], handling="H", method="NON")
    )
    row = await ledger.claim("clm-0331")
    assert (row.paid, row.denied, row.patient_responsibility) == (D("0.00"), D("20.00"), D("0.00"))


def _part(icn: str, rarcs: list[str]) -> Clp:
    cas = [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")]
    services = [Svc("90837", "170.00", "110.00", cas, on=DOS)]
    return Clp("clm-0332", "1", "170.00", "110.00", "25.00", icn, services=services, rarcs=rarcs)


async def test_the_parts_of_a_split_claim_with_alike_lines_go_to_the_line_left_unpaid(ledger: Ledger) -> None:
    # two alike lines on one day, no REF*6R; the payer splits the claim (MA15) and pays each part
    # in its own 835: the second part is the other line's, not a repeat of the first
    lines = [("clm-0332:1", "90837", "170.00"), ("clm-0332:2", "90837", "170.00")]
    await ledger.add_claims([claim_for(1, claim_id="clm-0332", lines=lines)])
    await ledger.post(remit_835([_part("ICN-332-A", ["MA15"])], trace="EFT-A"))
    second = await ledger.post(remit_835([_part("ICN-332-B", ["MA15"])], trace="EFT-B"))
    assert second.outcome.states == {"posted": 1} and second.outcome.exceptions == []
    assert sorted(await _lines(ledger), key=str) == [("clm-0332:1", D("110.00")), ("clm-0332:2", D("110.00"))]
    (remit,) = second.of("RemitReceived")
    assert [ln.line_key for ln in remit.lines] == ["clm-0332:2"]
    # a third part when both lines are paid is a repeat
    third = await ledger.post(remit_835([_part("ICN-332-C", ["MA15"])], trace="EFT-C"))
    assert third.outcome.states == {"duplicate": 1}


async def test_the_same_money_again_without_a_split_remark_stays_a_repeat(ledger: Ledger) -> None:
    lines = [("clm-0332:1", "90837", "170.00"), ("clm-0332:2", "90837", "170.00")]
    await ledger.add_claims([claim_for(1, claim_id="clm-0332", lines=lines)])
    await ledger.post(remit_835([_part("ICN-332-A", [])], trace="EFT-A"))
    again = await ledger.post(remit_835([_part("ICN-332-B", [])], trace="EFT-B"))
    assert again.outcome.states == {"duplicate": 1}
    assert (await ledger.claim("clm-0332")).paid == D("110.00")


# ---------------------------------------------------------------- (b) PLB
async def test_a_plb_recoupment_naming_our_control_number_moves_that_claim(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0341"), claim_for(2, claim_id="clm-0342")])
    await ledger.post(remit_835([paid("clm-0341", "ICN-341")], trace="EFT-A"))
    posted = await ledger.post(
        remit_835([paid("clm-0342", "ICN-342")], trace="EFT-B", plb=[Plb("WO", "20.00", "clm-0341")])
    )
    assert posted.outcome.exceptions == []
    (payment,) = await ledger.rows(t.payment, t.payment.c.trace_number == "EFT-B")
    assert payment.amount == D("90.00")  # 110.00 - 20.00
    ((reason, kind, amount, claim_id),) = [
        (r.reason, r.kind, r.amount, r.claim_id) for r in await ledger.rows(t.provider_adjustment)
    ]
    assert (reason, kind, amount, claim_id) == ("WO", "recoupment", D("20.00"), "clm-0341")
    assert (await ledger.claim("clm-0341")).paid == D("90.00")


# ---------------------------------------------------------------- (e) BPR
async def test_a_negative_bpr02_posts_balanced_but_is_flagged(ledger: Ledger) -> None:
    # a recovery larger than what the 835 pays: the guide wants BPR02 zero and a PLB FB (or a debit)
    await ledger.add_claims([claim_for(1, claim_id="clm-0351")])
    await ledger.post(remit_835([paid("clm-0351", "ICN-351")], trace="EFT-A"))
    posted = await ledger.post(
        remit_835([], trace="EFT-B", amount="-40.00", plb=[Plb("WO", "40.00", "ICN-351")])
    )
    assert posted.outcome.exceptions == ["negative_payment"]
    (payment,) = await ledger.rows(t.payment, t.payment.c.trace_number == "EFT-B")
    assert (payment.amount, payment.status) == (D("-40.00"), "posted")
    assert [r.kind for r in await ledger.rows(t.provider_adjustment)] == ["recoupment"]
    assert (await ledger.claim("clm-0351")).paid == D("70.00")
    # a debit (BPR03 D) is how the guide takes money back: not flagged
    debit = await ledger.post(remit_835([], trace="EFT-C", plb=[Plb("WO", "10.00", "ICN-351")]))
    (taken,) = await ledger.rows(t.payment, t.payment.c.trace_number == "EFT-C")
    assert debit.outcome.exceptions == [] and taken.amount == D("-10.00")


async def test_a_notification_only_835_with_a_payment_amount_posts_and_is_flagged(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0361")])
    posted = await ledger.post(remit_835([paid("clm-0361", "ICN-361")], handling="H", method="NON"))
    assert posted.outcome.states == {"posted": 1}
    assert posted.outcome.exceptions == ["notification_with_payment"]
    (flag,) = await ledger.rows(t.remit_exception)
    assert "BPR01 H" in flag.message


# ---------------------------------------------------------------- (g) remarks
async def test_moa_and_lq_he_remarks_reach_the_remit_but_an_ncpdp_reject_code_does_not(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0371")])
    claim = Clp(
        "clm-0371",
        "4",
        "170.00",
        "0",
        "0",
        "ICN-371",
        rarcs=["MA130", "N20"],
        services=[Svc("90837", "170.00", "0", [Cas("CO", "16", "170.00")], on=DOS, rarcs=["M51", "N822"])],
    )
    content = remit_835([claim], handling="H", method="NON").replace(b"LQ*HE*N822", b"LQ*RX*70")
    posted = await ledger.post(content)
    (remit,) = posted.of("RemitReceived")
    assert remit.rarcs == ["MA130", "N20"]
    assert [ln.rarcs for ln in remit.lines] == [["M51"]]
    assert [ln.rarcs for ln in await ledger.rows(t.posted_line)] == [["M51"]]
