"""Which 835 payment is which: TRN02 is the check or EFT trace number, unique for its payer's money
only, and payers reuse it (a notification's constant number, a check number of another account).
A payment is its payer (TRN03), TRN02, BPR02 and date: a truly resent payment posts what it had not
(its PLB once), another payment under a used TRN02 posts with its PLB, flagged. Synthetic 835s."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from rcm.remittance import store as t
from rcm.remittance.testing import Cas, Clp, Ledger, Plb, claim_for, paid, remit_835

D = Decimal


def _denied(pcn: str, icn: str) -> Clp:
    return Clp(pcn, "1", "170.00", "0", "0", icn, cas=[Cas("CO", "50", "170.00")])


async def test_another_payment_under_a_trn02_the_payer_used_before_posts_with_its_plb(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0981"), claim_for(2, claim_id="clm-0982")])
    # a notification (BPR01 H, no money) under TRN02 0000000001 ...
    first = await ledger.post(
        remit_835([_denied("clm-0981", "ICN-981")], trace="0000000001", handling="H", method="NON")
    )
    assert first.outcome.exceptions == []
    # ... and a payment of 113.00 the payer sent under the same TRN02 (its interest in PLB L6)
    second = await ledger.post(
        remit_835([paid("clm-0982", "ICN-982")], trace="0000000001", plb=[Plb("L6", "-3.00", "ICN-982")])
    )
    assert second.outcome.states == {"posted": 1}
    assert second.outcome.exceptions == ["trace_number_reused"]
    payments = sorted((r.amount, r.status) for r in await ledger.rows(t.payment))
    assert payments == [(D("0.00"), "posted"), (D("113.00"), "posted")]
    (plb,) = await ledger.rows(t.provider_adjustment)
    assert (plb.reason, plb.amount, plb.claim_id) == ("L6", D("-3.00"), "clm-0982")
    assert (await ledger.claim("clm-0982")).interest == D("3.00")
    (flag,) = await ledger.rows(t.remit_exception)
    assert "another payment" in flag.message and "from another file" not in flag.message


async def test_two_sets_of_one_file_under_one_trn02_are_two_payments(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0983"), claim_for(2, claim_id="clm-0984")])
    one = remit_835([paid("clm-0983", "ICN-983")], trace="CHK100", plb=[Plb("L6", "-1.00", "ICN-983")])
    two = remit_835(
        [paid("clm-0984", "ICN-984")], trace="CHK100", plb=[Plb("L6", "-1.00", "ICN-984")], control=2
    )  # the same amount and date: told apart by their set
    posted = await ledger.post(one + two)
    assert posted.outcome.states == {"posted": 2}
    assert posted.outcome.exceptions == ["trace_number_reused"]
    assert await ledger.count(t.payment) == 2
    assert sorted((r.claim_id, r.amount) for r in await ledger.rows(t.provider_adjustment)) == [
        ("clm-0983", D("-1.00")),
        ("clm-0984", D("-1.00")),
    ]
    # the same file regenerated (other bytes) posts nothing again, and its PLB once
    again = await ledger.post(one.replace(b"SYNTHETIC PAYER", b"SYNTHETIC PAYER INC") + two)
    assert again.outcome.states == {"already_posted": 2}
    assert await ledger.count(t.payment) == 2 and await ledger.count(t.provider_adjustment) == 2
    assert [(await ledger.claim(c)).interest for c in ("clm-0983", "clm-0984")] == [D("1.00"), D("1.00")]


async def test_a_resent_payment_applies_its_plb_once_and_says_so(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0985"), claim_for(2, claim_id="clm-0986")])
    await ledger.add_claims([claim_for(3, claim_id="clm-0987")])
    await ledger.post(
        remit_835([paid("clm-0985", "ICN-985")], trace="EFT-A", plb=[Plb("WO", "20.00", "ICN-986")])
    )
    sent = await ledger.post(remit_835([paid("clm-0986", "ICN-986")], trace="EFT-R"))
    assert sent.outcome.exceptions == []
    resent = remit_835(
        [paid("clm-0985", "ICN-985")], trace="EFT-A", plb=[Plb("WO", "20.00", "ICN-986")], control=5
    )
    again = await ledger.post(resent)
    assert again.outcome.states == {"already_posted": 1}
    assert again.outcome.exceptions == ["payment_redelivered"]
    (flag,) = await ledger.rows(t.remit_exception)
    assert "earlier file" in flag.message
    assert await ledger.count(t.provider_adjustment) == 1
    assert (await ledger.claim("clm-0985")).paid == D("110.00")


async def test_a_database_before_0006_gets_the_payment_identity_and_named_claims_on_upgrade(
    ledger: Ledger,
) -> None:
    from rcm.remittance.app import MIGRATIONS
    from rcm.servicekit import upgrade

    async with ledger.engine.begin() as conn:
        await conn.execute(sa.text("DROP INDEX payment_by_trace"))
        await conn.execute(sa.text("DROP INDEX provider_adjustment_by_named_claim"))
        await conn.execute(sa.text("ALTER TABLE provider_adjustment DROP COLUMN named_claim_id"))
        await conn.execute(
            sa.text("ALTER TABLE payment ADD CONSTRAINT payment_payer_trace UNIQUE (payer_ref, trace_number)")
        )
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0005'"))
    await upgrade(ledger.engine.url.render_as_string(hide_password=False), MIGRATIONS)
    async with ledger.engine.connect() as conn:
        constraints = set(
            (
                await conn.execute(
                    sa.text("SELECT conname FROM pg_constraint WHERE conrelid = 'payment'::regclass")
                )
            )
            .scalars()
            .all()
        )
        indexes = set((await conn.execute(sa.text("SELECT indexname FROM pg_indexes"))).scalars().all())
        columns = set(
            (
                await conn.execute(
                    sa.text(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = 'provider_adjustment'"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "payment_payer_trace" not in constraints
    assert {"payment_by_trace", "provider_adjustment_by_named_claim"} <= indexes
    assert "named_claim_id" in columns
    # and a TRN02 reused posts there
    await ledger.add_claims([claim_for(1, claim_id="clm-0988"), claim_for(2, claim_id="clm-0989")])
    await ledger.post(remit_835([paid("clm-0988", "ICN-988")], trace="CHK1", paid_on=date(2025, 4, 1)))
    reused = await ledger.post(
        remit_835([paid("clm-0989", "ICN-989")], trace="CHK1", paid_on=date(2025, 5, 1))
    )
    assert reused.outcome.states == {"posted": 1}
