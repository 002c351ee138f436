"""A denial the denials service writes off (claim-write-off-requested) closes the claim's denied
amount here: once per request, at most what is denied and open, after the remit it concerns, and
once only across a reversal and its corrected payment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rcm.events.models import PaymentPosted
from rcm.events.testing import claim_write_off_requested
from rcm.remittance import store as t
from rcm.remittance.testing import Cas, Clp, Ledger, Svc, claim_for, paid, remit_835

D = Decimal
DOS = date(2025, 3, 3)


def denied(group: str = "CO", *, sign: str = "", icn: str = "ICN-1") -> Clp:
    """clm-0001 denied (CLP02 4, or its reversal 22 with ``sign`` '-'): 170.00 charged, CO-45 20.00
    and ``group``-197 150.00, nothing paid."""
    return Clp(
        "clm-0001",
        "22" if sign else "4",
        f"{sign}170.00",
        "0",
        "0",
        icn,
        services=[
            Svc(
                "90837",
                f"{sign}170.00",
                "0",
                [Cas("CO", "45", f"{sign}20.00"), Cas(group, "197", f"{sign}150.00")],
                on=DOS,
            )
        ],
    )


def write_off(n: int = 1, amount: str = "150.00", claim_id: str = "clm-0001") -> object:
    return claim_write_off_requested(
        n, claim_id=claim_id, patient_id="pat-0001", amount=amount, reason="CO-197 no authorization"
    )


def postings(events: list[object]) -> list[PaymentPosted]:
    return [e for e in events if isinstance(e, PaymentPosted)]


@pytest.mark.parametrize("group", ["CO", "PI"])
async def test_a_write_off_closes_the_denied_amount_once_per_request(ledger: Ledger, group: str) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    posted = await ledger.post(remit_835([denied(group)]))
    (remit,) = posted.of("PaymentPosted")
    assert (remit.contractual_adjustment, remit.denied, remit.written_off, remit.claim_balance) == (
        D("20.00"),
        D("150.00"),
        D("0"),
        D("150.00"),
    )

    (closed,) = postings(await ledger.deliver(write_off()))
    assert (closed.paid, closed.contractual_adjustment, closed.written_off, closed.claim_balance) == (
        D("0"),
        D("0"),
        D("150.00"),
        D("0.00"),
    )
    assert closed.remit_id == closed.posting_id and closed.remit_id.startswith("wof-")
    assert (closed.claim_id, closed.lines) == ("clm-0001", [])
    claim = await ledger.claim("clm-0001")
    assert (claim.denied, claim.written_off) == (D("150.00"), D("150.00"))
    (row,) = await ledger.rows(t.claim_write_off)
    assert (row.request_id, row.requested, row.applied, row.reason) == (
        "req-0001",
        D("150.00"),
        D("150.00"),
        "CO-197 no authorization",
    )

    # the same request again (a redelivery), then another request for the same denial
    assert await ledger.deliver(write_off(), batch=True) == []
    assert await ledger.deliver(write_off(2)) == []
    assert (await ledger.claim("clm-0001")).written_off == D("150.00")
    applied = {r.request_id: r.applied for r in await ledger.rows(t.claim_write_off)}
    assert applied == {"req-0001": D("150.00"), "req-0002": D("0")}


async def test_a_write_off_closes_no_more_than_the_open_denied_amount(ledger: Ledger) -> None:
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
    await ledger.post(remit_835([claim]))
    # the request names the copay too: the patient's, booked as patient responsibility
    (closed,) = postings(await ledger.deliver(write_off(amount="45.00")))
    assert (closed.written_off, closed.claim_balance) == (D("20.00"), D("0.00"))
    (row,) = await ledger.rows(t.claim_write_off)
    assert (row.requested, row.applied) == (D("45.00"), D("20.00"))
    row_claim = await ledger.claim("clm-0001")
    assert (row_claim.patient_responsibility, row_claim.written_off) == (D("25.00"), D("20.00"))


async def test_a_write_off_read_before_its_remit_waits_and_applies_when_the_remit_posts(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    assert await ledger.deliver(write_off(), write_off(3, claim_id="clm-unknown")) == []
    waiting = {r.request_id: r.applied for r in await ledger.rows(t.claim_write_off)}
    assert waiting == {"req-0001": None, "req-0003": None}
    assert (await ledger.claim("clm-0001")).written_off == D("0")

    posted = await ledger.post(remit_835([denied()]))
    remit, closed = posted.of("PaymentPosted")
    assert (remit.remit_id, remit.claim_balance, remit.written_off) == (
        posted.of("RemitReceived")[0].remit_id,
        D("150.00"),
        D("0"),
    )
    assert (closed.written_off, closed.claim_balance) == (D("150.00"), D("0.00"))
    applied = {r.request_id: r.applied for r in await ledger.rows(t.claim_write_off)}
    assert applied == {"req-0001": D("150.00"), "req-0003": None}
    # the request delivered again after it applied changes nothing
    assert await ledger.deliver(write_off()) == []


@pytest.mark.parametrize(
    ("correction", "written_off", "balance_after"),
    [
        (denied(icn="ICN-1B"), D("150.00"), D("0.00")),
        (paid("clm-0001", "ICN-1B"), D("0"), D("0.00")),
    ],
    ids=["denied-again", "paid-on-appeal"],
)
async def test_a_reversal_after_a_write_off_reopens_it_and_the_correction_is_not_written_off_twice(
    ledger: Ledger, correction: Clp, written_off: Decimal, balance_after: Decimal
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([denied()], trace="EFT-A"))
    await ledger.deliver(write_off())

    posted = await ledger.post(remit_835([denied(sign="-"), correction], trace="EFT-B"))
    assert posted.outcome.states == {"posted": 2}
    reversal, corrected = posted.of("PaymentPosted")
    # the reversal takes the denied amount back: the write-off closes nothing until the correction
    assert (reversal.written_off, reversal.claim_balance) == (D("-150.00"), D("170.00"))
    assert (corrected.written_off, corrected.claim_balance) == (written_off, balance_after)
    claim = await ledger.claim("clm-0001")
    assert claim.written_off == D("150.00")  # the claim's write-off, never applied twice
    assert await ledger.rows(t.claim_write_off, t.claim_write_off.c.applied.is_(None)) == []


async def test_a_waiting_write_off_applies_when_a_person_places_the_remit_on_its_claim(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.deliver(write_off())
    # the denial came under the payer's own account number: queued for a person
    stray = await ledger.post(remit_835([replace(denied(), pcn="ACCT-1")]))
    assert stray.outcome.states == {"unmatched": 1} and stray.of("PaymentPosted") == []
    (queued,) = await ledger.rows(t.unmatched)

    events, state = await ledger.assign(queued.remit_id, "clm-0001")
    assert state == "posted"
    assert [(p.written_off, p.claim_balance) for p in postings(events)] == [
        (D("0"), D("150.00")),
        (D("150.00"), D("0.00")),
    ]
    (row,) = await ledger.rows(t.claim_write_off)
    assert row.applied == D("150.00")
