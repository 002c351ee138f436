"""SFTP polling: the service picks an 835 up from the sandbox clearinghouse's mailbox and posts it,
and the same file delivered again under another name is not posted twice."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from rcm.remittance import store as t
from rcm.remittance.app import MIGRATIONS, RemittanceSettings, build_service
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


async def _paid(service: Service, amount: Decimal) -> bool:
    async with service.engine.connect() as conn:
        return (
            await conn.scalar(sa.select(t.claim.c.paid).where(t.claim.c.claim_id == "clm-0001"))
        ) == amount


async def _count(service: Service, table: sa.Table, n: int) -> bool:
    async with service.engine.connect() as conn:
        return (await conn.scalar(sa.select(sa.func.count()).select_from(table))) == n
