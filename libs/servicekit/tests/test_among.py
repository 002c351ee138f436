"""``among``: a membership test sent as one array, one statement text whatever the count."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from rcm.servicekit import among, create_engine
from rcm.servicekit.db import parked_key
from rcm.servicekit.testing import create_schema, statements_sent

_t = sa.table("t", sa.column("id", sa.Text))


def _sql(statement: sa.ClauseElement) -> str:
    return str(statement.compile(dialect=postgresql.dialect()))


def test_one_statement_text_for_every_count_where_in_renders_one_per_count() -> None:
    assert _sql(sa.select(_t).where(among(_t.c.id, ["a"]))) == _sql(
        sa.select(_t).where(among(_t.c.id, ["a", "b", "c"]))
    )
    expanded = [
        str(
            sa.select(_t)
            .where(_t.c.id.in_(ids))
            .compile(dialect=postgresql.dialect(), compile_kwargs={"render_postcompile": True})
        )
        for ids in (["a"], ["a", "b", "c"])
    ]
    assert expanded[0] != expanded[1]


async def test_it_finds_the_rows_of_its_values_text_and_bytes(fresh_database: str) -> None:
    engine = create_engine(fresh_database)
    await create_schema(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                parked_key.insert(),
                [
                    {"consumer": "c", "key": k, "head_event_id": None, "pending": 1}
                    for k in (b"a", b"b", b"\x00c")
                ],
            )
            with statements_sent(engine) as sent:
                found = []
                for keys in ([b"a"], [b"b", b"\x00c", b"zz"], [], {b"a", b"b"}):
                    rows = await conn.execute(
                        sa.select(parked_key.c.key).where(
                            parked_key.c.consumer == "c", among(parked_key.c.key, keys)
                        )
                    )
                    found.append(sorted(bytes(r.key) for r in rows))
        assert found == [[b"a"], [b"\x00c", b"b"], [], [b"a", b"b"]]
        assert len(set(sent)) == 1  # one text for 1, 3, 0 and 2 values
    finally:
        await engine.dispose()
