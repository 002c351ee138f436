"""The runtime's engine: JSON and JSONB values read back as the standard library reads them;
pooled connections pinged only after sitting idle."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.servicekit.db import create_engine, json_loads

DOCUMENTS = [
    {
        "claim": "C-1",
        "amount": "125.00",
        "units": 2,
        "rate": 0.8,
        "lines": [{"code": "90837", "mods": ["95"]}],
    },
    {"name": "Zoë Ñúñez — 東京", "empty": {}, "none": None, "flag": True, "list": []},
    {"big": 123456789012345678901234567890, "negative": -9223372036854775809, "small": 9223372036854775807},
    {"reference": "12345678901234567890123", "amount": 1e300, "tiny": 5e-324},
    [1, 2.5, "three", [4, {"five": 5}]],
    "a string",
    42,
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_json_loads_reads_what_the_standard_library_reads(document: object) -> None:
    text = json.dumps(document)
    assert json_loads(text.encode()) == json.loads(text)
    assert json_loads(text) == json.loads(text)
    assert json_loads(memoryview(text.encode())) == json.loads(text)


def test_big_integers_stay_exact() -> None:
    value = json_loads(b'{"n": 123456789012345678901234567890}')["n"]
    assert isinstance(value, int) and value == 123456789012345678901234567890


def test_what_orjson_refuses_the_standard_library_still_reads() -> None:
    assert json_loads(b'"\\ud800"') == json.loads('"\\ud800"')  # a lone surrogate
    assert json_loads(b"NaN") != json_loads(b"NaN")  # json's extension, not valid JSON
    with pytest.raises(json.JSONDecodeError):
        json_loads(b'{"unterminated": ')


async def test_jsonb_and_json_columns_read_back_as_written(fresh_database: str) -> None:
    engine = create_engine(fresh_database)
    table = sa.Table(
        "doc",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", JSONB),
        sa.Column("raw", sa.JSON),
    )
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
            await conn.execute(
                table.insert(), [{"id": i, "body": d, "raw": d} for i, d in enumerate(DOCUMENTS)]
            )
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(table, sa.cast(table.c.body, sa.Text).label("text")).order_by(table.c.id)
                )
            ).all()
        assert [r.raw for r in rows] == DOCUMENTS
        # JSONB keeps its own form of a number (1e300 comes back as its digits): read as the
        # standard library reads the server's text
        assert [r.body for r in rows] == [json.loads(r.text) for r in rows]
        assert [r.body for r in rows if r.id != 3] == [d for i, d in enumerate(DOCUMENTS) if i != 3]
        big = rows[2].body["big"]
        assert isinstance(big, int) and big == 123456789012345678901234567890
    finally:
        await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(direct: AsyncEngine, pid: int) -> None:
    async with direct.connect() as conn:
        assert (await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar_one()
    await asyncio.sleep(0.2)


async def test_a_connection_idle_long_is_pinged_and_replaced_when_gone(fresh_database: str) -> None:
    direct = create_engine(fresh_database)
    engine = create_engine(fresh_database, pool_size=1, ping_after_idle_s=0.3)
    try:
        first = await _backend_pid(engine)
        await _terminate(direct, first)
        await asyncio.sleep(0.3)
        # idle past the threshold: the pool pings, finds it gone and hands out a fresh one
        second = await _backend_pid(engine)
        assert second != first
    finally:
        await engine.dispose()
        await direct.dispose()


async def test_a_connection_in_steady_use_is_not_pinged_and_a_dead_one_fails_once(
    fresh_database: str,
) -> None:
    direct = create_engine(fresh_database)
    engine = create_engine(fresh_database, pool_size=1, ping_after_idle_s=60)
    try:
        first = await _backend_pid(engine)
        await _terminate(direct, first)
        # no ping (in use a moment ago): the dead connection fails the statement as a disconnect ...
        with pytest.raises(sa.exc.DBAPIError) as failed:
            await _backend_pid(engine)
        assert failed.value.connection_invalidated
        # ... which empties the pool, so the caller's retry gets a fresh connection
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()
        await direct.dispose()
