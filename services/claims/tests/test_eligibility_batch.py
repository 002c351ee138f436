"""A batch's eligibility checks are written in one statement with its commit, and the batch's
own sessions are scrubbed against them all the same."""

from __future__ import annotations

from datetime import UTC, datetime

from claims_direct import apply, apply_batch, handlers, rows
from claims_world import DOS, reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.store import claim, eligibility
from rcm.events import testing as f
from rcm.servicekit.testing import statements_sent


def _check(n: int, status: str, check_id: str, minute: int = 0) -> object:
    return f.eligibility_checked(
        n,
        check_id=check_id,
        status=status,
        service_date=DOS,
        plan_period={"start": "2024-01-01", "end": "2030-12-31"},
        checked_at=datetime(2025, 3, 1, 9, minute, tzinfo=UTC),
    )


async def test_checks_are_written_once_per_batch_and_seen_by_its_sessions(engine: AsyncEngine) -> None:
    h = handlers()
    without_checks = [
        e
        for n in (1, 2)
        for e in reference(n, electronic_payer_id="EVRGRN", member_id=f"EVG10000000{n}")
        if type(e).__name__ != "EligibilityChecked"
    ]
    await apply(engine, h, *without_checks)
    with statements_sent(engine) as sent:
        # an inactive answer and the session it speaks for, in one batch; an active one for patient 2
        await apply_batch(
            engine,
            h,
            _check(1, "active", "chk-1-a"),
            _check(1, "inactive", "chk-1-b", minute=5),  # the latest: it decides
            _check(2, "active", "chk-2-a"),
            session(1),
            session(2),
        )
    inserts = [s for s in sent if s.startswith("INSERT INTO eligibility")]
    assert len(inserts) == 1  # three checks, one statement, with the commit
    async with engine.connect() as conn:
        stored = sorted((r.check_id, r.body["status"]) for r in await conn.execute(eligibility.select()))
    assert stored == [("chk-1-a", "active"), ("chk-1-b", "inactive"), ("chk-2-a", "active")]

    (held,) = await rows(engine, claim.c.session_id == "ses-0001")
    assert held.state == "held"
    assert [r["code"] for r in held.hold_reasons] == ["eligibility_inactive"]
    (ready,) = await rows(engine, claim.c.session_id == "ses-0002")
    assert ready.state == "ready"

    # the same check again (another delivery) is written once
    await apply_batch(engine, h, _check(2, "active", "chk-2-a"))
    async with engine.connect() as conn:
        assert len((await conn.execute(eligibility.select())).all()) == 3
