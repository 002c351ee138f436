"""A value the 835 reader cannot read inside one claim payment loop (a CAS amount, an SVC composite)
holds that claim payment whole, with the reason; the rest of the payment posts, and the payment
still balances with that claim payment's CLP04 in it. The payer's corrected 835 posts the held one
once and nothing of the rest again. A CLP that cannot say what it pays still holds the whole set."""

from __future__ import annotations

from decimal import Decimal

from rcm.remittance import store as t
from rcm.remittance.remit_file import read_remit_file
from rcm.remittance.testing import Ledger, claim_for, paid, remit_835

D = Decimal


def _three() -> bytes:
    return remit_835([paid("clm-0701", "ICN-701"), paid("clm-0702", "ICN-702"), paid("clm-0703", "ICN-703")])


def _bad_cas(content: bytes) -> bytes:
    """The second claim payment's CO-45 amount cannot be read."""
    at = content.index(b"CLP*clm-0702")
    return content[:at] + content[at:].replace(b"CAS*CO*45*35.00", b"CAS*CO*45*3S.00", 1)


def test_the_reader_holds_the_claim_payment_its_cas_amount_cannot_be_read_in() -> None:
    read = read_remit_file(_bad_cas(_three()))
    [payment] = read.payments
    assert [c.patient_control_number for c in payment.claims] == ["clm-0701", "clm-0703"]
    assert [c.sequence for c in payment.claims] == [1, 3]
    [held] = payment.held_claims
    assert (held.patient_control_number, held.sequence, held.paid) == ("clm-0702", 2, D("110.00"))
    assert "CAS" in held.reason
    assert read.problems == []


def test_an_svc_composite_that_cannot_be_read_holds_its_claim_payment_only() -> None:
    content = _three()
    at = content.index(b"CLP*clm-0703")
    bad = content[:at] + content[at:].replace(b"SVC*HC:90837*", b"SVC*HC*", 1)
    read = read_remit_file(bad)
    [payment] = read.payments
    assert [c.patient_control_number for c in payment.claims] == ["clm-0701", "clm-0702"]
    assert [h.patient_control_number for h in payment.held_claims] == ["clm-0703"]


async def test_the_rest_of_the_payment_posts_and_the_corrected_835_posts_the_held_one_once(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-070{n}") for n in (1, 2, 3)])
    posted = await ledger.post(_bad_cas(_three()), name="first.835")
    assert posted.outcome.states == {"posted": 2, "held": 1}
    assert posted.outcome.exceptions == ["unreadable_claim"]
    [payment] = await ledger.rows(t.payment)
    assert payment.status == "posted"  # BPR02 330.00 = 3 x 110.00: balanced with the held CLP04
    [flag] = await ledger.rows(t.remit_exception)
    assert (flag.detail["claim"], flag.detail["patient_control_number"]) == (2, "clm-0702")
    assert "held whole" in flag.message and "CAS" in flag.message
    assert [(await ledger.claim(f"clm-070{n}")).paid for n in (1, 2, 3)] == [D("110.00"), D("0"), D("110.00")]
    assert sorted(e.claim_id for e in posted.of("PaymentPosted")) == ["clm-0701", "clm-0703"]

    corrected = await ledger.post(_three(), name="corrected.835")
    assert corrected.outcome.states.get("posted") == 1
    assert [e.claim_id for e in corrected.of("PaymentPosted")] == ["clm-0702"]
    assert [(await ledger.claim(f"clm-070{n}")).paid for n in (1, 2, 3)] == [D("110.00")] * 3


async def test_a_held_claim_payment_still_counts_in_the_balance(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-070{n}") for n in (1, 2, 3)])
    # BPR02 leaves the held claim payment's 110.00 out: the payment does not balance, nothing posts
    unbalanced = remit_835(
        [paid("clm-0701", "ICN-701"), paid("clm-0702", "ICN-702"), paid("clm-0703", "ICN-703")],
        amount="220.00",
    )
    posted = await ledger.post(_bad_cas(unbalanced))
    assert "unbalanced_payment" in posted.outcome.exceptions
    assert posted.of("PaymentPosted") == []
    assert [(await ledger.claim(f"clm-070{n}")).paid for n in (1, 2, 3)] == [D("0")] * 3


async def test_a_clp_that_cannot_say_what_it_pays_still_holds_the_whole_payment(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-070{n}") for n in (1, 2, 3)])
    bad = _three().replace(b"CLP*clm-0702*1*170.00*110.00", b"CLP*clm-0702*1*170.00*11O.00", 1)
    posted = await ledger.post(bad)
    assert sorted(posted.outcome.exceptions) == ["incomplete_payment", "invalid_claim"]
    assert posted.of("PaymentPosted") == []
