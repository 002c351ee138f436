"""Fixtures for the service tests: the in-process sandbox and a world on the real broker and database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rcm.sandbox import Sandbox, start_sandbox
from rcm.sandbox.testing import sandbox_config


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with start_sandbox(sandbox_config(tmp_path)) as running:
        yield running


# The service tests share helpers in claims_world.py (imported by module name).
sys.path.insert(0, str(Path(__file__).parent))
