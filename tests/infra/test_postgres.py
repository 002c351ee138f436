"""The real PostgreSQL: an Alembic migration and a round trip through SQLAlchemy 2.0 async + psycopg 3."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.postgres

MIGRATIONS = Path(__file__).parent / "migrations"


def _upgrade(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")


async def test_migration_then_async_round_trip(fresh_database: str) -> None:
    await asyncio.to_thread(_upgrade, fresh_database)
    engine = create_async_engine(fresh_database)
    ledger = sa.table(
        "ledger", sa.column("event_id", sa.Uuid), sa.column("amount", sa.Numeric(12, 2)), sa.column("id")
    )
    event_id = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
            assert version == "0001"
            await conn.execute(sa.insert(ledger).values(event_id=event_id, amount=Decimal("123.45")))
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(ledger.c.event_id, ledger.c.amount))).one()
        assert row.event_id == event_id
        assert row.amount == Decimal("123.45")  # exact, not a float

        # the unique key is what makes a replayed event a no-op
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.insert(ledger).values(event_id=event_id, amount=Decimal("1.00")))
        async with engine.connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(ledger))).scalar_one() == 1
    finally:
        await engine.dispose()
