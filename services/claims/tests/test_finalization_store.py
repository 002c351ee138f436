"""Finalizing stored claims and reopening them on a later remit, against PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from rcm.claims.app import ClaimsSettings, build_service
from rcm.claims.cli import app
from rcm.claims.domain import ClaimState
from rcm.claims.domain.finalization import Blocker
from rcm.claims.finalization import Verdict, finalize_claims
from rcm.claims.handlers import ClaimsHandlers
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import claim, claim_audit, session
from rcm.events import testing as f
from rcm.servicekit import Delivered, Transaction
from rcm.servicekit.db import outbox
from rcm.servicekit.messages import Record
from rcm.servicekit.testing import wait_for

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=45)
QUIET = timedelta(days=30)


async def add_claim(
    engine: AsyncEngine,
    claim_id: str,
    state: str,
    *,
    session_id: str | None = None,
    at: datetime = LONG_AGO,
    **columns: Any,
) -> None:
    values: dict[str, Any] = {
        "claim_id": claim_id,
        "session_id": session_id or f"ses-{claim_id}",
        "patient_id": "pat-0001",
        "rendering_provider_id": "prv-0001",
        "coverage_id": "cov-0001",
        "payer_id": "payer-0001",
        "payer_order": 1,
        "frequency_code": "1",
        "state": state,
        "draft": {},
        "total_charge": Decimal("170.00"),
        "created_at": at,
        "updated_at": at,
        **columns,
    }
    async with engine.begin() as conn:
        await conn.execute(claim.insert().values(**values))
        await conn.execute(
            claim_audit.insert().values(
                claim_id=claim_id, from_state="accepted", to_state=state, reason="setup", actor="tests", at=at
            )
        )


async def run(
    engine: AsyncEngine,
    *,
    dry_run: bool = False,
    quiet: timedelta = QUIET,
    now: datetime = NOW,
    limit: int = 500,
) -> list[Verdict]:
    async with engine.begin() as conn:
        tx = Transaction(conn, "tests", source="claims", prefix="t")
        verdicts = await finalize_claims(tx, now=now, quiet=quiet, dry_run=dry_run, limit=limit)
        await tx.flush()
    return verdicts


async def state_of(engine: AsyncEngine, claim_id: str) -> str:
    async with engine.connect() as conn:
        return str(await conn.scalar(sa.select(claim.c.state).where(claim.c.claim_id == claim_id)))


async def last_audit(engine: AsyncEngine, claim_id: str) -> tuple[Any, ...]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(
                    claim_audit.c.from_state,
                    claim_audit.c.to_state,
                    claim_audit.c.reason,
                    claim_audit.c.actor,
                )
                .where(claim_audit.c.claim_id == claim_id)
                .order_by(claim_audit.c.id.desc())
                .limit(1)
            )
        ).one()
    return tuple(row)


async def test_settled_quiet_claims_are_finalized_and_each_blocking_condition_keeps_one_open(
    engine: AsyncEngine,
) -> None:
    await add_claim(engine, "PAID", "paid", remit_paid=Decimal("110.00"))
    await add_claim(engine, "DENIED", "denied", remit_paid=Decimal("0.00"))
    await add_claim(engine, "PARTWRITTENOFF", "written_off", remit_paid=Decimal("40.00"))
    await add_claim(engine, "RECENT", "paid", at=NOW - timedelta(days=3))
    await add_claim(engine, "HELD", "held")
    # a secondary claim still with the payer keeps the primary open
    await add_claim(engine, "PRIMARY", "paid", session_id="ses-cob", remit_paid=Decimal("80.00"))
    await add_claim(engine, "SECONDARY", "submitted", session_id="ses-cob", payer_order=2)
    # a replacement on its way keeps the written-off original open (write-offs cannot move to corrected)
    await add_claim(engine, "ORIGINAL", "written_off", session_id="ses-fix")
    await add_claim(
        engine,
        "REPLACEMENT",
        "ready",
        session_id="ses-fix",
        revision=1,
        frequency_code="7",
        replaces_claim_id="ORIGINAL",
    )
    # a void of its session waits for the claim to be taken back
    await add_claim(engine, "VOIDEDSESSION", "denied", session_id="ses-void", remit_paid=Decimal("0.00"))
    # paid by a claim status answer (277 F1) with no 835 read: nothing posted, not closed
    await add_claim(engine, "STATUSPAID", "paid")
    async with engine.begin() as conn:
        await conn.execute(
            session.insert().values(
                session_id="ses-void", patient_id="pat-0001", body={}, status="voided", received_at=LONG_AGO
            )
        )
    # moved recently by a remit read after its last transition: still inside the quiet period
    await add_claim(engine, "REMITTED", "denied", remitted_at=NOW - timedelta(days=1))
    async with engine.begin() as conn:
        await conn.execute(sa.update(claim).where(claim.c.claim_id == "REMITTED").values(updated_at=LONG_AGO))

    dry = {v.claim_id: v for v in await run(engine, dry_run=True)}
    assert {k for k, v in dry.items() if v.to is not None} == {"PAID", "DENIED", "PARTWRITTENOFF"}
    assert dry["PRIMARY"].blockers == (Blocker.NEXT_PAYER_IN_FLIGHT,)
    assert dry["ORIGINAL"].blockers == (Blocker.CORRECTION_IN_FLIGHT,)
    assert dry["VOIDEDSESSION"].blockers == (Blocker.SESSION_CHANGED,)
    assert dry["REMITTED"].blockers == (Blocker.QUIET_PERIOD,)
    assert dry["STATUSPAID"].blockers == (Blocker.REMIT_MISSING,)
    assert "RECENT" not in dry and "HELD" not in dry
    assert await state_of(engine, "PAID") == "paid"  # a dry run moves nothing

    verdicts = {v.claim_id: v.to for v in await run(engine) if v.to is not None}
    assert {k: v.value for k, v in verdicts.items()} == {
        "PAID": "finalized_paid",
        "DENIED": "finalized_denied",
        "PARTWRITTENOFF": "finalized_paid",
    }
    for claim_id, to in verdicts.items():
        assert await state_of(engine, claim_id) == to.value
    assert await last_audit(engine, "DENIED") == (
        "denied",
        "finalized_denied",
        "finalized: payer side settled as denied for 30 days",
        "claims",
    )
    for claim_id in ("PRIMARY", "ORIGINAL", "VOIDEDSESSION", "REMITTED", "STATUSPAID", "RECENT", "HELD"):
        assert await last_audit(engine, claim_id) == (
            "accepted",
            (await state_of(engine, claim_id)),
            "setup",
            "tests",
        )
    async with engine.connect() as conn:
        events = [
            json.loads(value)
            for (value,) in (
                await conn.execute(
                    sa.select(outbox.c.value).where(outbox.c.topic == "t.claim-status-changed")
                )
            ).all()
        ]
    assert sorted((e["claim_id"], e["from_status"], e["to_status"]) for e in events) == [
        ("DENIED", "denied", "closed"),
        ("PAID", "paid", "closed"),
        ("PARTWRITTENOFF", "written_off", "closed"),
    ]
    assert await run(engine) == [v for v in await run(engine, dry_run=True) if v.to is None]  # nothing twice

    # once the secondary is adjudicated both are finalized
    async with engine.begin() as conn:
        await conn.execute(
            sa.update(claim)
            .where(claim.c.claim_id == "SECONDARY")
            .values(state="paid", remit_paid=Decimal("30.00"))
        )
    assert sorted((v.claim_id, v.to) for v in await run(engine) if v.to is not None) == [
        ("PRIMARY", ClaimState.FINALIZED_PAID),
        ("SECONDARY", ClaimState.FINALIZED_PAID),
    ]


def delivered(event: Any) -> Delivered[Any]:
    return Delivered(
        record=Record(topic="t.remit-received", partition=0, offset=0, key=None, value=b"{}"), event=event
    )


async def remit(engine: AsyncEngine, event: Any) -> None:
    handlers = ClaimsHandlers(
        ClaimsMetrics(CollectorRegistry()), auth_wait=timedelta(minutes=15), submitter_id="S"
    )
    async with engine.begin() as conn:
        tx = Transaction(conn, "tests", source="claims", prefix="t")
        await handlers.on_remit(tx, delivered(event))
        await tx.flush()


def later(**overrides: Any) -> Any:
    return f.remit_received(1, claim_id="CLOSED", patient_responsibility=Decimal("0.00"), **overrides)


async def test_a_reversal_reopens_a_finalized_claim_and_the_corrected_payment_adjudicates_it_again(
    engine: AsyncEngine,
) -> None:
    await add_claim(engine, "CLOSED", "paid", remit_paid=Decimal("110.00"))
    await run(engine)
    assert await state_of(engine, "CLOSED") == "finalized_paid"
    paid = f.remit_received(1, claim_id="CLOSED", patient_responsibility=Decimal("0.00"))
    reversal = f.remit_received(
        1,
        remit_id="rmt-reversal",
        claim_id="CLOSED",
        status="22",
        charge=-paid.charge,
        paid=-paid.paid,
        patient_responsibility=Decimal("0.00"),
        lines=[],
    )
    await remit(engine, reversal)
    assert await state_of(engine, "CLOSED") == "pended"
    assert await last_audit(engine, "CLOSED") == (
        "finalized_paid",
        "pended",
        "reopened: remit-received CLP02 22 reverses the finalized_paid claim",
        "claims",
    )
    assert [v.claim_id for v in await run(engine, quiet=timedelta(0))] == []  # pended: not settled

    await remit(engine, later(remit_id="rmt-corrected", paid=Decimal("95.00")))
    assert await state_of(engine, "CLOSED") == "paid"
    assert await last_audit(engine, "CLOSED") == ("pended", "paid", "remit-received CLP02 1", "claims")
    # the quiet period starts again from the corrected payment
    assert await run(engine) == []
    assert [(v.claim_id, v.to) for v in await run(engine, quiet=timedelta(0), now=datetime.now(UTC))] == [
        ("CLOSED", ClaimState.FINALIZED_PAID)
    ]

    # a later payment of the finalized claim (a reprocessing the payer sends unasked) reopens it too
    await remit(engine, later(remit_id="rmt-late", paid=Decimal("0.00"), status="4"))
    assert await state_of(engine, "CLOSED") == "denied"
    assert await last_audit(engine, "CLOSED") == (
        "finalized_paid",
        "denied",
        "reopened: remit-received CLP02 4 after finalized_paid",
        "claims",
    )
    async with engine.connect() as conn:
        statuses = [
            (e["from_status"], e["to_status"])
            for (value,) in (
                await conn.execute(
                    sa.select(outbox.c.value)
                    .where(outbox.c.topic == "t.claim-status-changed")
                    .order_by(outbox.c.id)
                )
            ).all()
            for e in [json.loads(value)]
        ]
    assert statuses == [
        ("paid", "closed"),
        ("closed", "pending"),
        ("pending", "paid"),
        ("paid", "closed"),
        ("closed", "denied"),
    ]


async def test_the_operator_command_lists_then_finalizes_what_is_settled(
    engine: AsyncEngine, fresh_database: str
) -> None:
    await add_claim(engine, "SETTLED", "denied", remit_paid=Decimal("0.00"))
    await add_claim(engine, "OPEN", "written_off", session_id="ses-fix")
    await add_claim(engine, "FIX", "submitted", session_id="ses-fix", revision=1, replaces_claim_id="OPEN")
    env = {"RCM_DATABASE_URL": fresh_database, "RCM_TOPIC_PREFIX": "t", "RCM_FINALIZE_AFTER_DAYS": "7"}

    async def finalize(*args: str) -> str:
        result = await asyncio.to_thread(CliRunner().invoke, app, ["finalize", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert await finalize("--dry-run") == (
        "OPEN\twritten_off\twaits: correction_in_flight\nSETTLED\tdenied -> finalized_denied\n"
        "1 claims would be finalized\n"
    )
    assert await state_of(engine, "SETTLED") == "denied"
    assert (await finalize()).endswith("1 claims finalized\n")
    assert await state_of(engine, "SETTLED") == "finalized_denied"
    assert await last_audit(engine, "SETTLED") == (
        "denied",
        "finalized_denied",
        "finalized: payer side settled as denied for 7 days",
        "operator",
    )
    async with engine.connect() as conn:
        topics = (await conn.execute(sa.select(outbox.c.topic))).scalars().all()
    assert topics == ["t.claim-status-changed"]  # the running service's relay publishes it
    assert (await finalize()).endswith("0 claims finalized\n")


async def test_the_services_timer_finalizes_on_its_own_with_the_configured_quiet_period(
    engine: AsyncEngine, fresh_database: str
) -> None:
    await add_claim(engine, "QUIET", "paid", at=NOW - timedelta(days=2), remit_paid=Decimal("110.00"))
    await add_claim(engine, "YOUNG", "paid", at=datetime.now(UTC) - timedelta(hours=12))
    service = build_service(
        ClaimsSettings(
            database_url=fresh_database,
            topic_prefix="t",
            http_port=0,
            finalize_after_days=1.0,
            finalize_interval_s=0.05,
        )
    )
    stop = asyncio.Event()
    timer = asyncio.create_task(service._finalization_timer(service.service, stop))
    try:

        async def finalized() -> bool:
            return await state_of(engine, "QUIET") == "finalized_paid"

        await wait_for(finalized, timeout=10, interval=0.05)
        await asyncio.sleep(0.2)  # a few more passes
        assert await state_of(engine, "YOUNG") == "paid"
        assert await last_audit(engine, "QUIET") == (
            "paid",
            "finalized_paid",
            "finalized: payer side settled as paid for 1 day",
            "claims",
        )
    finally:
        stop.set()
        await asyncio.wait_for(timer, 5)
        await service.service.engine.dispose()


def reversal_of(claim_id: str, paid: Decimal = Decimal("110.00")) -> Any:
    return f.remit_received(
        1,
        remit_id=f"rmt-reversal-{claim_id}",
        claim_id=claim_id,
        status="22",
        charge=Decimal("-170.00"),
        paid=-paid,
        patient_responsibility=Decimal("0.00"),
        lines=[],
    )


async def test_a_reversal_before_finalization_keeps_the_claim_open_until_its_re_adjudication(
    engine: AsyncEngine,
) -> None:
    # paid and quiet, but the payer takes the payment back before the timer gets to it
    await add_claim(engine, "REVERSED", "paid", remit_paid=Decimal("110.00"), remitted_at=LONG_AGO)
    # a pure recoupment: no re-adjudication follows
    await add_claim(engine, "RECOUPED", "partially_paid", remit_paid=Decimal("60.00"), remitted_at=LONG_AGO)
    # the reversal of a claim already pended changes nothing but the time of its latest remit
    await add_claim(engine, "PENDED", "pended")
    for claim_id in ("REVERSED", "RECOUPED", "PENDED"):
        await remit(engine, reversal_of(claim_id))
    assert [await state_of(engine, c) for c in ("REVERSED", "RECOUPED", "PENDED")] == ["pended"] * 3
    assert await last_audit(engine, "REVERSED") == (
        "paid",
        "pended",
        "remit-received CLP02 22 reverses the paid claim",
        "claims",
    )
    assert await last_audit(engine, "PENDED") == ("accepted", "pended", "setup", "tests")
    async with engine.connect() as conn:
        stamped = (
            await conn.execute(sa.select(claim.c.claim_id, claim.c.remitted_at, claim.c.updated_at))
        ).all()
    assert all(r.remitted_at > NOW and r.updated_at > NOW for r in stamped)
    # the timer never closes a reversed claim, however long it waits
    later_on = datetime.now(UTC) + timedelta(days=90)
    assert await run(engine, now=later_on) == []

    readjudication = f.remit_received(
        1,
        claim_id="REVERSED",
        remit_id="rmt-readjudicated",
        paid=Decimal("95.00"),
        patient_responsibility=Decimal("0.00"),
    )
    await remit(engine, readjudication)
    assert await state_of(engine, "REVERSED") == "paid"
    assert await run(engine) == []  # the quiet period starts again from the re-adjudication
    assert [(v.claim_id, v.to) for v in await run(engine, now=later_on)] == [
        ("REVERSED", ClaimState.FINALIZED_PAID)
    ]
    assert await state_of(engine, "RECOUPED") == "pended"


async def test_claims_blocked_for_good_do_not_hide_the_settled_ones_after_them_and_a_locked_one_waits(
    engine: AsyncEngine,
) -> None:
    # the oldest candidates wait indefinitely for a secondary claim still with its payer
    for n in range(4):
        await add_claim(
            engine, f"BLOCKED{n}", "paid", session_id=f"ses-b{n}", at=LONG_AGO - timedelta(days=10)
        )
        await add_claim(engine, f"BLOCKED{n}-2ND", "submitted", session_id=f"ses-b{n}", payer_order=2)
    for name in ("SETTLED1", "SETTLED2", "SETTLED3"):
        await add_claim(engine, name, "denied", remit_paid=Decimal("0.00"))

    async with engine.connect() as holder, holder.begin():
        # a remit handler holds SETTLED3 while the pass runs: it is skipped, not waited for
        await holder.execute(sa.select(claim).where(claim.c.claim_id == "SETTLED3").with_for_update())
        verdicts = await asyncio.wait_for(run(engine, limit=3), 10)
    assert sorted(v.claim_id for v in verdicts if v.to is not None) == ["SETTLED1", "SETTLED2"]
    assert {v.claim_id for v in verdicts if v.to is None} == {f"BLOCKED{n}" for n in range(4)}
    assert await state_of(engine, "SETTLED3") == "denied"
    assert [v.claim_id for v in await run(engine, limit=3) if v.to is not None] == ["SETTLED3"]
    assert await state_of(engine, "BLOCKED0") == "paid"
