"""The ledger keys listed files on name, size and modification time."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm.clearinghouse import FileLedger, MemoryFileLedger, SqliteFileLedger

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_file_rewritten_with_the_same_size_is_a_new_version(kind: str, tmp_path: Path) -> None:
    ledger: FileLedger = MemoryFileLedger() if kind == "memory" else SqliteFileLedger(tmp_path / "l.db")
    try:
        await ledger.record(name="A.999", sha256="h1", size=10, kind="999")
        await ledger.note_version(name="A.999", size=10, mtime=100)
        listed = [("A.999", 10, 100), ("A.999", 10, 105), ("B.999", 10, 100)]
        assert await ledger.seen_versions(listed) == {("A.999", 10, 100)}
    finally:
        await ledger.close()
