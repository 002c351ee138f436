"""Fixtures: an in-process sandbox on random loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rcm.sandbox import Sandbox, start_sandbox
from rcm.sandbox.testing import sandbox_config


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with start_sandbox(sandbox_config(tmp_path)) as running:
        yield running
