"""Patient payments move what the patient owes (once per payment), and payer-updated tells which of
our payers an 835 comes from; the service reads every topic the catalog says it reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from rcm.events.catalog import all_specs
from rcm.events.models import BalanceChangeReason
from rcm.events.testing import patient_payment_received, payer_updated, secondary_claim_requested
from rcm.remittance import store as t
from rcm.remittance.app import CONSUMED_TOPICS
from rcm.remittance.domain.payers import identifier_key, payer_keys, remit_payer_keys, resolve_payer
from rcm.remittance.handlers import HANDLERS
from rcm.remittance.testing import Cas, Clp, Ledger, Svc, claim_for, remit_835

D = Decimal
DOS = date(2025, 3, 3)


def copay_remit(pcn: str, icn: str = "ICN-1", *, reversal: bool = False) -> Clp:
    """170.00 charged, 120.00 paid, CO-45 25.00, PR-3 copay 25.00; or the payer's CLP02 22 taking
    it back (``reversal``: every amount negated)."""
    sign = "-" if reversal else ""
    return Clp(
        pcn,
        "22" if reversal else "1",
        f"{sign}170.00",
        f"{sign}120.00",
        f"{sign}25.00",
        icn,
        services=[
            Svc(
                "90837",
                f"{sign}170.00",
                f"{sign}120.00",
                [Cas("CO", "45", f"{sign}25.00"), Cas("PR", "3", f"{sign}25.00")],
                on=DOS,
            )
        ],
    )


def test_the_service_reads_and_handles_every_topic_the_catalog_names_it_a_reader_of() -> None:
    read_by_us = {spec.name for spec in all_specs() if "remittance" in spec.consumers}
    assert read_by_us <= set(CONSUMED_TOPICS)
    handled = {spec.name for spec in all_specs() if spec.model in HANDLERS}
    assert handled == set(CONSUMED_TOPICS)


# ------------------------------------------------------------------ patient payments


async def test_a_patient_payment_lowers_the_balance_the_remit_raised(ledger: Ledger) -> None:
    claim = claim_for(1, claim_id="clm-0001")
    await ledger.add_claims([claim])
    await ledger.post(remit_835([copay_remit("clm-0001")]))

    events = await ledger.deliver(
        patient_payment_received(1, patient_id=claim.patient_id, claim_id="clm-0001", amount="25.00")
    )
    (change,) = events
    assert (change.previous_balance, change.balance, change.change) == (D("25.00"), D("0.00"), D("-25.00"))
    assert change.reason == BalanceChangeReason.PATIENT_PAYMENT
    assert (change.claim_id, change.source_id) == ("clm-0001", "pay-0001")
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("0.00")
    assert (await ledger.claim("clm-0001")).patient_paid == D("25.00")


async def test_the_same_patient_payment_twice_is_applied_once(ledger: Ledger) -> None:
    payment = patient_payment_received(1, amount="40.00")
    first = await ledger.deliver(payment)
    again = await ledger.deliver(payment)
    assert len(first) == 1 and again == []
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("-40.00")
    assert await ledger.count(t.patient_payment) == 1


async def test_a_copay_at_the_visit_is_a_credit_until_the_remit_says_what_the_patient_owes(
    ledger: Ledger,
) -> None:
    claim = claim_for(1, claim_id="clm-0001")
    # paid at the visit, naming the claim before the claim reached the remittance service
    (credit,) = await ledger.deliver(
        patient_payment_received(1, patient_id=claim.patient_id, claim_id="clm-0001", amount="25.00")
    )
    assert (credit.previous_balance, credit.balance) == (D("0"), D("-25.00"))

    await ledger.add_claims([claim])
    assert (await ledger.claim("clm-0001")).patient_paid == D("25.00")
    posted = await ledger.post(remit_835([copay_remit("clm-0001")]))
    (owed,) = posted.of("PatientBalanceChanged")
    assert (owed.previous_balance, owed.balance) == (D("-25.00"), D("0.00"))
    assert owed.reason == BalanceChangeReason.REMIT_POSTED


async def test_payments_of_different_patients_move_their_own_balances(ledger: Ledger) -> None:
    a = patient_payment_received(1, amount="10.00")
    b = patient_payment_received(2, amount="15.00")
    assert a.patient_id != b.patient_id
    await ledger.deliver(a, b, patient_payment_received(3, patient_id=a.patient_id, amount="5.00"))
    balances = {r.patient_id: r.balance for r in await ledger.rows(t.patient_balance)}
    assert balances == {a.patient_id: D("-15.00"), b.patient_id: D("-15.00")}


# ------------------------------------------------------------------ next payer billed


async def paid_and_billed_on(ledger: Ledger, payment: Clp | None = None) -> Any:
    """Claim clm-0001 paid by ``payment`` (``copay_remit`` by default), and the denials service's
    request to bill the next payer with that payment's adjudication."""
    claim = claim_for(1, claim_id="clm-0001")
    await ledger.add_claims([claim])
    posted = await ledger.post(remit_835([payment or copay_remit("clm-0001")], trace="EFT-A"))
    (remit,) = posted.of("RemitReceived")
    return secondary_claim_requested(
        1, claim_id="clm-0001", patient_id=claim.patient_id, remit_id=remit.remit_id
    )


async def test_billing_the_next_payer_takes_the_prior_payers_share_off_the_patient_once(
    ledger: Ledger,
) -> None:
    request = await paid_and_billed_on(ledger)
    (moved,) = await ledger.deliver(request)
    assert (moved.previous_balance, moved.balance, moved.change) == (D("25.00"), D("0.00"), D("-25.00"))
    assert moved.reason == BalanceChangeReason.NEXT_PAYER_BILLED
    assert (moved.claim_id, moved.source_id) == ("clm-0001", request.request_id)
    row = await ledger.claim("clm-0001")
    assert (row.patient_responsibility, row.forwarded) == (D("0.00"), D("25.00"))
    assert row.total_charge - row.paid - row.contractual - row.forwarded == D("0.00")
    (line,) = await ledger.rows(t.posted_line)
    assert (line.patient_responsibility, line.forwarded) == (D("0.00"), D("25.00"))
    # the request again (a replay, or the next payer billed again from the same payment): nothing left
    assert await ledger.deliver(request) == []
    assert await ledger.deliver(request.model_copy(update={"request_id": "req-again"})) == []
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("0.00")

    # the payer reverses that payment: the moved share comes back off forwarded, not off the patient
    back = await ledger.post(remit_835([copay_remit("clm-0001", reversal=True)], trace="EFT-B"))
    assert back.outcome.states == {"posted": 1}
    assert back.of("PatientBalanceChanged") == []
    row = await ledger.claim("clm-0001")
    assert (row.paid, row.patient_responsibility, row.forwarded) == (D("0.00"), D("0.00"), D("0.00"))


async def test_a_request_for_a_reversed_or_unknown_payment_moves_nothing(ledger: Ledger) -> None:
    claim = claim_for(1, claim_id="clm-0001")
    await ledger.add_claims([claim])
    first = await ledger.post(remit_835([copay_remit("clm-0001")], trace="EFT-A"))
    (remit,) = first.of("RemitReceived")
    assert (
        await ledger.deliver(secondary_claim_requested(1, claim_id="clm-0001", remit_id="rmt-unknown")) == []
    )
    assert (
        await ledger.deliver(secondary_claim_requested(1, claim_id="clm-0002", remit_id=remit.remit_id)) == []
    )
    await ledger.post(remit_835([copay_remit("clm-0001", reversal=True)], trace="EFT-B"))
    late = secondary_claim_requested(
        1, claim_id="clm-0001", patient_id=claim.patient_id, remit_id=remit.remit_id
    )
    assert await ledger.deliver(late) == []
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("0.00")


async def test_what_the_prior_payer_paid_the_patient_stays_with_the_patient(ledger: Ledger) -> None:
    # PR-100: the payer sent 10.00 of its payment to the patient, who owes it to the practice; the
    # next payer is billed for the copay alone
    paid_the_patient = Clp(
        "clm-0001",
        "1",
        "170.00",
        "110.00",
        "35.00",
        "ICN-1",
        services=[
            Svc(
                "90837",
                "170.00",
                "110.00",
                [Cas("CO", "45", "25.00"), Cas("PR", "3", "25.00"), Cas("PR", "100", "10.00")],
                on=DOS,
            )
        ],
    )
    request = await paid_and_billed_on(ledger, paid_the_patient)
    (moved,) = await ledger.deliver(request)
    assert (moved.previous_balance, moved.balance) == (D("35.00"), D("10.00"))
    row = await ledger.claim("clm-0001")
    assert (row.patient_responsibility, row.forwarded) == (D("10.00"), D("25.00"))
    assert await ledger.deliver(request) == []


async def test_a_reversal_posting_meanwhile_is_waited_for_and_nothing_is_moved_twice(ledger: Ledger) -> None:
    from rcm.remittance.ingest import post_remit_file
    from rcm.servicekit import Transaction

    request = await paid_and_billed_on(ledger)
    async with ledger.engine.begin() as conn:
        # the payer's reversal is being posted (the claim row locked) when the request arrives
        tx = Transaction(conn, "test", source="remittance")
        await post_remit_file(
            tx,
            remit_835([copay_remit("clm-0001", reversal=True)], trace="EFT-B"),
            name="r.835",
            source="upload",
            metrics=ledger.metrics,
        )
        await tx.flush()
        move = asyncio.create_task(ledger.deliver(request))
        await asyncio.sleep(0.5)
        assert not move.done()  # it waits for the posting's transaction
    assert await move == []  # the reversal took the share back first: nothing left to move
    row = await ledger.claim("clm-0001")
    assert (row.paid, row.patient_responsibility, row.forwarded) == (D("0.00"), D("0.00"), D("0.00"))
    (balance,) = await ledger.rows(t.patient_balance)
    assert balance.balance == D("0.00")


# ------------------------------------------------------------------ payers


def test_payer_identifiers_are_compared_written_one_way() -> None:
    assert identifier_key(" 00060054 ") == identifier_key("60054") == "60054"
    assert payer_keys("synp0001", ["0SYNP0001", "ALT-9"]) == ["ALT-9", "SYNP0001"]
    # TRN03 is "1" and a nine-character id; N1*PR N104 and REF*2U name the payer too
    assert remit_payer_keys("1000060054", "XV123", ["P2U"]) == ("1000060054", "XV123", "P2U", "60054")
    assert remit_payer_keys(None, None) == ()
    assert resolve_payer(["pyr-1", "pyr-1"]) == "pyr-1"
    assert resolve_payer(["pyr-1", "pyr-2"]) is None and resolve_payer([]) is None


async def test_an_835_is_tied_to_the_payer_its_trace_names(ledger: Ledger) -> None:
    payer = payer_updated(1, electronic_payer_id="60054")
    await ledger.deliver(payer)
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    # the sandbox and many payers write TRN03 as 1 + the id padded to nine characters
    posted = await ledger.post(
        remit_835([copay_remit("clm-0001"), copay_remit("clm-9999", "ICN-X")], payer_id="1000060054")
    )
    (payment,) = await ledger.rows(t.payment)
    assert payment.payer_id == payer.payer_id
    (unmatched,) = posted.of("RemitUnmatched")
    assert unmatched.payer_id == payer.payer_id  # our payer id, not the 835's identifier


async def test_an_unknown_or_deleted_payer_leaves_the_payment_without_one(ledger: Ledger) -> None:
    payer = payer_updated(1, electronic_payer_id="60054")
    await ledger.deliver(payer)
    await ledger.post(remit_835([], payer_id="1777777777", trace="EFT-A"))
    await ledger.deliver(
        payer.model_copy(update={"deleted": True, "updated_at": datetime(2030, 1, 1, tzinfo=UTC)})
    )
    posted = await ledger.post(remit_835([copay_remit("clm-9999")], payer_id="1000060054", trace="EFT-B"))
    assert {r.trace_number: r.payer_id for r in await ledger.rows(t.payment)} == {
        "EFT-A": None,
        "EFT-B": None,
    }
    (unmatched,) = posted.of("RemitUnmatched")
    assert unmatched.payer_id == "1000060054"


async def test_an_older_payer_state_read_late_does_not_replace_the_newer(ledger: Ledger) -> None:
    newer = payer_updated(1, electronic_payer_id="NEWID", updated_at=datetime(2025, 6, 1, tzinfo=UTC))
    older = payer_updated(1, electronic_payer_id="OLDID", updated_at=datetime(2025, 1, 1, tzinfo=UTC))
    await ledger.deliver(newer, older)
    (row,) = await ledger.rows(t.payer)
    assert row.identifiers == ["NEWID"]


async def test_the_review_candidates_are_the_paying_payers_claims(ledger: Ledger) -> None:
    ours, theirs = (
        payer_updated(1, electronic_payer_id="60054"),
        payer_updated(2, electronic_payer_id="70077"),
    )
    await ledger.deliver(ours, theirs)
    # two claims of the same charge on the same day, one per payer
    await ledger.add_claims([claim_for(1, claim_id="clm-0001"), claim_for(2, claim_id="clm-0002")])
    stray = copay_remit("ACCT-UNKNOWN")
    posted = await ledger.post(remit_835([stray], payer_id="1000070077"))
    assert posted.outcome.states == {"unmatched": 1}
    (queued,) = await ledger.rows(t.unmatched)
    assert queued.candidates == ["clm-0002"]
    # from a payer we do not know, every claim of that charge is a candidate
    unknown = await ledger.post(remit_835([stray], payer_id="1555555555", trace="EFT-C"))
    assert unknown.outcome.states == {"unmatched": 1}
    rows = await ledger.rows(t.unmatched, t.unmatched.c.payer_ref == "1555555555")
    assert sorted(rows[0].candidates) == ["clm-0001", "clm-0002"]
