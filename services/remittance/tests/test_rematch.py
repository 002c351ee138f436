"""The waiting-payments matcher: a batch read at once, and each claim payment posted exactly once
whichever of its 835, its claim, the matcher and a person's placement commits first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest

from rcm.remittance import store as t
from rcm.remittance.handlers import on_claim_created
from rcm.remittance.ingest import ReviewError, post_remit_file, rematch_waiting
from rcm.remittance.testing import Ledger, claim_for, paid, remit_835
from rcm.servicekit import Delivered, Record, Transaction
from rcm.servicekit.testing import statements_sent

D = Decimal


@asynccontextmanager
async def open_transaction(ledger: Ledger) -> AsyncIterator[Transaction]:
    """A service transaction left open until the block ends (then committed)."""
    async with ledger.engine.connect() as conn:
        trans = await conn.begin()
        tx = Transaction(conn, "test", source="remittance")
        yield tx
        await tx.flush()
        await trans.commit()
        tx.committed()


async def test_the_waiting_claim_payments_are_read_in_one_batch(ledger: Ledger) -> None:
    n = 12
    ids = [f"clm-w{i:03d}" for i in range(n)]
    early = await ledger.post(remit_835([paid(c, f"ICN-W{i}") for i, c in enumerate(ids)]))
    assert early.outcome.states == {"unmatched": n}
    await ledger.add_claims([claim_for(i, claim_id=c) for i, c in enumerate(ids)])
    with statements_sent(ledger.engine) as sent:
        _, posted = await ledger.rematch()
    assert posted == n
    # the queue, the files, the claims, the open postings and the payers once; then a few per claim
    # payment (its payer claim number, its posting with the claim's totals, its queue row)
    assert len(sent) <= 4 * n + 12, len(sent)
    assert all(r.state == "posted" for r in await ledger.rows(t.claim_payment))
    assert all(u.resolved_at is not None for u in await ledger.rows(t.unmatched))
    assert await ledger.rematch() == ([], 0)


async def test_a_claim_committed_while_its_835_is_posted_is_posted_once(ledger: Ledger) -> None:
    content = remit_835([paid("clm-r001", "ICN-R1")])
    async with open_transaction(ledger) as tx:
        outcome = await post_remit_file(tx, content, name="a.835", source="upload", metrics=ledger.metrics)
        await tx.flush()
        assert outcome.states == {"unmatched": 1}
        # the claim commits while the 835 is still being posted; the matcher cannot see the queue row
        await ledger.add_claims([claim_for(1, claim_id="clm-r001")])
        assert await ledger.rematch() == ([], 0)
    events, posted = await ledger.rematch()
    assert posted == 1 and len([e for e in events if type(e).__name__ == "PaymentPosted"]) == 1
    assert await ledger.rematch() == ([], 0)
    assert (await ledger.claim("clm-r001")).paid == D("110.00")
    (row,) = await ledger.rows(t.claim_payment)
    assert (row.state, row.claim_id) == ("posted", "clm-r001")


async def test_an_835_committed_while_its_claim_is_projected_is_posted_once(ledger: Ledger) -> None:
    claim = claim_for(1, claim_id="clm-r002")
    async with open_transaction(ledger) as tx:
        record = Record("claim-created", 0, 0, claim.patient_id.encode(), b"{}")
        await on_claim_created(tx, Delivered(record, claim))
        await tx.flush()
        # the 835 comes while the claim is not committed: it waits, and the matcher cannot post it yet
        early = await ledger.post(remit_835([paid("clm-r002", "ICN-R2")]))
        assert early.outcome.states == {"unmatched": 1}
        assert await ledger.rematch() == ([], 0)
    _, posted = await ledger.rematch()
    assert posted == 1
    assert await ledger.rematch() == ([], 0)
    assert (await ledger.claim("clm-r002")).paid == D("110.00")


async def test_a_claim_payment_the_matcher_is_posting_is_not_posted_again(ledger: Ledger) -> None:
    await ledger.post(remit_835([paid("clm-r003", "ICN-R3")], trace="EFT-A"))
    await ledger.add_claims([claim_for(1, claim_id="clm-r003")])
    (queued,) = await ledger.rows(t.unmatched)
    async with open_transaction(ledger) as tx:
        assert await rematch_waiting(tx, metrics=ledger.metrics) == 1
        await tx.flush()
        # another matcher skips what this one holds
        assert await ledger.rematch() == ([], 0)
        # a person placing it, and the payer's repeat of it under another trace, wait for it
        placing = asyncio.create_task(ledger.assign(queued.remit_id, "clm-r003"))
        repeat = asyncio.create_task(ledger.post(remit_835([paid("clm-r003", "ICN-R3B")], trace="EFT-B")))
        await asyncio.sleep(0.5)
        assert not placing.done() and not repeat.done()
    with pytest.raises(ReviewError, match="is posted"):
        await placing
    assert (await repeat).outcome.states == {"duplicate": 1}
    assert (await ledger.claim("clm-r003")).paid == D("110.00")


async def test_an_orphan_reversal_the_matcher_places_stays_in_the_queue(ledger: Ledger) -> None:
    await ledger.post(remit_835([paid("clm-r004", "ICN-R4", status="22", sign="-")], trace="EFT-A"))
    await ledger.add_claims([claim_for(1, claim_id="clm-r004")])
    _, handled = await ledger.rematch()
    assert handled == 1
    (row,) = await ledger.rows(t.claim_payment)
    assert row.state == "orphan_reversal"
    (still,) = await ledger.rows(t.unmatched, t.unmatched.c.resolved_at.is_(None))
    assert still.remit_id == row.remit_id
    assert await ledger.rematch() == ([], 0)
    assert (await ledger.claim("clm-r004")).paid == D("0")
