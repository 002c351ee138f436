"""A value the 835 reader cannot read inside one claim payment loop (a CAS amount, an SVC composite)
holds that claim payment whole, with the reason; the rest of the payment posts, and the payment
still balances with that claim payment's CLP04 in it. The payer's corrected 835 posts the held one
once and nothing of the rest again. A CLP that cannot say what it pays still holds the whole set."""

from __future__ import annotations

from decimal import Decimal

from rcm.remittance import store as t
from rcm.remittance.remit_file import read_remit_file
from rcm.remittance.testing import Cas, CasSegment, Clp, Ledger, Plb, Svc, claim_for, paid, remit_835

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


# ---------------------------------------------------------------- amounts the ledger cannot keep
def _cents_off() -> bytes:
    """A set of two claim payments with amounts in thousandths (CLP04 110.005 and 99.995, CAS the
    same), BPR02 210.00 balancing them."""
    third = Clp(
        "clm-0711",
        "1",
        "170.00",
        "110.005",
        "25.00",
        "ICN-711",
        cas=[Cas("CO", "45", "34.995"), Cas("PR", "3", "25.00")],
    )
    fourth = Clp("clm-0712", "1", "170.00", "99.995", "0", "ICN-712", cas=[Cas("CO", "45", "70.005")])
    return remit_835([third, fourth], trace="EFT-B", control=2, amount="210.00")


async def test_an_amount_with_more_than_two_decimals_holds_its_claim_payment_and_the_rest_of_the_file_posts(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-071{n}") for n in (1, 2, 3)])
    good = remit_835([paid("clm-0713", "ICN-713")], trace="EFT-A")
    posted = await ledger.post(good + _cents_off())  # two interchanges in one file
    assert posted.outcome.states == {"posted": 1, "held": 2}
    assert posted.outcome.exceptions == ["invalid_amount", "invalid_amount"]
    assert (await ledger.claim("clm-0713")).paid == D("110.00")
    assert [(await ledger.claim(f"clm-071{n}")).paid for n in (1, 2)] == [D("0"), D("0")]
    flags = await ledger.rows(t.remit_exception)
    assert all("CLP04" in f.message and "more than 2 decimal places" in f.message for f in flags)
    assert {f.detail["patient_control_number"] for f in flags} == {"clm-0711", "clm-0712"}
    [file] = await ledger.rows(t.remit_file)
    assert file.status == "flagged"
    # a CAS amount alone in thousandths holds its claim payment too, naming the CAS element
    cas_only = Clp("clm-0711", "1", "170.00", "110.00", "25.00", "ICN-711", cas=[Cas("CO", "45", "34.995")])
    read = read_remit_file(remit_835([cas_only], trace="EFT-C"))
    [held] = read.payments[0].held_claims
    assert held.kind == "invalid_amount" and held.reason.startswith("CAS03")


async def test_an_amount_of_more_than_ten_digits_holds_its_set_not_the_file(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-072{n}") for n in (1, 2)])
    huge = Clp("clm-0721", "1", "123456789012345", "123456789012345", "0", "ICN-721")
    posted = await ledger.post(
        remit_835([paid("clm-0722", "ICN-722")], trace="EFT-A") + remit_835([huge], trace="EFT-B", control=2)
    )
    assert posted.outcome.states == {"posted": 1}
    assert posted.outcome.exceptions == ["invalid_amount"]
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.message.startswith("BPR02") and "more than 10 digits" in flag.message
    assert (await ledger.claim("clm-0722")).paid == D("110.00")
    assert (await ledger.claim("clm-0721")).paid == D("0")


async def test_a_plb_amount_in_thousandths_holds_its_payment(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0731")])
    posted = await ledger.post(
        remit_835([paid("clm-0731", "ICN-731")], plb=[Plb("L6", "-1.005", "ICN-731")], amount="111.01")
    )
    assert sorted(posted.outcome.exceptions) == ["incomplete_payment", "invalid_amount"]
    assert posted.events == []
    flag = next(f for f in await ledger.rows(t.remit_exception) if f.kind == "invalid_amount")
    assert flag.message.startswith("PLB04")


async def test_a_cas_with_a_seventh_triplet_holds_its_claim_payment_saying_so(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0741")])
    seven = CasSegment("CO", [("45", "10.00")] * 7)
    claim = Clp(
        "clm-0741",
        "1",
        "170.00",
        "100.00",
        "0",
        "ICN-741",
        services=[Svc("90837", "170.00", "100.00", [seven])],
    )
    posted = await ledger.post(remit_835([claim]))
    assert posted.outcome.states == {"held": 1}
    assert posted.outcome.exceptions == ["unreadable_claim"]  # not "unbalanced": what was wrong is said
    (flag,) = await ledger.rows(t.remit_exception)
    assert "six reason/amount/quantity triplets" in flag.message
    assert (await ledger.claim("clm-0741")).paid == D("0")
