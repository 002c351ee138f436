"""Posting 835s against PostgreSQL: exactly once, to the right claim and line, flagged when wrong."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from rcm.events.models import PaymentPosted
from rcm.remittance import store as t
from rcm.remittance.ingest import ReviewError
from rcm.remittance.testing import Cas, Clp, Ledger, Plb, Svc, claim_for, paid, remit_835
from rcm.servicekit.testing import sequential_scans

D = Decimal
DOS = date(2025, 3, 3)


async def test_a_payment_posts_to_the_claim_line_and_emits_the_events(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001", lines=[("ses-0001:1", "90837", "170.00")])])
    posted = await ledger.post(remit_835([paid("clm-0001", "ICN-1")]))

    assert posted.outcome.states == {"posted": 1}
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.contractual, claim.patient_responsibility) == (
        D("110.00"),
        D("35.00"),
        D("25.00"),
    )
    (line,) = await ledger.rows(t.posted_line)
    assert line.line_key == "ses-0001:1" and line.allowed == D("135.00")
    adjustments = await ledger.rows(t.posted_adjustment)
    assert sorted((a.group_code, a.carc, a.amount) for a in adjustments) == [
        ("CO", "45", D("35.00")),
        ("PR", "3", D("25.00")),
    ]
    (remit,) = posted.of("RemitReceived")
    assert remit.claim_id == "clm-0001" and remit.lines[0].line_key == "ses-0001:1"
    assert [(a.group, a.carc) for a in remit.lines[0].adjustments] == [("CO", "45"), ("PR", "3")]
    (payment,) = posted.of("PaymentPosted")
    assert (payment.paid, payment.claim_balance) == (D("110.00"), D("0.00"))
    (balance,) = posted.of("PatientBalanceChanged")
    assert (balance.previous_balance, balance.balance) == (D("0"), D("25.00"))


async def test_a_co_197_line_of_a_paid_claim_stays_open_as_denied_not_written_off(ledger: Ledger) -> None:
    await ledger.add_claims(
        [
            claim_for(
                1,
                claim_id="clm-0001",
                lines=[("ses-0001:1", "90837", "170.00"), ("ses-0001:2", "90785", "20.00")],
            )
        ]
    )
    claim = Clp(
        "clm-0001",
        "1",
        "190.00",
        "110.00",
        "25.00",
        "ICN-1",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS),
            Svc("90785", "20.00", "0", [Cas("CO", "197", "20.00")], on=DOS),
        ],
    )
    posted = await ledger.post(remit_835([claim]))
    assert posted.outcome.states == {"posted": 1} and posted.outcome.exceptions == []
    row = await ledger.claim("clm-0001")
    assert (row.paid, row.contractual, row.denied, row.patient_responsibility) == (
        D("110.00"),
        D("35.00"),
        D("20.00"),
        D("25.00"),
    )
    lines = await ledger.rows(t.posted_line)
    assert sorted((ln.line_key, ln.contractual, ln.denied) for ln in lines) == [
        ("ses-0001:1", D("35.00"), D("0.00")),
        ("ses-0001:2", D("0.00"), D("20.00")),
    ]
    # published as a CLP02 4 denial is: no write-off on the line, its amount left in the balance
    (payment,) = posted.of("PaymentPosted")
    assert (payment.contractual_adjustment, payment.patient_responsibility, payment.claim_balance) == (
        D("35.00"),
        D("25.00"),
        D("20.00"),
    )
    assert [(ln.line_key, ln.contractual_adjustment, ln.patient_responsibility) for ln in payment.lines] == [
        ("ses-0001:1", D("35.00"), D("25.00")),
        ("ses-0001:2", D("0.00"), D("0.00")),
    ]
    # the patient owes the copay, never the denied amount
    (balance,) = posted.of("PatientBalanceChanged")
    assert (balance.previous_balance, balance.balance) == (D("0"), D("25.00"))


async def test_a_duplicate_file_changes_nothing(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    content = remit_835([paid("clm-0001", "ICN-1")])
    await ledger.post(content)
    before = await ledger.counts()
    again = await ledger.post(content, name="renamed.835")
    assert again.outcome.duplicate_file and again.events == []
    assert await ledger.counts() == before
    assert (await ledger.claim("clm-0001")).paid == D("110.00")


async def test_a_regenerated_835_for_the_same_payment_is_not_posted_twice(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], control=1))
    regenerated = await ledger.post(
        remit_835([paid("clm-0001", "ICN-1")], control=2)
    )  # other bytes, same TRN
    assert regenerated.outcome.states == {"already_posted": 1}
    assert regenerated.of("PaymentPosted") == []
    assert (await ledger.claim("clm-0001")).paid == D("110.00")
    # Under another trace number the identical claim payment is still recognised.
    other_trace = await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT0002"))
    assert other_trace.outcome.states == {"duplicate": 1}
    assert (await ledger.claim("clm-0001")).paid == D("110.00")


async def test_an_unbalanced_file_is_flagged_and_not_posted(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    posted = await ledger.post(remit_835([paid("clm-0001", "ICN-1")], amount="999.00"))
    assert posted.outcome.exceptions == ["unbalanced_payment"]
    assert posted.events == []
    (payment,) = await ledger.rows(t.payment)
    assert payment.status == "unbalanced"
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.kind == "unbalanced_payment" and "BPR02 999.00" in flag.message
    assert (await ledger.claim("clm-0001")).paid == D("0")
    assert ledger.metrics.exceptions.labels("unbalanced_payment")._value.get() == 1


async def test_an_unbalanced_claim_is_held_while_the_rest_posts(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001"), claim_for(2, claim_id="clm-0002")])
    bad = Clp("clm-0002", "1", "170.00", "100.00", "0", "ICN-2", [Cas("CO", "45", "35.00")])
    posted = await ledger.post(remit_835([paid("clm-0001", "ICN-1"), bad]))
    assert posted.outcome.states == {"posted": 1, "unbalanced": 1}
    assert (await ledger.claim("clm-0002")).paid == D("0")


async def test_a_reversal_undoes_the_original_posting(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))
    corrected = Clp(
        "clm-0001",
        "1",
        "170.00",
        "130.00",
        "5.00",
        "ICN-1B",
        services=[
            Svc("90837", "170.00", "130.00", [Cas("CO", "45", "35.00"), Cas("PR", "2", "5.00")], on=DOS)
        ],
    )
    posted = await ledger.post(
        remit_835([paid("clm-0001", "ICN-1", status="22", sign="-"), corrected], trace="EFT-B")
    )
    assert posted.outcome.states == {"posted": 2}

    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.contractual, claim.patient_responsibility) == (
        D("130.00"),
        D("35.00"),
        D("5.00"),
    )
    payments = {(r.status, r.payer_claim_number): r for r in await ledger.rows(t.claim_payment)}
    assert payments["1", "ICN-1"].reversed_by == payments["22", "ICN-1"].remit_id
    assert payments["1", "ICN-1B"].reversed_by is None
    balances = [(e.previous_balance, e.balance) for e in posted.of("PatientBalanceChanged")]
    assert balances == [(D("25.00"), D("0.00")), (D("0.00"), D("5.00"))]
    # replaying the reversal file changes nothing
    replay = await ledger.post(
        remit_835([paid("clm-0001", "ICN-1", status="22", sign="-"), corrected], trace="EFT-B", control=9)
    )
    assert replay.outcome.states == {"already_posted": 2}
    assert (await ledger.claim("clm-0001")).paid == D("130.00")


async def test_a_reversal_without_an_original_is_queued_not_posted(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    posted = await ledger.post(remit_835([paid("clm-0001", "ICN-1", status="22", sign="-")]))
    assert posted.outcome.states == {"orphan_reversal": 1}
    assert "orphan_reversal" in posted.outcome.exceptions
    assert (await ledger.claim("clm-0001")).paid == D("0")


async def test_a_plb_recoupment_reduces_the_named_claims_payment(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-000{n}") for n in (1, 2, 3)])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1"), paid("clm-0002", "ICN-2")], trace="EFT-A"))
    later = remit_835(
        [paid("clm-0003", "ICN-3")],
        trace="EFT-B",
        plb=[Plb("WO", "40.00", "ICN-2"), Plb("L6", "-1.50", "ICN-1"), Plb("WO", "7.00", "NOT-OURS")],
    )
    posted = await ledger.post(later)
    assert posted.outcome.exceptions == []

    assert (await ledger.claim("clm-0001")).paid == D("110.00")
    assert (await ledger.claim("clm-0001")).interest == D("1.50")
    recouped = await ledger.claim("clm-0002")
    assert recouped.paid == D("70.00")
    (event,) = [e for e in posted.of("PaymentPosted") if e.claim_id == "clm-0002"]
    assert (event.paid, event.claim_balance) == (D("-40.00"), D("40.00"))
    entries = {(r.reason, r.claim_id) for r in await ledger.rows(t.provider_adjustment)}
    assert entries == {("WO", "clm-0002"), ("L6", "clm-0001"), ("WO", None)}


async def test_a_control_number_cut_to_20_characters_posts_to_the_long_claim(ledger: Ledger) -> None:
    long_id = "org-0001.clm-2025-000123"
    await ledger.add_claims([claim_for(1, claim_id=long_id)])
    posted = await ledger.post(remit_835([paid(long_id[:20], "ICN-9")]))
    assert posted.outcome.states == {"posted": 1}
    (row,) = await ledger.rows(t.claim_payment)
    assert row.claim_id == long_id and row.matched_by == "truncated_control_number"


async def test_each_claim_read_of_posting_is_an_index_lookup(ledger: Ledger) -> None:
    """Posting's reads find their claims, lines, numbers and earlier payments through indexes
    (the cut control number as a range of keys), so an 835 costs the same with a year of claims
    on file as with a day's: with 3,000 claims on file and their statistics, the planner reads
    no whole table for any mix of names, and none could need to."""
    from rcm.remittance import lookups

    async with ledger.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO claim (claim_id, claim_key, patient_id, payer_id, payer_responsibility,"
                " total_charge) SELECT 'clm-' || n, 'CLM-' || n, 'pat', 'payer', 'primary', 100"
                " FROM generate_series(1, 3000) AS n"
            )
        )
        await conn.execute(sa.text("ANALYZE claim"))
    names = {"keys": ["CLM-17", "CLM-2999"], "prefixes": ["CLM-12"], "numbers": ["PCN-1"]}
    mixes = [("keys",), ("keys", "numbers"), ("prefixes",), ("keys", "prefixes", "numbers")]
    reads = {n: q for n, q in vars(lookups).items() if n.isupper() and isinstance(q, sa.Select)}
    assert {"_NUMBERS", "_POSTED_OPEN", "_LINES"} <= set(reads)
    async with ledger.engine.begin() as conn:
        for mix in mixes:
            query = lookups.claims_named(*mix)
            assert await sequential_scans(conn, query, {k: names[k] for k in mix}, price_out=False) == [], mix
            assert await sequential_scans(conn, query) == [], mix
        for name, query in reads.items():
            assert await sequential_scans(conn, query) == [], name


async def test_unmatched_claims_and_lines_are_queued_and_published(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001", lines=[("ses-0001:1", "90837", "170.00")])])
    stray_line = Clp(
        "clm-0001",
        "1",
        "190.00",
        "110.00",
        "25.00",
        "ICN-1",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")], on=DOS),
            Svc("90785", "20.00", "0", [Cas("CO", "97", "20.00")], on=DOS),
        ],
    )
    nobody = paid("clm-9999", "ICN-X")
    posted = await ledger.post(remit_835([stray_line, nobody]))
    assert posted.outcome.states == {"posted": 1, "unmatched": 1}
    queue = {(r.kind, r.reason, r.procedure_code) for r in await ledger.rows(t.unmatched)}
    assert queue == {("line", "no_line", "90785"), ("claim", "ambiguous", None)}  # same charge: a candidate
    (event,) = posted.of("RemitUnmatched")
    assert event.patient_control_number == "clm-9999" and event.reason == "ambiguous"
    # the stray line's money is on the claim, at claim level, not lost; its CO-97 is a denial, open
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.contractual, claim.denied) == (D("110.00"), D("35.00"), D("20.00"))


async def test_a_payment_that_arrived_before_its_claim_posts_once_the_claim_is_known(ledger: Ledger) -> None:
    early = await ledger.post(remit_835([paid("clm-0007", "ICN-7")]))
    assert early.outcome.states == {"unmatched": 1} and early.of("RemitReceived") == []
    assert await ledger.rematch() == ([], 0)  # nothing to match yet: still queued

    await ledger.add_claims([claim_for(7, claim_id="clm-0007", lines=[("ses-0007:1", "90837", "170.00")])])
    events, posted = await ledger.rematch()
    assert posted == 1
    (remit,) = [e for e in events if type(e).__name__ == "RemitReceived"]
    assert remit.claim_id == "clm-0007" and remit.lines[0].line_key == "ses-0007:1"
    assert (await ledger.claim("clm-0007")).paid == D("110.00")
    (row,) = await ledger.rows(t.claim_payment)
    assert (row.state, row.claim_id) == ("posted", "clm-0007")
    (queued,) = await ledger.rows(t.unmatched)
    assert queued.resolved_at is not None

    # once resolved it is never posted again, and the same file again changes nothing
    assert await ledger.rematch() == ([], 0)
    again = await ledger.post(remit_835([paid("clm-0007", "ICN-7")]))
    assert again.outcome.duplicate_file
    assert (await ledger.claim("clm-0007")).paid == D("110.00")


async def test_the_same_money_for_the_same_claim_under_another_payer_claim_number_is_a_duplicate(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))
    repeat = await ledger.post(remit_835([paid("clm-0001", "ICN-1-AGAIN")], trace="EFT-B"))
    assert repeat.outcome.states == {"duplicate": 1}
    assert repeat.outcome.exceptions == ["duplicate_claim_payment"]
    assert repeat.of("PaymentPosted") == [] and repeat.of("PatientBalanceChanged") == []
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.patient_responsibility) == (D("110.00"), D("25.00"))

    # once the first is reversed, the same adjudication under a new number is a new posting
    again = await ledger.post(
        remit_835(
            [paid("clm-0001", "ICN-1", status="22", sign="-"), paid("clm-0001", "ICN-1-NEW")], trace="EFT-C"
        )
    )
    assert again.outcome.states == {"posted": 2}
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.patient_responsibility) == (D("110.00"), D("25.00"))


@pytest.mark.parametrize("correction_number", ["ICN-2", "ICN-1"])
async def test_a_correction_listed_before_its_reversal_in_the_same_835_posts(
    ledger: Ledger, correction_number: str
) -> None:
    # 5010 sets no order between a reversal and its correction: here the correction comes first,
    # with the first's money, under a new payer claim number or the same one
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))
    (first,) = await ledger.rows(t.claim_payment)
    reprocessed = await ledger.post(
        remit_835(
            [paid("clm-0001", correction_number), paid("clm-0001", "ICN-1", status="22", sign="-")],
            trace="EFT-B",
        )
    )
    assert reprocessed.outcome.states == {"posted": 2}
    assert reprocessed.outcome.exceptions == []
    # the 835 nets to zero on the claim, and so does what was posted from it
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.contractual, claim.patient_responsibility) == (
        D("110.00"),
        D("35.00"),
        D("25.00"),
    )
    rows = {r.remit_id: r for r in await ledger.rows(t.claim_payment)}
    (reversal,) = [r for r in rows.values() if r.status == "22"]
    assert reversal.reverses == first.remit_id  # the first is taken back, not the correction
    assert rows[first.remit_id].reversed_by == reversal.remit_id
    (correction,) = [r for r in rows.values() if r.status == "1" and r.remit_id != first.remit_id]
    assert (correction.state, correction.reversed_by) == ("posted", None)


async def test_a_correction_with_other_money_listed_before_its_reversal_is_no_overpayment(
    ledger: Ledger,
) -> None:
    """The correction pays 80.00 where the first paid 110.00 and comes before the reversal in the
    835: the claim is overpaid only between the two postings, so no credit balance is flagged."""
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))
    less = _less("ICN-1B")
    reprocessed = await ledger.post(
        remit_835([less, paid("clm-0001", "ICN-1", status="22", sign="-")], trace="EFT-B")
    )
    assert reprocessed.outcome.states == {"posted": 2}
    assert reprocessed.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.contractual, claim.patient_responsibility) == (
        D("80.00"),
        D("65.00"),
        D("25.00"),
    )

    # the claim paid again with no reversal anywhere, the patient's share again with it: held for
    # review before it moves what the patient owes
    twice = await ledger.post(remit_835([paid("clm-0001", "ICN-9")], trace="EFT-C"))
    assert twice.outcome.exceptions == ["second_payment_without_reversal"]
    assert twice.outcome.states == {"held": 1}
    assert (await ledger.claim("clm-0001")).patient_responsibility == D("25.00")


async def test_a_credit_left_once_the_reversal_after_its_correction_posts_is_flagged(ledger: Ledger) -> None:
    """Another payment of the claim is on file: the correction listed before the reversal still
    overpays the claim once the reversal has posted, and that credit is reviewed."""
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))
    # insurance money only (no patient share): posted, the credit balance flagged for a refund review
    other = Clp(
        "clm-0001",
        "1",
        "170.00",
        "100.00",
        "0",
        "ICN-9",
        services=[Svc("90837", "170.00", "100.00", [Cas("CO", "45", "70.00")])],
    )
    assert (await ledger.post(remit_835([other], trace="EFT-B"))).outcome.exceptions == ["overpaid_claim"]
    reprocessed = await ledger.post(
        remit_835([_less("ICN-1B"), paid("clm-0001", "ICN-1", status="22", sign="-")], trace="EFT-C")
    )
    assert reprocessed.outcome.exceptions == ["overpaid_claim"]


def _less(icn: str) -> Clp:
    """A correction of the first payment of clm-0001 (110.00) paying 80.00."""
    return Clp(
        "clm-0001",
        "1",
        "170.00",
        "80.00",
        "25.00",
        icn,
        refs=[("F8", "ICN-1")],
        services=[Svc("90837", "170.00", "80.00", [Cas("CO", "45", "65.00"), Cas("PR", "3", "25.00")])],
    )


async def test_a_payment_held_as_a_repeat_posts_when_a_later_835_reverses_the_first(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))
    repeat = await ledger.post(remit_835([paid("clm-0001", "ICN-2")], trace="EFT-B"))
    assert repeat.outcome.states == {"duplicate": 1}
    assert (await ledger.claim("clm-0001")).paid == D("110.00")

    # the payer's reversal of the first comes later, alone: ICN-2 was its correction and posts now
    reversal = await ledger.post(remit_835([paid("clm-0001", "ICN-1", status="22", sign="-")], trace="EFT-C"))
    assert reversal.outcome.states == {"posted": 1}
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.patient_responsibility) == (D("110.00"), D("25.00"))
    (held,) = await ledger.rows(t.claim_payment, t.claim_payment.c.payer_claim_number == "ICN-2")
    assert held.state == "posted"
    (flag,) = await ledger.rows(t.remit_exception, t.remit_exception.c.kind == "duplicate_claim_payment")
    assert flag.resolved_at is not None
    assert [e.claim_id for e in reversal.of("PaymentPosted")] == ["clm-0001", "clm-0001"]
    # the same reversal file again posts nothing twice
    assert (
        await ledger.post(remit_835([paid("clm-0001", "ICN-1", status="22", sign="-")], trace="EFT-C"))
    ).outcome.duplicate_file
    assert (await ledger.claim("clm-0001")).paid == D("110.00")


async def test_a_second_primary_payment_that_overpays_the_claim_posts_and_is_flagged(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([paid("clm-0001", "ICN-1")], trace="EFT-A"))
    extra = Clp(
        "clm-0001",
        "1",
        "170.00",
        "40.00",
        "0",
        "ICN-2",
        services=[Svc("90837", "170.00", "40.00", [Cas("CO", "45", "130.00")], on=DOS)],
    )
    posted = await ledger.post(remit_835([extra], trace="EFT-B"))
    assert posted.outcome.states == {"posted": 1}
    assert posted.outcome.exceptions == ["overpaid_claim"]
    (event,) = posted.of("PaymentPosted")
    assert event.claim_balance == D("-170.00")
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.detail == {"claim_id": "clm-0001", "claim_balance": "-170.00"}
    assert (await ledger.claim("clm-0001")).paid == D("150.00")


async def test_a_transaction_set_cut_before_its_se_is_held(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    whole = remit_835([paid("clm-0001", "ICN-1")])
    cut = whole[: whole.index(b"SE*")]
    posted = await ledger.post(cut)
    assert posted.outcome.states == {}
    assert "truncated_set" in posted.outcome.exceptions
    assert "incomplete_payment" in posted.outcome.exceptions
    assert posted.events == []
    assert (await ledger.claim("clm-0001")).paid == D("0")
    # the whole file, when it comes, posts
    complete = await ledger.post(whole)
    assert complete.outcome.states == {"posted": 1}
    assert (await ledger.claim("clm-0001")).paid == D("110.00")


async def test_an_envelope_with_wrong_counts_is_reported_and_a_balanced_payment_still_posts(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    content = remit_835([paid("clm-0001", "ICN-1")]).replace(b"GE*1*1~", b"GE*3*1~")
    posted = await ledger.post(content)
    assert posted.outcome.states == {"posted": 1}
    assert posted.outcome.exceptions == ["invalid_envelope"]
    (flag,) = await ledger.rows(t.remit_exception)
    assert "GE01" in flag.message
    (file,) = await ledger.rows(t.remit_file)
    assert file.status == "flagged"


async def test_a_reversal_placed_on_a_claim_with_nothing_to_reverse_stays_in_the_queue(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    # a reversal under the payer's own account number: nothing matches, it waits for a person
    stray = await ledger.post(remit_835([paid("ACCT-77", "ICN-77", status="22", sign="-")], trace="EFT-A"))
    assert stray.outcome.states == {"unmatched": 1}
    (waiting,) = await ledger.rows(t.unmatched)

    # placed on a claim that has no posting to take back: an orphan reversal, flagged and still queued
    _, state = await ledger.assign(waiting.remit_id, "clm-0001")
    assert state == "orphan_reversal"
    assert [e.kind for e in await ledger.rows(t.remit_exception)] == ["orphan_reversal"]
    (still_open,) = await ledger.rows(t.unmatched, t.unmatched.c.resolved_at.is_(None))  # once
    assert still_open.remit_id == waiting.remit_id and still_open.id != waiting.id
    assert (await ledger.claim("clm-0001")).paid == D("0")


async def test_a_person_places_a_queued_claim_payment_and_later_ones_match_by_its_number(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001", lines=[("ses-0001:1", "90837", "170.00")])])
    # the payer wrote its own account number in CLP01: nothing matches
    stray = await ledger.post(remit_835([paid("ACCT-77", "ICN-77")], trace="EFT-A"))
    assert stray.outcome.states == {"unmatched": 1}
    (queued,) = await ledger.rows(t.unmatched)

    with pytest.raises(ReviewError, match="no claim clm-9999"):
        await ledger.assign(queued.remit_id, "clm-9999")
    events, state = await ledger.assign(queued.remit_id, "clm-0001")
    assert state == "posted"
    (posting,) = [e for e in events if isinstance(e, PaymentPosted)]
    assert posting.claim_id == "clm-0001" and posting.lines[0].line_key == "ses-0001:1"
    assert (await ledger.claim("clm-0001")).paid == D("110.00")
    (row,) = await ledger.rows(t.claim_payment)
    assert (row.state, row.matched_by) == ("posted", "review")
    assert all(u.resolved_at is not None for u in await ledger.rows(t.unmatched))
    with pytest.raises(ReviewError, match="is posted, not waiting"):
        await ledger.assign(queued.remit_id, "clm-0001")

    # the payer's reversal under the same payer claim number now finds the claim by itself
    reversal = await ledger.post(remit_835([paid("ACCT-77", "ICN-77", status="22", sign="-")], trace="EFT-B"))
    assert reversal.outcome.states == {"posted": 1}
    assert (await ledger.claim("clm-0001")).paid == D("0.00")


async def test_a_database_made_before_the_lookup_indexes_gets_them_on_upgrade(ledger: Ledger) -> None:
    """A database at revision 0003 (made before the two lookup indexes and the runtime's retention
    indexes) gets them from the later revisions."""
    from rcm.remittance.app import MIGRATIONS
    from rcm.servicekit import upgrade
    from rcm.servicekit.db import KIT_RETENTION_INDEXES

    names = {t.CLAIM_KEY_PREFIX.name, t.PAYER_CLAIM_NUMBER_BY_CLAIM.name, *KIT_RETENTION_INDEXES}
    query = sa.text("SELECT indexname FROM pg_indexes WHERE indexname = ANY(:names)")
    async with ledger.engine.begin() as conn:
        for name in names:
            await conn.execute(sa.text(f"DROP INDEX {name}"))
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0003'"))
    await upgrade(ledger.engine.url.render_as_string(hide_password=False), MIGRATIONS)
    async with ledger.engine.connect() as conn:
        assert set((await conn.execute(query, {"names": list(names)})).scalars()) == names
