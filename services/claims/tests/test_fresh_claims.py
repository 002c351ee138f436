"""A session's new claim is written once, with its first evaluation's outcome: no update of the
row just inserted."""

from __future__ import annotations

from claims_direct import apply, handlers, rows, trail
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.store import claim
from rcm.events import testing as f
from rcm.servicekit.testing import statements_sent


async def test_a_clean_session_inserts_its_claim_ready_and_a_failing_one_held(engine: AsyncEngine) -> None:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        *reference(2, electronic_payer_id="EVRGRN", member_id="EVG100000002", enrolled=False),
    )
    with statements_sent(engine) as sent:
        await apply(engine, h, session(1), session(2))
    writes = [
        s.split(" (")[0].split(" SET")[0]
        for s in sent
        if s.startswith(("INSERT INTO claim ", "UPDATE claim "))
    ]
    assert writes == ["INSERT INTO claim", "INSERT INTO claim"]  # one insert each, no update

    (ready,) = await rows(engine, claim.c.session_id == "ses-0001")
    assert (
        ready.state == "ready" and ready.ready_at is not None and ready.awaiting_authorization_until is None
    )
    assert await trail(engine, ready.claim_id) == [(None, "created"), ("created", "ready")]
    (held,) = await rows(engine, claim.c.session_id == "ses-0002")
    assert held.state == "held" and [r["code"] for r in held.hold_reasons] == ["provider_not_enrolled"]
    assert await trail(engine, held.claim_id) == [(None, "created"), ("created", "held")]
    for row in (ready, held):  # its lines were written after it
        assert row.total_charge > 0 and row.draft["lines"]

    # a redelivered session claims nothing and writes no claim
    with statements_sent(engine) as again:
        await apply(engine, h, session(1))
    assert not [s for s in again if s.startswith(("INSERT INTO claim", "UPDATE claim "))]
    assert len(await rows(engine, claim.c.session_id == "ses-0001")) == 1


async def test_an_answer_that_leaves_the_coding_as_it_was_rewrites_neither_the_draft_nor_the_lines(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    needs_auth = {"auth_requirements": [{"procedure_code": "90837"}]}
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001", **needs_auth),
        f.authorization_received(1, valid={"start": "2024-01-01"}, procedure_codes=["90837"]),
    )
    first = session(1)
    await apply(engine, h, first)
    (waiting,) = await rows(engine, claim.c.session_id == first.session_id)
    assert waiting.state == "created" and waiting.awaiting_authorization_until is not None

    with statements_sent(engine) as sent:
        await apply(engine, h, f.authorization_consumed(1, session_id=first.session_id, remaining=11))
    (ready,) = await rows(engine, claim.c.session_id == first.session_id)
    assert ready.state == "ready" and ready.draft == waiting.draft
    assert ready.draft["prior_authorization_number"] == "SYNAUTH000001"
    assert not [s for s in sent if s.startswith(("DELETE FROM claim_line", "INSERT INTO claim_line"))]
    assert not [s for s in sent if s.startswith("UPDATE claim SET") and "draft=" in s]
