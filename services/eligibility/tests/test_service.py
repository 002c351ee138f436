"""The service against the payer sandbox (its CORE endpoint, in process), real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from rcm.clearinghouse import BreakerSettings, ClearinghouseSettings, PayerRoute, RetrySettings
from rcm.eligibility import store
from rcm.eligibility.app import TOPICS, build_service
from rcm.eligibility.settings import EligibilityOptions, PayerPolicy
from rcm.events import Event, decode, encode
from rcm.events import testing as f
from rcm.events.models import (
    CarveOutRole,
    CheckTrigger,
    CoverageChange,
    CoverageChanged,
    EligibilityChecked,
    EligibilityStatus,
)
from rcm.events.testing import ZONE
from rcm.sandbox import start_sandbox
from rcm.sandbox.server import Sandbox
from rcm.sandbox.testing import FAST_RETRY, sandbox_config
from rcm.sandbox.testing import settings_for as transport_for
from rcm.servicekit import Service, create_engine
from rcm.servicekit.kafka import ensure_topics
from rcm.servicekit.testing import read_topic, settings_for, wait_for

MEMBERS = {
    # sandbox payer book (synthetic): member id, first, last, birth date, payer
    "active": ("EVG100000001", "AVERY", "SAMPLE", date(1985, 4, 12), "EVRGRN"),
    "hdhp": ("EVG100000002", "JORDAN", "EXAMPLE", date(1990, 9, 30), "EVRGRN"),
    "terminated": ("EVG100000003", "RILEY", "TESTCASE", date(1978, 2, 2), "EVRGRN"),
    "carve_out": ("EVG100000004", "CASEY", "CARVEOUT", date(2001, 11, 11), "EVRGRN"),
    "unknown": ("EVG999999999", "NOBODY", "UNKNOWN", date(1970, 1, 1), "EVRGRN"),
    "medicaid": ("MCD200000001", "TAYLOR", "PLACEHOLDER", date(2010, 6, 15), "STMCD"),
}
PAYER_NUMBERS = {"EVRGRN": 1, "STMCD": 2, "MINDBH": 3}


@asynccontextmanager
async def sandbox(tmp: Path) -> AsyncIterator[tuple[Sandbox, list[str]]]:
    """A running sandbox and the 270s its payer office answered."""
    async with start_sandbox(sandbox_config(tmp)) as sb:
        answered: list[str] = []
        answer = sb.office.answer_270

        def counting(text: str) -> str:
            answered.append(text)
            return answer(text)

        sb.office.answer_270 = counting  # type: ignore[method-assign]
        yield sb, answered


@dataclass
class Harness:
    bootstrap: str
    database_url: str
    prefix: str = field(default_factory=lambda: f"elig{uuid.uuid4().hex[:8]}")

    def topic(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    async def publish(self, events: Sequence[Event]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for event in events:
                record = encode(event, source="/test/clinical", prefix=self.prefix)
                await producer.send_and_wait(
                    record.topic, record.value, key=record.key, headers=list(record.headers)
                )
        finally:
            await producer.stop()

    async def read(self, name: str, expect: int) -> list[Any]:
        records = await read_topic(self.bootstrap, self.topic(name), expect=expect, timeout=25)
        return [decode(r.value, r.headers).event for r in records]

    async def rows(self, query: sa.Select[Any]) -> list[Any]:
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(query)).all())
        finally:
            await engine.dispose()

    @asynccontextmanager
    async def service(
        self, clearinghouse: ClearinghouseSettings, options: EligibilityOptions | None = None
    ) -> AsyncIterator[Service]:
        settings = settings_for(
            self.bootstrap, self.database_url, topic_prefix=self.prefix, service_name=f"elig-{self.prefix}"
        )
        names = [*TOPICS, "eligibility-checked", "coverage-changed"]
        await ensure_topics(settings, {self.topic(n): {"partitions": 3} for n in names})
        service = build_service(
            settings,
            options=options or EligibilityOptions(recheck_poll_s=0.2),
            clearinghouse=clearinghouse,
        )
        task = asyncio.create_task(service.run(install_signal_handlers=False))
        try:
            await wait_for(self._consumers_ready(service), timeout=30)
            yield service
        finally:
            service.stop()
            await asyncio.wait_for(task, 30)

    @staticmethod
    def _consumers_ready(service: Service) -> Callable[[], Any]:
        async def ready() -> bool:
            return bool(service.consumers) and all(c.ready.is_set() for c in service.consumers)

        return ready


def reference(n: int, member: str, *, payer_number: int | None = None) -> list[Event]:
    """Patient ``n`` with a coverage for a sandbox member, the payer and the organization."""
    member_id, first, last, born, electronic = MEMBERS[member]
    p = payer_number or PAYER_NUMBERS[electronic]
    payer_id = f"payer-{p:04d}"
    return [
        f.organization_updated(n),
        f.payer_updated(p, electronic_payer_id=electronic),
        f.patient_updated(n, name={"first": first, "last": last}, birth_date=born),
        f.coverage_updated(n, member_id=member_id, payer_id=payer_id, effective={"start": date(2023, 1, 1)}),
    ]


def visit(n: int, on: date, **overrides: Any) -> Event:
    start = datetime(on.year, on.month, on.day, 10, tzinfo=ZONE)
    fields: dict[str, Any] = {"start": start, "end": start + timedelta(minutes=53)}
    fields.update(overrides)
    return f.appointment_scheduled(n, **fields)


async def projected(h: Harness, coverage_ids: list[str]) -> None:
    """Wait until the reference data of the coverages is projected (patients, payers, organizations too)."""
    wanted = {f"cov-{c[-4:]}" for c in coverage_ids}

    async def known() -> bool:
        coverages = {r.coverage_id for r in await h.rows(sa.select(store.coverages.c.coverage_id))}
        patients = {r.patient_id for r in await h.rows(sa.select(store.patients.c.patient_id))}
        organizations = await h.rows(sa.select(store.organizations.c.organization_id))
        payers = await h.rows(sa.select(store.payers.c.payer_id))
        return (
            coverages >= wanted
            and patients >= {f"pat-{c[-4:]}" for c in wanted}
            and len(organizations) >= len(wanted)
            and len(payers) >= 1
        )

    await wait_for(known, timeout=20)


def by_patient(events: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for e in events:
        grouped.setdefault(e.patient_id, []).append(e)
    return grouped


DOS = date(2025, 3, 3)


async def test_appointments_are_checked_and_benefits_published(
    kafka_bootstrap: str, fresh_database: str, tmp_path: Path
) -> None:
    h = Harness(kafka_bootstrap, fresh_database)
    cases = ["active", "hdhp", "terminated", "carve_out", "unknown"]
    async with sandbox(tmp_path) as (sb, answered), h.service(transport_for(sb)):
        await h.publish([e for n, case in enumerate(cases, 1) for e in reference(n, case)])
        await projected(h, [f"cov-{n:04d}" for n in range(1, 6)])
        # patient 3's visit is before the sandbox member's coverage ended (2024-06-30)
        dates = {3: date(2024, 6, 3)}
        appointments = [visit(n, dates.get(n, DOS)) for n in range(1, 6)]
        duplicate = visit(1, DOS)  # the same appointment again, as a new record
        await h.publish([*appointments, duplicate])
        checked = by_patient(await h.read("eligibility-checked", expect=5))
        assert len(answered) == 5  # the duplicate appointment caused no second 270

        active = checked["pat-0001"][0]
        assert isinstance(active, EligibilityChecked)
        assert active.status is EligibilityStatus.ACTIVE
        assert (active.plan_name, active.group_number) == ("Evergreen Gold PPO", "GRP1001")
        assert active.service_type_code == "MH"
        assert active.in_network is not None and active.in_network.copay == Decimal("25.00")
        assert active.visit_limit is not None
        assert (active.visit_limit.allowed, active.visit_limit.remaining, active.visit_limit.used) == (
            30,
            26,
            4,
        )
        assert active.auth_required is True  # the payer requires auth for testing codes

        hdhp = checked["pat-0002"][0].in_network
        assert hdhp.deductible == Decimal("500.00") and hdhp.deductible_remaining == Decimal("350.00")
        assert hdhp.coinsurance_percent == Decimal("20")

        assert checked["pat-0003"][0].status is EligibilityStatus.ACTIVE
        carve = checked["pat-0004"][0]
        assert carve.status is EligibilityStatus.ACTIVE and carve.service_type_code == "MH"
        assert carve.other_payer is not None
        assert carve.other_payer.name == "Mindful Behavioral Health Partners"
        # the other payer of mental health only: a carve-out (MINDBH is not one of our payers here)
        assert carve.carve_out is not None and carve.carve_out.role is CarveOutRole.PAYER
        assert (carve.carve_out.identifier, carve.carve_out.payer_id) == ("MINDBH", None)
        assert (active.covered, active.carve_out) == (True, None)
        unknown = checked["pat-0005"][0]
        assert unknown.status is EligibilityStatus.NOT_FOUND
        assert [(e.code, e.follow_up) for e in unknown.aaa_errors] == [("75", "N")]
        assert unknown.aaa_follow_up is not None
        assert unknown.aaa_follow_up.action == "stop" and unknown.aaa_follow_up.corrections == []
        assert "EVG999999999" not in unknown.aaa_follow_up.message
        assert checked["pat-0001"][0].aaa_follow_up is None

        # a re-check after a denial, for a visit after the coverage ended
        await h.publish(
            [
                f.eligibility_recheck_requested(
                    3, service_date=date(2024, 7, 15), requested_at=datetime.now(ZONE)
                )
            ]
        )
        changed = await h.read("coverage-changed", expect=3)
        kinds = {(c.patient_id, c.change) for c in changed if isinstance(c, CoverageChanged)}
        assert kinds == {
            ("pat-0004", CoverageChange.OTHER_PAYER_FOUND),
            ("pat-0005", CoverageChange.NOT_FOUND),
            ("pat-0003", CoverageChange.TERMINATED),
        }
        terminated = next(c for c in changed if c.change is CoverageChange.TERMINATED)
        assert terminated.effective_date == date(2024, 6, 30)
        assert len(answered) == 6
        # the re-check's answer names the request it answers (the denial that asked waits for it)
        every = await h.read("eligibility-checked", expect=6)
        recheck = [e for e in every if e.trigger is CheckTrigger.RECHECK]
        assert [(e.patient_id, e.request_id) for e in recheck] == [
            ("pat-0003", f.eligibility_recheck_requested(3).request_id)
        ]
        assert {e.trigger for e in every if e not in recheck} == {CheckTrigger.APPOINTMENT}
        assert all(e.request_id is None for e in every if e not in recheck)

        audit = await h.rows(
            sa.select(store.checks.c.raw_271, store.checks.c.decision, store.checks.c.patient_id)
        )
        assert all(r.raw_271 and r.raw_271.startswith("ISA") for r in audit)
        unknown_row = next(r for r in audit if r.patient_id == "pat-0005")
        assert unknown_row.decision["action"] == "stop"


async def test_payer_timeouts_and_server_errors_are_retried_then_reported(
    kafka_bootstrap: str, fresh_database: str, tmp_path: Path
) -> None:
    h = Harness(kafka_bootstrap, fresh_database)
    retry = RetrySettings(
        timeout_seconds=0.4,
        max_attempts=3,
        initial_backoff_seconds=0.01,
        max_backoff_seconds=0.05,
        jitter_seconds=0.01,
    )
    options = EligibilityOptions(recheck_poll_s=0.2, unavailable_retry_s=[1.0])
    async with sandbox(tmp_path) as (sb, answered), h.service(transport_for(sb, retry=retry), options):
        await h.publish([*reference(1, "active"), *reference(2, "hdhp")])
        await projected(h, ["cov-0001", "cov-0002"])

        sb.faults.http_errors = 2  # two 503s, then an answer: retried in the transport
        await h.publish([visit(1, DOS)])
        first = (await h.read("eligibility-checked", expect=1))[0]
        assert first.status is EligibilityStatus.ACTIVE
        assert sb.faults.http_errors == 0
        assert len(answered) == 1  # three attempts, one answer: the 503s never reached the payer

        sb.faults.latency_seconds = 1.0  # every attempt times out
        await h.publish([visit(2, DOS)])
        events = await h.read("eligibility-checked", expect=2)
        failed = next(e for e in events if e.patient_id == "pat-0002")
        assert failed.status is EligibilityStatus.ERROR
        rows = await h.rows(
            sa.select(store.checks.c.failure, store.checks.c.attempts).where(
                store.checks.c.patient_id == "pat-0002"
            )
        )
        assert [r.failure for r in rows] == ["PayerTimeout"]
        scheduled = await h.rows(
            sa.select(store.scheduled_checks.c.reason, store.scheduled_checks.c.coverage_id)
        )
        assert ("payer_unavailable", "cov-0002") in {(r.reason, r.coverage_id) for r in scheduled}

        sb.faults.latency_seconds = 0  # the payer is back: the scheduled re-check answers
        events = await h.read("eligibility-checked", expect=3)
        again = [e for e in events if e.patient_id == "pat-0002"]
        assert [e.status for e in again] == [EligibilityStatus.ERROR, EligibilityStatus.ACTIVE]
        assert again[1].in_network is not None and again[1].in_network.deductible_remaining == Decimal(
            "350.00"
        )

        # a visit ahead: checked now, and again the night before (the month's first visit: cache bypassed)
        ahead = date.today() + timedelta(days=3)
        await h.publish([visit(1, ahead, appointment_id="appt-ahead")])
        await h.read("eligibility-checked", expect=4)
        night = await h.rows(
            sa.select(store.scheduled_checks).where(store.scheduled_checks.c.appointment_id == "appt-ahead")
        )
        assert [(r.reason, r.bypass_cache, r.service_date) for r in night] == [
            ("first_visit_of_month", True, ahead)
        ]
        assert night[0].due_at.astimezone(ZONE).date() == ahead - timedelta(days=1)

        # a re-check the payer cannot answer keeps its request through the retry that answers it
        sb.faults.http_errors = 1000
        request = f.eligibility_recheck_requested(2, service_date=DOS, requested_at=datetime.now(ZONE))
        await h.publish([request])
        await h.read("eligibility-checked", expect=5)
        sb.faults.http_errors = 0
        events = await h.read("eligibility-checked", expect=6)
        answers = [(e.status, e.trigger) for e in events if e.request_id == request.request_id]
        assert answers == [
            (EligibilityStatus.ERROR, CheckTrigger.RECHECK),
            (EligibilityStatus.ACTIVE, CheckTrigger.RECHECK),
        ]


async def test_an_open_circuit_for_one_payer_does_not_stop_checks_for_another(
    kafka_bootstrap: str, fresh_database: str, tmp_path: Path
) -> None:
    h = Harness(kafka_bootstrap, fresh_database)
    async with (
        sandbox(tmp_path / "up") as (healthy, answered),
        sandbox(tmp_path / "down") as (down, _),
    ):
        down.faults.http_errors = 1000  # Evergreen's endpoint answers 503 to everything
        down_endpoint = transport_for(down).core
        assert down_endpoint is not None
        two_attempts = FAST_RETRY.model_copy(update={"max_attempts": 2})
        transport = transport_for(healthy, retry=two_attempts).model_copy(
            update={
                "payers": {
                    "EVRGRN": PayerRoute(
                        core=down_endpoint,
                        retry=two_attempts,
                        breaker=BreakerSettings(failure_threshold=2, cool_down_seconds=60),
                    )
                }
            }
        )
        options = EligibilityOptions(
            recheck_poll_s=0.2,
            payers={"EVRGRN": PayerPolicy(max_concurrent=1)},
            unavailable_retry_s=[],
        )
        async with h.service(transport, options):
            await h.publish([*reference(1, "active"), *reference(2, "hdhp"), *reference(3, "terminated")])
            await h.publish(reference(4, "medicaid"))
            await projected(h, ["cov-0001", "cov-0002", "cov-0003", "cov-0004"])
            await h.publish([visit(n, DOS) for n in (1, 2, 3, 4)])
            checked = by_patient(await h.read("eligibility-checked", expect=4))

        medicaid = checked["pat-0004"][0]
        assert medicaid.status is EligibilityStatus.ACTIVE
        assert medicaid.plan_name == "Medicaid Managed Care"
        assert len(answered) == 1
        assert all(checked[f"pat-{n:04d}"][0].status is EligibilityStatus.ERROR for n in (1, 2, 3))
        assert 1000 - down.faults.http_errors == 2  # two attempts opened the breaker; then nothing was sent
        rows = await h.rows(sa.select(store.checks.c.failure).where(store.checks.c.payer_id == "payer-0001"))
        assert sorted(r.failure for r in rows) == ["CircuitOpen", "CircuitOpen", "PayerUnavailable"]


async def test_a_rate_limited_payer_holds_only_its_own_checks(
    kafka_bootstrap: str, fresh_database: str, tmp_path: Path
) -> None:
    h = Harness(kafka_bootstrap, fresh_database)
    # Evergreen takes one 270 every 2 s; its checks past half a second's wait are queued for later.
    # The timer's poll is longer than the read timeout: only its wake-up on a queued check runs them.
    options = EligibilityOptions(
        recheck_poll_s=60,
        payer_wait_s=0.5,
        payers={"EVRGRN": PayerPolicy(max_concurrent=1, max_per_second=0.5)},
    )
    evergreen = ["active", "hdhp", "terminated", "carve_out"]
    async with sandbox(tmp_path) as (sb, _):
        sent: list[tuple[str, float]] = []
        answer = sb.office.answer_270

        def timed(text: str) -> str:
            sent.append(("EVRGRN" if "*PI*EVRGRN~" in text else "other", time.monotonic()))
            return answer(text)

        sb.office.answer_270 = timed  # type: ignore[method-assign]
        async with h.service(transport_for(sb), options):
            await h.publish([e for n, case in enumerate(evergreen, 1) for e in reference(n, case)])
            await h.publish(reference(5, "medicaid"))
            await projected(h, [f"cov-{n:04d}" for n in range(1, 6)])
            await h.publish([*(visit(n, DOS) for n in range(1, 5)), visit(5, DOS)])
            checked = by_patient(await h.read("eligibility-checked", expect=5))

            queued = await h.rows(
                sa.select(store.scheduled_checks.c.reason, store.scheduled_checks.c.trigger)
            )
            triggers = await h.rows(sa.select(store.checks.c.trigger, store.checks.c.payer_id))

    assert sorted(checked) == [f"pat-{n:04d}" for n in range(1, 6)]
    assert all(len(events) == 1 for events in checked.values())  # queued checks are published once
    medicaid = checked["pat-0005"][0]
    assert medicaid.status is EligibilityStatus.ACTIVE
    last_evergreen = max(checked[f"pat-{n:04d}"][0].checked_at for n in range(1, 5))
    # the Medicaid answer did not wait for Evergreen's queue (4 checks at one per 2 s)
    assert last_evergreen - medicaid.checked_at >= timedelta(seconds=4)

    evergreen_sent = [t for payer, t in sent if payer == "EVRGRN"]
    assert len(evergreen_sent) == 4  # one 270 per check, however often it was queued
    # Evergreen's rate held: starts 2 s apart (measured where the payer answers, so give or take
    # the time a request takes to get there)
    gaps = [b - a for a, b in itertools.pairwise(evergreen_sent)]
    assert min(gaps) >= 1.0 and evergreen_sent[-1] - evergreen_sent[0] >= 5.0
    assert {r.reason for r in queued} >= {"payer_busy"}
    assert {r.trigger for r in queued if r.reason == "payer_busy"} == {"appointment"}
    assert {r.trigger for r in triggers} == {"appointment"}  # a queued check keeps what asked for it


async def test_a_reached_visit_limit_is_reported_with_none_remaining(
    kafka_bootstrap: str, fresh_database: str, tmp_path: Path
) -> None:
    h = Harness(kafka_bootstrap, fresh_database)
    async with sandbox(tmp_path) as (sb, answered):
        # the Medicaid plan allows 20 visits a year; this member has had all of them
        payers = [
            p.model_copy(update={"members": [m.model_copy(update={"visits_used": 20}) for m in p.members]})
            if p.id == "STMCD"
            else p
            for p in sb.office.book.payers
        ]
        sb.office.book = sb.office.book.model_copy(update={"payers": payers})
        async with h.service(transport_for(sb)):
            await h.publish(reference(1, "medicaid"))
            await projected(h, ["cov-0001"])
            await h.publish([visit(1, DOS)])
            [checked] = await h.read("eligibility-checked", expect=1)

    assert isinstance(checked, EligibilityChecked)
    assert checked.status is EligibilityStatus.ACTIVE  # covered, but no visit left this year
    assert checked.visit_limit is not None
    assert (checked.visit_limit.allowed, checked.visit_limit.used, checked.visit_limit.remaining) == (
        20,
        20,
        0,
    )
    assert len(answered) == 1


async def test_a_slow_payer_answers_later_without_holding_the_others_or_being_asked_twice(
    kafka_bootstrap: str, fresh_database: str, tmp_path: Path
) -> None:
    h = Harness(kafka_bootstrap, fresh_database)
    async with (
        sandbox(tmp_path / "fast") as (fast, _),
        sandbox(tmp_path / "slow") as (slow, slow_answered),
    ):
        slow.faults.latency_seconds = 2.5  # Evergreen takes 2.5 s to answer, within its 5 s timeout
        patient = RetrySettings(timeout_seconds=5, max_attempts=1)
        slow_endpoint = transport_for(slow, retry=patient).core
        assert slow_endpoint is not None
        transport = transport_for(fast).model_copy(
            update={"payers": {"EVRGRN": PayerRoute(core=slow_endpoint, retry=patient)}}
        )
        options = EligibilityOptions(recheck_poll_s=60, payer_wait_s=0.3, payer_answer_wait_s=0.5)
        async with h.service(transport, options):
            await h.publish([*reference(1, "active"), *reference(2, "medicaid")])
            await projected(h, ["cov-0001", "cov-0002"])
            await h.publish([visit(1, DOS), visit(2, DOS)])
            checked = by_patient(await h.read("eligibility-checked", expect=2))
            queued = await h.rows(
                sa.select(store.scheduled_checks.c.reason, store.scheduled_checks.c.trigger)
            )
            checks = await h.rows(sa.select(store.checks.c.patient_id, store.checks.c.trigger))

    evergreen, medicaid = checked["pat-0001"], checked["pat-0002"]
    assert [e.status for e in evergreen] == [EligibilityStatus.ACTIVE]  # published once, with the answer
    assert [e.status for e in medicaid] == [EligibilityStatus.ACTIVE]
    assert evergreen[0].checked_at - medicaid[0].checked_at >= timedelta(seconds=1.5)
    assert len(slow_answered) == 1  # the queued check took the answer of the 270 already sent
    assert ("payer_slow", "appointment") in {(r.reason, r.trigger) for r in queued}
    assert sorted((r.patient_id, r.trigger) for r in checks) == [
        ("pat-0001", "appointment"),
        ("pat-0002", "appointment"),
    ]
