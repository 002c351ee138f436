"""Shared fixtures: the sample files copied from public repositories (see data/SOURCES.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def sample_files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def sample_flags() -> dict[str, str]:
    """File name -> its flags column in SOURCES.md."""
    flags: dict[str, str] = {}
    for line in (DATA / "SOURCES.md").read_text().splitlines():
        match = re.match(r"^\| `([^`]+)` \|", line)
        if match:
            cells = [c.strip() for c in line.split("|")]
            flags[match.group(1)] = cells[6]
    return flags


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
