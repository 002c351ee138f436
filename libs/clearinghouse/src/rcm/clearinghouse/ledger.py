"""Which downloaded files were already handed on: a small pluggable store keyed by name and content hash.

A file counts as seen when its SHA-256 was recorded before, whatever its name (a
clearinghouse that re-delivers a file often renames it). Services plug their own
implementation (PostgreSQL, in the same transaction as their inbox) by subclassing
``FileLedger``; ``MemoryFileLedger`` and ``SqliteFileLedger`` cover tests and single processes.
"""

from __future__ import annotations

import abc
import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["FileLedger", "LedgerEntry", "MemoryFileLedger", "SqliteFileLedger"]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    name: str
    sha256: str
    size: int
    kind: str
    recorded_at: datetime


class FileLedger(abc.ABC):
    """Remembers downloaded files so a file delivered twice is handed on once."""

    @abc.abstractmethod
    async def seen(self, sha256: str) -> bool:
        """True when a file with this content hash was recorded."""

    @abc.abstractmethod
    async def seen_name(self, name: str, size: int) -> bool:
        """True when a file of this name and size was recorded (lets a poll skip the download)."""

    async def seen_names(self, files: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        """The (name, size) pairs of ``files`` already recorded: one call per poll, not per file.

        Mailboxes keep their files, so a poll lists every file ever delivered; a store that can
        answer for many at once (one query) should override this.
        """
        return {f for f in files if await self.seen_name(*f)}

    @abc.abstractmethod
    async def record(self, *, name: str, sha256: str, size: int, kind: str) -> bool:
        """Record a file; False when its hash was already recorded (someone else handed it on)."""

    async def seen_versions(
        self, files: Sequence[tuple[str, int, int | None]]
    ) -> set[tuple[str, int, int | None]]:
        """The (name, size, mtime) of ``files`` already recorded: a file overwritten under the same
        name and size (a 999 re-sent as a reject) has another modification time and is read again.

        The default keys on (name, size) only, as ledgers written before modification times did;
        a ledger that stores them overrides this and ``note_version``."""
        known = await self.seen_names([(name, size) for name, size, _ in files])
        return {f for f in files if (f[0], f[1]) in known}

    async def note_version(self, *, name: str, size: int, mtime: int | None) -> None:  # noqa: B027
        """Remember the modification time of a recorded file (see ``seen_versions``); optional."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources."""


class MemoryFileLedger(FileLedger):
    def __init__(self) -> None:
        self._by_hash: dict[str, LedgerEntry] = {}
        self._names: set[tuple[str, int]] = set()
        self._versions: set[tuple[str, int, int | None]] = set()

    async def seen_versions(
        self, files: Sequence[tuple[str, int, int | None]]
    ) -> set[tuple[str, int, int | None]]:
        return {f for f in files if f in self._versions}

    async def note_version(self, *, name: str, size: int, mtime: int | None) -> None:
        self._versions.add((name, size, mtime))

    async def seen(self, sha256: str) -> bool:
        return sha256 in self._by_hash

    async def seen_name(self, name: str, size: int) -> bool:
        return (name, size) in self._names

    async def record(self, *, name: str, sha256: str, size: int, kind: str) -> bool:
        self._names.add((name, size))
        if sha256 in self._by_hash:
            return False
        self._by_hash[sha256] = LedgerEntry(name, sha256, size, kind, datetime.now(UTC))
        return True

    def entries(self) -> list[LedgerEntry]:
        return list(self._by_hash.values())


class SqliteFileLedger(FileLedger):
    """A ledger in one SQLite file; each call runs in a worker thread."""

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS received_file ("
        " sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL,"
        " kind TEXT NOT NULL, recorded_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS received_name ("
        " name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (name, size))",
        "CREATE TABLE IF NOT EXISTS received_version ("
        " name TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL, PRIMARY KEY (name, size, mtime))",
    )

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._lock = asyncio.Lock()
        for statement in self._SCHEMA:
            self._conn.execute(statement)

    async def _run(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        async with self._lock:
            return await asyncio.to_thread(self._conn.execute, sql, params)

    async def seen(self, sha256: str) -> bool:
        cursor = await self._run("SELECT 1 FROM received_file WHERE sha256 = ?", (sha256,))
        return cursor.fetchone() is not None

    async def seen_name(self, name: str, size: int) -> bool:
        cursor = await self._run("SELECT 1 FROM received_name WHERE name = ? AND size = ?", (name, size))
        return cursor.fetchone() is not None

    async def seen_versions(
        self, files: Sequence[tuple[str, int, int | None]]
    ) -> set[tuple[str, int, int | None]]:
        found: set[tuple[str, int, int | None]] = set()
        for name, size, mtime in files:
            cursor = await self._run(
                "SELECT 1 FROM received_version WHERE name = ? AND size = ? AND mtime = ?",
                (name, size, -1 if mtime is None else mtime),
            )
            if cursor.fetchone() is not None:
                found.add((name, size, mtime))
        return found

    async def note_version(self, *, name: str, size: int, mtime: int | None) -> None:
        await self._run(
            "INSERT INTO received_version (name, size, mtime) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (name, size, -1 if mtime is None else mtime),
        )

    async def record(self, *, name: str, sha256: str, size: int, kind: str) -> bool:
        await self._run(
            "INSERT INTO received_name (name, size, sha256) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (name, size, sha256),
        )
        cursor = await self._run(
            "INSERT INTO received_file (sha256, name, size, kind, recorded_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO NOTHING",
            (sha256, name, size, kind, datetime.now(UTC).isoformat()),
        )
        return cursor.rowcount == 1

    async def close(self) -> None:
        async with self._lock:
            self._conn.close()
