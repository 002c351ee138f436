"""The visits left on an authorization, as claims keeps them from the authorizations service's
consumed and released events (two topics: either may arrive after a newer one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from claims_direct import apply, handlers
from claims_world import reference
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.store import authorization
from rcm.events import testing as f

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


async def _remaining(engine: AsyncEngine) -> int | None:
    async with engine.connect() as conn:
        value = await conn.scalar(sa.select(authorization.c.remaining))
    return None if value is None else int(value)


async def test_an_older_count_arriving_late_does_not_replace_a_newer_one(engine: AsyncEngine) -> None:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        f.authorization_received(1),
    )
    consumed = f.authorization_consumed(1, remaining=5, consumed_at=T0 + timedelta(minutes=10))
    released_before = f.authorization_released(1, remaining=6, released_at=T0)
    released_after = f.authorization_released(1, remaining=6, released_at=T0 + timedelta(minutes=20))

    await apply(engine, h, consumed)
    assert await _remaining(engine) == 5
    await apply(engine, h, released_before)  # counted before the burn-down, read after it
    assert await _remaining(engine) == 5
    await apply(engine, h, released_after)
    assert await _remaining(engine) == 6
    await apply(engine, h, consumed)  # a redelivery of the older burn-down changes nothing
    assert await _remaining(engine) == 6
