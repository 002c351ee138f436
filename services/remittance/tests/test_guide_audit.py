"""005010X221A1 reading and posting rules found missing in an audit, each with a synthetic 835."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rcm.remittance import store as t
from rcm.remittance.ingest import ReviewError
from rcm.remittance.testing import Cas, Clp, Ledger, Svc, claim_for, paid, remit_835

D = Decimal
DOS = date(2025, 3, 3)


def _renumbered(content: bytes, control: int, st02: str) -> bytes:
    """``content`` (built with ``control``) with its transaction set numbered ``st02``."""
    number = f"{control:04d}".encode()
    return content.replace(b"ST*835*" + number, b"ST*835*" + st02.encode()).replace(
        b"*" + number + b"~", b"*" + st02.encode() + b"~"
    )


async def test_a_broken_set_holds_only_its_own_interchange_when_st02_repeats(ledger: Ledger) -> None:
    # two interchanges in one file, each numbering its set 0001; the second's claim is unreadable,
    # its CLP04 too (so the payment cannot balance: the set is held)
    await ledger.add_claims([claim_for(1, claim_id="clm-0901"), claim_for(2, claim_id="clm-0902")])
    good = remit_835([paid("clm-0901", "ICN-901")], trace="EFT-901", control=1)
    bad = _renumbered(remit_835([paid("clm-0902", "ICN-902")], trace="EFT-902", control=2), 2, "0001")
    bad = bad.replace(b"CLP*clm-0902*1*170.00*110.00", b"CLP*clm-0902*1*170.00*1X0.00")
    posted = await ledger.post(good + bad)
    assert sorted(posted.outcome.exceptions) == ["incomplete_payment", "invalid_claim"]
    statuses = {r.trace_number: r.status for r in await ledger.rows(t.payment)}
    assert statuses == {"EFT-901": "posted", "EFT-902": "incomplete"}
    assert (await ledger.claim("clm-0901")).paid == D("110.00")
    assert (await ledger.claim("clm-0902")).paid == D("0")
    flag = next(r for r in await ledger.rows(t.remit_exception) if r.kind == "invalid_claim")
    assert flag.detail["interchange"] == "000000002" and flag.detail["set"] == "0001"


async def test_a_claim_status_the_guide_does_not_list_is_held_not_posted_as_primary(ledger: Ledger) -> None:
    # CLP02 5 (pended, a 4010 code 5010 dropped): read as primary it would write CO-45 off
    await ledger.add_claims([claim_for(1, claim_id="clm-0911"), claim_for(2, claim_id="clm-0912")])
    pended = Clp(
        "clm-0911",
        "5",
        "170.00",
        "0",
        "0",
        "ICN-911",
        services=[Svc("90837", "170.00", "0", [Cas("CO", "45", "170.00")], on=DOS)],
    )
    posted = await ledger.post(remit_835([pended, paid("clm-0912", "ICN-912")]))
    assert posted.outcome.states == {"held": 1, "posted": 1}
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.kind == "unknown_claim_status" and "CLP02 '5'" in flag.message
    claim = await ledger.claim("clm-0911")
    assert (claim.paid, claim.contractual, claim.denied) == (D("0"), D("0"), D("0"))
    assert [e.claim_id for e in posted.of("PaymentPosted")] == ["clm-0912"]
    states = {r.patient_control_number: r.state for r in await ledger.rows(t.claim_payment)}
    assert states == {"clm-0911": "held", "clm-0912": "posted"}


@pytest.mark.parametrize("status", ["23", "25"])
async def test_money_under_a_status_that_pays_nothing_is_held_not_lost(ledger: Ledger, status: str) -> None:
    # CLP02 25 is predetermination pricing only, 23 not our claim: neither pays, so 50.00 under them
    # would be in the deposit and on no claim
    await ledger.add_claims([claim_for(1, claim_id="clm-0931"), claim_for(2, claim_id="clm-0932")])
    priced = Clp(
        "clm-0931",
        status,
        "170.00",
        "50.00",
        "0",
        "ICN-931",
        services=[Svc("90837", "170.00", "50.00", [Cas("CO", "45", "120.00")], on=DOS)],
    )
    posted = await ledger.post(remit_835([priced, paid("clm-0932", "ICN-932")]))
    assert posted.outcome.states == {"held": 1, "posted": 1}
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.kind == "paid_under_a_non_paying_status" and f"CLP02 {status}" in flag.message
    assert (await ledger.claim("clm-0931")).paid == D("0")

    # the same status with CLP04 0, as the guide has it, is recorded as before
    await ledger.add_claims([claim_for(3, claim_id="clm-0933")])
    plain = Clp("clm-0933", status, "170.00", "0", "0", "ICN-933", cas=[Cas("CO", "45", "170.00")])
    again = await ledger.post(remit_835([plain], trace="EFT-933"))
    assert again.outcome.states == {"recorded": 1}


async def test_an_adjustment_group_the_guide_does_not_list_is_held_not_dropped(ledger: Ledger) -> None:
    # CAS*XX balances the claim (170 - 60 = 110) but names no ledger: posted, 60.00 would vanish
    await ledger.add_claims([claim_for(1, claim_id="clm-0921")])
    odd = Clp(
        "clm-0921",
        "1",
        "170.00",
        "110.00",
        "0",
        "ICN-921",
        services=[Svc("90837", "170.00", "110.00", [Cas("XX", "45", "60.00")], on=DOS)],
    )
    posted = await ledger.post(remit_835([odd]))
    assert posted.outcome.states == {"held": 1}
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.kind == "unknown_adjustment_group" and "'XX'" in flag.message
    assert await ledger.rows(t.posted_line) == []
    assert (await ledger.claim("clm-0921")).paid == D("0")
    assert posted.of("PaymentPosted") == []


async def test_an_835_for_another_payee_is_held_and_posts_nothing_to_our_claims(ledger: Ledger) -> None:
    # a mailbox carrying another practice's 835, whose CLP01 happens to name a claim of ours
    await ledger.add_claims([claim_for(1, claim_id="clm-0931")])
    ours = ("1234567893", "12-3456789")
    other = remit_835(
        [paid("clm-0931", "ICN-931")], trace="EFT-931", payee_npi="1999999976", payee_tin="98-7654321"
    )
    held = await ledger.post(other, payee_ids=ours)
    assert held.outcome.exceptions == ["other_payee"] and held.events == []
    (payment,) = await ledger.rows(t.payment)
    assert payment.status == "other_payee"
    assert await ledger.rows(t.claim_payment) == [] and await ledger.rows(t.posted_line) == []
    assert (await ledger.claim("clm-0931")).paid == D("0")


async def test_a_payment_held_for_a_payee_the_settings_missed_posts_once_reposted(ledger: Ledger) -> None:
    # the practice's new group NPI was not yet listed: its 835 was held; once listed, a person
    # reposts it from the stored file (the same content delivered again is skipped as a duplicate)
    await ledger.add_claims([claim_for(1, claim_id="clm-0935")])
    content = remit_835([paid("clm-0935", "ICN-935")], trace="EFT-935", payee_npi="1999999976")
    held = await ledger.post(content, payee_ids=("1234567893",))
    (payment,) = await ledger.rows(t.payment)
    assert payment.status == "other_payee"
    assert (await ledger.post(content, payee_ids=("1999999976",))).outcome.duplicate_file
    assert (await ledger.claim("clm-0935")).paid == D("0")

    # still not listed: held again, with one open exception
    events, status = await ledger.repost(payment.payment_id, payee_ids=("1234567893",))
    assert (events, status) == ([], "other_payee")
    open_flags = [r for r in await ledger.rows(t.remit_exception) if r.resolved_at is None]
    assert [r.kind for r in open_flags] == ["other_payee"]

    events, status = await ledger.repost(payment.payment_id, payee_ids=("1234567893", "1999999976"))
    assert status == "posted"
    assert [e.claim_id for e in events if type(e).__name__ == "PaymentPosted"] == ["clm-0935"]
    assert (await ledger.claim("clm-0935")).paid == D("110.00")
    assert [r for r in await ledger.rows(t.remit_exception) if r.resolved_at is None] == []
    assert held.outcome.exceptions == ["other_payee"]

    # posted is final: a second repost is refused and posts nothing twice
    with pytest.raises(ReviewError, match="is posted"):
        await ledger.repost(payment.payment_id, payee_ids=("1999999976",))
    with pytest.raises(ReviewError, match="no payment"):
        await ledger.repost("pay-unknown", payee_ids=("1999999976",))
    assert len(await ledger.rows(t.posted_line)) == 1


async def test_an_835_names_its_payee_by_npi_or_by_tax_id_written_either_way(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0941"), claim_for(2, claim_id="clm-0942")])
    by_npi = await ledger.post(
        remit_835([paid("clm-0941", "ICN-941")], trace="EFT-941"), payee_ids=("1234567893",)
    )
    # N1*PE names a group NPI the practice did not list; REF*TJ carries its tax id without the hyphen
    by_tin = await ledger.post(
        remit_835(
            [paid("clm-0942", "ICN-942")], trace="EFT-942", payee_npi="1999999976", payee_tin="123456789"
        ),
        payee_ids=("12-3456789",),
    )
    assert by_npi.outcome.exceptions == [] and by_tin.outcome.exceptions == []
    assert (await ledger.claim("clm-0941")).paid == D("110.00")
    assert (await ledger.claim("clm-0942")).paid == D("110.00")
