"""Fixtures: a migrated remittance database per test (see ``rcm.remittance.testing.Ledger``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from rcm.remittance.app import MIGRATIONS
from rcm.remittance.testing import Ledger
from rcm.servicekit import create_engine, upgrade


@pytest_asyncio.fixture
async def ledger(fresh_database: str) -> AsyncIterator[Ledger]:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    try:
        yield Ledger(engine)
    finally:
        await engine.dispose()
