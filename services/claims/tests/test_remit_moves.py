"""A batch's remits move their claims in one statement, written before anything else in the
batch reads the claims; each move keeps its own audit row and status event."""

from __future__ import annotations

import sqlalchemy as sa
from claims_direct import apply, apply_batch, handlers, rows, trail
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.store import claim
from rcm.events import testing as f
from rcm.servicekit.testing import statements_sent


def _remit(row: object, k: int, **fields: object) -> object:
    values = {
        "remit_id": f"rmt-{k}",
        "claim_id": row.claim_id,  # type: ignore[attr-defined]
        "patient_id": row.patient_id,  # type: ignore[attr-defined]
        "payer_id": row.payer_id,  # type: ignore[attr-defined]
        "payer_claim_number": f"PCN-{k}",
        "lines": [],
        "patient_responsibility": "0.00",
    }
    return f.remit_received(1, **(values | fields))


async def test_plain_remits_move_their_claims_in_one_statement(engine: AsyncEngine) -> None:
    h = handlers()
    for n in (1, 2, 3):
        await apply(engine, h, *reference(n, electronic_payer_id="EVRGRN", member_id=f"EVG10000000{n}"))
    await apply(engine, h, session(1), session(2), session(3))
    async with engine.begin() as conn:
        await conn.execute(sa.update(claim).where(claim.c.state == "ready").values(state="accepted"))
    accepted = sorted(await rows(engine, claim.c.state == "accepted"), key=lambda r: r.claim_id)
    assert len(accepted) == 3
    one, two, three = accepted
    remits = [
        _remit(one, 1, paid="150.00", claim_adjustments=[{"group": "CO", "carc": "45", "amount": "30.00"}]),
        _remit(
            two,
            2,
            status="4",
            paid="0.00",
            claim_adjustments=[{"group": "CO", "carc": "50", "amount": "180.00"}],
        ),
        _remit(three, 3, paid="120.00"),
        f.patient_updated(1),  # another kind of event between remits: the moves before it land first
        _remit(three, 4, paid="120.00"),  # the same claim again (a re-sent remit): read as moved
    ]
    with statements_sent(engine) as sent:
        await apply_batch(engine, h, *remits)
    moves = [s for s in sent if s.startswith("UPDATE claim SET")]
    # the three moves, written as one when the patient change comes; the re-sent remit's note
    assert len(moves) == 2, moves
    assert "FROM unnest(" in moves[0]  # one array per column: one statement text for any count
    by_id = {r.claim_id: r for r in await rows(engine, claim.c.claim_id.in_([r.claim_id for r in accepted]))}
    assert (by_id[one.claim_id].state, str(by_id[one.claim_id].remit_paid)) == ("paid", "150.00")
    assert str(by_id[one.claim_id].remit_contractual) == "30.00"  # the contract's write-off, for A/R
    assert str(by_id[two.claim_id].remit_contractual) == "0.00"  # CO-50 is a denial, not the contract
    assert by_id[one.claim_id].payer_claim_number == "PCN-1"
    assert by_id[two.claim_id].state == "denied"
    assert (by_id[three.claim_id].state, by_id[three.claim_id].payer_claim_number) == ("paid", "PCN-3")
    for row in accepted:
        moved = [step for step in await trail(engine, row.claim_id) if step[0] == "accepted"]
        assert len(moved) == 1  # one audited move each, the re-sent remit moved nothing
