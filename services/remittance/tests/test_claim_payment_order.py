"""Claim payments of one claim that come out of order or again: a reversal before the payment it
takes back, a second original payment with no reversal, the parts of a split claim paid at claim
level. Nothing posts twice, nothing is lost, and what is held says why. Synthetic 835s."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

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

    # the payer reversed under another payer id (TRN03) than it paid under: the original does not
    # take that reversal by itself; the waiting-payments matcher finds it on the claim
    early = await ledger.post(
        remit_835([paid("clm-0955", "ICN-955", status="22", sign="-")], trace="EFT-E", payer_id="1888888888")
    )
    assert early.outcome.states == {"orphan_reversal": 1}
    original = await ledger.post(remit_835([paid("clm-0955", "ICN-955")], trace="EFT-F"))
    assert original.outcome.states == {"posted": 1}
    events, posted = await ledger.rematch()
    assert posted == 1
    assert [e.paid for e in events if type(e).__name__ == "PaymentPosted"] == [D("-110.00")]
    assert (await ledger.claim("clm-0955")).paid == D("0.00")
    assert await _open_flags(ledger) == []
    assert await ledger.rematch() == ([], 0)


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
