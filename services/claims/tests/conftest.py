"""Fixtures for the service tests: the in-process sandbox and a world on the real broker and database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.app import MIGRATIONS
from rcm.sandbox import Sandbox, start_sandbox
from rcm.sandbox.testing import sandbox_config
from rcm.servicekit import create_engine, upgrade


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with start_sandbox(sandbox_config(tmp_path)) as running:
        yield running


@pytest.fixture
async def engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    """The service's database at its migrations' head, for tests that call handlers directly."""
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    try:
        yield engine
    finally:
        await engine.dispose()


# The service tests share helpers in claims_world.py (imported by module name).
sys.path.insert(0, str(Path(__file__).parent))
