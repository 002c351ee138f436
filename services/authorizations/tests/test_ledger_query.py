"""The ledger sums usage and reservations per selected authorization, through their indexes."""

from __future__ import annotations

import sqlalchemy as sa

from rcm.authorizations.app import MIGRATIONS
from rcm.authorizations.store import _LEDGER, authorization
from rcm.servicekit import create_engine, upgrade


async def test_the_ledger_reads_only_the_selected_authorizations_usage(fresh_database: str) -> None:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    try:
        async with engine.connect() as conn:
            indexes = {
                r[0]
                for r in await conn.execute(
                    sa.text("SELECT indexname FROM pg_indexes WHERE tablename IN ('usage', 'reservation')")
                )
            }
            assert {"ix_usage_authorization_id", "ix_reservation_authorization_id"} <= indexes
            await conn.execute(sa.text("SET enable_seqscan = off"))  # small tables: ask for the plan at scale
            query = _LEDGER.where(authorization.c.patient_id == "pat-1")
            compiled = query.compile(conn.sync_engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join(r[0] for r in await conn.execute(sa.text(f"EXPLAIN {compiled}")))
        # no aggregate over the whole usage or reservation table: each is read by authorization
        assert "ix_usage_authorization_id" in plan and "ix_reservation_authorization_id" in plan, plan
        assert "HashAggregate" not in plan and "GroupAggregate" not in plan, plan
    finally:
        await engine.dispose()
