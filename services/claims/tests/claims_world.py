"""A running claims service against the real broker and database, with synthetic reference data."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from rcm.claims.app import MIGRATIONS, TOPICS, ClaimsService, ClaimsSettings, build_service
from rcm.claims.store import claim
from rcm.clearinghouse import ClearinghouseSettings
from rcm.events import Event, encode
from rcm.events import testing as f
from rcm.servicekit import create_engine, upgrade
from rcm.servicekit.testing import wait_for

ZONE = ZoneInfo("America/New_York")
DOS = date.today() - timedelta(days=10)
OUT_TOPICS = [
    "claim-created",
    "claim-held",
    "claim-released",
    "claim-submitted",
    "claim-acknowledged",
    "claim-status-changed",
    "claim-voided",
]


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def reference(
    n: int, *, electronic_payer_id: str, member_id: str, enrolled: bool = True, **payer_rules: Any
) -> list[Event]:
    """Organization, payer, patient, coverage, provider, charge master and an active eligibility check."""
    i = f.ids(n)
    rules = {"telehealth": {"video_modifiers": ["95"]}, "timely_filing_days": 90, **payer_rules}
    enrollments = (
        [
            {
                "payer_id": i["payer_id"],
                "state": "NY",
                "network_status": "in_network",
                "valid": {"start": "2024-01-01"},
            }
        ]
        if enrolled
        else []
    )
    return [
        f.organization_updated(n),
        f.payer_updated(n, electronic_payer_id=electronic_payer_id, rules=rules),
        f.patient_updated(n),
        f.coverage_updated(n, member_id=member_id, effective={"start": "2024-01-01"}),
        f.provider_updated(
            n,
            enrollments=enrollments,
            licenses=[
                {"state": "NY", "license_type": "LCSW", "number": "SYN1", "valid": {"start": "2020-01-01"}}
            ],
        ),
        f.fee_schedule_updated(
            n,
            kind="charge_master",
            payer_id=None,
            effective={"start": "2024-01-01"},
            rates=[
                {"procedure_code": c, "amount": a}
                for c, a in {
                    "90834": "120.00",
                    "90837": "180.00",
                    "90791": "200.00",
                    "90785": "20.00",
                }.items()
            ],
        ),
        f.eligibility_checked(n, service_date=DOS, plan_period={"start": "2024-01-01", "end": "2030-12-31"}),
    ]


def session(
    n: int, *, minutes: int = 53, modality: str = "video", at_home: bool = True, day: date = DOS
) -> Event:
    start = at(day)
    return f.session_completed(
        n,
        minutes=minutes,
        start=start,
        end=start + timedelta(minutes=minutes),
        modality=modality,
        patient_location={"state": "NY", "at_home": at_home},
        note_signed_at=start + timedelta(hours=1),
    )


class World:
    def __init__(self, bootstrap: str, database_url: str) -> None:
        self.bootstrap = bootstrap
        self.database_url = database_url
        self.prefix = f"t{uuid.uuid4().hex[:10]}"
        self.name = f"claims-{uuid.uuid4().hex[:6]}"
        self.engine = create_engine(database_url)

    def settings(self, **overrides: Any) -> ClaimsSettings:
        values: dict[str, Any] = {
            "service_name": self.name,
            "kafka_bootstrap": self.bootstrap,
            "database_url": self.database_url,
            "topic_prefix": self.prefix,
            "batch_timeout_ms": 50,
            "relay_poll_interval_s": 0.05,
            "http_port": 0,
            "retry_in_place_attempts": 2,
            "retry_delays_s": [1.0],
            "batch_max_wait_s": 0.0,
            "batch_interval_s": 0.3,
            "ack_poll_interval_s": 0.3,
            "authorization_wait_s": 60.0,
        }
        values.update(overrides)
        return ClaimsSettings(**values)

    async def create_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics(
                [
                    NewTopic(name=f"{self.prefix}.{t}", num_partitions=1, replication_factor=1)
                    for t in [*TOPICS, *OUT_TOPICS]
                ]
            )
        finally:
            await admin.close()

    async def publish(self, *events: Event) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, linger_ms=2)
        await producer.start()
        try:
            for event in events:
                record = encode(event, source="/tests", prefix=self.prefix)
                await producer.send_and_wait(
                    record.topic, value=record.value, key=record.key, headers=list(record.headers)
                )
        finally:
            await producer.stop()

    @asynccontextmanager
    async def running(
        self, clearinghouse: ClearinghouseSettings | None = None, **overrides: Any
    ) -> AsyncIterator[ClaimsService]:
        await upgrade(self.database_url, MIGRATIONS)
        service = build_service(self.settings(**overrides), clearinghouse)
        task = asyncio.create_task(service.service.run(install_signal_handlers=False))
        try:
            yield service
        finally:
            service.stop()
            await asyncio.wait_for(task, 30)

    async def claims(self, *where: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(
                (await conn.execute(sa.select(claim).where(*where).order_by(claim.c.created_at))).all()
            )

    async def wait_claims(self, *where: Any, count: int = 1, timeout: float = 30) -> list[Any]:
        async def check() -> list[Any] | None:
            rows = await self.claims(*where)
            return rows if len(rows) >= count else None

        result: list[Any] = await wait_for(check, timeout=timeout, interval=0.2)
        return result

    async def close(self) -> None:
        await self.engine.dispose()


def corrected(n: int, of: Any, minutes: int) -> Any:
    """Session ``n`` (``of``, its session-completed) corrected to ``minutes`` of video from home."""
    return f.session_corrected(
        n,
        minutes=minutes,
        start=of.start,
        end=of.start + timedelta(minutes=minutes),
        modality="video",
        patient_location={"state": "NY", "at_home": True},
        note_signed_at=of.note_signed_at,
    )


def now() -> datetime:
    return datetime.now(UTC)
