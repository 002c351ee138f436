"""A 271's other payer is matched to ours by electronic payer id through an index, not a scan."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.eligibility.app import MIGRATIONS
from rcm.eligibility.store import PAYER_BY_ELECTRONIC_ID
from rcm.servicekit import create_engine, upgrade

INDEX = "elig_payer_electronic_payer_id"


async def _plan(conn: AsyncConnection) -> str:
    query = PAYER_BY_ELECTRONIC_ID.params(electronic_payer_id="SYNP0002")
    compiled = query.compile(conn.sync_engine, compile_kwargs={"literal_binds": True})
    return "\n".join(r[0] for r in await conn.execute(sa.text(f"EXPLAIN {compiled}")))


async def test_the_other_payer_lookup_reads_the_electronic_payer_id_index(fresh_database: str) -> None:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    try:
        async with engine.begin() as conn:
            # a database migrated before the index existed gets it from the migration
            await conn.execute(sa.text(f"DROP INDEX {INDEX}"))
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0002'"))
        await upgrade(fresh_database, MIGRATIONS)
        async with engine.begin() as conn:
            indexes = {
                r[0]
                for r in await conn.execute(
                    sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'elig_payer'")
                )
            }
            assert INDEX in indexes
            await conn.execute(
                sa.text(
                    "INSERT INTO elig_payer (payer_id, body, deleted, updated_at) VALUES "
                    "('payer-2', '{\"electronic_payer_id\": \"SYNP0002\"}', false, now()), "
                    "('payer-3', '{\"electronic_payer_id\": \"SYNP0002\"}', true, now()), "
                    "('payer-4', '{\"electronic_payer_id\": \"SYNP0004\"}', false, now())"
                )
            )
            matched = await conn.scalar(PAYER_BY_ELECTRONIC_ID, {"electronic_payer_id": "SYNP0002"})
            assert matched == "payer-2"  # a deleted payer is not matched
            await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))  # small table: the plan at scale
            plan = await _plan(conn)
        assert INDEX in plan, plan
        assert "Seq Scan" not in plan, plan
    finally:
        await engine.dispose()
