"""Collecting 835s from the clearinghouse mailbox: a service task that polls SFTP.

The transport's once-only hand-off needs a file ledger; ours is the ``remit_file`` table, so
"seen" means "recorded in the same transaction as its postings". A file is handed to
``post_remit_file`` before the transport records it: a crash in between offers it again, and
the content hash makes the second offer a no-op.

A file that fails to post is offered again next poll, and each failure is counted
(``rcm_sftp_handoff_failures{reason}``) and kept in ``sftp_failure``. After
``hold_after`` consecutive failures the file is held: a ``sftp_file_failed`` exception says so
and it is not downloaded again until a person re-drives it (``rcm remits retry-download``).
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
from rcm.clearinghouse.metrics import ClearinghouseMetrics
from rcm.clearinghouse.sftp import FailedHandOff, PollResult, ReceivedFile, SftpBatchClient
from rcm.remittance import store as t
from rcm.remittance.ingest import post_remit_file
from rcm.remittance.metrics import RemitMetrics
from rcm.servicekit import Service

__all__ = ["HELD_KIND", "RemitFileLedger", "poll_once", "record_failures", "sftp_poller"]

HELD_KIND = "sftp_file_failed"
"""The exception kind of a mailbox file held after failing to post on consecutive polls."""

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
        """Names already downloaded, and names held after failing to post (skipped until re-driven)."""
        if not files:
            return set()
        wanted = set(files)
        names = sa.literal(sorted({name for name, _ in files}), ARRAY(sa.Text))
        d, f = t.sftp_download.c, t.sftp_failure.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.union_all(
                    sa.select(d.name, d.size).where(d.name == sa.func.any(names)),
                    sa.select(f.name, f.size).where(f.name == sa.func.any(names), f.held_at.is_not(None)),
                )
            )
            return {(r.name, r.size) for r in rows} & wanted

    async def seen_versions(
        self, files: Sequence[tuple[str, int, int | None]]
    ) -> set[tuple[str, int, int | None]]:
        """Versions already downloaded, and names held after failing to post (by name and size)."""
        if not files:
            return set()
        names = sa.literal(sorted({name for name, _, _ in files}), ARRAY(sa.Text))
        v, f = t.sftp_download_version.c, t.sftp_failure.c
        async with self.engine.connect() as conn:
            known = {
                (r.name, r.size, r.mtime)
                for r in await conn.execute(
                    sa.select(v.name, v.size, v.mtime).where(v.name == sa.func.any(names))
                )
            }
            held = {
                (r.name, r.size)
                for r in await conn.execute(
                    sa.select(f.name, f.size).where(f.name == sa.func.any(names), f.held_at.is_not(None))
                )
            }
        return {
            (name, size, mtime)
            for name, size, mtime in files
            if (name, size, -1 if mtime is None else mtime) in known or (name, size) in held
        }

    async def note_version(self, *, name: str, size: int, mtime: int | None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                pg_insert(t.sftp_download_version)
                .values(name=name, size=size, mtime=-1 if mtime is None else mtime)
                .on_conflict_do_nothing()
            )

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


async def record_failures(
    engine: AsyncEngine, failed: Sequence[FailedHandOff], *, hold_after: int, metrics: RemitMetrics
) -> list[str]:
    """Count one more consecutive failure for each file; hold those at ``hold_after``, each with an
    exception a person sees. Returns the names held by this call."""
    f = t.sftp_failure.c
    held: list[str] = []
    for file in failed:
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    pg_insert(t.sftp_failure)
                    .values(
                        name=file.name,
                        size=file.size,
                        sha256=file.sha256,
                        kind=file.kind,
                        failures=1,
                        reason=file.reason,
                        error=type(file.error).__name__,
                    )
                    .on_conflict_do_update(
                        index_elements=[f.name, f.size],
                        set_={
                            # other content under the same name and size starts counting afresh
                            "failures": sa.case(
                                (f.sha256 == file.sha256, f.failures + 1), else_=sa.literal(1)
                            ),
                            "sha256": file.sha256,
                            "kind": file.kind,
                            "reason": file.reason,
                            "error": type(file.error).__name__,
                            "last_failed_at": sa.func.now(),
                        },
                    )
                    .returning(f.failures, f.held_at)
                )
            ).one()
            if row.held_at is not None or row.failures < hold_after:
                continue
            await conn.execute(
                t.sftp_failure.update()
                .where(f.name == file.name, f.size == file.size)
                .values(held_at=sa.func.now())
            )
            await conn.execute(
                t.remit_exception.insert().values(
                    kind=HELD_KIND,
                    message=(
                        f"the mailbox file failed to post on {row.failures} consecutive polls "
                        f"({file.reason}, {type(file.error).__name__}); held until re-driven "
                        "with `rcm remits retry-download`"
                    ),
                    detail={"name": file.name, "size": file.size, "sha256": file.sha256, "kind": file.kind},
                )
            )
        metrics.exceptions.labels(HELD_KIND).inc()
        held.append(file.name)
        log.error(
            "SFTP file %s failed to post on %d consecutive polls (%s); held until re-driven",
            file.name,
            row.failures,
            file.reason,
        )
    return held


async def poll_once(
    service: Service,
    client: SftpBatchClient,
    *,
    metrics: RemitMetrics,
    handoff_metrics: ClearinghouseMetrics,
    cut_lengths: tuple[int, ...],
    hold_after: int,
    payee_ids: tuple[str, ...] = (),
) -> PollResult:
    """One poll of the mailbox: post each new 835, then count and keep the files that failed."""

    async def handle(file: ReceivedFile) -> None:
        if file.kind != "835":
            log.info("SFTP file of kind %s ignored by remittance", file.kind)
            return
        async with service.transaction() as tx:
            await post_remit_file(
                tx,
                file.content,
                name=file.name,
                source="sftp",
                metrics=metrics,
                cut_lengths=cut_lengths,
                payee_ids=payee_ids,
            )
            # posted: its run of failures ends with the postings (a re-driven file's hold too)
            await tx.conn.execute(
                t.sftp_failure.delete().where(
                    t.sftp_failure.c.name == file.name, t.sftp_failure.c.size == file.size
                )
            )

    result = await client.poll(handle=handle)
    for bad in result.malformed:
        metrics.exceptions.labels("malformed_file").inc()
        log.warning("malformed file in the clearinghouse mailbox: %s", bad)
    for failed in result.failed:
        handoff_metrics.handoff_failed("remittance", failed)
    if result.failed:
        await record_failures(service.engine, result.failed, hold_after=hold_after, metrics=metrics)
    return result


Task = Callable[[Service, asyncio.Event], Coroutine[Any, Any, None]]


def sftp_poller(
    endpoint: SftpEndpoint,
    *,
    interval_s: float,
    metrics: RemitMetrics,
    cut_lengths: tuple[int, ...],
    handoff_metrics: ClearinghouseMetrics | None = None,
    hold_after: int = 3,
    payee_ids: tuple[str, ...] = (),
) -> Task:
    """A ``service.add_task`` poller: every ``interval_s``, download new files and post the 835s; a
    file that fails on ``hold_after`` consecutive polls is held for a person."""
    counters = handoff_metrics or ClearinghouseMetrics(metrics.registry)

    async def run(service: Service, stop: asyncio.Event) -> None:
        ledger = RemitFileLedger(service.engine)
        while not stop.is_set():
            try:
                async with SftpBatchClient(endpoint, ledger=ledger, name="remittance") as client:
                    await poll_once(
                        service,
                        client,
                        metrics=metrics,
                        handoff_metrics=counters,
                        cut_lengths=cut_lengths,
                        hold_after=hold_after,
                        payee_ids=payee_ids,
                    )
            except TransportError as exc:
                log.warning("SFTP poll failed: %s", type(exc).__name__)
            except Exception:
                log.exception("SFTP poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)

    return run
