"""Run the whole cycle: the sandbox and the five services as processes, a month of a practice through them.

Each run is isolated by a topic prefix of its own and fresh service databases, so a
second run on the same machine starts clean while reusing everything installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    GroupCoordinatorNotAvailableError,
    NotCoordinatorError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)

from rcm.demo.lag import GroupLag, group_lag, topics_read
from rcm.demo.ledger import CycleLedger
from rcm.demo.practice import Practice
from rcm.events import CATALOG, EventError, decode, encode
from rcm.events import models as m

__all__ = ["SERVICES", "Cycle", "DemoSettings", "ServiceSpec"]

SFTP_USER = "practice01"
SFTP_PASSWORD = "demo-sftp-local"
CORE_USER = "practice01"
CORE_PASSWORD = "demo-core-local"


@dataclass(frozen=True)
class ServiceSpec:
    """How to start one service: its CLI group, its database and its consumer group names."""

    name: str
    command: tuple[str, ...]
    database: str


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("eligibility", ("eligibility", "run"), "rcm_eligibility"),
    ServiceSpec("authorizations", ("auth", "run"), "rcm_authorizations"),
    ServiceSpec("claims", ("claims", "run"), "rcm_claims"),
    ServiceSpec("remittance", ("remits", "run"), "rcm_remittance"),
    ServiceSpec("denials", ("denials", "run"), "rcm_denials"),
)


NO_COMMIT_GRACE_S = 15.0
"""A consumer group that has committed no offset on a set of topics this long after they were
published is taken not to read them (services commit after every batch they apply)."""


RUN_PREFIX = re.compile(r"^demo(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.")
STALE_RUN_AFTER = timedelta(hours=6)
"""A run's topics are deleted by a later run once the run started this long ago (a run
settles in well under an hour; an older prefix is no run still going)."""
KEEP_RECENT_RUNS = 3
RECENT_RUN_GUARD = timedelta(minutes=30)
"""Of the runs that started less than ``STALE_RUN_AFTER`` ago, the ``KEEP_RECENT_RUNS`` newest
keep their topics (a run still going, and the last ones for a look afterwards); the others'
are deleted once they started ``RECENT_RUN_GUARD`` ago. Benchmarks start many runs an hour,
and the broker holds an open file per partition: without a budget they filled its limit."""


def stale_run_topics(topics: Iterable[str], now: datetime) -> list[str]:
    """The topics (service retry and dead-letter topics included) of demo runs that started
    more than ``STALE_RUN_AFTER`` before ``now``, or more than ``RECENT_RUN_GUARD`` before it
    when ``KEEP_RECENT_RUNS`` runs started after them. A prefix holds the UTC month, day and
    time of its start, without the year: one that would lie ahead of ``now`` is last year's."""
    started_at: dict[str, datetime] = {}
    of_run: list[tuple[str, str]] = []
    for topic in topics:
        match = RUN_PREFIX.match(topic)
        if match is None:
            continue
        month, day, hour, minute, second = (int(g) for g in match.groups())
        try:
            started = datetime(now.year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            continue  # not a date: no prefix of ours
        if started > now:
            started = started.replace(year=now.year - 1)
        prefix = match.group(0)
        started_at[prefix] = started
        of_run.append((prefix, topic))
    newest = set(sorted(started_at, key=started_at.__getitem__, reverse=True)[:KEEP_RECENT_RUNS])
    stale = {
        prefix
        for prefix, started in started_at.items()
        if now - started > STALE_RUN_AFTER or (prefix not in newest and now - started > RECENT_RUN_GUARD)
    }
    return sorted(topic for prefix, topic in of_run if prefix in stale)


async def delete_stale_run_topics(bootstrap: str, now: datetime | None = None) -> list[str]:
    """Delete the topics of demo runs that started long ago (``stale_run_topics``); returns them.

    Every run makes its own prefixed topics; kept forever they pile up until the broker
    cannot hold its partitions open. The latest runs stay for a look afterwards.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        stale = stale_run_topics(await admin.list_topics(), now or datetime.now(UTC))
        for start in range(0, len(stale), 500):
            with contextlib.suppress(UnknownTopicOrPartitionError):
                await admin.delete_topics(stale[start : start + 500], timeout_ms=60_000)
        return stale
    finally:
        await admin.close()


_COORDINATOR_NOT_READY = (
    GroupCoordinatorNotAvailableError,
    CoordinatorLoadInProgressError,
    NotCoordinatorError,
)


async def group_offsets(
    admin: AIOKafkaAdminClient, group: str, partitions: list[TopicPartition], wait_s: float = 60
) -> dict[TopicPartition, Any]:
    """A consumer group's committed offsets; waits while the broker has no group coordinator
    ready yet (a fresh broker makes its offsets topic on the first group's request)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return dict(await admin.list_consumer_group_offsets(group, partitions=partitions))
        except _COORDINATOR_NOT_READY:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoSettings:
    kafka_bootstrap: str
    pg_url: str  # SQLAlchemy URL of the admin database; service databases are siblings
    work_dir: Path
    prefix: str = field(default_factory=lambda: f"demo{datetime.now(UTC):%m%d%H%M%S}")
    partitions: int = 6  # per topic, at most the catalog's default
    remit_delay_s: float = 3.0
    batch_cutoff_s: float = 2.0
    settle_quiet_s: float = 8.0
    timeout_s: float = 600.0
    database_suffix: str = ""  # tests run the cycle in databases of their own
    sandbox_faults: dict[str, object] = field(default_factory=dict)  # the fault test's payer misbehaviour
    # Real-time eligibility limits per payer. A clearinghouse's production limits are a few
    # requests per second per payer (the service's default); the sandbox on loopback takes more.
    eligibility_payer_policy: dict[str, float] = field(
        default_factory=lambda: {"max_concurrent": 8, "max_per_second": 50.0}
    )

    def database(self, spec: ServiceSpec) -> str:
        return f"{spec.database}{self.database_suffix}"

    def database_url(self, database: str) -> str:
        base, _, _ = self.pg_url.rpartition("/")
        return f"{base}/{database}"

    @property
    def conninfo(self) -> str:
        return self.pg_url.replace("postgresql+psycopg://", "postgresql://", 1)


def drop_databases(settings: DemoSettings) -> None:
    """Drop a run's service databases (a test's own, once it has read what it needs)."""
    with psycopg.connect(settings.conninfo, autocommit=True) as conn:
        for spec in SERVICES:
            conn.execute(f'DROP DATABASE IF EXISTS "{settings.database(spec)}" WITH (FORCE)')


class Cycle:
    """The processes of one demo run and the ledger of what they published."""

    def __init__(
        self, settings: DemoSettings, practice: Practice, *, log: Callable[[str], None] = print
    ) -> None:
        self.settings = settings
        self.practice = practice
        self.log = log
        self.ledger = CycleLedger()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.sftp_port = _free_port()
        self.http_port = _free_port()
        self.last_event_at = time.monotonic()
        self.cpu_seconds_at_stop: dict[str, float] = {}
        self.phases: dict[str, float] = {}
        """Wall seconds per phase of the run, in order (what the run's time went to)."""
        self._stop = asyncio.Event()
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ set-up
    def reset_databases(self) -> None:
        s = self.settings
        with psycopg.connect(s.conninfo, autocommit=True) as conn:
            for spec in SERVICES:
                conn.execute(f'DROP DATABASE IF EXISTS "{s.database(spec)}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{s.database(spec)}"')

    async def delete_earlier_runs(self) -> list[str]:
        return await delete_stale_run_topics(self.settings.kafka_bootstrap)

    async def create_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        await admin.start()
        try:
            topics = [
                NewTopic(
                    name=spec.topic(self.settings.prefix),
                    num_partitions=min(spec.partitions, self.settings.partitions),
                    replication_factor=1,
                    topic_configs=spec.topic_config(),
                )
                for spec in CATALOG
            ]
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(topics)
        finally:
            await admin.close()

    def sandbox_config(self) -> Path:
        config = {
            "sandbox": {
                "host": "127.0.0.1",
                "sftp_port": self.sftp_port,
                "http_port": self.http_port,
                # a mailbox of its own per run: files of an earlier run are not this run's answers
                "state_dir": str(self.settings.work_dir / "sandbox" / self.settings.prefix),
                "clearinghouse_id": "SANDBOXCH",
                "core_path": "/core",
                "remit_delay_seconds": self.settings.remit_delay_s,
                "sftp_users": [{"username": SFTP_USER, "password": SFTP_PASSWORD}],
                "core_users": [{"username": CORE_USER, "password": CORE_PASSWORD}],
                "faults": dict(self.settings.sandbox_faults),
            },
            **self.practice.payer_book,
        }
        path = self.settings.work_dir / "sandbox.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False, default_flow_style=False))
        return path

    def service_env(self, spec: ServiceSpec) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "RCM_SERVICE_NAME": spec.name,
            "RCM_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
            "RCM_TOPIC_PREFIX": s.prefix,
            "RCM_DATABASE_URL": s.database_url(s.database(spec)),
            "RCM_HTTP_PORT": str(_free_port()),
            "RCM_LOG_LEVEL": "WARNING",
            # claims: batch cut-off and acknowledgement polling; remittance: 835 polling
            "RCM_BATCH_MAX_WAIT_S": str(s.batch_cutoff_s),
            "RCM_BATCH_INTERVAL_S": "1",
            "RCM_ACK_POLL_INTERVAL_S": "1",
            "RCM_AUTHORIZATION_WAIT_S": "20",
            "RCM_ELIGIBILITY_DEFAULT_PAYER": json.dumps(s.eligibility_payer_policy),
            "RCM_SFTP_POLL_INTERVAL_S": "1",
            "RCM_DENIALS_STATS_INTERVAL_S": "10",
            "RCM_CLEARINGHOUSE__NAME": "sandbox",
            "RCM_CLEARINGHOUSE__SUBMITTER_ID": "PRACTICE01",
            "RCM_CLEARINGHOUSE__SFTP__HOST": "127.0.0.1",
            "RCM_CLEARINGHOUSE__SFTP__PORT": str(self.sftp_port),
            "RCM_CLEARINGHOUSE__SFTP__USERNAME": SFTP_USER,
            "RCM_CLEARINGHOUSE__SFTP__PASSWORD": SFTP_PASSWORD,
            "RCM_CLEARINGHOUSE__SFTP__ACCEPT_ANY_HOST_KEY": "true",
            "RCM_CLEARINGHOUSE__CORE__URL": f"http://127.0.0.1:{self.http_port}/core",
            "RCM_CLEARINGHOUSE__CORE__SENDER_ID": "PRACTICE01",
            "RCM_CLEARINGHOUSE__CORE__RECEIVER_ID": "SANDBOXCH",
            "RCM_CLEARINGHOUSE__CORE__USERNAME": CORE_USER,
            "RCM_CLEARINGHOUSE__CORE__PASSWORD": CORE_PASSWORD,
            # remittance: the NPIs and tax ids the practice is paid under (an 835 to another payee
            # is held); every organization's, and every clinician's, who may bill under their own
            "RCM_PAYEE_IDS": json.dumps(self.payee_ids()),
        }

    def payee_ids(self) -> list[str]:
        ids: set[str] = set()
        for event in self.practice.reference:
            if isinstance(event, m.OrganizationUpdated):
                ids |= {i for i in (event.group_npi, event.tin) if i}
            elif isinstance(event, m.ProviderUpdated):
                ids.add(event.npi)
        return sorted(ids)

    def _spawn(self, name: str, args: Iterable[str], env: dict[str, str]) -> None:
        log = (self.settings.work_dir / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "rcm.cli", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_sandbox(self) -> None:
        self._spawn("sandbox", ["sandbox", "run", "--config", str(self.sandbox_config())], dict(os.environ))

    def start_service(self, spec: ServiceSpec, replica: int = 0) -> None:
        """One process of a service; replica 1, 2... are further processes of the same group."""
        name = f"{spec.name}-{replica}" if replica else spec.name
        self._spawn(name, spec.command, self.service_env(spec))

    async def start(self, *, replicas: int = 1) -> None:
        """A clean start: fresh service databases and topics (older runs' topics deleted), the
        sandbox, then ``replicas`` processes of each service, alive after a few seconds."""
        self.reset_databases()
        await self.delete_earlier_runs()
        await self.create_topics()
        self.start_sandbox()
        await self.wait_for_port(self.sftp_port)
        await self.wait_for_port(self.http_port)
        for spec in SERVICES:
            for replica in range(replicas):
                self.start_service(spec, replica)
        await asyncio.sleep(3)
        self.check_alive()

    async def wait_for_port(self, port: int, wait_s: float = 30) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            self.check_alive()
            await asyncio.sleep(0.2)
        raise TimeoutError(f"nothing answers on port {port}")

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                tail = (self.settings.work_dir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def kill(self, name: str) -> None:
        """kill -9, for the fault test."""
        proc = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def restart(self, name: str) -> None:
        """Start a killed service again (same database, same consumer group)."""
        spec = next(s for s in SERVICES if s.name == name)
        log = self.settings.work_dir / f"{name}.log"
        log.rename(log.with_suffix(f".{int(time.time())}.log"))
        self.start_service(spec)

    def stop(self) -> None:
        self.cpu_seconds_at_stop = self.cpu_seconds()
        for proc in self.processes.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

    # ------------------------------------------------------------------ events
    async def publish(self, events: list[m.Event], progress: Callable[[int], None] | None = None) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap, enable_idempotence=True, linger_ms=10
        )
        await producer.start()
        try:
            pending = []
            for i, event in enumerate(events, start=1):
                record = encode(event, source="demo-ehr", prefix=self.settings.prefix)
                pending.append(
                    await producer.send(
                        record.topic, record.value, key=record.key, headers=list(record.headers)
                    )
                )
                if len(pending) >= 2000:
                    await asyncio.gather(*pending)
                    pending.clear()
                    if progress:
                        progress(i)
            await asyncio.gather(*pending)
            if progress:
                progress(len(events))
        finally:
            await producer.stop()

    async def publish_paced(
        self,
        events: Sequence[m.Event],
        per_second: float,
        *,
        slice_s: float = 0.2,
        progress: Callable[[int], None] | None = None,
    ) -> float:
        """Publish ``events`` in order at ``per_second``; returns the seconds it took.

        Every ``slice_s`` it sends what the schedule has made due and waits for the broker's
        acknowledgements, so a slow slice is caught up by the next ones rather than lowering the rate.
        """
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap, enable_idempotence=True, linger_ms=10
        )
        await producer.start()
        try:
            started = time.monotonic()
            sent = 0
            tick = 0
            while sent < len(events):
                due = min(len(events), int((time.monotonic() - started) * per_second) + 1)
                pending = []
                for event in events[sent:due]:
                    record = encode(event, source="demo-ehr", prefix=self.settings.prefix)
                    pending.append(
                        await producer.send(
                            record.topic, record.value, key=record.key, headers=list(record.headers)
                        )
                    )
                await asyncio.gather(*pending)
                sent = max(sent, due)
                if progress:
                    progress(sent)
                if sent >= len(events):
                    break
                tick += 1
                await asyncio.sleep(max(0.0, started + tick * slice_s - time.monotonic()))
            return time.monotonic() - started
        finally:
            await producer.stop()

    @contextlib.asynccontextmanager
    async def lag_probe(self) -> AsyncIterator[Callable[[], Awaitable[dict[str, GroupLag]]]]:
        """A function that reads every service's consumer lag now (the group id is the service name).

        A group's lag is summed over the topics it has committed an offset on, remembered from one
        reading to the next (see ``rcm.demo.lag.group_lag``).
        """
        topics = [spec.topic(self.settings.prefix) for spec in CATALOG]
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=None)
        await admin.start()
        await consumer.start()
        reads: dict[str, set[str]] = {spec.name: set() for spec in SERVICES}
        try:
            described = await admin.describe_topics(topics)
            partitions = [
                TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
            ]

            async def read() -> dict[str, GroupLag]:
                ends = await consumer.end_offsets(partitions)
                lags: dict[str, GroupLag] = {}
                for spec in SERVICES:
                    answer = await group_offsets(admin, spec.name, partitions)
                    committed = {tp: meta.offset for tp, meta in answer.items()}
                    reads[spec.name] |= topics_read(committed)
                    lags[spec.name] = group_lag(ends, committed, reads[spec.name])
                return lags

            yield read
        finally:
            await consumer.stop()
            await admin.close()

    async def observe(self) -> None:
        """Fold every event of this run's topics into the ledger until stopped."""
        topics = [spec.topic(self.settings.prefix) for spec in CATALOG]
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=2000,
        )
        await consumer.start()
        try:
            while not self._stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                for records in batch.values():
                    for r in records:
                        try:
                            received = decode(r.value, r.headers)
                        except EventError:
                            continue
                        self.ledger.apply(received.envelope.id, received.event)
                        self.ledger.stamp(received.event, r.timestamp)
                        self.last_event_at = time.monotonic()
        finally:
            await consumer.stop()

    async def wait_for_consumers(self, names: Iterable[str], wait_s: float = 180) -> None:
        """Until every service's consumer group has read these topics to their end (projections loaded)."""
        topics = [spec.topic(self.settings.prefix) for spec in CATALOG if spec.name in set(names)]
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=None)
        await admin.start()
        await consumer.start()
        try:
            described = await admin.describe_topics(topics)
            partitions = [
                TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
            ]
            ends = await consumer.end_offsets(partitions)
            started = time.monotonic()
            deadline = started + wait_s
            for spec in SERVICES:
                while time.monotonic() < deadline:
                    answer = await group_offsets(admin, spec.name, partitions)
                    # the broker answers -1 for a partition the group never committed
                    committed = {tp: meta.offset for tp, meta in answer.items() if meta.offset >= 0}
                    # a group reads only the topics it subscribes to: ignore partitions it never committed
                    behind = [tp for tp in committed if ends[tp] and committed[tp] < ends[tp]]
                    reads_any = bool(committed)
                    if not behind and reads_any:
                        break
                    if not reads_any and time.monotonic() - started > NO_COMMIT_GRACE_S:
                        break  # nothing committed on any of these topics by now: the group does not read them
                    self.check_alive()
                    await asyncio.sleep(0.5)
        finally:
            await consumer.stop()
            await admin.close()

    async def wait_for_eligibility(self, appointments: int, wait_s: float = 600) -> None:
        """Until eligibility has answered (nearly) every appointment, or ``wait_s`` passed."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            answered = sum(self.ledger.eligibility.values())
            if answered >= 0.97 * appointments and time.monotonic() - self.last_event_at > 2:
                return
            self.check_alive()
            await asyncio.sleep(0.5)

    async def wait_for_submissions(self, sessions: int, wait_s: float = 600) -> None:
        """Until most sessions' claims were submitted or held, or ``wait_s`` passed."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            done = sum(1 for c in self.ledger.originals() if c.submissions or c.status == "held")
            if done >= 0.9 * sessions:
                return
            self.check_alive()
            await asyncio.sleep(0.5)

    async def wait_settled(self, progress: Callable[[CycleLedger], None] | None = None) -> bool:
        """Until every claim is final or in a visible queue and nothing moved for a while."""
        deadline = time.monotonic() + self.settings.timeout_s
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            self.check_alive()
            if progress:
                progress(self.ledger)
            quiet = time.monotonic() - self.last_event_at
            if quiet >= self.settings.settle_quiet_s and self.ledger.claims and self.ledger.settled():
                return True
            if quiet >= 6 * self.settings.settle_quiet_s and self.ledger.claims:
                return False  # quiet for long, but some claim never reached a final state
        return False

    def stop_observing(self) -> None:
        self._stop.set()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each process of the run (from /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        used: dict[str, float] = {}
        for name, proc in self.processes.items():
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[name] = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError, ValueError):
                used[name] = 0.0
        return used
