"""The batched, exactly-once-effect consumer.

One loop per consumer group:

1. take up to ``batch_max_records`` records from Kafka (the service's topics and
   its own retry topic; retry records wait, partition paused, until they are due);
2. decode them; an undecodable record is a permanent failure and goes to the
   dead-letter topic;
3. in ONE PostgreSQL transaction: claim inbox rows for the events (duplicates
   and replays drop out here), run the handler on the new ones, write the
   handler's outgoing events, dead letters and retries to the outbox (executemany);
4. commit the offsets only after that transaction committed.

A failing batch is retried in place (bounded, exponential backoff with jitter).
If it keeps failing, its records are applied one by one so that only the bad
ones leave: to the retry topic (with a due time and an attempt count) or, after
the last retry or for a ``PermanentError``, to the dead-letter topic, with the
original topic, partition, offset, attempt and error in headers. When the
database or the network is down nothing is moved anywhere: the batch is retried
in place until it succeeds, and offsets do not move.

With ``ordered_per_key`` a key whose record waits in the retry topic is parked
(``kit_parked_key``): later records of that key follow it through the retry
topic instead of overtaking it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from opentelemetry import context as otel_context
from opentelemetry import trace
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import AsyncRetrying, stop_after_attempt, wait_random_exponential

from rcm.events import Event, encode
from rcm.servicekit import messages as h
from rcm.servicekit.db import among, inbox, parked_key
from rcm.servicekit.errors import PermanentError, describe_error, is_infrastructure_error
from rcm.servicekit.messages import Delivered, OutgoingMessage, Record
from rcm.servicekit.metrics import RuntimeMetrics
from rcm.servicekit.outbox import OutboxRelay, write_outbox
from rcm.servicekit.settings import ServiceSettings
from rcm.servicekit.telemetry import extract_context, inject_context, tracer

__all__ = ["BatchConsumer", "BatchHandler", "Decoder", "Transaction", "dispatch"]

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M")

Decoder = Callable[[Record], T]


class Transaction:
    """What a handler gets: the open connection of the batch's transaction and an outbox."""

    def __init__(
        self, conn: AsyncConnection, consumer: str, *, source: str = "rcm", prefix: str = ""
    ) -> None:
        self.conn = conn
        self.consumer = consumer
        self.source = source
        self.prefix = prefix
        self.outgoing: list[OutgoingMessage] = []
        self._after_commit: list[Callable[[], None]] = []
        self._later: dict[sa.Table | sa.Insert, list[dict[str, Any]]] = {}
        self._written = 0  # how many of ``outgoing`` are in the outbox already
        self.memo: dict[Any, Any] = {}
        """Scratch space of this transaction's handlers: rows a batch's ``prepare`` step read for
        all its events at once, so each event's handler finds them without a query of its own."""

    def memo_of(self, kind: type[M], make: Callable[[], M] | None = None) -> M:
        """The transaction's one ``kind`` object in ``memo``, made (``make()``, else ``kind()``)
        on first use."""
        found = self.memo.get(kind)
        if not isinstance(found, kind):
            found = self.memo[kind] = (make or kind)()
        return found

    def insert_later(self, table: sa.Table | sa.Insert, row: dict[str, Any]) -> None:
        """Queue a row for a table the rest of the transaction does not read back (audit trails,
        histories): the queued rows are written by :meth:`flush`, one statement per table, in the
        order they were queued. Whoever commits the transaction calls ``flush`` first. ``table``
        may be a prebuilt insert statement (``INSERT ... ON CONFLICT DO NOTHING``), kept as is."""
        self._later.setdefault(table, []).append(row)

    async def flush(self) -> None:
        """Write the rows queued by :meth:`insert_later` and the outgoing events not yet in the
        outbox; it may be called more than once, each row and event is written once."""
        later, self._later = self._later, {}
        for target, rows in later.items():
            await self.conn.execute(target.insert() if isinstance(target, sa.Table) else target, rows)
        fresh, self._written = self.outgoing[self._written :], len(self.outgoing)
        await write_outbox(self.conn, fresh)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction has committed: counters of what it did (a batch
        that rolls back and is retried would otherwise count its work twice). Whoever commits the
        transaction calls ``committed()``; a transaction that rolls back never runs them."""
        self._after_commit.append(callback)

    def committed(self) -> None:
        """The transaction committed: run the ``after_commit`` callbacks, each once."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a counter must not undo a commit that happened
                log.exception("after-commit callback failed")

    def publish(
        self, event: Event, *, cause: Delivered[Any] | None = None, event_id: str | None = None
    ) -> None:
        """Queue an event of the catalog (topic, key and CloudEvents headers from ``rcm.events``)."""
        record = encode(event, source=self.source, prefix=self.prefix, event_id=event_id)
        message = OutgoingMessage(
            topic=record.topic, key=record.key, value=record.value, headers=list(record.headers)
        )
        self.emit(message, cause=cause)

    def emit(self, message: OutgoingMessage, *, cause: Delivered[Any] | None = None) -> None:
        """Queue a record for publication; it is written with the batch, atomically."""
        ctx = cause.trace_context if cause is not None else None
        inject_context(message.headers, ctx)
        self.outgoing.append(message)


BatchHandler = Callable[[Transaction, list[Delivered[T]]], Awaitable[None]]
EventHandler = Callable[[Transaction, Delivered[Any]], Awaitable[None]]


def dispatch(
    handlers: dict[type, EventHandler],
    *,
    ignore_unknown: bool = True,
    prepare: BatchHandler[Any] | None = None,
) -> BatchHandler[Any]:
    """A batch handler that applies each event, in order, with the handler for its type.

    ``prepare`` runs first with the whole batch: it reads, in one query per kind, the rows
    the batch's events will need and leaves them in ``tx.memo`` for their handlers.
    Each handler runs inside its event's consumer span: its log lines carry the event's
    trace id, spans it opens are children of it, and events it publishes continue the trace.
    """

    async def handle(tx: Transaction, events: list[Delivered[Any]]) -> None:
        if prepare is not None:
            await prepare(tx, events)
        for delivered in events:
            handler = handlers.get(type(delivered.event))
            if handler is None:
                if ignore_unknown:
                    continue
                raise PermanentError(f"no handler for {type(delivered.event).__name__}")
            token = otel_context.attach(delivered.trace_context) if delivered.trace_context else None
            try:
                await handler(tx, delivered)
            finally:
                if token is not None:
                    otel_context.detach(token)

    return handle


@dataclass(slots=True)
class _Parked:
    head: str | None
    pending: int
    existed: bool
    changed: bool = False


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: BatchConsumer[Any]) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            self.owner._paused_until.pop(tp, None)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class BatchConsumer(Generic[T]):
    """Consumes ``topics`` as the group ``name`` and applies batches with exactly-once effects."""

    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        handler: BatchHandler[T],
        decode: Decoder[T],
        engine: AsyncEngine,
        settings: ServiceSettings,
        relay: OutboxRelay | None = None,
        ordered_per_key: bool = False,
        metrics: RuntimeMetrics | None = None,
        accept: Callable[[Record], bool] | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.topics = list(topics)
        self.retry_topic = settings.topic(f"{name}.retry")
        self.dead_letter_topic = settings.topic(f"{name}.dlt")
        self.handler = handler
        self.decode = decode
        self.engine = engine
        self.relay = relay
        self.ordered_per_key = ordered_per_key
        self.metrics = metrics or RuntimeMetrics()
        self.accept = accept
        """Which records the handler acts on, told from their headers (``contracts.only_when``);
        the others are skipped before decoding: no inbox row, no transaction of their own."""
        self._paused_until: dict[TopicPartition, float] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self.ready = asyncio.Event()
        # test seam: runs after the batch's transaction committed, before offsets are committed
        self.after_db_commit: Callable[[list[Record]], Awaitable[None]] | None = None

    # ------------------------------------------------------------------ loop
    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.name,
            client_id=f"{self.settings.service_name}-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=self.settings.batch_max_records,
            metadata_max_age_ms=10_000,
            **self.settings.kafka_security.client_kwargs(),
        )
        consumer.subscribe([*self.topics, self.retry_topic], listener=_Rebalance(self))
        wait = 0.5
        while True:
            try:
                await consumer.start()
                break
            except KafkaError as exc:  # the broker is not up yet (or restarting): keep trying
                log.warning("consumer %s waits for the broker: %s", self.name, type(exc).__name__)
                if await self._wait(stop, wait):
                    return
                wait = min(wait * 2, 5.0)
        self._consumer = consumer
        try:
            while not stop.is_set():
                self._resume_due(consumer)
                polled = await self._poll(consumer)
                if consumer.assignment():
                    self.ready.set()
                if not polled:
                    continue
                records = self._take_due(consumer, polled)
                if not records:
                    continue
                chosen = self._skip_unwanted(records)
                if chosen and not await self._apply_with_retry(chosen, stop):
                    break  # stopping while the infrastructure is down: leave offsets where they are
                if self.after_db_commit is not None:
                    await self.after_db_commit(records)
                await self._commit(consumer, records)
                await self._observe_lag(consumer)
        finally:
            self._consumer = None
            await consumer.stop()

    async def _poll(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, list[Any]]:
        """Records for one batch: what the first poll returns, then, for ``batch_linger_ms``,
        whatever else arrives (up to ``batch_max_records``), each partition's in offset order."""
        limit = self.settings.batch_max_records
        polled: dict[TopicPartition, list[Any]] = await consumer.getmany(
            timeout_ms=self.settings.batch_timeout_ms, max_records=limit
        )
        linger_s = self.settings.batch_linger_ms / 1000
        if not polled or linger_s <= 0:
            return polled
        count = sum(len(v) for v in polled.values())
        deadline = time.monotonic() + linger_s
        while count < limit and (left := deadline - time.monotonic()) > 0:
            more = await consumer.getmany(timeout_ms=max(1, int(left * 1000)), max_records=limit - count)
            for tp, raw in more.items():
                polled.setdefault(tp, []).extend(raw)
                count += len(raw)
        return polled

    def _skip_unwanted(self, records: list[Record]) -> list[Record]:
        """The records the handler acts on; the others are counted as skipped (their offsets
        are committed with the batch's)."""
        if self.accept is None:
            return records
        chosen: list[Record] = []
        skipped: dict[str, int] = {}
        for r in records:
            if self.accept(r):
                chosen.append(r)
            else:
                skipped[r.source_topic] = skipped.get(r.source_topic, 0) + 1
        for topic, count in skipped.items():
            self.metrics.events.labels(self.name, topic, "skipped").inc(count)
        return chosen

    def _resume_due(self, consumer: AIOKafkaConsumer) -> None:
        now = time.time()
        for tp, due in list(self._paused_until.items()):
            if due <= now:
                del self._paused_until[tp]
                if tp in consumer.assignment():
                    consumer.resume(tp)

    def _take_due(self, consumer: AIOKafkaConsumer, polled: dict[TopicPartition, list[Any]]) -> list[Record]:
        """Records ready to apply; a retry partition stops (paused) at its first record not yet due."""
        now_ms = time.time() * 1000
        records: list[Record] = []
        for tp, raw in polled.items():
            for msg in raw:
                record = Record(
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    key=msg.key,
                    value=msg.value or b"",
                    headers=tuple(msg.headers or ()),
                    timestamp_ms=msg.timestamp,
                )
                if tp.topic == self.retry_topic and record.due_ms > now_ms:
                    consumer.seek(tp, record.offset)
                    consumer.pause(tp)
                    self._paused_until[tp] = record.due_ms / 1000
                    break
                records.append(record)
        return records

    async def _commit(self, consumer: AIOKafkaConsumer, records: list[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            offsets[tp] = max(offsets.get(tp, 0), r.offset + 1)
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # the group rebalanced: the new owner re-reads these records and its inbox drops them
            log.warning(
                "offset commit failed after a rebalance (%s); redelivery is absorbed", type(exc).__name__
            )

    async def _observe_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            position = await consumer.position(tp)
            self.metrics.consumer_lag.labels(self.name, tp.topic, str(tp.partition)).set(
                max(high - position, 0)
            )

    async def _observe_lag_while_stuck(self) -> None:
        """Lag from the broker's end offsets and the group's commits, while batches cannot be applied.

        The usual reading comes after each commit; when the database is down nothing commits, and
        the lag must still grow on the dashboards as records keep arriving.
        """
        consumer = self._consumer
        if consumer is None or not consumer.assignment():
            return
        tps = list(consumer.assignment())
        try:
            async with asyncio.timeout(2):
                ends = await consumer.end_offsets(tps)
                starts = await consumer.beginning_offsets(tps)
                for tp in tps:
                    committed = await consumer.committed(tp)
                    done = committed if committed is not None and committed >= 0 else starts[tp]
                    self.metrics.consumer_lag.labels(self.name, tp.topic, str(tp.partition)).set(
                        max(ends[tp] - done, 0)
                    )
        except Exception as exc:  # the broker is away too: keep the last reading
            log.debug("consumer %s: lag not refreshed (%s)", self.name, type(exc).__name__)

    # ------------------------------------------------------------------ applying
    async def _apply_with_retry(
        self, records: list[Record], stop: asyncio.Event, *, attempts: int | None = None
    ) -> bool:
        """Apply a batch, retrying it in place; when it keeps failing, apply its records one by one.

        A handler error is retried in place by tenacity (bounded attempts, exponential backoff
        with full jitter). An infrastructure outage (database or broker down) is ridden out
        inside each attempt: it uses up no attempt, however long it lasts (see
        ``_apply_through_outages``). The batch was already retried in place, so each record then
        gets one try: a record that fails again goes to the retry topic at once instead of
        waiting out its own back-off (a thousand records missing their reference data must not
        cost a thousand back-offs). False when asked to stop during an outage.
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.retry_in_place_attempts if attempts is None else attempts),
            wait=wait_random_exponential(multiplier=0.1, max=self.settings.retry_in_place_max_wait_s),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._apply_through_outages(records, stop)
        except Exception as exc:
            if len(records) == 1:
                return await self._fail_record(records[0], exc, stop)
            log.warning("consumer %s: batch of %d failed; applying one by one", self.name, len(records))
            for record in records:
                if not await self._apply_with_retry([record], stop, attempts=1):
                    return False
            return True
        raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover

    async def _apply_through_outages(self, records: list[Record], stop: asyncio.Event) -> bool:
        """Apply a batch once, waiting out infrastructure outages (backing off up to 5 s between
        tries, lag kept current meanwhile); a handler error is raised. False when asked to stop
        while the infrastructure is down."""
        infra_wait = 0.2
        while True:
            try:
                await self._apply(records)
                return True
            except Exception as exc:
                if not is_infrastructure_error(exc):
                    self.metrics.retries.labels(self.name, "handler").inc()
                    raise
                self.metrics.retries.labels(self.name, "infrastructure").inc()
                log.warning(
                    "consumer %s: infrastructure unavailable (%s), retrying the batch in place",
                    self.name,
                    type(exc).__name__,
                )
                await self._observe_lag_while_stuck()
                if await self._wait(stop, infra_wait):
                    return False
                infra_wait = min(infra_wait * 2, 5.0)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> bool:
        """Sleep with jitter; True when asked to stop meanwhile."""
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds * random.uniform(0.75, 1.25))
            return True
        except TimeoutError:
            return False

    def _decode(self, records: list[Record]) -> tuple[list[Delivered[T]], list[tuple[Record, BaseException]]]:
        ready: list[Delivered[T]] = []
        dead: list[tuple[Record, BaseException]] = []
        for record in records:
            try:
                event = self.decode(record)
            except Exception as exc:
                dead.append((record, exc))
                continue
            ready.append(Delivered(record, event, extract_context(record.headers)))
        return ready, dead

    async def _apply(self, records: list[Record]) -> None:
        started = time.perf_counter()
        ready, dead = self._decode(records)
        async with self.engine.begin() as conn:
            tx = Transaction(
                conn, self.name, source=self.settings.service_name, prefix=self.settings.topic_prefix
            )
            for record, exc in dead:
                tx.outgoing.append(self._forward(record, exc, dead_letter=True, permanent=True))
            parked: dict[bytes, _Parked] = {}
            if self.ordered_per_key:
                to_apply = await self._route_parked(conn, tx, ready, parked)
            else:
                to_apply = ready
            fresh = await self._claim_inbox(conn, to_apply)
            if fresh:
                spans = self._start_spans(fresh)
                try:
                    await self.handler(tx, fresh)
                except Exception as exc:
                    # the error's type only: its message may quote the payload
                    for span in spans:
                        span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
                    raise
                finally:
                    for span in spans:
                        span.end()
            await tx.flush()
            await self._save_parked(conn, parked)
        tx.committed()
        if tx.outgoing and self.relay is not None:
            self.relay.wake()
        self._count(records, ready, dead, fresh, len(to_apply))
        self.metrics.batch_seconds.labels(self.name).observe(time.perf_counter() - started)
        self.metrics.batch_size.labels(self.name).observe(len(records))

    def _count(
        self,
        records: list[Record],
        ready: list[Delivered[T]],
        dead: list[tuple[Record, BaseException]],
        fresh: list[Delivered[T]],
        applied: int,
    ) -> None:
        if dead:
            self.metrics.dead_letters.labels(self.name, self.dead_letter_topic).inc(len(dead))
        topic = records[0].source_topic if len({r.source_topic for r in records}) == 1 else "*"
        self.metrics.events.labels(self.name, topic, "processed").inc(len(fresh))
        if applied - len(fresh):
            self.metrics.events.labels(self.name, topic, "duplicate").inc(applied - len(fresh))
        if len(ready) - applied:
            self.metrics.events.labels(self.name, topic, "forwarded").inc(len(ready) - applied)

    def _start_spans(self, fresh: list[Delivered[T]]) -> list[trace.Span]:
        """One consumer span per record, each a child of its producer's context."""
        spans: list[trace.Span] = []
        t = tracer()
        for d in fresh:
            span = t.start_span(
                f"{d.record.source_topic} process",
                context=d.trace_context,
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": d.record.source_topic,
                    "messaging.consumer.group.name": self.name,
                    "messaging.message.id": d.event_id,
                    "messaging.kafka.offset": d.record.offset,
                },
            )
            spans.append(span)
            d_ctx = trace.set_span_in_context(span)
            object.__setattr__(d, "trace_context", d_ctx)
        return spans

    async def _claim_inbox(self, conn: AsyncConnection, events: list[Delivered[T]]) -> list[Delivered[T]]:
        if not events:
            return []
        ids = list(dict.fromkeys(d.event_id for d in events))
        result = await conn.execute(
            pg_insert(inbox)
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id),  # one multi-row statement; the order does not matter
            [{"consumer": self.name, "event_id": i} for i in ids],
        )
        claimed = {row[0] for row in result}
        fresh: list[Delivered[T]] = []
        for d in events:
            if d.event_id in claimed:
                claimed.discard(d.event_id)  # a second copy in the same batch is a duplicate too
                fresh.append(d)
        return fresh

    # ------------------------------------------------------------------ retry and dead letters
    def _forward(
        self, record: Record, exc: BaseException | None, *, dead_letter: bool, permanent: bool = False
    ) -> OutgoingMessage:
        headers = [(k, v) for k, v in record.headers if k not in h.RUNTIME_HEADERS]
        now_ms = int(time.time() * 1000)
        attempt = record.attempt + (1 if exc is not None else 0)
        delays = self.settings.retry_delays_s
        due = now_ms if exc is None else now_ms + int(1000 * delays[min(attempt, len(delays)) - 1])
        extra = [
            (h.ORIGINAL_TOPIC, record.source_topic.encode()),
            (h.ORIGINAL_PARTITION, (record.header(h.ORIGINAL_PARTITION) or str(record.partition)).encode()),
            (h.ORIGINAL_OFFSET, (record.header(h.ORIGINAL_OFFSET) or str(record.offset)).encode()),
            (h.ATTEMPT, str(attempt).encode()),
            (h.CONSUMER, self.name.encode()),
        ]
        if exc is not None:
            kind = "permanent" if permanent or isinstance(exc, PermanentError) else "transient"
            extra += [(h.ERROR, describe_error(exc).encode()), (h.ERROR_KIND, kind.encode())]
        if not dead_letter:
            extra.append((h.DUE_MS, str(due).encode()))
        return OutgoingMessage(
            topic=self.dead_letter_topic if dead_letter else self.retry_topic,
            key=record.key,
            value=record.value,
            headers=headers + extra,
        )

    async def _fail_record(self, record: Record, exc: BaseException, stop: asyncio.Event) -> bool:
        """Move one failing record to the retry topic, or to dead letters when retrying cannot help."""
        retries_left = record.attempt < len(self.settings.retry_delays_s)
        dead = isinstance(exc, PermanentError) or not retries_left
        token = otel_context.attach(extract_context(record.headers))  # the line carries the event's trace
        try:
            log.warning(
                "consumer %s: event %s failed (%s); %s",
                self.name,
                record.event_id,
                describe_error(exc),
                "dead-lettered" if dead else f"retry {record.attempt + 1}",
            )
        finally:
            otel_context.detach(token)
        while True:
            try:
                async with self.engine.begin() as conn:
                    parked: dict[bytes, _Parked] = {}
                    if self.ordered_per_key and record.key is not None:
                        p = (await self._load_parked(conn, [record.key])).get(record.key)
                        from_retry = record.topic == self.retry_topic
                        if p is None and not dead:
                            p = _Parked(head=None, pending=0, existed=False)
                        if p is not None:
                            parked[record.key] = p
                            p.changed = True
                            if not from_retry and not dead:
                                p.pending += 1  # this record now waits in the retry topic
                            if dead and from_retry:
                                p.pending -= 1  # it leaves the retry topic for good
                                p.head = None
                            elif not dead:
                                p.head = record.event_id
                    await write_outbox(conn, [self._forward(record, exc, dead_letter=dead)])
                    await self._save_parked(conn, parked)
                break
            except Exception as db_exc:
                if not is_infrastructure_error(db_exc) or await self._wait(stop, 1.0):
                    if not is_infrastructure_error(db_exc):
                        raise
                    return False
        metric = self.metrics.dead_letters if dead else None
        if metric is not None:
            metric.labels(self.name, self.dead_letter_topic).inc()
        self.metrics.events.labels(
            self.name, record.source_topic, "dead_lettered" if dead else "retried"
        ).inc()
        if self.relay is not None:
            self.relay.wake()
        return True

    # ------------------------------------------------------------------ parked keys
    async def _load_parked(self, conn: AsyncConnection, keys: list[bytes]) -> dict[bytes, _Parked]:
        rows = await conn.execute(
            sa.select(parked_key.c.key, parked_key.c.head_event_id, parked_key.c.pending)
            .where(parked_key.c.consumer == self.name, among(parked_key.c.key, keys))
            .with_for_update()
        )
        return {bytes(r.key): _Parked(head=r.head_event_id, pending=r.pending, existed=True) for r in rows}

    async def _route_parked(
        self,
        conn: AsyncConnection,
        tx: Transaction,
        ready: list[Delivered[T]],
        parked: dict[bytes, _Parked],
    ) -> list[Delivered[T]]:
        """Split the batch: records to apply now, and records that must follow a parked key."""
        keys = list({d.record.key for d in ready if d.record.key is not None})
        if not keys:
            return ready
        parked.update(await self._load_parked(conn, keys))
        apply: list[Delivered[T]] = []
        for d in ready:
            key = d.record.key
            p = parked.get(key) if key is not None else None
            if p is None or p.pending <= 0:
                apply.append(d)
                continue
            p.changed = True
            if d.record.topic != self.retry_topic:
                p.pending += 1  # follows the parked record through the retry topic
                tx.outgoing.append(self._forward(d.record, None, dead_letter=False))
            elif p.head in (None, d.event_id):
                p.pending -= 1  # the key's oldest waiting record: apply it now
                p.head = None
                apply.append(d)
            else:
                # the head was re-queued behind this record: go behind it again
                tx.outgoing.append(self._forward(d.record, None, dead_letter=False))
        return apply

    async def _save_parked(self, conn: AsyncConnection, parked: dict[bytes, _Parked]) -> None:
        for key, p in parked.items():
            if not p.changed:
                continue
            where = (parked_key.c.consumer == self.name) & (parked_key.c.key == key)
            if p.pending <= 0:
                if p.existed:
                    await conn.execute(parked_key.delete().where(where))
            elif p.existed:
                await conn.execute(
                    parked_key.update().where(where).values(head_event_id=p.head, pending=p.pending)
                )
            else:
                await conn.execute(
                    parked_key.insert().values(
                        consumer=self.name, key=key, head_event_id=p.head, pending=p.pending
                    )
                )
