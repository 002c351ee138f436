"""A/R aging gauges against PostgreSQL: open balance and claims by payer and days since first
submission, refreshed by the service's timer with one aggregate query, labels without ids."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.app import ClaimsSettings, build_service
from rcm.claims.metrics import ArAgingMetrics
from rcm.claims.store import claim, claim_audit
from rcm.servicekit.testing import wait_for

NOW = datetime.now(UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def add_claim(
    engine: AsyncEngine,
    claim_id: str,
    state: str,
    *,
    submissions: tuple[datetime, ...] = (),
    payer_id: str = "payer-0001",
    charge: str = "170.00",
    **columns: Any,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            claim.insert().values(
                claim_id=claim_id,
                session_id=f"ses-{claim_id}",
                patient_id=f"pat-{claim_id}",
                rendering_provider_id="prv-0001",
                coverage_id="cov-0001",
                payer_id=payer_id,
                payer_order=1,
                frequency_code="1",
                state=state,
                draft={},
                total_charge=Decimal(charge),
                created_at=ago(400),
                updated_at=ago(1),
                submitted_at=max(submissions) if submissions else None,
                **columns,
            )
        )
        for at in submissions:
            await conn.execute(
                claim_audit.insert().values(
                    claim_id=claim_id,
                    from_state="batched",
                    to_state="submitted",
                    reason="t",
                    actor="t",
                    at=at,
                )
            )


async def set_state(engine: AsyncEngine, claim_id: str, state: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(claim.update().where(claim.c.claim_id == claim_id).values(state=state))


def gauge(registry: CollectorRegistry, name: str, payer: str, bucket: str) -> float | None:
    return registry.get_sample_value(name, {"payer": payer, "bucket": bucket})


async def test_open_balances_age_from_the_first_submission_and_settled_claims_leave(
    engine: AsyncEngine,
) -> None:
    await add_claim(engine, "YOUNG", "accepted", submissions=(ago(10),))
    await add_claim(engine, "RESENT", "submitted", submissions=(ago(45), ago(5)))  # rejected, sent again
    await add_claim(engine, "DENIED", "denied", submissions=(ago(100),), remit_paid=Decimal("0"))
    await add_claim(
        engine,
        "PARTIAL",
        "partially_paid",
        submissions=(ago(200),),
        remit_paid=Decimal("100.00"),
        remit_patient_responsibility=Decimal("20.00"),
        remit_contractual=Decimal("30.00"),
    )
    await add_claim(engine, "HELD", "held", submissions=(ago(70),), payer_id="payer-0002", charge="90.00")
    await add_claim(engine, "PAID", "paid", submissions=(ago(20),), remit_paid=Decimal("110.00"))
    await add_claim(engine, "FINAL", "finalized_denied", submissions=(ago(150),))
    await add_claim(engine, "NEW", "ready")  # never submitted: not A/R yet

    registry = CollectorRegistry()
    aging = ArAgingMetrics(registry)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with engine.connect() as conn:
            await aging.refresh(conn, now=NOW)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 2  # one aggregate query each (aging, clean-claim ratio), whatever the claims

    balance, claims = "rcm_claims_ar_balance_dollars", "rcm_claims_ar_claims"
    assert gauge(registry, balance, "payer-0001", "0-30") == 170.0
    assert gauge(registry, balance, "payer-0001", "31-60") == 170.0  # first sent 45 days ago
    assert gauge(registry, balance, "payer-0001", "61-90") == 0.0
    assert gauge(registry, balance, "payer-0001", "91-120") == 170.0
    # 170 - 100 paid - 20 the patient's - 30 the contract takes off (CO-45): 20 still disputed
    assert gauge(registry, balance, "payer-0001", "120+") == 20.0
    assert gauge(registry, balance, "payer-0002", "61-90") == 90.0
    assert gauge(registry, claims, "payer-0001", "0-30") == 1
    assert gauge(registry, claims, "payer-0002", "61-90") == 1
    assert sum(s.value for f in registry.collect() for s in f.samples if s.name == claims) == 5

    await set_state(engine, "YOUNG", "written_off")
    async with engine.connect() as conn:
        await aging.refresh(conn, now=NOW)
    assert gauge(registry, balance, "payer-0001", "0-30") == 0.0  # emptied buckets drop to zero
    assert gauge(registry, claims, "payer-0001", "0-30") == 0

    labels = {v for f in registry.collect() for s in f.samples for v in s.labels.values()}
    assert labels == {"payer-0001", "payer-0002", "0-30", "31-60", "61-90", "91-120", "120+"}


async def test_the_services_timer_refreshes_the_gauges_on_its_registry(
    engine: AsyncEngine, fresh_database: str
) -> None:
    service = build_service(
        ClaimsSettings(database_url=fresh_database, topic_prefix="t", http_port=0, ar_aging_interval_s=0.05)
    )
    registry = service.service.metrics.registry
    stop = asyncio.Event()
    timer = asyncio.create_task(service._ar_aging_timer(service.service, stop))
    try:
        await add_claim(engine, "LATE", "accepted", submissions=(ago(95),))

        async def shown() -> bool:
            return gauge(registry, "rcm_claims_ar_balance_dollars", "payer-0001", "91-120") == 170.0

        await wait_for(shown, timeout=10, interval=0.05)
    finally:
        stop.set()
        await asyncio.wait_for(timer, 5)
        await service.service.engine.dispose()
