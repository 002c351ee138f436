"""The service against the real Kafka broker and PostgreSQL: remits in, corrections and denials out."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rcm.denials import store
from rcm.denials.app import build_service
from rcm.denials.cli import app as cli
from rcm.denials.settings import DenialsSettings
from rcm.events import Event, decode, encode
from rcm.events.models import (
    ClaimChangeAction,
    ClaimCorrectionRequested,
    ClaimWriteOffRequested,
    CorrectionMethod,
    DenialAction,
    DenialOpened,
    DenialOutcome,
    DenialResolved,
    EligibilityRecheckRequested,
    SecondaryClaimRequested,
)
from rcm.events.testing import (
    authorization_received,
    claim_acknowledged,
    claim_created,
    claim_status_changed,
    claim_voided,
    coverage_updated,
    eligibility_checked,
    fee_schedule_updated,
    payer_updated,
    remit_received,
)
from rcm.servicekit import ServiceSettings, create_engine, upgrade
from rcm.servicekit.db import outbox
from rcm.servicekit.testing import read_topic, settings_for, wait_for

PAYER = "payer-0001"
MIGRATIONS = Path(store.__file__).parent / "migrations"


async def publish(bootstrap: str, prefix: str, events: list[Event], ids: list[str] | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for i, event in enumerate(events):
            record = encode(event, source="/test", prefix=prefix, event_id=ids[i] if ids else None)
            await producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
    finally:
        await producer.stop()


def line(
    n: int, *, paid: str, adjustments: list[dict[str, str]], modifiers: list[str], allowed: str | None = None
) -> dict[str, Any]:
    return {
        "line_key": f"ses-{n:04d}:1",
        "procedure_code": "90837",
        "modifiers": modifiers,
        "service_date": date(2025, 3, n),
        "charge": "170.00",
        "paid": paid,
        "allowed": allowed,
        "adjustments": adjustments,
    }


def denied_remit(
    n: int, group: str, carc: str, *, claim_level: bool = False, modifiers: list[str] | None = None
) -> Any:
    cas = [{"group": group, "carc": carc, "amount": "170.00"}]
    return remit_received(
        n,
        payer_id=PAYER,
        status="4",
        paid="0.00",
        patient_responsibility="0.00",
        claim_adjustments=cas if claim_level else [],
        lines=[] if claim_level else [line(n, paid="0.00", adjustments=cas, modifiers=modifiers or [])],
    )


@asynccontextmanager
async def denials_running(
    kafka_bootstrap: str, fresh_database: str, **options: Any
) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """The service on its own topic prefix and database, consuming; its prefix and an engine. Its
    relay keeps the rows it sent, marked: the tests count what the service ever published there."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    base = settings_for(kafka_bootstrap, fresh_database, topic_prefix=prefix, outbox_retention_hours=24)
    settings = DenialsSettings(
        **{name: getattr(base, name) for name in ServiceSettings.model_fields}, topic_partitions=1, **options
    )
    await upgrade(fresh_database, MIGRATIONS)
    service = build_service(settings)
    running = asyncio.create_task(service.run(install_signal_handlers=False))
    engine = create_engine(fresh_database)
    try:
        await wait_for(lambda: _ready(service), timeout=20)
        yield prefix, engine
    finally:
        service.stop()
        await asyncio.wait_for(running, timeout=20)
        await engine.dispose()


async def count(engine: Any, query: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def test_remits_become_corrections_write_offs_and_denials_exactly_once(
    kafka_bootstrap: str, fresh_database: str, monkeypatch: Any
) -> None:
    async with denials_running(kafka_bootstrap, fresh_database, stats_interval_s=0.3) as (prefix, engine):
        # Reference data: the payer wants 95 on video; claim 1 went out without it, claim 2 without
        # its REF*G1 although an authorization was on file; patient 5 has a secondary coverage.
        await publish(
            kafka_bootstrap,
            prefix,
            [
                payer_updated(1),
                payer_updated(2),
                fee_schedule_updated(1, rates=[{"procedure_code": "90837", "amount": "150.00"}]),
                authorization_received(2, payer_id=PAYER),
                coverage_updated(5, payer_id="payer-0002", coverage_id="cov-0005-b", priority="secondary"),
                # claim 1 has two video lines, both without 95
                claim_created(
                    1,
                    payer_id=PAYER,
                    lines=[
                        {**_claim_line(1), "modifiers": []},
                        {
                            **_claim_line(1),
                            "line_key": "ses-0001:2",
                            "procedure_code": "90785",
                            "charge": "25.00",
                            "modifiers": [],
                        },
                    ],
                    total_charge="195.00",
                ),
                *[
                    claim_created(n, payer_id=PAYER, lines=[{**_claim_line(n), "modifiers": ["95"]}])
                    for n in range(2, 6)
                ],
            ],
        )
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.claim), 5), timeout=20
        )
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.coverage), 1), timeout=20
        )

        paid_with_copay = remit_received(
            5,
            payer_id=PAYER,
            lines=[
                line(
                    5,
                    paid="110.00",
                    allowed="135.00",
                    modifiers=["95"],
                    adjustments=[
                        {"group": "CO", "carc": "45", "amount": "35.00"},
                        {"group": "PR", "carc": "3", "amount": "25.00"},
                    ],
                )
            ],
        )
        both_lines_co4 = denied_remit(1, "CO", "4")
        second = {
            **line(
                1, paid="0.00", modifiers=[], adjustments=[{"group": "CO", "carc": "4", "amount": "25.00"}]
            ),
            "line_key": "ses-0001:2",
            "procedure_code": "90785",
            "charge": "25.00",
        }
        both_lines_co4 = both_lines_co4.model_copy(
            update={
                "lines": [*both_lines_co4.lines, type(both_lines_co4.lines[0]).model_validate(second)],
                "charge": both_lines_co4.charge + 25,
            }
        )
        remits = [
            both_lines_co4,
            denied_remit(2, "CO", "197", modifiers=["95"]),
            # adjudicated past the payer's 90-day filing window, never acknowledged: written off
            denied_remit(3, "CO", "29", claim_level=True).model_copy(
                update={"payment_date": date(2025, 9, 1)}
            ),
            denied_remit(4, "PR", "96", modifiers=["95"]),
            paid_with_copay,
        ]
        ids = [str(uuid.uuid4()) for _ in remits]
        await publish(kafka_bootstrap, prefix, remits, ids)

        opened = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.denial-opened", expect=4)
        ]
        by_claim = {e.claim_id: e for e in opened if isinstance(e, DenialOpened)}
        assert {k: v.action for k, v in by_claim.items()} == {
            "clm-0001": DenialAction.RESUBMIT_REPLACEMENT,
            "clm-0002": DenialAction.RESUBMIT_REPLACEMENT,
            "clm-0003": DenialAction.WRITE_OFF,
            "clm-0004": DenialAction.TRANSFER_TO_PATIENT,
        }

        corrections = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.claim-correction-requested", expect=2)
        ]
        fixes = {
            e.claim_id: [(c.action, c.line_key, c.value) for c in e.changes]
            for e in corrections
            if isinstance(e, ClaimCorrectionRequested)
        }
        assert fixes == {  # one correction for claim 1, with the fix of each denied line
            "clm-0001": [
                (ClaimChangeAction.ADD_MODIFIER, "ses-0001:1", "95"),
                (ClaimChangeAction.ADD_MODIFIER, "ses-0001:2", "95"),
            ],
            "clm-0002": [(ClaimChangeAction.SET_AUTHORIZATION_NUMBER, None, "SYNAUTH000002")],
        }
        assert all(
            isinstance(e, ClaimCorrectionRequested)
            and e.method is CorrectionMethod.REPLACEMENT
            and e.payer_claim_number == f"PCN{int(e.claim_id[-4:]):08d}"
            for e in corrections
        )
        assert "clm-0004" not in fixes  # PR-96: the patient's, nothing to resubmit

        write_offs = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.claim-write-off-requested", expect=1)
        ]
        assert [(e.claim_id, e.reason) for e in write_offs if isinstance(e, ClaimWriteOffRequested)] == [
            ("clm-0003", "CO-29 without proof of timely filing")
        ]
        secondary = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.secondary-claim-requested", expect=1)
        ]
        assert [
            (e.claim_id, e.payer_id, e.coverage_id)
            for e in secondary
            if isinstance(e, SecondaryClaimRequested)
        ] == [("clm-0005", "payer-0002", "cov-0005-b")]

        # A redelivered remit (same event id) and a re-sent one (new event id) change nothing.
        outgoing_before = await count(
            engine, sa.select(sa.func.count()).select_from(outbox).where(~outbox.c.topic.like("%stats%"))
        )
        again = str(uuid.uuid4())
        await publish(kafka_bootstrap, prefix, [remits[0], remits[1]], [ids[0], again])
        await wait_for(
            lambda: _equals(
                engine,
                sa.select(sa.func.count())
                .select_from(sa.text("kit_inbox"))
                .where(sa.text(f"event_id = '{again}'")),
                1,
            ),
            timeout=20,
        )
        assert (
            await count(
                engine, sa.select(sa.func.count()).select_from(outbox).where(~outbox.c.topic.like("%stats%"))
            )
            == outgoing_before
        )
        # claim 1's two lines are two denials (one fix each), corrected together
        assert await count(engine, sa.select(sa.func.count()).select_from(store.denial)) == 5
        assert await count(engine, sa.select(sa.func.count()).select_from(store.fix_attempt)) == 4

        # The replacement of claim 1 is paid: its denial resolves. A 277CA rejects claim 6 for its NPI.
        replacement = claim_created(
            1,
            claim_id="clm-0001-r",
            payer_id=PAYER,
            frequency_code="7",
            replaces_claim_id="clm-0001",
            payer_claim_number="PCN00000001",
        )
        await publish(kafka_bootstrap, prefix, [replacement, claim_created(6, payer_id=PAYER)])
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.claim), 7), timeout=20
        )
        paid = remit_received(1, remit_id="rmt-0001-r", claim_id="clm-0001-r", payer_id=PAYER)
        rejected = claim_acknowledged(6, status="rejected", reasons=[{"code": "A7:562:82"}])
        await publish(kafka_bootstrap, prefix, [paid, rejected])
        resolved = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.denial-resolved", expect=3)
        ]
        outcomes = {(e.claim_id, e.outcome) for e in resolved if isinstance(e, DenialResolved)}
        assert outcomes == {
            ("clm-0001", DenialOutcome.PAID),
            ("clm-0003", DenialOutcome.WRITTEN_OFF),
            ("clm-0004", DenialOutcome.TRANSFERRED_TO_PATIENT),
        }
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.work_item), 3), timeout=20
        )

        # The queue: the rejected claim for credentialing, the underpaid lines (135.00 < 150.00).
        monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["queue", "--json"])
        assert result.exit_code == 0, result.output
        items = [json.loads(row) for row in result.output.splitlines()]
        assert sorted((i["kind"], i["claim_id"], i["action"], i["amount"]) for i in items) == [
            ("denial", "clm-0006", "fix_credentialing", "170.00"),
            ("underpayment", "clm-0001-r", "appeal", "15.00"),
            ("underpayment", "clm-0005", "appeal", "15.00"),
        ]
        assert all(i["deadline"] and i["next_step"] and i["evidence"] for i in items)

        # Statistics: the four payer denials of payer-0001 (clm-0006's 277CA rejection is no
        # payer adjudication: counted apart), published on the compacted topic.
        stats = await wait_for(lambda: _latest_stats(engine, prefix, "all", denied=4), timeout=20)
        assert stats["claims_adjudicated"] == 6
        # the charges of the lines adjudicated were kept with them: the rate by dollars has its denominator
        assert (stats["claims_rejected"], stats["claims_submitted"]) == (1, 7)
        assert Decimal(stats["charges_adjudicated"]) > Decimal(stats["denied_amount"]) > 0
        assert 0 < Decimal(stats["denial_rate_by_amount"]) < 1
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["stats", "--dimension", "all"])
        assert result.exit_code == 0, result.output
        await read_topic(kafka_bootstrap, f"{prefix}.denial-stats-updated", expect=1)


async def test_an_authorization_recorded_after_a_co197_denial_sends_the_ref_g1_replacement(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    async with denials_running(kafka_bootstrap, fresh_database) as (prefix, engine):
        await publish(
            kafka_bootstrap,
            prefix,
            [
                payer_updated(1),
                claim_created(7, payer_id=PAYER, lines=[{**_claim_line(7), "modifiers": ["95"]}]),
            ],
        )
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.claim), 1), timeout=20
        )
        # denied before the payer's retroactive grant is on file: a person would have to chase it
        await publish(kafka_bootstrap, prefix, [denied_remit(7, "CO", "197", modifiers=["95"])])
        [opened] = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.denial-opened", expect=1)
        ]
        assert isinstance(opened, DenialOpened) and opened.action is DenialAction.FIX_AUTH
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.work_item), 1), timeout=20
        )

        granted = authorization_received(7, payer_id=PAYER)
        await publish(kafka_bootstrap, prefix, [granted, granted])  # a re-sent grant changes nothing
        corrections = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.claim-correction-requested", expect=1)
        ]
        assert [
            (e.claim_id, e.method, [(c.action, c.value) for c in e.changes])
            for e in corrections
            if isinstance(e, ClaimCorrectionRequested)
        ] == [
            (
                "clm-0007",
                CorrectionMethod.REPLACEMENT,
                [(ClaimChangeAction.SET_AUTHORIZATION_NUMBER, granted.auth_number)],
            )
        ]
        open_items = (
            sa.select(sa.func.count()).select_from(store.work_item).where(store.work_item.c.status == "open")
        )
        await wait_for(lambda: _equals(engine, open_items, 0), timeout=20)
        assert await count(engine, sa.select(sa.func.count()).select_from(store.fix_attempt)) == 1


def _claim_line(n: int) -> dict[str, Any]:
    return claim_created(n).lines[0].model_dump(mode="json")


async def _ready(service: Any) -> bool:
    return bool(service.consumers) and all(c.ready.is_set() for c in service.consumers)


async def _equals(engine: Any, query: Any, expected: int) -> bool:
    return await count(engine, query) == expected


async def _latest_stats(engine: Any, prefix: str, scope: str, *, denied: int) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(outbox.c.value)
                .where(outbox.c.topic == f"{prefix}.denial-stats-updated", outbox.c.key == scope.encode())
                .order_by(outbox.c.id.desc())
                .limit(1)
            )
        ).first()
    if row is None:
        return None
    body: dict[str, Any] = json.loads(row.value)
    return body if body["claims_denied"] == denied else None


async def test_a_void_and_rebill_denial_resolves_when_the_void_completes_and_other_moves_are_unread(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    """A payer that takes corrections as void and rebill: the CO-4 denial asks for the void and
    resolves as voided when claim-voided arrives; the claim's status changes, the void's among
    them, are not read at all (no inbox row): the service does not subscribe to them."""
    async with denials_running(kafka_bootstrap, fresh_database) as (prefix, engine):
        await publish(
            kafka_bootstrap,
            prefix,
            [
                payer_updated(
                    1,
                    rules={
                        "telehealth": {"video_modifiers": ["95"]},
                        "corrected_claim_method": "void_and_rebill",
                    },
                ),
                claim_created(1, payer_id=PAYER, lines=[{**_claim_line(1), "modifiers": []}]),
            ],
        )
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.claim), 1), timeout=20
        )
        await publish(kafka_bootstrap, prefix, [denied_remit(1, "CO", "4")])
        [opened] = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.denial-opened", expect=1)
        ]
        assert isinstance(opened, DenialOpened) and opened.action is DenialAction.VOID
        await read_topic(kafka_bootstrap, f"{prefix}.claim-void-requested", expect=1)

        moves = [("denied", "appealed"), ("appealed", "denied"), ("denied", "voided")]
        changes = [
            claim_status_changed(1, claim_id="clm-0001", from_status=before, to_status=after)
            for before, after in moves
        ]
        voided = claim_voided(1, claim_id="clm-0001", from_status="denied")
        await publish(kafka_bootstrap, prefix, [*changes, voided], ["move-0", "move-1", "move-2", "void"])
        [resolved] = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.denial-resolved", expect=1)
        ]
        assert isinstance(resolved, DenialResolved)
        assert (resolved.claim_id, resolved.outcome) == ("clm-0001", DenialOutcome.VOIDED)
        async with engine.connect() as conn:
            seen = await conn.scalars(
                sa.text("SELECT event_id FROM kit_inbox WHERE event_id ~ '^(move|void)'")
            )
            assert list(seen) == ["void"]


async def test_a_re_verified_coverage_comes_back_to_its_denials_as_a_work_item(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    """CO-27 asks the eligibility service to re-check; its answer (and only it: other checks
    are skipped unread) turns each denial into a work item saying what the payer answered
    and what to do: inactive -> bill the other coverage on file or the patient; active ->
    ask for reprocessing, appeal if refused. A retry still to come is waited for."""
    items = sa.select(store.work_item).order_by(store.work_item.c.claim_id)
    async with denials_running(kafka_bootstrap, fresh_database) as (prefix, engine):
        other = coverage_updated(8, coverage_id="cov-0008-b", payer_id="payer-0002", priority="secondary")
        await publish(
            kafka_bootstrap,
            prefix,
            [payer_updated(1), other, claim_created(8, payer_id=PAYER), claim_created(9, payer_id=PAYER)],
        )
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.claim), 2), timeout=20
        )
        await publish(kafka_bootstrap, prefix, [denied_remit(8, "CO", "27"), denied_remit(9, "CO", "27")])
        requests = [
            decode(r.value, r.headers).event
            for r in await read_topic(kafka_bootstrap, f"{prefix}.eligibility-recheck-requested", expect=2)
        ]
        by_claim = {e.claim_id: e for e in requests if isinstance(e, EligibilityRecheckRequested)}
        assert set(by_claim) == {"clm-0008", "clm-0009"}
        assert await count(engine, sa.select(sa.func.count()).select_from(store.work_item)) == 0

        def answer(n: int, status: str, **fields: Any) -> Any:
            request = by_claim[f"clm-{n:04d}"]
            return eligibility_checked(
                n,
                check_id=f"chk-{n}-{status}",
                coverage_id=request.coverage_id,
                service_date=request.service_date,
                status=status,
                trigger="recheck",
                request_id=request.request_id,
                **fields,
            )

        retry_pending = answer(8, "error", aaa_follow_up={"action": "retry", "message": "payer busy"})
        unrelated = eligibility_checked(
            8, check_id="chk-appointment", status="inactive", trigger="appointment"
        )
        await publish(kafka_bootstrap, prefix, [retry_pending, unrelated], ["e-retry", "e-appointment"])
        read_retry = (
            sa.select(sa.func.count())
            .select_from(sa.text("kit_inbox"))
            .where(sa.text("event_id = 'e-retry'"))
        )
        await wait_for(lambda: _equals(engine, read_retry, 1), timeout=20)
        # the eligibility service retries by itself: its answer decides, nothing is queued yet
        assert await count(engine, sa.select(sa.func.count()).select_from(store.work_item)) == 0
        await publish(
            kafka_bootstrap,
            prefix,
            [answer(8, "inactive", payer_trace_number="TRACE8"), answer(9, "active")],
            ["e-8", "e-9"],
        )
        await wait_for(
            lambda: _equals(engine, sa.select(sa.func.count()).select_from(store.work_item), 2), timeout=20
        )
        async with engine.connect() as conn:
            rows = (await conn.execute(items)).all()
            seen = set(
                await conn.scalars(sa.text("SELECT event_id FROM kit_inbox WHERE event_id LIKE 'e-%'"))
            )
            actions = dict(
                (await conn.execute(sa.select(store.denial.c.claim_id, store.denial.c.action))).all()
            )
        assert seen == {"e-retry", "e-8", "e-9"}  # the appointment's check was skipped unread
        inactive, active = rows
        assert (inactive.claim_id, inactive.action, inactive.status) == ("clm-0008", "human_review", "open")
        assert "cov-0008-b" in inactive.next_step and "payer-0002" in inactive.next_step
        assert inactive.evidence["payer_trace_number"] == "TRACE8"
        assert inactive.evidence["eligibility_status"] == "inactive"
        assert (active.claim_id, active.action, active.appeal_level) == ("clm-0009", "appeal", 1)
        assert "reprocess" in active.next_step
        assert actions == {"clm-0008": "human_review", "clm-0009": "appeal"}
