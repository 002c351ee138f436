"""A consumed batch has the effect its events would have one at a time, in order, and posting
an 835 reads and writes per payment, not per claim payment: statement counts for a batch of claim
events and for an 835 of 50 claim payments are bounded."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from rcm.events.models import ClaimCreated, PatientPaymentReceived
from rcm.events.testing import claim_acknowledged, claim_submitted, patient_payment_received
from rcm.remittance import store as t
from rcm.remittance.testing import Cas, Clp, Ledger, claim_for, paid, remit_835
from rcm.servicekit.testing import statements_sent

D = Decimal
EARLY = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
LATE = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)


def scenario(s: str) -> list[Any]:
    """Claim events in an order that makes each depend on the ones before it (ids end in ``s``)."""
    a, b, c, r, z, r2 = (f"clm-{x}-{s}" for x in ("a", "b", "c", "r", "z", "r2"))
    patient = f"pat-{s}"
    replacement = {"frequency_code": "7", "patient_id": patient}
    return [
        claim_for(1, claim_id=a, patient_id=patient),
        # the same claim id again, other lines: a replay, nothing of it is kept
        claim_for(1, claim_id=a, patient_id=patient, lines=[(f"{a}:9", "90834", "99.00")]),
        claim_acknowledged(1, claim_id=a, patient_id=patient, payer_claim_number=f"icn-a-{s}"),
        # before their claim: no claim to number or to date
        claim_acknowledged(2, claim_id=b, patient_id=patient, payer_claim_number=f"icn-early-{s}"),
        claim_submitted(2, claim_id=b, patient_id=patient, submitted_at=EARLY),
        # paid before its claim is known, then again once it is
        patient_payment_received(3, payment_id=f"pp-1-{s}", patient_id=patient, claim_id=c, amount="20.00"),
        claim_for(2, claim_id=b, patient_id=patient),
        claim_for(3, claim_id=c, patient_id=patient),
        # replaces a claim created only after it: the number is not remembered
        claim_for(4, claim_id=r2, replaces_claim_id=z, payer_claim_number=f"f8-z-{s}", **replacement),
        claim_for(5, claim_id=z, patient_id=patient),
        claim_for(6, claim_id=r, replaces_claim_id=a, payer_claim_number=f"f8-a-{s}", **replacement),
        claim_submitted(1, claim_id=a, patient_id=patient, submitted_at=EARLY),
        claim_submitted(1, claim_id=a, patient_id=patient, submitted_at=LATE),
        claim_acknowledged(2, claim_id=b, patient_id=patient, payer_claim_number=f"icn-b-{s}"),
        patient_payment_received(4, payment_id=f"pp-2-{s}", patient_id=patient, claim_id=c, amount="5.00"),
        patient_payment_received(4, payment_id=f"pp-2-{s}", patient_id=patient, claim_id=c, amount="5.00"),
    ]


async def projection(ledger: Ledger, s: str) -> dict[str, list[tuple[Any, ...]]]:
    """The claims projection and balances of scenario ``s``, with ``s`` taken out of the ids."""

    def plain(row: Any) -> tuple[Any, ...]:
        return tuple(
            v.replace(s, "*").replace(s.upper(), "*") if isinstance(v, str) else v
            for k, v in row._mapping.items()
            if k not in ("created_at", "updated_at")
        )

    out = {}
    for table, mine in (
        (t.claim, t.claim.c.claim_id.endswith(s)),
        (t.claim_line, t.claim_line.c.claim_id.endswith(s)),
        (t.payer_claim_number, t.payer_claim_number.c.claim_id.endswith(s)),
        (t.patient_balance, t.patient_balance.c.patient_id.endswith(s)),
    ):
        out[table.name] = sorted((plain(r) for r in await ledger.rows(table, mine)), key=repr)
    return out


async def test_a_batch_has_the_effect_of_its_events_one_at_a_time(ledger: Ledger) -> None:
    batched = await ledger.deliver(*scenario("one"), batch=True)
    singly = await ledger.deliver(*scenario("two"))

    assert await projection(ledger, "one") == await projection(ledger, "two")
    changes = [[(e.previous_balance, e.balance) for e in events] for events in (batched, singly)]
    assert changes[0] == changes[1] == [(D("0"), D("-20.00")), (D("-20.00"), D("-25.00"))]
    projected = await projection(ledger, "one")
    assert [n[0] for n in projected["payer_claim_number"]] == ["F8-A-*", "ICN-A-*", "ICN-B-*"]
    claims = {row[0]: row for row in await ledger.rows(t.claim, t.claim.c.claim_id.endswith("one"))}
    assert claims["clm-a-one"].submitted_at == LATE and claims["clm-b-one"].submitted_at is None
    assert claims["clm-c-one"].patient_paid == D("25.00")

    # its claims and payments again (a replay past the inbox) change nothing
    before = await projection(ledger, "one")
    again = [e for e in scenario("one") if isinstance(e, ClaimCreated | PatientPaymentReceived)]
    assert await ledger.deliver(*again, batch=True) == []
    assert await projection(ledger, "one") == before


async def test_50_claims_projected_and_an_835_of_50_claim_payments_take_few_statements(
    ledger: Ledger,
) -> None:
    n = 50
    ids = [f"clm-{i:04d}" for i in range(1, n + 1)]
    claims = [claim_for(i, claim_id=c) for i, c in enumerate(ids, 1)]
    submitted = [claim_submitted(i, claim_id=c) for i, c in enumerate(ids, 1)]
    acknowledged = [
        claim_acknowledged(i, claim_id=c, payer_claim_number=f"ICN-{i}") for i, c in enumerate(ids, 1)
    ]
    with statements_sent(ledger.engine) as consumed:
        await ledger.deliver(*claims, *submitted, *acknowledged, batch=True)
    # one statement per run of events (and one for the queued claim lines), where it was one to
    # three per event (300 for these 150 events)
    assert len(consumed) <= 10, len(consumed)
    assert await ledger.count(t.claim_line) == n
    assert await ledger.count(t.payer_claim_number) == n

    content = remit_835([paid(c, f"ICN-{i}") for i, c in enumerate(ids, 1)])
    with statements_sent(ledger.engine) as posting:
        posted = await ledger.post(content)
    assert posted.outcome.states == {"posted": n}
    # about one statement per claim payment (its outcome, the claim's totals and the patient's
    # balance together) and a few per payment, where it was about thirteen per claim payment
    assert len(posting) <= n + 25, len(posting)
    assert len(posted.of("PaymentPosted")) == len(posted.of("PatientBalanceChanged")) == n
    assert await ledger.count(t.posted_line) == n
    assert await ledger.count(t.posted_adjustment) == 2 * n
    async with ledger.engine.connect() as conn:
        totals = (await conn.execute(sa.select(sa.func.sum(t.claim.c.paid), sa.func.count()))).one()
    assert totals == (D("110.00") * n, n)


async def test_the_same_claim_payment_twice_in_one_835_posts_once(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001"), claim_for(2, claim_id="clm-0002")])
    posted = await ledger.post(
        remit_835([paid("clm-0001", "ICN-1"), paid("clm-0002", "ICN-2"), paid("clm-0001", "ICN-1")])
    )
    assert posted.outcome.states == {"posted": 2, "duplicate": 1}
    assert (await ledger.claim("clm-0001")).paid == D("110.00")
    (flag,) = await ledger.rows(t.remit_exception)
    (first,) = await ledger.rows(
        t.claim_payment, t.claim_payment.c.claim_id == "clm-0001", t.claim_payment.c.state == "posted"
    )
    assert flag.kind == "duplicate_claim_payment" and flag.detail == {"duplicate_of": first.remit_id}


async def test_a_payer_claim_number_learnt_in_an_835_matches_a_later_claim_payment_of_it(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    later = Clp("NOT-OUR-NUMBER", "1", "170.00", "20.00", "0", "ICN-NEW", [Cas("CO", "45", "150.00")])
    posted = await ledger.post(remit_835([paid("clm-0001", "ICN-NEW"), later]))
    assert posted.outcome.states == {"posted": 2}
    rows = await ledger.rows(t.claim_payment, t.claim_payment.c.patient_control_number == "NOT-OUR-NUMBER")
    assert [(r.claim_id, r.matched_by) for r in rows] == [("clm-0001", "payer_claim_number")]
