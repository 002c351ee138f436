"""SFTP polling: the service picks an 835 up from the sandbox clearinghouse's mailbox and posts it,
and the same file delivered again under another name is not posted twice; a file that keeps
failing is counted, held after N consecutive polls with an exception, and posted once re-driven."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from rcm.clearinghouse.metrics import ClearinghouseMetrics
from rcm.clearinghouse.sftp import PollResult, SftpBatchClient
from rcm.remittance import sftp_polling
from rcm.remittance import store as t
from rcm.remittance.app import MIGRATIONS, RemittanceSettings, build_service
from rcm.remittance.cli import failed_downloads, retry_download
from rcm.remittance.metrics import RemitMetrics
from rcm.remittance.testing import Cas, Clp, Ledger, Svc, claim_for, remit_835
from rcm.sandbox import start_sandbox
from rcm.sandbox.testing import sandbox_config
from rcm.sandbox.testing import settings_for as clearinghouse_for
from rcm.servicekit import Service, upgrade
from rcm.servicekit.testing import wait_for


async def test_sftp_polling_posts_an_835_from_the_sandbox_once(
    tmp_path: Path, kafka_bootstrap: str, fresh_database: str
) -> None:
    async with start_sandbox(sandbox_config(tmp_path)) as sb:
        settings = RemittanceSettings(
            service_name=f"remittance-{uuid.uuid4().hex[:8]}",
            kafka_bootstrap=kafka_bootstrap,
            database_url=fresh_database,
            topic_prefix=f"t{uuid.uuid4().hex[:10]}",
            relay_poll_interval_s=0.05,
            http_port=0,
            clearinghouse=clearinghouse_for(sb),
            sftp_poll_interval_s=0.2,
        )
        service = build_service(settings)
        await upgrade(fresh_database, MIGRATIONS)
        await Ledger(service.engine).add_claims([claim_for(1, claim_id="clm-0001")])
        content = remit_835(
            [
                Clp(
                    "clm-0001",
                    "1",
                    "170.00",
                    "110.00",
                    "25.00",
                    "ICN-1",
                    services=[
                        Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")])
                    ],
                )
            ]
        ).decode()
        sb.deliver_now("practice01", "ERA_0001.835", content)
        running = asyncio.create_task(service.run(install_signal_handlers=False))
        try:
            await wait_for(lambda: _paid(service, Decimal("110.00")), timeout=20)
            sb.deliver_now("practice01", "ERA_0001_resent.835", content)
            await wait_for(lambda: _count(service, t.sftp_download, 2), timeout=20)
            await asyncio.sleep(0.5)
            assert await _paid(service, Decimal("110.00"))
            async with service.engine.connect() as conn:
                files = (await conn.execute(sa.select(t.remit_file.c.source, t.remit_file.c.status))).all()
                kinds = (
                    await conn.execute(sa.select(t.sftp_download.c.kind).order_by(t.sftp_download.c.name))
                ).all()
            assert [tuple(f) for f in files] == [("sftp", "posted")]
            assert [k[0] for k in kinds] == ["835", "duplicate"]
        finally:
            service.stop()
            await asyncio.wait_for(running, timeout=30)


def _era() -> str:
    clp = Clp(
        "clm-0001",
        "1",
        "170.00",
        "110.00",
        "25.00",
        "ICN-1",
        services=[Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "3", "25.00")])],
    )
    return remit_835([clp]).decode()


async def test_a_file_that_keeps_failing_is_counted_held_after_n_polls_and_posted_once_re_driven(
    tmp_path: Path, kafka_bootstrap: str, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_sandbox(sandbox_config(tmp_path)) as sb:
        settings = RemittanceSettings(
            service_name=f"remittance-{uuid.uuid4().hex[:8]}",
            kafka_bootstrap=kafka_bootstrap,
            database_url=fresh_database,
            topic_prefix=f"t{uuid.uuid4().hex[:10]}",
            http_port=0,
            clearinghouse=clearinghouse_for(sb),
            sftp_hold_after_failures=2,
        )
        service = build_service(settings)  # not run: each poll is driven by the test
        await upgrade(fresh_database, MIGRATIONS)
        await Ledger(service.engine).add_claims([claim_for(1, claim_id="clm-0001")])
        sb.deliver_now("practice01", "ERA_0002.835", _era())
        metrics = RemitMetrics()
        handoffs = ClearinghouseMetrics(metrics.registry)
        attempts: list[str] = []
        real = sftp_polling.post_remit_file

        async def failing(*args: object, name: str, **kwargs: object) -> None:
            attempts.append(name)
            raise ValueError("the posting run stopped")

        async def poll() -> PollResult:
            assert settings.clearinghouse is not None and settings.clearinghouse.sftp is not None
            ledger = sftp_polling.RemitFileLedger(service.engine)
            async with SftpBatchClient(
                settings.clearinghouse.sftp, ledger=ledger, name="remittance"
            ) as client:
                return await sftp_polling.poll_once(
                    service,
                    client,
                    metrics=metrics,
                    handoff_metrics=handoffs,
                    cut_lengths=(20,),
                    hold_after=settings.sftp_hold_after_failures,
                )

        def failures() -> float:
            labels = {"reason": "invalid_content"}
            return metrics.registry.get_sample_value("rcm_sftp_handoff_failures_total", labels) or 0.0

        monkeypatch.setattr(sftp_polling, "post_remit_file", failing)
        first = await poll()
        assert [f.name for f in first.failed] == ["ERA_0002.835"] and failures() == 1
        assert await _open_held(service) == []  # one failure: offered again, no exception yet

        second = await poll()
        assert [f.name for f in second.failed] == ["ERA_0002.835"] and failures() == 2
        (held,) = await _open_held(service)
        assert held.detail["name"] == "ERA_0002.835" and "2 consecutive polls" in held.message
        assert (
            metrics.registry.get_sample_value("rcm_remit_exceptions_total", {"kind": "sftp_file_failed"}) == 1
        )

        # held: the next polls do not download it nor try it again
        third = await poll()
        assert (third.failed, third.files) == ([], [])
        assert attempts == ["ERA_0002.835"] * 2 and failures() == 2
        (row,) = await failed_downloads(settings)
        assert (row.name, row.failures, row.reason, row.error) == (
            "ERA_0002.835",
            2,
            "invalid_content",
            "ValueError",
        )
        assert row.held_at is not None

        # a person re-drives it once the cause is fixed: the next poll posts it and clears the hold
        monkeypatch.setattr(sftp_polling, "post_remit_file", real)
        assert await retry_download(settings, "ERA_0002.835") == 1
        assert await retry_download(settings, "ERA_0002.835") == 0
        fourth = await poll()
        assert [f.name for f in fourth.files] == ["ERA_0002.835"] and not fourth.failed
        assert await _paid(service, Decimal("110.00"))
        assert await _open_held(service) == [] and await failed_downloads(settings) == []
        labels = {v for fam in metrics.registry.collect() for smp in fam.samples for v in smp.labels.values()}
        assert not any("ERA" in v for v in labels)
        await service.engine.dispose()


async def _open_held(service: Service) -> list[sa.Row[tuple[object, ...]]]:
    e = t.remit_exception.c
    async with service.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(t.remit_exception).where(e.kind == "sftp_file_failed", e.resolved_at.is_(None))
        )
        return list(rows.all())


async def _paid(service: Service, amount: Decimal) -> bool:
    async with service.engine.connect() as conn:
        return (
            await conn.scalar(sa.select(t.claim.c.paid).where(t.claim.c.claim_id == "clm-0001"))
        ) == amount


async def _count(service: Service, table: sa.Table, n: int) -> bool:
    async with service.engine.connect() as conn:
        return (await conn.scalar(sa.select(sa.func.count()).select_from(table))) == n


async def test_the_ledger_reads_a_file_overwritten_under_its_name_and_size_again(fresh_database: str) -> None:
    """A mailbox that reuses a file name may overwrite an 835 with another of the same size: its
    modification time tells the versions apart; a held file stays held whatever its time."""
    await upgrade(fresh_database, MIGRATIONS)
    service = build_service(RemittanceSettings(database_url=fresh_database, http_port=0))
    ledger = sftp_polling.RemitFileLedger(service.engine)
    try:
        assert await ledger.record(name="ERA.835", sha256="1" * 64, size=100, kind="835")
        await ledger.note_version(name="ERA.835", size=100, mtime=1_700_000_000)
        await ledger.note_version(name="ERA.835", size=100, mtime=1_700_000_000)  # again: no error
        await ledger.note_version(name="undated.835", size=9, mtime=None)
        async with service.engine.begin() as conn:
            await conn.execute(
                t.sftp_failure.insert().values(
                    name="stuck.835",
                    size=50,
                    sha256="2" * 64,
                    kind="835",
                    failures=3,
                    reason="posting failed",
                    error="RuntimeError",
                    held_at=sa.func.now(),
                )
            )
        listing = [
            ("ERA.835", 100, 1_700_000_000),
            ("ERA.835", 100, 1_700_000_060),  # overwritten a minute later, same size
            ("undated.835", 9, None),
            ("stuck.835", 50, 1_700_000_999),
            ("new.835", 70, 1_700_000_000),
        ]
        assert await ledger.seen_versions(listing) == {
            ("ERA.835", 100, 1_700_000_000),
            ("undated.835", 9, None),
            ("stuck.835", 50, 1_700_000_999),
        }
        assert await ledger.seen_versions([]) == set()
    finally:
        await service.engine.dispose()
