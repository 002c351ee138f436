"""The service's own database: engine, the runtime's tables, migrations.

The runtime keeps three tables in every service database, next to the
service's own tables: ``kit_inbox`` (which events a consumer has applied),
``kit_outbox`` (events waiting to be published) and ``kit_parked_key`` (keys
whose records wait in the retry topic, so later records of the same key do not
overtake them). Services create them in their first Alembic revision with
``create_kit_tables()``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = [
    "among",
    "create_engine",
    "create_kit_indexes",
    "create_kit_tables",
    "drop_kit_indexes",
    "inbox",
    "kit_metadata",
    "migrations_at_head",
    "outbox",
    "parked_key",
    "run_alembic_env",
    "upgrade",
]

kit_metadata = sa.MetaData()

inbox = sa.Table(
    "kit_inbox",
    kit_metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # rows arrive in time order: a block-range index is a few pages and finds the expired ones
    sa.Index("kit_inbox_received", "received_at", postgresql_using="brin"),
)

outbox = sa.Table(
    "kit_outbox",
    kit_metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("key", sa.LargeBinary),
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("headers", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Index("kit_outbox_pending", "id", postgresql_where=sa.text("published_at IS NULL")),
    sa.Index("kit_outbox_created", "created_at", postgresql_using="brin"),
)

parked_key = sa.Table(
    "kit_parked_key",
    kit_metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("key", sa.LargeBinary, primary_key=True),
    sa.Column("head_event_id", sa.Text),
    sa.Column("pending", sa.Integer, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


def among(column: sa.ColumnElement[Any], values: Any) -> sa.ColumnElement[bool]:
    """``column = ANY(:values)``, the values sent as one array: one statement text whatever
    their count. ``column.in_(values)`` renders a placeholder per value, so every count is a
    statement of its own: expanded on each execution, prepared and planned again by the server
    (and its prepared statements crowd each other out of the connection's cache)."""
    return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(column.type)))


_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def json_loads(data: bytes | bytearray | memoryview | str) -> Any:
    """A JSON document as the standard library's ``json.loads`` reads it, a few times faster:
    orjson, except for a document with a run of 19 digits (orjson reads an integer beyond 64 bits
    as a float, the standard library keeps it exact) or one orjson refuses."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if _LONG_NUMBER.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


PING_AFTER_IDLE_S = 10.0
"""A pooled connection idle longer than this is pinged before it is handed out."""


def create_engine(
    url: str, *, pool_size: int = 5, ping_after_idle_s: float = PING_AFTER_IDLE_S
) -> AsyncEngine:
    """An engine whose JSON and JSONB values are read with :func:`json_loads`.

    A connection is pinged before use only after it sat in the pool for ``ping_after_idle_s``
    (a server restart or a firewall may have dropped it meanwhile); SQLAlchemy's ``pre_ping``
    pings at every checkout, a round trip per transaction that a busy service pays for nothing.
    A connection that fails anyway (the server went away a moment ago) raises a disconnect
    error, which makes the pool discard all its connections, and the caller's retry (the
    consumer waits out infrastructure errors) gets fresh ones.
    """
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, json_deserializer=json_loads
    )
    pool, dialect = engine.sync_engine.pool, engine.sync_engine.dialect

    @sa.event.listens_for(pool, "checkin")
    def _idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(pool, "checkout")
    def _ping_when_idle_long(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < ping_after_idle_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # the pool discards this connection and checks out another (up to three times)
            raise sa.exc.DisconnectionError(f"idle connection gone: {type(exc).__name__}") from exc

    return engine


def create_kit_tables() -> None:
    """Create the runtime's tables from inside an Alembic revision (``upgrade()``)."""
    from alembic import op

    kit_metadata.create_all(op.get_bind())


KIT_RETENTION_INDEXES = ("kit_inbox_received", "kit_outbox_created")
"""Indexes the runtime added after its tables were first made: a service adds them to a database
made before with one revision calling :func:`create_kit_indexes`."""


def create_kit_indexes() -> None:
    """Create the runtime's later indexes that a database lacks (inside an Alembic revision)."""
    from alembic import op

    for table in kit_metadata.tables.values():
        for index in table.indexes:
            if index.name in KIT_RETENTION_INDEXES:
                index.create(op.get_bind(), checkfirst=True)


def drop_kit_indexes() -> None:
    """Undo :func:`create_kit_indexes` (an Alembic revision's ``downgrade()``)."""
    from alembic import op

    for name in KIT_RETENTION_INDEXES:
        op.drop_index(name, if_exists=True)


def _alembic_config(url: str, script_location: Path):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, script_location: Path) -> None:
    """Apply the service's migrations up to head (Alembic runs in a worker thread)."""
    from alembic import command

    await asyncio.to_thread(command.upgrade, _alembic_config(url, script_location), "head")


async def migrations_at_head(engine: AsyncEngine, script_location: Path) -> bool:
    """True when the database's Alembic revision is the scripts' head."""
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory(str(script_location)).get_heads())
    async with engine.connect() as conn:
        exists = await conn.scalar(sa.text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        if not exists:
            return False
        current = {row[0] for row in await conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
    return current == heads


MIGRATION_LOCK = 0x52434D_4D4947
"""The advisory lock key a database's migrations run under (one service per database)."""


def run_alembic_env(target_metadata: sa.MetaData | None = None) -> None:
    """The body of a service's ``migrations/env.py``: run the revisions over the async engine.

    ``env.py`` is then two lines::

        from rcm.servicekit.db import run_alembic_env
        run_alembic_env()
    """
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set (use rcm.servicekit.db.upgrade)")

    def _run(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            # replicas starting together migrate one at a time: the others wait here, then find
            # the revisions applied (PostgreSQL runs the DDL in this one transaction)
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()

    async def _main() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(_main())
