"""A claim the payer adjudicates in parts (a split claim, lines adjudicated at different times):
each remit's lines are recorded once, and the claim's state and figures are those of every
line's latest adjudication that was not reversed, applied one at a time or in one batch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from claims_direct import apply, apply_batch, force, handlers, one, rows, trail
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.domain.adjudication import AdjudicatedLine, RemitPart, outcome, standing, totals
from rcm.claims.domain.state import ClaimState
from rcm.claims.handlers import ClaimsHandlers
from rcm.claims.store import claim, claim_line, claim_remit
from rcm.events import Event
from rcm.events import testing as f

Apply = Callable[..., Awaitable[None]]
WAYS = pytest.mark.parametrize("deliver", [apply, apply_batch], ids=["one at a time", "one batch"])


async def _two_line_claim(engine: AsyncEngine, h: ClaimsHandlers) -> tuple[Any, str, str]:
    """An accepted claim of 90837 and +90785 (interactive complexity), and its two line keys."""
    await apply(engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    await apply(engine, h, session(1).model_copy(update={"interactive_complexity": True}))
    row = (await rows(engine, claim.c.session_id == "ses-0001"))[0]
    await force(engine, row.claim_id, state="accepted")
    async with engine.connect() as conn:
        keys = [
            (r.procedure_code, r.line_key)
            for r in await conn.execute(
                sa.select(claim_line)
                .where(claim_line.c.claim_id == row.claim_id)
                .order_by(claim_line.c.line_number)
            )
        ]
    assert [code for code, _ in keys] == ["90837", "90785"]
    return row, keys[0][1], keys[1][1]


def _line(key: str, code: str, charge: str, paid: str, *cas: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "line_key": key,
        "procedure_code": code,
        "charge": charge,
        "paid": paid,
        "adjustments": [{"group": g, "carc": c, "amount": a} for g, c, a in cas],
    }


def _remit(row: Any, remit_id: str, number: str, *lines: dict[str, Any], **fields: Any) -> Event:
    paid = sum((Decimal(line["paid"]) for line in lines), Decimal(0))
    patient = sum(
        (Decimal(a["amount"]) for line in lines for a in line["adjustments"] if a["group"] == "PR"),
        Decimal(0),
    )
    values = {
        "remit_id": remit_id,
        "claim_id": row.claim_id,
        "patient_id": row.patient_id,
        "payer_id": row.payer_id,
        "payer_claim_number": number,
        "charge": str(sum((Decimal(line["charge"]) for line in lines), Decimal(0))),
        "paid": str(paid),
        "patient_responsibility": str(patient),
        "lines": list(lines),
    }
    return f.remit_received(1, **(values | fields))


def _paid_90837(key: str) -> dict[str, Any]:
    return _line(key, "90837", "180.00", "120.00", ("CO", "45", "40.00"), ("PR", "3", "20.00"))


def _money(row: Any) -> tuple[str, str, str]:
    return (str(row.remit_paid), str(row.remit_patient_responsibility), str(row.remit_contractual))


@WAYS
async def test_a_split_claim_paid_in_one_part_and_denied_in_the_other_is_partially_paid(
    engine: AsyncEngine, deliver: Apply
) -> None:
    h = handlers()
    row, psychotherapy, complexity = await _two_line_claim(engine, h)
    paid = _remit(row, "rmt-a", "ICN-A", _paid_90837(psychotherapy), rarcs=["MA15"])
    denied = _remit(
        row, "rmt-b", "ICN-B", _line(complexity, "90785", "20.00", "0.00", ("CO", "97", "20.00")), status="4"
    )
    await deliver(engine, h, paid, denied)
    after = await one(engine, row.claim_id)
    # the denied part does not undo the paid one; the figures are both parts'
    assert after.state == "partially_paid"
    assert _money(after) == ("120.00", "20.00", "40.00")
    assert await trail(engine, row.claim_id) == [
        (None, "created"),
        ("created", "ready"),
        ("accepted", "paid"),
        ("paid", "partially_paid"),
    ]


@WAYS
async def test_a_split_claim_paid_in_both_parts_is_paid_with_both_payments(
    engine: AsyncEngine, deliver: Apply
) -> None:
    h = handlers()
    row, psychotherapy, complexity = await _two_line_claim(engine, h)
    first = _remit(row, "rmt-a", "ICN-A", _paid_90837(psychotherapy))
    second = _remit(
        row, "rmt-b", "ICN-B", _line(complexity, "90785", "20.00", "15.00", ("CO", "45", "5.00")), status="1"
    )
    await deliver(engine, h, first, second)
    after = await one(engine, row.claim_id)
    assert after.state == "paid"
    assert _money(after) == ("135.00", "20.00", "45.00")


async def test_an_appeal_after_the_denied_part_is_reversed_pays_the_claim(engine: AsyncEngine) -> None:
    h = handlers()
    row, psychotherapy, complexity = await _two_line_claim(engine, h)
    refused = _line(complexity, "90785", "20.00", "0.00", ("CO", "97", "20.00"))
    await apply(engine, h, _remit(row, "rmt-a", "ICN-A", _paid_90837(psychotherapy)))
    await apply(engine, h, _remit(row, "rmt-b", "ICN-B", refused))
    assert (await one(engine, row.claim_id)).state == "partially_paid"
    # the payer reverses the denied part (CLP02 22, its claim number): the paid part stands
    reversal = _remit(
        row, "rmt-b-r", "ICN-B", {**refused, "charge": "-20.00", "adjustments": []}, status="22"
    )
    await apply(engine, h, reversal)
    reopened = await one(engine, row.claim_id)
    assert reopened.state == "pended"
    assert _money(reopened) == ("120.00", "20.00", "40.00")
    # and adjudicates the line again on appeal
    appealed = _line(complexity, "90785", "20.00", "15.00", ("CO", "45", "5.00"))
    await apply(engine, h, _remit(row, "rmt-c", "ICN-C", appealed))
    after = await one(engine, row.claim_id)
    assert after.state == "paid"
    assert _money(after) == ("135.00", "20.00", "45.00")


async def test_a_line_adjudicated_again_takes_the_place_of_its_first_adjudication(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    row, psychotherapy, complexity = await _two_line_claim(engine, h)
    refused = _line(complexity, "90785", "20.00", "0.00", ("CO", "16", "20.00"))
    await apply(engine, h, _remit(row, "rmt-a", "ICN-A", _paid_90837(psychotherapy), refused))
    assert (await one(engine, row.claim_id)).state == "partially_paid"
    # the payer reprocesses the refused line without a reversal: it replaces that line only
    again = _line(complexity, "90785", "20.00", "18.00", ("PR", "2", "2.00"))
    await apply(engine, h, _remit(row, "rmt-b", "ICN-A", again))
    after = await one(engine, row.claim_id)
    assert after.state == "paid"
    assert _money(after) == ("138.00", "22.00", "40.00")


@WAYS
async def test_a_remit_delivered_twice_is_applied_once(engine: AsyncEngine, deliver: Apply) -> None:
    h = handlers()
    row, psychotherapy, complexity = await _two_line_claim(engine, h)
    first = _remit(row, "rmt-a", "ICN-A", _paid_90837(psychotherapy))
    second = _remit(
        row, "rmt-b", "ICN-B", _line(complexity, "90785", "20.00", "15.00", ("CO", "45", "5.00")), status="1"
    )
    await deliver(engine, h, first, second, second)
    await deliver(engine, h, second, first)  # redelivered later, with new event ids
    after = await one(engine, row.claim_id)
    assert after.state == "paid"
    assert _money(after) == ("135.00", "20.00", "45.00")  # not counted twice
    assert [step for step in await trail(engine, row.claim_id) if step[0] == "accepted"] == [
        ("accepted", "paid")
    ]
    async with engine.connect() as conn:
        applied = (
            (
                await conn.execute(
                    sa.select(claim_remit.c.remit_id)
                    .where(claim_remit.c.claim_id == row.claim_id)
                    .order_by(claim_remit.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert applied == ["rmt-a", "rmt-b"]


def _part(remit_id: str, *lines: tuple[str, str], status: str = "1", number: str = "ICN") -> RemitPart:
    adjudicated = tuple(
        AdjudicatedLine(
            line_key=key,
            paid=Decimal(paid),
            patient_responsibility=Decimal(0),
            contractual=Decimal(0),
            refused=Decimal(0) if Decimal(paid) > 0 else Decimal(10),
        )
        for key, paid in lines
    )
    paid = sum((line.paid for line in adjudicated), Decimal(0))
    refused = Decimal(0) if lines or status != "4" else Decimal(10)
    return RemitPart(
        remit_id=remit_id,
        status=status,
        payer_claim_number=number,
        paid=paid,
        patient_responsibility=Decimal(0),
        contractual=Decimal(0),
        refused=refused,
        lines=adjudicated,
    )


@pytest.mark.unit
def test_a_remit_naming_no_lines_adjudicates_the_whole_claim_again() -> None:
    split = [_part("a", ("L1", "50.00")), _part("b", ("L2", "0.00"))]
    assert outcome(standing(split)) is ClaimState.PARTIALLY_PAID
    whole = _part("c", status="4")  # a claim-level denial names no lines
    assert [p.remit_id for p in standing([*split, whole])] == ["c"]
    assert outcome(standing([*split, whole])) is ClaimState.DENIED
    # a reversal with no claim number of the parts standing takes back all of them
    assert outcome(standing([*split, _part("r", status="22", number="OTHER")])) is None


@pytest.mark.unit
def test_a_reversal_naming_lines_takes_back_only_the_parts_holding_them() -> None:
    split = [_part("a", ("L1", "50.00")), _part("b", ("L2", "30.00"))]
    left = standing([*split, _part("r", ("L2", "-30.00"), status="22")])
    assert [p.remit_id for p in left] == ["a"]
    assert totals(left)[0] == Decimal("50.00")


async def test_lines_the_payer_did_not_key_are_matched_to_the_claims_lines_by_code(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    row, _, _ = await _two_line_claim(engine, h)
    unkeyed_paid = {**_paid_90837("x"), "line_key": None}
    refused = _line("x", "90785", "20.00", "0.00", ("CO", "16", "20.00")) | {"line_key": None}
    await apply(engine, h, _remit(row, "rmt-a", "ICN-A", unkeyed_paid, refused))
    assert (await one(engine, row.claim_id)).state == "partially_paid"
    # the 90785 adjudicated again, first (and only) line of its remit: it replaces the 90785
    again = _line("x", "90785", "20.00", "18.00", ("PR", "2", "2.00")) | {"line_key": None}
    await apply(engine, h, _remit(row, "rmt-b", "ICN-A", again))
    after = await one(engine, row.claim_id)
    assert after.state == "paid"
    assert _money(after) == ("138.00", "22.00", "40.00")
