"""The service's migrations go down and up again (each revision's downgrade undoes it)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from rcm.authorizations.app import MIGRATIONS
from rcm.servicekit import upgrade
from rcm.servicekit.db import create_engine


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
                {"t": table},
            )
            return {r[0] for r in rows}
    finally:
        await engine.dispose()


async def test_revision_0004_goes_down_and_up_again(fresh_database: str) -> None:
    await upgrade(fresh_database, MIGRATIONS)
    assert {"coverage_id", "units", "provider_id"} <= await _columns(fresh_database, "service_line")
    assert "quantity" in await _columns(fresh_database, "uncovered_line")
    assert await _columns(fresh_database, "replaced_claim")

    await asyncio.to_thread(command.downgrade, _config(fresh_database), "0003")
    assert not {"coverage_id", "units", "provider_id"} & await _columns(fresh_database, "service_line")
    assert "quantity" not in await _columns(fresh_database, "uncovered_line")
    assert not await _columns(fresh_database, "replaced_claim")

    await upgrade(fresh_database, MIGRATIONS)  # as on a database migrated before 0004
    assert {"coverage_id", "units", "provider_id"} <= await _columns(fresh_database, "service_line")
    assert "quantity" in await _columns(fresh_database, "uncovered_line")
    assert await _columns(fresh_database, "replaced_claim")


async def _nullable(url: str, table: str, column: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            answer = await conn.scalar(
                sa.text(
                    "SELECT is_nullable FROM information_schema.columns WHERE table_name = :t AND column_name = :c"
                ),
                {"t": table, "c": column},
            )
            return bool(answer == "YES")
    finally:
        await engine.dispose()


async def test_revision_0005_goes_down_and_up_again(fresh_database: str) -> None:
    await upgrade(fresh_database, MIGRATIONS)
    assert await _nullable(fresh_database, "reservation", "authorization_id")
    await asyncio.to_thread(command.downgrade, _config(fresh_database), "0004")
    assert not await _nullable(fresh_database, "reservation", "authorization_id")
    assert not await _nullable(fresh_database, "reservation", "service_date")
    await upgrade(fresh_database, MIGRATIONS)
    assert await _nullable(fresh_database, "reservation", "service_date")


async def _sequences(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT sequence_name FROM information_schema.sequences"))
            return {r[0] for r in rows}
    finally:
        await engine.dispose()


async def test_revision_0006_goes_down_and_up_again(fresh_database: str) -> None:
    await upgrade(fresh_database, MIGRATIONS)
    assert "diagnoses" in await _columns(fresh_database, "service_line")
    assert "interchange_control_seq" in await _sequences(fresh_database)
    await asyncio.to_thread(command.downgrade, _config(fresh_database), "0005")
    assert "diagnoses" not in await _columns(fresh_database, "service_line")
    assert "interchange_control_seq" not in await _sequences(fresh_database)
    await upgrade(fresh_database, MIGRATIONS)  # as on a database migrated before 0006
    assert "diagnoses" in await _columns(fresh_database, "service_line")
    assert "interchange_control_seq" in await _sequences(fresh_database)
