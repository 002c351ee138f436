"""Fixtures shared by the denials tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.denials import store
from rcm.servicekit import create_engine, upgrade

MIGRATIONS = Path(store.__file__).parent / "migrations"


@pytest_asyncio.fixture
async def engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    """The service's database at its migrations' head, for tests that call handlers directly."""
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    try:
        yield engine
    finally:
        await engine.dispose()


# The triage tests share helpers in triage_world.py (imported by module name).
sys.path.insert(0, str(Path(__file__).parent))
