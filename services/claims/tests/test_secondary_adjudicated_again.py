"""The primary adjudicates the claim again after the secondary's claim was made from its first
remit (a corrected or reprocessed claim): the secondary's claim carries the adjudication as it
now stands. The handlers are called directly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from claims_direct import apply, force, handlers, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.store import claim, claim_audit
from rcm.events import testing as f
from rcm.servicekit import Transaction


def secondary_coverage() -> list[Any]:
    return [
        f.payer_updated(9, payer_id="payer-0009", electronic_payer_id="SECND1"),
        f.coverage_updated(
            1,
            coverage_id="cov-0001-b",
            payer_id="payer-0009",
            member_id="SEC300000001",
            priority="secondary",
            effective={"start": "2024-01-01"},
        ),
    ]


def primary_remit(primary: Any, *, remit_id: str, paid: str, patient_share: str) -> Any:
    """The primary's remit: 170.00 charged, CO-45 35.00, the rest paid or the patient's copay."""
    line = primary.draft["lines"][0]
    return f.remit_received(
        1,
        remit_id=remit_id,
        claim_id=primary.claim_id,
        payer_claim_number="ICN0001",
        charge=Decimal("170.00"),
        paid=Decimal(paid),
        patient_responsibility=Decimal(patient_share),
        lines=[
            {
                "line_key": line["line_key"],
                "procedure_code": line["code"],
                "modifiers": line["modifiers"],
                "service_date": line["date_of_service"],
                "charge": "170.00",
                "paid": paid,
                "units_paid": 1,
                "adjustments": [
                    {"group": "CO", "carc": "45", "amount": "35.00"},
                    *(
                        [{"group": "PR", "carc": "3", "amount": patient_share}]
                        if Decimal(patient_share)
                        else []
                    ),
                ],
            }
        ],
    )


async def _secondary_made(engine: AsyncEngine) -> tuple[Any, Any, Any]:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        *secondary_coverage(),
        session(1),
    )
    (primary,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, primary.claim_id, state="accepted", payer_claim_number="ICN0001")
    await apply(engine, h, primary_remit(primary, remit_id="rmt-first", paid="110.00", patient_share="25.00"))
    (secondary,) = await rows(engine, claim.c.payer_order == 2)
    assert secondary.cob["paid"] == "110.00" and secondary.cob["remit_ids"] == ["rmt-first"]
    return h, primary, secondary


async def test_a_secondary_not_yet_sent_takes_the_new_adjudication_in_place(engine: AsyncEngine) -> None:
    h, primary, secondary = await _secondary_made(engine)
    again = primary_remit(primary, remit_id="rmt-again", paid="130.00", patient_share="5.00")
    await apply(engine, h, again)
    await apply(engine, h, again.model_copy(update={"event_id": "evt-sent-twice"}))

    (now,) = await rows(engine, claim.c.payer_order == 2)
    assert now.claim_id == secondary.claim_id and now.state == secondary.state
    assert (now.cob["paid"], now.cob["patient_responsibility"]) == ("130.00", "5.00")
    assert now.cob["lines"][0]["paid"] == "130.00"
    assert now.cob["remit_ids"] == ["rmt-first", "rmt-again"]


async def test_a_secondary_at_its_payer_is_replaced_with_the_new_adjudication(engine: AsyncEngine) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await force(engine, secondary.claim_id, state="accepted", payer_claim_number="SEC0001")
    again = primary_remit(primary, remit_id="rmt-again", paid="130.00", patient_share="5.00")
    await apply(engine, h, again)
    await apply(engine, h, again.model_copy(update={"event_id": "evt-sent-twice"}))

    first, replacement = await rows(engine, claim.c.payer_order == 2)
    assert (first.claim_id, first.state) == (secondary.claim_id, "corrected")
    assert first.cob["paid"] == "110.00"  # what it was sent with
    assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", "SEC0001")
    assert replacement.replaces_claim_id == secondary.claim_id
    assert (replacement.cob["paid"], replacement.cob["patient_responsibility"]) == ("130.00", "5.00")


async def test_the_same_figures_again_change_nothing(engine: AsyncEngine) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await force(engine, secondary.claim_id, state="accepted", payer_claim_number="SEC0001")
    await apply(engine, h, primary_remit(primary, remit_id="rmt-copy", paid="110.00", patient_share="25.00"))
    (only,) = await rows(engine, claim.c.payer_order == 2)
    assert (only.state, only.cob["paid"]) == ("accepted", "110.00")


async def test_a_secondary_on_its_way_keeps_what_it_was_sent_with_and_says_a_replacement_is_due(
    engine: AsyncEngine,
) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await force(engine, secondary.claim_id, state="submitted")
    await apply(engine, h, primary_remit(primary, remit_id="rmt-again", paid="130.00", patient_share="5.00"))
    (only,) = await rows(engine, claim.c.payer_order == 2)
    assert (only.state, only.cob["paid"]) == ("submitted", "110.00")
    async with engine.connect() as conn:
        notes = list(
            await conn.scalars(sa.select(claim_audit.c.reason).where(claim_audit.c.claim_id == only.claim_id))
        )
    assert any("adjudicated the claim again" in note and "replacement" in note for note in notes)


async def _on_stored_row(
    engine: AsyncEngine, claim_id: str, step: Callable[[Transaction, Any], Awaitable[None]]
) -> None:
    """Run a handlers' ``step`` on the claim's stored row in a transaction of its own."""
    async with engine.begin() as conn:
        tx = Transaction(conn, "tests", source="claims", prefix="t")
        row = (await conn.execute(sa.select(claim).where(claim.c.claim_id == claim_id))).one()
        await step(tx, row)
        await tx.flush()


async def _acknowledged(engine: AsyncEngine, h: Any, claim_id: str, **columns: Any) -> None:
    """The claim as an acknowledgement leaves it, then the handlers' follow-up, as the
    acknowledgement poller runs it."""
    await force(engine, claim_id, **columns)
    await _on_stored_row(engine, claim_id, h.after_acknowledgement)


async def test_a_secondary_on_its_way_is_replaced_once_its_payer_accepts_it_with_a_number(
    engine: AsyncEngine,
) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await force(engine, secondary.claim_id, state="submitted")
    await apply(engine, h, primary_remit(primary, remit_id="rmt-again", paid="130.00", patient_share="5.00"))
    (waiting,) = await rows(engine, claim.c.payer_order == 2)
    assert waiting.cob_due["paid"] == "130.00" and waiting.cob["paid"] == "110.00"

    # a third adjudication while still on its way: what is due follows it
    await apply(engine, h, primary_remit(primary, remit_id="rmt-third", paid="140.00", patient_share="0.00"))
    (waiting,) = await rows(engine, claim.c.payer_order == 2)
    assert waiting.cob_due["paid"] == "140.00" and waiting.cob_due["remit_ids"][-1] == "rmt-third"

    await _acknowledged(engine, h, secondary.claim_id, state="submitted")  # a 999: no number yet
    (still,) = await rows(engine, claim.c.payer_order == 2)
    assert still.cob_due is not None and still.state == "submitted"

    await _acknowledged(engine, h, secondary.claim_id, state="accepted", payer_claim_number="SEC0001")
    first, replacement = await rows(engine, claim.c.payer_order == 2)
    assert (first.claim_id, first.state, first.cob_due) == (secondary.claim_id, "corrected", None)
    assert first.cob["paid"] == "110.00"  # what it was sent with
    assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", "SEC0001")
    assert (replacement.cob["paid"], replacement.cob["patient_responsibility"]) == ("140.00", "0.00")
    assert replacement.cob_due is None

    # the acknowledgement's follow-up again (a re-sent file): nothing more is sent
    await _acknowledged(engine, h, secondary.claim_id, state="corrected")
    assert len(await rows(engine, claim.c.payer_order == 2)) == 2


async def test_a_secondary_on_its_way_that_its_payer_rejects_takes_the_new_adjudication_in_place(
    engine: AsyncEngine,
) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await force(engine, secondary.claim_id, state="submitted")
    await apply(engine, h, primary_remit(primary, remit_id="rmt-again", paid="130.00", patient_share="5.00"))
    await _acknowledged(engine, h, secondary.claim_id, state="held")  # rejected, held with the reasons
    (only,) = await rows(engine, claim.c.payer_order == 2)
    assert (only.state, only.cob["paid"], only.cob_due) == ("held", "130.00", None)


def reversal(primary: Any, *, remit_id: str = "rmt-reversal") -> Any:
    """The primary takes back its first adjudication (CLP02 22, the amounts negated)."""
    return f.remit_received(
        1,
        remit_id=remit_id,
        claim_id=primary.claim_id,
        payer_claim_number="ICN0001",
        status="22",
        charge=Decimal("-170.00"),
        paid=Decimal("-110.00"),
        patient_responsibility=Decimal("-25.00"),
        lines=[],
    )


def _waits_for_prior(row: Any) -> bool:
    return any("prior payer's claim is pended" in r["message"] for r in row.hold_reasons)


async def test_a_primary_reversal_holds_a_secondary_not_yet_sent_until_it_adjudicates_again(
    engine: AsyncEngine,
) -> None:
    h, primary, secondary = await _secondary_made(engine)
    assert not _waits_for_prior(secondary)  # (held for this world's own reasons: enrolment, balance)
    await apply(engine, h, reversal(primary))
    (pended,) = await rows(engine, claim.c.claim_id == primary.claim_id)
    (held,) = await rows(engine, claim.c.payer_order == 2)
    assert (pended.state, held.state) == ("pended", "held")
    assert _waits_for_prior(held)

    # any other reason to run its edits again keeps it waiting while the primary is pended
    await _on_stored_row(
        engine,
        secondary.claim_id,
        lambda tx, row: h.evaluate(tx, row, cause=None, reason="an eligibility answer", recode=False),
    )
    (still,) = await rows(engine, claim.c.payer_order == 2)
    assert still.state == "held" and _waits_for_prior(still)

    # the primary adjudicates again as before: the wait ends, with the figures it had
    await apply(engine, h, primary_remit(primary, remit_id="rmt-after", paid="110.00", patient_share="25.00"))
    (after,) = await rows(engine, claim.c.payer_order == 2)
    assert after.claim_id == secondary.claim_id and not _waits_for_prior(after)
    assert after.cob["paid"] == "110.00"


async def test_a_secondary_ready_to_go_is_held_by_a_primary_reversal(engine: AsyncEngine) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await force(engine, secondary.claim_id, state="ready", hold_reasons=[])
    await apply(engine, h, reversal(primary))
    (held,) = await rows(engine, claim.c.payer_order == 2)
    assert held.state == "held" and _waits_for_prior(held)


async def test_a_primary_reversal_then_new_figures_leave_the_secondary_with_them(engine: AsyncEngine) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await apply(
        engine,
        h,
        reversal(primary),
        primary_remit(primary, remit_id="rmt-after", paid="130.00", patient_share="5.00"),
    )
    (now,) = await rows(engine, claim.c.payer_order == 2)
    assert now.claim_id == secondary.claim_id and not _waits_for_prior(now)
    assert (now.cob["paid"], now.cob["patient_responsibility"]) == ("130.00", "5.00")


async def test_paid_in_full_on_the_second_adjudication_voids_a_secondary_not_yet_sent(
    engine: AsyncEngine,
) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await apply(engine, h, primary_remit(primary, remit_id="rmt-again", paid="135.00", patient_share="0.00"))
    (only,) = await rows(engine, claim.c.payer_order == 2)
    assert (only.claim_id, only.state) == (secondary.claim_id, "voided")


async def test_paid_in_full_on_the_second_adjudication_replaces_a_secondary_at_its_payer(
    engine: AsyncEngine,
) -> None:
    h, primary, secondary = await _secondary_made(engine)
    await force(engine, secondary.claim_id, state="paid", payer_claim_number="SEC0001")
    await apply(engine, h, primary_remit(primary, remit_id="rmt-again", paid="135.00", patient_share="0.00"))
    first, replacement = await rows(engine, claim.c.payer_order == 2)
    assert first.state == "corrected"
    assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", "SEC0001")
    assert (replacement.cob["paid"], replacement.cob["patient_responsibility"]) == ("135.00", "0.00")


async def test_a_primary_paid_in_full_the_first_time_makes_no_secondary(engine: AsyncEngine) -> None:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        *secondary_coverage(),
        session(1),
    )
    (primary,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, primary.claim_id, state="accepted", payer_claim_number="ICN0001")
    await apply(engine, h, primary_remit(primary, remit_id="rmt-first", paid="135.00", patient_share="0.00"))
    assert await rows(engine, claim.c.payer_order == 2) == []


async def test_a_line_the_primary_paid_in_two_pieces_reaches_the_secondary_added_up(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        *secondary_coverage(),
        session(1),
    )
    (primary,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, primary.claim_id, state="accepted", payer_claim_number="ICN0001")
    remit = primary_remit(primary, remit_id="rmt-pieces", paid="110.00", patient_share="25.00")
    whole = remit.lines[0]
    first = whole.model_copy(
        update={"charge": Decimal("100.00"), "paid": Decimal("65.00"), "adjustments": whole.adjustments[:1]}
    )
    second = whole.model_copy(
        update={"charge": Decimal("70.00"), "paid": Decimal("45.00"), "adjustments": whole.adjustments[1:]}
    )
    await apply(engine, h, remit.model_copy(update={"lines": [first, second]}))
    (secondary,) = await rows(engine, claim.c.payer_order == 2)
    (line,) = secondary.cob["lines"]
    assert line["line_key"] == whole.line_key and line["paid"] == "110.00"
    assert [(a["group"], a["amount"]) for a in line["adjustments"]] == [("CO", "35.00"), ("PR", "25.00")]
