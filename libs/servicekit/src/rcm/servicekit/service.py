"""A service process: its consumers, its outbox relay, its timers and its probes.

    service = Service(settings, migrations=Path(".../migrations"))
    service.add_consumer("claims", topics=[...], handler=..., decode=..., ordered_per_key=True)
    service.add_task(batch_cutoff_timer)
    await service.run()          # until SIGTERM/SIGINT or service.stop()

Shutdown is graceful: consumers finish the batch in hand and commit its offsets,
the relay drains the outbox, then the producer and the database pool close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.servicekit.consumer import BatchConsumer, BatchHandler, Decoder, Transaction
from rcm.servicekit.contracts import RecordFilter
from rcm.servicekit.db import create_engine, migrations_at_head, upgrade
from rcm.servicekit.errors import is_infrastructure_error
from rcm.servicekit.http import ProbeServer
from rcm.servicekit.kafka import ensure_topics, make_producer
from rcm.servicekit.metrics import RuntimeMetrics
from rcm.servicekit.outbox import OutboxRelay
from rcm.servicekit.settings import ServiceSettings

__all__ = ["Service"]

log = logging.getLogger(__name__)

Task = Callable[["Service", asyncio.Event], Coroutine[Any, Any, None]]


class Service:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        migrations: Path | None = None,
        topics: dict[str, dict[str, object]] | None = None,
        metrics: RuntimeMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.migrations = migrations
        self.topics = topics or {}
        self.metrics = metrics or RuntimeMetrics()
        self.engine: AsyncEngine = create_engine(
            settings.database_url.get_secret_value(), pool_size=settings.db_pool_size
        )
        # aiokafka clients belong to the running loop: the producer is made in run()
        self.producer: AIOKafkaProducer | None = None
        self.relay = OutboxRelay(
            self.engine,
            None,
            name=settings.service_name,
            batch_size=settings.relay_batch_size,
            poll_interval_s=settings.relay_poll_interval_s,
            idle_poll_max_s=settings.relay_idle_poll_max_s,
            retention_hours=settings.outbox_retention_hours,
            inbox_retention_days=settings.inbox_retention_days,
            metrics=self.metrics,
        )
        self.consumers: list[BatchConsumer[Any]] = []
        self.tasks: list[Task] = []
        self.stopping = asyncio.Event()
        self.probes: ProbeServer | None = None

    def add_consumer(
        self,
        name: str,
        *,
        topics: Sequence[str],
        handler: BatchHandler[Any],
        decode: Decoder[Any],
        ordered_per_key: bool = False,
        accept: RecordFilter | None = None,
    ) -> BatchConsumer[Any]:
        consumer: BatchConsumer[Any] = BatchConsumer(
            name=name,
            topics=[self.settings.topic(t) for t in topics],
            handler=handler,
            decode=decode,
            engine=self.engine,
            settings=self.settings,
            relay=self.relay,
            ordered_per_key=ordered_per_key,
            metrics=self.metrics,
            accept=accept,
        )
        self.consumers.append(consumer)
        return consumer

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A transaction outside any consumer (timers, pollers): its events go out through the outbox."""
        async with self.engine.begin() as conn:
            tx = Transaction(
                conn, "service", source=self.settings.service_name, prefix=self.settings.topic_prefix
            )
            yield tx
            await tx.flush()
        tx.committed()
        if tx.outgoing:
            self.relay.wake()

    def add_task(self, task: Task) -> None:
        """A timer or poller that runs until the service stops (batch cut-offs, SFTP polling)."""
        self.tasks.append(task)

    def stop(self) -> None:
        self.stopping.set()

    async def readiness(self) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        try:
            async with asyncio.timeout(3), self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            checks["database"] = True
        except Exception:
            checks["database"] = False
        if self.migrations is not None:
            try:
                checks["migrations"] = await migrations_at_head(self.engine, self.migrations)
            except Exception:
                checks["migrations"] = False
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap, **self.settings.kafka_security.client_kwargs()
        )
        try:
            async with asyncio.timeout(3):
                await admin.start()
                await admin.list_topics()
            checks["broker"] = True
        except Exception:
            checks["broker"] = False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        checks["consumers"] = all(c.ready.is_set() for c in self.consumers)
        return checks

    async def _until_up(self, what: str, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Retry a start-up step while the database or the broker is not there yet (bounded)."""
        wait = 0.5
        deadline = asyncio.get_running_loop().time() + self.settings.startup_timeout_s
        while True:
            try:
                await step()
                return
            except Exception as exc:
                if not is_infrastructure_error(exc) or asyncio.get_running_loop().time() > deadline:
                    raise
                log.warning(
                    "service %s: %s waits for %s", self.settings.service_name, what, type(exc).__name__
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)

    async def run(self, *, install_signal_handlers: bool = True) -> None:
        if self.migrations is not None:
            migrations = self.migrations
            url = self.settings.database_url.get_secret_value()
            await self._until_up("migrations", lambda: upgrade(url, migrations))
        retry_topics: dict[str, dict[str, object]] = {}
        for c in self.consumers:
            retry_topics[c.retry_topic] = {}
            retry_topics[c.dead_letter_topic] = {}
        topics = {self.settings.topic(k): v for k, v in self.topics.items()} | retry_topics
        await self._until_up("topic creation", lambda: ensure_topics(self.settings, topics))
        if install_signal_handlers:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
        if self.settings.http_port:
            self.probes = ProbeServer(
                self.settings.http_host, self.settings.http_port, self.metrics.registry, self.readiness
            )
            await self.probes.start()
        producer = self.producer = make_producer(self.settings)
        self.relay.producer = producer
        await self._until_up("the producer", producer.start)
        relay_stop = asyncio.Event()
        relay = asyncio.create_task(self.relay.run(relay_stop), name="outbox-relay")
        workers = [
            asyncio.create_task(c.run(self.stopping), name=f"consumer-{c.name}") for c in self.consumers
        ]
        workers += [
            asyncio.create_task(t(self, self.stopping), name=f"task-{i}") for i, t in enumerate(self.tasks)
        ]
        log.info("service %s running", self.settings.service_name)
        try:
            done, _ = await asyncio.wait(
                [*workers, asyncio.ensure_future(self.stopping.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task in workers and task.exception() is not None:
                    log.error(
                        "service %s: %s stopped with an error", self.settings.service_name, task.get_name()
                    )
                    self.stopping.set()
            self.stopping.set()
            await asyncio.gather(*workers, return_exceptions=True)
        finally:
            relay_stop.set()
            await asyncio.gather(relay, return_exceptions=True)
            await producer.stop()
            if self.probes is not None:
                await self.probes.stop()
            await self.engine.dispose()
            log.info("service %s stopped", self.settings.service_name)
