"""Collecting 835s from the clearinghouse mailbox: a service task that polls SFTP.

The transport's once-only hand-off needs a file ledger; ours is the ``remit_file`` table, so
"seen" means "recorded in the same transaction as its postings". A file is handed to
``post_remit_file`` before the transport records it: a crash in between offers it again, and
the content hash makes the second offer a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.clearinghouse import SftpEndpoint
from rcm.clearinghouse.errors import TransportError
from rcm.clearinghouse.ledger import FileLedger
from rcm.clearinghouse.sftp import ReceivedFile, SftpBatchClient
from rcm.remittance import store as t
from rcm.remittance.ingest import post_remit_file
from rcm.remittance.metrics import RemitMetrics
from rcm.servicekit import Service

__all__ = ["RemitFileLedger", "sftp_poller"]

log = logging.getLogger(__name__)


class RemitFileLedger(FileLedger):
    """The transport's ledger: content is "seen" once ``remit_file`` holds its hash (written with
    the postings), names once ``sftp_download`` holds them (so a renamed re-delivery is fetched once)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def seen(self, sha256: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                sa.select(t.remit_file.c.file_id).where(t.remit_file.c.sha256 == sha256)
            )
        return found is not None

    async def seen_name(self, name: str, size: int) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                sa.select(t.sftp_download.c.sha256).where(
                    t.sftp_download.c.name == name, t.sftp_download.c.size == size
                )
            )
        return found is not None

    async def seen_names(self, files: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        if not files:
            return set()
        wanted = set(files)
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(t.sftp_download.c.name, t.sftp_download.c.size).where(
                    t.sftp_download.c.name
                    == sa.func.any(sa.literal(sorted({name for name, _ in files}), ARRAY(sa.Text)))
                )
            )
            return {(r.name, r.size) for r in rows} & wanted

    async def record(self, *, name: str, sha256: str, size: int, kind: str) -> bool:
        async with self.engine.begin() as conn:
            first = await conn.scalar(
                pg_insert(t.sftp_download)
                .values(name=name, size=size, sha256=sha256, kind=kind)
                .on_conflict_do_nothing()
                .returning(t.sftp_download.c.name)
            )
            if first is not None and kind == "malformed":
                await conn.execute(
                    t.remit_exception.insert().values(
                        kind="malformed_file", message="downloaded file is not an X12 interchange"
                    )
                )
        return first is not None


Task = Callable[[Service, asyncio.Event], Coroutine[Any, Any, None]]


def sftp_poller(
    endpoint: SftpEndpoint,
    *,
    interval_s: float,
    metrics: RemitMetrics,
    cut_lengths: tuple[int, ...],
) -> Task:
    """A ``service.add_task`` poller: every ``interval_s``, download new files and post the 835s."""

    async def run(service: Service, stop: asyncio.Event) -> None:
        ledger = RemitFileLedger(service.engine)

        async def handle(file: ReceivedFile) -> None:
            if file.kind != "835":
                log.info("SFTP file of kind %s ignored by remittance", file.kind)
                return
            async with service.transaction() as tx:
                await post_remit_file(
                    tx, file.content, name=file.name, source="sftp", metrics=metrics, cut_lengths=cut_lengths
                )

        while not stop.is_set():
            try:
                async with SftpBatchClient(endpoint, ledger=ledger, name="remittance") as client:
                    result = await client.poll(handle=handle)
                for bad in result.malformed:
                    metrics.exceptions.labels("malformed_file").inc()
                    log.warning("malformed file in the clearinghouse mailbox: %s", bad)
            except TransportError as exc:
                log.warning("SFTP poll failed: %s", type(exc).__name__)
            except Exception:
                log.exception("SFTP poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)

    return run
