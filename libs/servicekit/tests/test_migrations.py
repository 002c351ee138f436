"""Migrations of replicas that start together (separate processes, as in a deployment): one
applies them, the others wait and find them applied."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import sqlalchemy as sa

from rcm.servicekit.db import create_engine, migrations_at_head

ENV = "from rcm.servicekit.db import run_alembic_env\n\nrun_alembic_env()\n"
REVISION = '''"""a table"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("thing", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("SELECT pg_sleep(0.3)")  # long enough for the others to arrive meanwhile


def downgrade() -> None:
    op.drop_table("thing")
'''


def _scripts(root: Path) -> Path:
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(ENV)
    (root / "versions" / "0001_thing.py").write_text(REVISION)
    return root


async def test_replicas_migrating_one_fresh_database_at_once_all_succeed(
    fresh_database: str, tmp_path: Path
) -> None:
    scripts = _scripts(tmp_path / "migrations")
    code = (
        "import asyncio, sys; from pathlib import Path; from rcm.servicekit.db import upgrade; "
        "asyncio.run(upgrade(sys.argv[1], Path(sys.argv[2])))"
    )
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, fresh_database, str(scripts), stderr=asyncio.subprocess.PIPE
        )
        for _ in range(4)
    ]
    outcomes = [
        (rc, err.decode()[-300:])
        for rc, (_, err) in zip(
            await asyncio.gather(*(p.wait() for p in replicas)),
            await asyncio.gather(*(p.communicate() for p in replicas)),
            strict=True,
        )
    ]
    assert [rc for rc, _ in outcomes] == [0, 0, 0, 0], outcomes
    engine = create_engine(fresh_database)
    try:
        assert await migrations_at_head(engine, scripts)
        async with engine.connect() as conn:
            assert await conn.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1
            assert await conn.scalar(sa.text("SELECT to_regclass('thing') IS NOT NULL"))
    finally:
        await engine.dispose()
