"""A batch's new sessions, their claims and the claims' lines are written together: three
statements for the batch, not three per session; what the batch reads afterwards sees them,
and a session written meanwhile by another transaction makes the batch start again."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from claims_direct import apply, apply_batch, handlers, rows, trail
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.lifecycle import SessionsRaced
from rcm.claims.store import claim, claim_line
from rcm.claims.store import session as session_table
from rcm.events import Event
from rcm.events import testing as f
from rcm.servicekit import Transaction
from rcm.servicekit.testing import statements_sent


def _writes(sent: list[str]) -> Counter[str]:
    return Counter(
        s.split(" (")[0] for s in sent if s.startswith(("INSERT INTO session", "INSERT INTO claim "))
    ) + Counter("INSERT INTO claim_line" for s in sent if s.startswith("INSERT INTO claim_line"))


async def _setup(engine: AsyncEngine, h: Any, patients: range) -> None:
    events: list[Event] = []
    for n in patients:
        events += reference(n, electronic_payer_id=f"P{n:04d}", member_id=f"M{n:09d}", enrolled=n != 3)
    await apply(engine, h, *events)


async def test_a_batch_of_sessions_is_written_in_three_statements_with_each_claim_as_it_ended(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await _setup(engine, h, range(1, 7))
    with statements_sent(engine) as sent:
        await apply_batch(engine, h, *(session(n) for n in range(1, 7)))
    # patient 3's provider is not enrolled with the payer: a held claim beside five ready ones
    assert _writes(sent) == {"INSERT INTO session": 1, "INSERT INTO claim": 2, "INSERT INTO claim_line": 1}
    assert not [s for s in sent if s.startswith("UPDATE claim ")]
    claims = await rows(engine)
    assert sorted((r.patient_id, r.state) for r in claims) == [
        (f.ids(n)["patient_id"], "held" if n == 3 else "ready") for n in range(1, 7)
    ]
    async with engine.connect() as conn:
        lines = Counter((await conn.execute(sa.select(claim_line.c.claim_id))).scalars())
        statuses = set((await conn.execute(sa.select(session_table.c.status))).scalars())
    assert lines == Counter({r.claim_id: len(r.draft["lines"]) for r in claims})
    assert statuses == {"claimed"}
    for row in claims:
        assert await trail(engine, row.claim_id) == [(None, "created"), ("created", row.state)]


async def test_a_second_session_of_a_patient_in_the_batch_is_coded_against_the_first_written_before_it(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await _setup(engine, h, range(1, 3))
    first = session(1)
    again = first.model_copy(update={"session_id": f"{first.session_id}-b"})  # the same visit, twice
    with statements_sent(engine) as sent:
        await apply_batch(engine, h, first, session(2), again)
    # the second session of patient 1 found the first one's rows queued: they were written first
    assert _writes(sent)["INSERT INTO session"] == 2
    ready, duplicate = sorted(
        await rows(engine, claim.c.patient_id == f.ids(1)["patient_id"]), key=lambda r: r.session_id
    )
    assert ready.state == "ready" and duplicate.state == "held"
    assert duplicate.hold_reasons  # the same service the same day was found in the first claim


async def test_a_session_delivered_twice_in_one_batch_is_claimed_once(engine: AsyncEngine) -> None:
    h = handlers()
    await _setup(engine, h, range(1, 2))
    await apply_batch(engine, h, session(1), session(1))
    assert len(await rows(engine)) == 1
    await apply_batch(engine, h, session(1))  # and again in a later batch
    assert len(await rows(engine)) == 1


async def test_a_session_written_meanwhile_by_another_transaction_makes_the_batch_start_again(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await _setup(engine, h, range(1, 3))
    voided = session(2)
    prepare = h.prepare

    async def prepare_then_void_elsewhere(tx: Transaction, events: list[Any]) -> None:
        await prepare(tx, events)
        async with engine.begin() as other:  # another replica's void of session 2, committed first
            await other.execute(
                sa.insert(session_table).values(
                    session_id=voided.session_id,
                    patient_id=voided.patient_id,
                    body={},
                    status="voided",
                    reason="voided",
                    received_at=sa.func.now(),
                )
            )

    h.prepare = prepare_then_void_elsewhere  # type: ignore[method-assign]
    with pytest.raises(SessionsRaced):
        await apply_batch(engine, h, session(1), voided)
    assert await rows(engine) == []  # the batch wrote nothing

    h.prepare = prepare  # type: ignore[method-assign]
    await apply_batch(engine, h, session(1), voided)  # the retry finds session 2 on file
    assert [r.patient_id for r in await rows(engine)] == [f.ids(1)["patient_id"]]


async def test_a_session_voided_earlier_in_the_batch_is_not_claimed_when_it_arrives(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await _setup(engine, h, range(1, 3))
    late = session(2)
    await apply_batch(
        engine, h, session(1), f.session_voided(2, session_id=late.session_id), late
    )  # the void overtook the session (another topic)
    assert [r.patient_id for r in await rows(engine)] == [f.ids(1)["patient_id"]]
    async with engine.connect() as conn:
        status = await conn.scalar(
            sa.select(session_table.c.status).where(session_table.c.session_id == late.session_id)
        )
    assert status == "voided"


async def test_a_batch_of_authorization_answers_reads_its_patients_once(engine: AsyncEngine) -> None:
    h = handlers()
    needs_auth = {"auth_requirements": [{"procedure_code": "90837"}]}
    setup: list[Event] = []
    for n in range(1, 4):
        setup += reference(n, electronic_payer_id=f"P{n:04d}", member_id=f"M{n:09d}", **needs_auth)
        setup.append(f.authorization_received(n, valid={"start": "2024-01-01"}, procedure_codes=["90837"]))
    await apply(engine, h, *setup)
    await apply_batch(engine, h, *(session(n) for n in range(1, 4)))
    assert {r.state for r in await rows(engine)} == {"created"}  # each waits for its answer

    answers = [
        f.authorization_consumed(n, session_id=session(n).session_id, remaining=11) for n in range(1, 4)
    ]
    with statements_sent(engine) as sent:
        await apply_batch(engine, h, *answers)
    assert {r.state for r in await rows(engine)} == {"ready"}
    reads = Counter(
        m.group(1) for s in sent if s.startswith("SELECT") and (m := re.search(r"\bFROM\s+\"?(\w+)", s))
    )
    # coverages, eligibility checks and claimed services: one read each for the batch's patients
    assert reads["eligibility"] == 1 and reads["reference"] == 1, sent
