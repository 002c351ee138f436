"""The clean-claim ratio against PostgreSQL: a claim that passed the edits with no manual
intervention is clean, even when it waited on a hold the service releases by itself (the 271
answer); claims not yet scrubbed are not counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.metrics import ArAgingMetrics
from rcm.claims.store import claim, claim_audit

NOW = datetime.now(UTC)


async def add_claim(
    engine: AsyncEngine,
    claim_id: str,
    state: str,
    moves: tuple[tuple[str, str, str], ...] = (),
    hold_reasons: list[dict[str, Any]] | None = None,
    created_days_ago: int = 3,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            claim.insert().values(
                claim_id=claim_id,
                session_id=f"ses-{claim_id}",
                patient_id=f"pat-{claim_id}",
                rendering_provider_id="prv-0001",
                coverage_id="cov-0001",
                payer_id="payer-0001",
                payer_order=1,
                frequency_code="1",
                state=state,
                draft={},
                hold_reasons=hold_reasons or [],
                total_charge=Decimal("170.00"),
                created_at=NOW - timedelta(days=created_days_ago),
                updated_at=NOW,
            )
        )
        for i, (from_state, to_state, reason) in enumerate(moves):
            await conn.execute(
                claim_audit.insert().values(
                    claim_id=claim_id,
                    from_state=from_state,
                    to_state=to_state,
                    reason=reason,
                    actor="claims",
                    at=NOW - timedelta(hours=10 - i),
                )
            )


async def test_a_claim_held_only_for_the_271_and_released_by_the_service_is_clean(
    engine: AsyncEngine,
) -> None:
    # passed the edits at once
    await add_claim(engine, "CLEAN", "submitted", (("created", "ready", "edits pass"),))
    # held while the 271 was out, released by the service when it came back active
    await add_claim(
        engine,
        "WAITED",
        "submitted",
        (
            ("created", "held", "held: eligibility_unknown"),
            ("held", "ready", "edits pass: EligibilityChecked re-ran the edits"),
        ),
    )
    # held for an unsigned note: a person had to sign it
    await add_claim(
        engine,
        "FIXED",
        "submitted",
        (("created", "held", "held: note_unsigned"), ("held", "ready", "edits pass: note signed")),
    )
    # held for the 271, which came back inactive: held now for a reason a person must fix
    await add_claim(
        engine,
        "INACTIVE",
        "held",
        (("created", "held", "held: eligibility_unknown"),),
        hold_reasons=[{"code": "eligibility_inactive", "message": "coverage inactive"}],
    )
    # still waiting for the 271: not unclean (yet)
    await add_claim(
        engine,
        "WAITING",
        "held",
        (("created", "held", "held: eligibility_unknown"),),
        hold_reasons=[{"code": "eligibility_unknown", "message": "no 271 yet"}],
    )
    # waiting for the authorization answer: not scrubbed yet, not counted
    await add_claim(engine, "AUTH", "created")
    # rejected after submission: the acceptance rate's business, not the edits'
    await add_claim(
        engine,
        "REJECTED",
        "held",
        (
            ("created", "ready", "edits pass"),
            ("ready", "submitted", "batched"),
            ("submitted", "held", "rejected: waits for a fix"),
        ),
        hold_reasons=[{"code": "other", "message": "277CA A3:33"}],
    )

    # held for a fix, but created before the ratio's rolling 30 days: not counted
    await add_claim(
        engine,
        "OLD",
        "submitted",
        (("created", "held", "held: note_unsigned"), ("held", "ready", "edits pass: note signed")),
        created_days_ago=45,
    )

    registry = CollectorRegistry()
    metrics = ArAgingMetrics(registry)
    async with engine.connect() as conn:
        await metrics.refresh(conn, now=NOW)
    # scrubbed: CLEAN WAITED FIXED INACTIVE WAITING REJECTED; unclean: FIXED INACTIVE
    assert registry.get_sample_value("rcm_claims_clean_claim_ratio") == 4 / 6
