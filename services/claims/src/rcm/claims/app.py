"""The claims service: its consumer, its timers (batch cut-offs and uploads, acknowledgement
polling, authorization time-outs, status inquiries, finalization, A/R aging) and its metrics.

``build_service(settings, clearinghouse)`` wires it; ``rcm claims run`` starts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import Field, SecretStr

from rcm.claims.acknowledgements import Acknowledgements
from rcm.claims.domain.batching import BatchPolicy
from rcm.claims.finalization import finalize_claims
from rcm.claims.handlers import ClaimsHandlers
from rcm.claims.metrics import ArAgingMetrics, ClaimsMetrics
from rcm.claims.status_inquiry import StatusInquiry
from rcm.claims.store import PostgresFileLedger
from rcm.claims.submission.batches import Batcher
from rcm.claims.submission.x837 import Envelope
from rcm.clearinghouse import (
    CircuitBreakers,
    ClearinghouseMetrics,
    ClearinghouseSettings,
    CoreRealtimeClient,
    SftpBatchClient,
)
from rcm.events.catalog import topics_of
from rcm.servicekit import Service, ServiceSettings, decode_event

__all__ = ["TOPICS", "ClaimsService", "ClaimsSettings", "build_service"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

TOPICS = [
    "organization-updated",
    "patient-updated",
    "coverage-updated",
    "provider-updated",
    "payer-updated",
    "fee-schedule-updated",
    "eligibility-checked",
    "authorization-received",
    "authorization-consumed",
    "authorization-alert",
    "authorization-released",
    "coverage-changed",
    "session-completed",
    "session-corrected",
    "session-voided",
    "remit-received",
    "claim-correction-requested",
    "claim-void-requested",
    "claim-write-off-requested",
    "secondary-claim-requested",
]


class ClaimsSettings(ServiceSettings):
    """``RCM_`` environment variables (see the README); clearinghouse settings come separately."""

    service_name: str = "claims"
    database_url: SecretStr = Field(SecretStr("postgresql+psycopg://postgres@127.0.0.1:55432/rcm_claims"))
    clearinghouse_config: Path | None = Field(
        None, description="YAML of ClearinghouseSettings (secrets from env)."
    )
    submitter_name: str = "RCM PRACTICE"
    submitter_phone: str = "5555550100"
    receiver_id: str = Field("SANDBOXCH", description="ISA08/GS03 and NM1*40 of the clearinghouse.")
    receiver_name: str = "CLEARINGHOUSE"
    interchange_usage: str = Field("P", description="ISA15: P production, T test.")
    batch_max_claims: int = Field(100, description="Size cut-off: claims per 837P file.")
    batch_max_wait_s: float = Field(
        300.0, description="Time cut-off: the oldest ready claim waits at most this."
    )
    batch_interval_s: float = Field(5.0, description="How often batches are cut and uploaded.")
    ack_poll_interval_s: float = Field(30.0, description="How often the SFTP outbound dir is polled.")
    authorization_wait_s: float = Field(
        900.0, description="How long a claim waits for the authorizations service."
    )
    status_inquiry_after_s: float = Field(30 * 86400.0, description="Age without a response before a 276.")
    status_inquiry_interval_s: float = Field(3600.0, description="How often aged claims are looked for.")
    finalize_after_days: float = Field(
        30.0, ge=0, description="Quiet period: days a settled claim stays unchanged before it is finalized."
    )
    finalize_interval_s: float = Field(3600.0, gt=0, description="How often settled claims are finalized.")
    ar_aging_interval_s: float = Field(
        300.0, gt=0, description="How often the A/R aging gauges are refreshed (one aggregate query)."
    )

    @property
    def finalize_after(self) -> timedelta:
        return timedelta(days=self.finalize_after_days)


class ClaimsService:
    """The pieces of a running claims service (tests reach them through this object)."""

    def __init__(self, settings: ClaimsSettings, clearinghouse: ClearinghouseSettings | None) -> None:
        self.settings = settings
        self.clearinghouse = clearinghouse
        # the topics it reads and writes, created when missing (as the other services do)
        self.service = Service(settings, migrations=MIGRATIONS, topics=topics_of("claims", *TOPICS))
        self.metrics = ClaimsMetrics(self.service.metrics.registry)
        self.ar_aging = ArAgingMetrics(self.service.metrics.registry)
        self.clearinghouse_metrics = ClearinghouseMetrics(self.service.metrics.registry)
        submitter = clearinghouse.submitter_id if clearinghouse else "SUBMITTER"
        self.handlers = ClaimsHandlers(
            self.metrics, auth_wait=timedelta(seconds=settings.authorization_wait_s), submitter_id=submitter
        )
        self.batcher = Batcher(
            self.service,
            envelope=Envelope(
                submitter_id=submitter,
                submitter_name=settings.submitter_name,
                submitter_phone=settings.submitter_phone,
                receiver_id=settings.receiver_id,
                receiver_name=settings.receiver_name,
                usage=settings.interchange_usage,
                clearinghouse=clearinghouse.name if clearinghouse else None,
            ),
            policy=BatchPolicy(
                max_claims=settings.batch_max_claims, max_wait=timedelta(seconds=settings.batch_max_wait_s)
            ),
            metrics=self.metrics,
        )
        self.acks = Acknowledgements(self.service, self.metrics, after=self.handlers.after_acknowledgement)
        self.status = StatusInquiry(
            self.service,
            submitter_id=submitter,
            receiver_id=settings.receiver_id,
            after=timedelta(seconds=settings.status_inquiry_after_s),
            clearinghouse=clearinghouse.name if clearinghouse else None,
            submitter_name=settings.submitter_name,
            usage=settings.interchange_usage,
            metrics=self.metrics,
        )
        self.service.add_consumer(
            settings.service_name,
            topics=TOPICS,
            handler=self.handlers.dispatcher(),
            decode=decode_event,
            ordered_per_key=True,
        )
        self.service.add_task(self._authorization_timer)
        self.service.add_task(self._finalization_timer)
        self.service.add_task(self._ar_aging_timer)
        if clearinghouse is not None and clearinghouse.sftp is not None:
            self.service.add_task(self._submission_timer)
            self.service.add_task(self._acknowledgement_poller)
        if clearinghouse is not None and clearinghouse.core is not None:
            self.service.add_task(self._status_timer)

    async def run(self) -> None:
        await self.service.run()

    def stop(self) -> None:
        self.service.stop()

    @staticmethod
    async def _sleep(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    def _sftp(self) -> SftpBatchClient:
        assert self.clearinghouse is not None
        assert self.clearinghouse.sftp is not None
        return SftpBatchClient(self.clearinghouse.sftp, ledger=PostgresFileLedger(self.service.engine))

    async def _submission_timer(self, service: Service, stop: asyncio.Event) -> None:
        async with self._sftp() as sftp:
            while not stop.is_set():
                try:
                    await self.batcher.upload_pending(sftp)  # first: anything committed before a crash
                    if await self.batcher.cut():
                        await self.batcher.upload_pending(sftp)
                except Exception:
                    log.exception("batch cut-off or upload failed; retried next tick")
                await self._sleep(stop, self.settings.batch_interval_s)

    async def _acknowledgement_poller(self, service: Service, stop: asyncio.Event) -> None:
        async with self._sftp() as sftp:
            while not stop.is_set():
                try:
                    result = await sftp.poll(handle=self.acks.handle)
                    for failed in result.failed:  # 999/277CA files not taken in: counted and logged
                        self.clearinghouse_metrics.handoff_failed("claims", failed)
                except Exception:
                    log.exception("acknowledgement poll failed; retried next tick")
                await self._sleep(stop, self.settings.ack_poll_interval_s)

    async def _authorization_timer(self, service: Service, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with service.transaction() as tx:
                    await self.handlers.authorization_timeouts(tx)
            except Exception:
                log.exception("authorization time-out check failed")
            await self._sleep(stop, min(self.settings.authorization_wait_s / 4, 30.0))

    async def _finalization_timer(self, service: Service, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with service.transaction() as tx:
                    await finalize_claims(tx, now=datetime.now(UTC), quiet=self.settings.finalize_after)
            except Exception:
                log.exception("finalization failed; retried next tick")
            await self._sleep(stop, self.settings.finalize_interval_s)

    async def _ar_aging_timer(self, service: Service, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with service.engine.connect() as conn:
                    await self.ar_aging.refresh(conn, now=datetime.now(UTC))
            except Exception:
                log.exception("A/R aging refresh failed; retried next tick")
            await self._sleep(stop, self.settings.ar_aging_interval_s)

    async def _status_timer(self, service: Service, stop: asyncio.Event) -> None:
        assert self.clearinghouse is not None
        breakers = CircuitBreakers(metrics=self.clearinghouse_metrics)
        async with CoreRealtimeClient(self.clearinghouse, breakers=breakers) as core:
            while not stop.is_set():
                try:
                    await self.status.run_once(core)
                except Exception:
                    log.exception("status inquiry failed")
                await self._sleep(stop, self.settings.status_inquiry_interval_s)


def build_service(
    settings: ClaimsSettings, clearinghouse: ClearinghouseSettings | None = None
) -> ClaimsService:
    return ClaimsService(settings, clearinghouse)
