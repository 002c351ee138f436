"""Claim payments of one claim that come out of order or again: a reversal before the payment it
takes back, a second original payment with no reversal, the parts of a split claim paid at claim
level. Nothing posts twice, nothing is lost, and what is held says why. Synthetic 835s."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rcm.events.testing import payer_updated
from rcm.remittance import store as t
from rcm.remittance.ingest import ReviewError
from rcm.remittance.testing import Cas, Clp, Ledger, Svc, claim_for, paid, remit_835

D = Decimal
DOS = date(2025, 3, 3)


def _correction(pcn: str, icn: str) -> Clp:
    """A correction of a 110.00 payment: 80.00 paid, PR-2 55.00 (the patient's share rises)."""
    return Clp(
        pcn,
        "1",
        "170.00",
        "80.00",
        "55.00",
        icn,
        services=[
            Svc("90837", "170.00", "80.00", [Cas("CO", "45", "35.00"), Cas("PR", "2", "55.00")], on=DOS)
        ],
    )


async def _open_flags(ledger: Ledger) -> list[str]:
    return [e.kind for e in await ledger.rows(t.remit_exception) if e.resolved_at is None]


# ---------------------------------------------------------------- a reversal before its original
async def test_a_reversal_that_came_before_its_original_posts_right_after_it(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0951")])
    early = await ledger.post(
        remit_835(
            [paid("clm-0951", "ICN-951", status="22", sign="-"), _correction("clm-0951", "ICN-951")],
            trace="EFT-B",
        )
    )
    assert early.outcome.states == {"orphan_reversal": 1, "posted": 1}
    assert early.outcome.exceptions == ["orphan_reversal"]

    original = await ledger.post(remit_835([paid("clm-0951", "ICN-951")], trace="EFT-A"))
    assert original.outcome.states == {"posted": 1, "waiting_reversal_posted": 1}
    assert original.outcome.exceptions == []
    claim = await ledger.claim("clm-0951")
    # the correction is what the claim is paid: 80.00, the patient owes 55.00 (not 190.00 and 80.00)
    assert (claim.paid, claim.contractual, claim.patient_responsibility) == (
        D("80.00"),
        D("35.00"),
        D("55.00"),
    )
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("55.00")
    rows = {(r.status, r.paid): r for r in await ledger.rows(t.claim_payment)}
    assert rows["22", D("-110.00")].state == "posted"
    assert rows["1", D("110.00")].reversed_by == rows["22", D("-110.00")].remit_id
    assert await _open_flags(ledger) == []
    assert all(u.resolved_at is not None for u in await ledger.rows(t.unmatched))
    # once: the original's file again, and the matcher, post nothing more
    again = await ledger.post(remit_835([paid("clm-0951", "ICN-951")], trace="EFT-A", control=7))
    assert again.outcome.states == {"already_posted": 1}
    assert await ledger.rematch() == ([], 0)
    assert (await ledger.claim("clm-0951")).paid == D("80.00")


async def test_an_original_held_for_its_payee_takes_its_reversal_when_reposted(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0952")])
    held = await ledger.post(
        remit_835([paid("clm-0952", "ICN-952")], trace="EFT-A", payee_npi="1999999992"),
        payee_ids=["1234567893"],
    )
    assert held.outcome.exceptions == ["other_payee"]
    reversal = await ledger.post(
        remit_835(
            [paid("clm-0952", "ICN-952", status="22", sign="-"), _correction("clm-0952", "ICN-952")],
            trace="EFT-B",
        ),
        payee_ids=["1234567893"],
    )
    assert reversal.outcome.states == {"orphan_reversal": 1, "posted": 1}
    (payment,) = await ledger.rows(t.payment, t.payment.c.status == "other_payee")
    _, status = await ledger.repost(payment.payment_id, payee_ids=["1234567893", "1999999992"])
    assert status == "posted"
    claim = await ledger.claim("clm-0952")
    assert (claim.paid, claim.patient_responsibility) == (D("80.00"), D("55.00"))
    assert await _open_flags(ledger) == []


async def test_an_orphan_reversal_is_reviewable_and_found_by_the_matcher(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-095{n}") for n in (3, 4, 5)])
    # the original came under the payer's own account number: queued for a person
    stray = await ledger.post(remit_835([paid("ACCT-953", "ICN-953")], trace="EFT-A"))
    assert stray.outcome.states == {"unmatched": 1}
    # its reversal names our claim, which has no posting yet: an orphan, waiting
    back = await ledger.post(remit_835([paid("clm-0953", "ICN-953X", status="22", sign="-")], trace="EFT-B"))
    assert back.outcome.states == {"orphan_reversal": 1}
    (orphan,) = await ledger.rows(t.claim_payment, t.claim_payment.c.status == "22")
    # a person places the original: the reversal waiting on that claim posts right after it
    (queued,) = await ledger.rows(t.unmatched, t.unmatched.c.remit_id != orphan.remit_id)
    _, state = await ledger.assign(queued.remit_id, "clm-0953")
    assert state == "posted"
    assert (await ledger.claim("clm-0953")).paid == D("0.00")
    assert await _open_flags(ledger) == []

    # an orphan on a claim with nothing to take back may be placed by a person on the claim that
    # holds its original (the payer named another claim)
    await ledger.post(remit_835([paid("clm-0954", "ICN-954")], trace="EFT-C"))
    wrong = await ledger.post(remit_835([paid("clm-0953", "ICN-954", status="22", sign="-")], trace="EFT-D"))
    assert wrong.outcome.states == {"orphan_reversal": 1}
    (waiting,) = await ledger.rows(t.claim_payment, t.claim_payment.c.state == "orphan_reversal")
    _, state = await ledger.assign(waiting.remit_id, "clm-0954")
    assert state == "posted"
    assert (await ledger.claim("clm-0954")).paid == D("0.00")
    assert await _open_flags(ledger) == []
    assert [u for u in await ledger.rows(t.unmatched) if u.resolved_at is None] == []

    # a reversal under another payer id (TRN03) than the payment, neither naming a payer we know:
    # nothing says it is the same payer's, so neither the original nor the matcher takes it; a
    # person does
    early = await ledger.post(
        remit_835([paid("clm-0955", "ICN-955", status="22", sign="-")], trace="EFT-E", payer_id="1888888888")
    )
    assert early.outcome.states == {"orphan_reversal": 1}
    original = await ledger.post(remit_835([paid("clm-0955", "ICN-955")], trace="EFT-F"))
    assert original.outcome.states == {"posted": 1}
    assert await ledger.rematch() == ([], 0)
    (waiting,) = await ledger.rows(t.claim_payment, t.claim_payment.c.state == "orphan_reversal")
    events, state = await ledger.assign(waiting.remit_id, "clm-0955")
    assert state == "posted"
    assert [e.paid for e in events if type(e).__name__ == "PaymentPosted"] == [D("-110.00")]
    assert (await ledger.claim("clm-0955")).paid == D("0.00")
    assert await _open_flags(ledger) == []
    assert await ledger.rematch() == ([], 0)


# ---------------------------------------------------------------- a reversal under another TRN03
_PAID_UNDER, _REVERSED_UNDER = "1999999999", "1888888888"
"""Two originating company ids (TRN03) of one payer: it changed its id, or another entity of the
plan issues its reversals; ``payer-updated`` names it by both (and a third)."""


async def _payer_known_by_both_ids(ledger: Ledger) -> None:
    await ledger.deliver(
        payer_updated(
            1,
            electronic_payer_id="999999999",
            clearinghouse_payer_ids={"other": "888888888", "third": "666666666"},
        )
    )


async def test_a_reversal_of_the_same_payer_under_another_trn03_posts_right_after_its_original(
    ledger: Ledger,
) -> None:
    await _payer_known_by_both_ids(ledger)
    await ledger.add_claims([claim_for(1, claim_id="clm-0981")])
    early = await ledger.post(
        remit_835(
            [paid("clm-0981", "ICN-981", status="22", sign="-")], trace="EFT-B", payer_id=_REVERSED_UNDER
        )
    )
    assert early.outcome.states == {"orphan_reversal": 1}
    original = await ledger.post(
        remit_835([paid("clm-0981", "ICN-981")], trace="EFT-A", payer_id=_PAID_UNDER)
    )
    assert original.outcome.states == {"posted": 1, "waiting_reversal_posted": 1}
    assert [e.paid for e in original.of("PaymentPosted")] == [D("110.00"), D("-110.00")]
    claim = await ledger.claim("clm-0981")
    assert (claim.paid, claim.patient_responsibility) == (D("0.00"), D("0.00"))
    assert await _open_flags(ledger) == []
    assert all(u.resolved_at is not None for u in await ledger.rows(t.unmatched))
    # once: the original's file again, and the matcher, post nothing more
    again = await ledger.post(
        remit_835([paid("clm-0981", "ICN-981")], trace="EFT-A", payer_id=_PAID_UNDER, control=7)
    )
    assert again.outcome.states == {"already_posted": 1}
    assert await ledger.rematch() == ([], 0)
    assert (await ledger.claim("clm-0981")).paid == D("0.00")


async def test_a_reversal_under_another_trn03_waits_unless_it_is_certainly_the_same_payers(
    ledger: Ledger,
) -> None:
    await _payer_known_by_both_ids(ledger)
    await ledger.deliver(payer_updated(2, electronic_payer_id="777777777"))
    await ledger.add_claims([claim_for(n, claim_id=f"clm-098{n}") for n in (2, 3, 4)])

    async def orphan(pcn: str, icn: str, payer: str, trace: str) -> None:
        back = await ledger.post(
            remit_835([paid(pcn, icn, status="22", sign="-")], trace=trace, payer_id=payer)
        )
        assert back.outcome.states == {"orphan_reversal": 1}

    # another CLP07 than the original's
    await orphan("clm-0982", "ICN-982X", _REVERSED_UNDER, "EFT-B")
    # another payer's TRN03
    await orphan("clm-0983", "ICN-983", "1777777777", "EFT-C")
    # two reversals alike under other TRN03s of the payer: which one takes it back is a person's call
    await orphan("clm-0984", "ICN-984", _REVERSED_UNDER, "EFT-D")
    await orphan("clm-0984", "ICN-984", "1666666666", "EFT-E")
    for pcn in ("clm-0982", "clm-0983", "clm-0984"):
        original = await ledger.post(remit_835([paid(pcn, f"ICN-{pcn[-3:]}")], trace=f"EFT-{pcn}"))
        assert original.outcome.states == {"posted": 1}, pcn
        assert (await ledger.claim(pcn)).paid == D("110.00")
    # nor does the waiting-payments matcher: each stays for a person
    assert await ledger.rematch() == ([], 0)
    waiting = await ledger.rows(t.claim_payment, t.claim_payment.c.state == "orphan_reversal")
    assert sorted(r.claim_id for r in waiting) == ["clm-0982", "clm-0983", "clm-0984", "clm-0984"]
    assert (await _open_flags(ledger)).count("orphan_reversal") == 4


async def test_a_reversal_under_another_trn03_after_its_original_takes_it_back(ledger: Ledger) -> None:
    await _payer_known_by_both_ids(ledger)
    await ledger.add_claims([claim_for(1, claim_id="clm-0985")])
    await ledger.post(remit_835([paid("clm-0985", "ICN-985")], trace="EFT-A", payer_id=_PAID_UNDER))
    back = await ledger.post(
        remit_835(
            [paid("clm-0985", "ICN-985", status="22", sign="-")], trace="EFT-B", payer_id=_REVERSED_UNDER
        )
    )
    assert back.outcome.states == {"posted": 1} and back.outcome.exceptions == []
    assert (await ledger.claim("clm-0985")).paid == D("0.00")


async def test_the_matcher_pairs_a_reversal_under_another_trn03_by_the_same_rule(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0986")])
    # posted while neither TRN03 named a payer we know: the original does not take the reversal
    back = remit_835(
        [paid("clm-0986", "ICN-986", status="22", sign="-")], trace="EFT-B", payer_id=_REVERSED_UNDER
    )
    assert (await ledger.post(back)).outcome.states == {"orphan_reversal": 1}
    await ledger.post(remit_835([paid("clm-0986", "ICN-986")], trace="EFT-A", payer_id=_PAID_UNDER))
    assert await ledger.rematch() == ([], 0)
    # both payments known since as our one payer's: the matcher takes the reversal back, once
    async with ledger.engine.begin() as conn:
        await conn.execute(t.payment.update().values(payer_id="pyr-same"))
    events, posted = await ledger.rematch()
    assert posted == 1
    assert [e.paid for e in events if type(e).__name__ == "PaymentPosted"] == [D("-110.00")]
    assert (await ledger.claim("clm-0986")).paid == D("0.00")
    assert await _open_flags(ledger) == []
    assert await ledger.rematch() == ([], 0)


# ---------------------------------------------------------------- a reversal of a correction not on file
async def _reversed_and_corrected(ledger: Ledger) -> None:
    """P1 paid, then reversed (R1): the correction C1 that follows repeats P1's CLP07 and amounts."""
    await ledger.add_claims([claim_for(1, claim_id="clm-0991")])
    await ledger.post(remit_835([paid("clm-0991", "ICN-991")], trace="EFT-P1"))
    r1 = await ledger.post(remit_835([paid("clm-0991", "ICN-991", status="22", sign="-")], trace="EFT-R1"))
    assert r1.outcome.states == {"posted": 1}


_C1 = remit_835([paid("clm-0991", "ICN-991")], trace="EFT-C1")
_R2 = remit_835([paid("clm-0991", "ICN-991", status="22", sign="-")], trace="EFT-R2")


async def test_a_reversal_of_a_correction_not_on_file_waits_for_it_and_posts_once(ledger: Ledger) -> None:
    await _reversed_and_corrected(ledger)
    # R2 takes back C1, whose 835 comes after it: it looks like R1 again, and is no repeat of it
    r2 = await ledger.post(_R2)
    assert r2.outcome.states == {"orphan_reversal": 1}
    assert r2.outcome.exceptions == ["orphan_reversal"]
    (flag,) = await ledger.rows(t.remit_exception, t.remit_exception.c.kind == "orphan_reversal")
    assert "another trace number" in flag.message and flag.detail["alike"]
    assert (await ledger.claim("clm-0991")).paid == D("0.00")
    assert await ledger.rematch() == ([], 0)  # nothing open on the claim for it to take back

    c1 = await ledger.post(_C1)
    assert c1.outcome.states == {"posted": 1, "waiting_reversal_posted": 1}
    assert [e.paid for e in c1.of("PaymentPosted")] == [D("110.00"), D("-110.00")]
    claim = await ledger.claim("clm-0991")
    assert (claim.paid, claim.patient_responsibility) == (D("0.00"), D("0.00"))
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("0.00")
    assert await _open_flags(ledger) == []
    rows = await ledger.rows(t.claim_payment)
    assert sorted(r.state for r in rows) == ["posted"] * 4
    assert all(r.reversed_by for r in rows if r.status == "1")
    # once: both files again, and the matcher, post nothing more
    assert (await ledger.post(_C1)).outcome.duplicate_file and (await ledger.post(_R2)).outcome.duplicate_file
    assert await ledger.rematch() == ([], 0)
    assert (await ledger.claim("clm-0991")).paid == D("0.00")


async def test_a_reversal_of_a_correction_on_file_takes_it_back(ledger: Ledger) -> None:
    await _reversed_and_corrected(ledger)
    assert (await ledger.post(_C1)).outcome.states == {"posted": 1}
    r2 = await ledger.post(_R2)
    assert r2.outcome.states == {"posted": 1} and r2.outcome.exceptions == []
    assert (await ledger.claim("clm-0991")).paid == D("0.00")
    assert await _open_flags(ledger) == []


async def test_the_same_reversal_sent_again_in_its_transfer_is_a_repeat(ledger: Ledger) -> None:
    await _reversed_and_corrected(ledger)
    # the payer's same transfer (TRN03, TRN02) regenerated under another date: R1 again, not R2
    again = await ledger.post(
        remit_835(
            [paid("clm-0991", "ICN-991", status="22", sign="-")], trace="EFT-R1", paid_on=date(2025, 4, 2)
        )
    )
    assert again.outcome.states == {"duplicate": 1}
    assert "duplicate_claim_payment" in again.outcome.exceptions
    assert (await ledger.claim("clm-0991")).paid == D("0.00")
    # so the correction that comes later is not taken back by it
    assert (await ledger.post(_C1)).outcome.states == {"posted": 1}
    assert (await ledger.claim("clm-0991")).paid == D("110.00")


# ---------------------------------------------------------------- a second payment, no reversal
def _second(icn: str, paid_: str, other: str) -> Clp:
    return Clp(
        "clm-0961",
        "1",
        "170.00",
        paid_,
        "25.00",
        icn,
        cas=[Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00"), Cas("OA", "209", other)],
    )


async def test_a_second_payment_without_a_reversal_is_held_before_it_bills_the_patient_again(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0961")])
    await ledger.post(remit_835([_second("ICN-961", "60.00", "50.00")], trace="EFT-A"))
    second = await ledger.post(remit_835([_second("ICN-961", "50.00", "60.00")], trace="EFT-B"))
    assert second.outcome.states == {"held": 1}
    assert second.outcome.exceptions == ["second_payment_without_reversal"]
    assert second.of("PatientBalanceChanged") == [] and second.of("PaymentPosted") == []
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("25.00")
    claim = await ledger.claim("clm-0961")
    assert (claim.paid, claim.patient_responsibility) == (D("60.00"), D("25.00"))
    (flag,) = await ledger.rows(t.remit_exception)
    assert "does not reverse it" in flag.message

    # the payer reverses the first later: the held one was its correction and posts now, once
    back = Clp(
        "clm-0961",
        "22",
        "-170.00",
        "-60.00",
        "-25.00",
        "ICN-961",
        cas=[Cas("CO", "45", "-35.00"), Cas("PR", "3", "-25.00"), Cas("OA", "209", "-50.00")],
    )
    reversal = await ledger.post(remit_835([back], trace="EFT-C"))  # a debit: the payer takes 60.00
    assert reversal.outcome.states == {"posted": 1} and reversal.outcome.exceptions == []
    assert [e.paid for e in reversal.of("PaymentPosted")] == [D("-60.00"), D("50.00")]
    claim = await ledger.claim("clm-0961")
    assert (claim.paid, claim.patient_responsibility) == (D("50.00"), D("25.00"))
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("25.00")
    assert await _open_flags(ledger) == []


async def test_a_person_releases_a_second_payment_the_payer_confirms_is_its_own(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0961")])
    await ledger.post(remit_835([_second("ICN-961", "60.00", "50.00")], trace="EFT-A"))
    second = await ledger.post(remit_835([_second("ICN-961", "50.00", "60.00")], trace="EFT-B"))
    assert second.outcome.states == {"held": 1}
    (held,) = [r for r in await ledger.rows(t.claim_payment) if r.state == "held"]

    # only a held repeat or second payment can be released; a posted one cannot
    (first,) = [r for r in await ledger.rows(t.claim_payment) if r.state == "posted"]
    with pytest.raises(ReviewError, match="not held as a repeat or a second payment"):
        await ledger.release(first.remit_id)

    events, state = await ledger.release(held.remit_id)
    assert state == "posted"
    assert [e.paid for e in events if type(e).__name__ == "PaymentPosted"] == [D("50.00")]
    claim = await ledger.claim("clm-0961")
    assert (claim.paid, claim.patient_responsibility) == (D("110.00"), D("50.00"))
    # its hold is resolved; posting it flags the claim's overpayment as any posting would
    assert await _open_flags(ledger) == ["overpaid_claim"]
    # released once: a second release finds nothing held
    with pytest.raises(ReviewError):
        await ledger.release(held.remit_id)


async def test_a_correction_its_835_reverses_the_first_for_is_no_second_payment(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0962")])
    await ledger.post(remit_835([paid("clm-0962", "ICN-962")], trace="EFT-A"))
    both = await ledger.post(
        remit_835(
            [_correction("clm-0962", "ICN-962B"), paid("clm-0962", "ICN-962", status="22", sign="-")],
            trace="EFT-B",
        )
    )
    assert both.outcome.states == {"posted": 2} and both.outcome.exceptions == []
    assert (await ledger.claim("clm-0962")).patient_responsibility == D("55.00")


# ---------------------------------------------------------------- split claims (MA15)
async def test_the_parts_of_a_split_claim_paid_at_claim_level_both_post(ledger: Ledger) -> None:
    lines = [("clm-0971:1", "90837", "170.00"), ("clm-0971:2", "90837", "170.00", date(2025, 3, 10))]
    await ledger.add_claims([claim_for(1, claim_id="clm-0971", lines=lines)])

    def part(icn: str) -> Clp:
        cas = [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")]
        return Clp("clm-0971", "1", "170.00", "110.00", "25.00", icn, cas=cas, rarcs=["MA15"])

    first = await ledger.post(remit_835([part("ICN-971A")], trace="EFT-A"))
    second = await ledger.post(remit_835([part("ICN-971B")], trace="EFT-B"))
    assert first.outcome.states == second.outcome.states == {"posted": 1}
    assert second.outcome.exceptions == []
    claim = await ledger.claim("clm-0971")
    assert (claim.paid, claim.contractual, claim.patient_responsibility) == (
        D("220.00"),
        D("70.00"),
        D("50.00"),
    )
    # the same part again (its own CLP07) is still a repeat
    again = await ledger.post(remit_835([part("ICN-971B")], trace="EFT-C"))
    assert again.outcome.states == {"duplicate": 1}
    assert (await ledger.claim("clm-0971")).paid == D("220.00")
