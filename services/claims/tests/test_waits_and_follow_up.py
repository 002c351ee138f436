"""What a claim waits for and how it is followed up.

The crossover rule that keeps a secondary claim from duplicating the primary's forward; a
claim needing an authorization waits for the authorizations service's answer, with a time-out
into held; an aged claim gets a 276 over the CORE real-time transport and the 277 moves it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from claims_world import DOS, World, reference, session

from rcm.claims.domain.cob import crossed_over
from rcm.claims.store import claim, claim_audit
from rcm.events import testing as f
from rcm.sandbox import Sandbox
from rcm.sandbox.testing import settings_for
from rcm.servicekit.testing import wait_for


@pytest.mark.unit
@pytest.mark.parametrize(
    ("status", "rarcs", "name", "expected"),
    [
        ("1", [], None, False),
        ("2", ["N130"], None, False),
        ("19", [], None, True),
        ("20", [], None, True),
        ("21", [], None, True),
        ("1", ["MA18"], None, True),
        ("1", ["N89"], None, True),
        ("1", [], "SUPPLEMENTAL PLAN", True),
    ],
)
def test_a_primary_that_forwarded_the_claim_itself_makes_ours_a_duplicate(
    status: str, rarcs: list[str], name: str | None, expected: bool
) -> None:
    assert crossed_over(status=status, rarcs=rarcs, crossover_payer_name=name) is expected


async def test_an_aged_claim_is_asked_about_with_a_276_and_the_277_moves_it(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), session(1))
    try:
        async with world.running(
            settings_for(sandbox), status_inquiry_after_s=0.0, status_inquiry_interval_s=0.3
        ):
            (asked,) = await world.wait_claims(claim.c.status_checked_at.is_not(None), timeout=30)

            async def moved() -> list[tuple[str, str]] | None:
                async with world.engine.connect() as conn:
                    rows = (
                        await conn.execute(
                            sa.select(claim_audit.c.from_state, claim_audit.c.to_state).where(
                                claim_audit.c.claim_id == asked.claim_id,
                                claim_audit.c.reason == "276/277 claim status inquiry",
                            )
                        )
                    ).all()
                return [tuple(r) for r in rows] or None

            trail = await wait_for(moved, timeout=20)
            assert trail[0][0] in ("submitted", "accepted")
            assert trail[0][1] in ("paid", "denied", "pended")
    finally:
        await world.close()


async def test_a_claim_needing_an_authorization_waits_for_the_answer_then_is_held_and_an_answer_releases_it(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    needs_auth = {"auth_requirements": [{"procedure_code": "90837"}]}
    first = session(1)
    await world.publish(
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001", **needs_auth), first
    )
    try:
        async with world.running(None, authorization_wait_s=3.0):
            (waiting,) = await world.wait_claims(claim.c.state == "created")
            assert waiting.awaiting_authorization_until is not None  # waits for the answer, not held yet
            (held,) = await world.wait_claims(claim.c.state == "held", timeout=20)
            assert [r["code"] for r in held.hold_reasons] == ["authorization_missing"]

            await world.publish(
                f.authorization_received(1, valid={"start": "2024-01-01"}, procedure_codes=["90837"]),
                f.authorization_consumed(1, session_id=first.session_id, consumed=1, remaining=11),
            )
            (ready,) = await world.wait_claims(claim.c.state == "ready", timeout=20)
            assert ready.draft["prior_authorization_number"] == "SYNAUTH000001"  # REF*G1
    finally:
        await world.close()


async def test_a_payer_that_authorizes_after_some_visits_is_waited_for_only_past_them(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    # the first two visits of the year need no authorization, the third does
    rules = {"auth_requirements": [{"procedure_code": "90837", "after_visits": 2}]}
    visits = [
        session(1, day=DOS - timedelta(days=7 * (2 - k))).model_copy(
            update={"session_id": f"{session(1).session_id}-{k}"}
        )
        for k in range(3)
    ]
    await world.publish(
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001", **rules), visits[0], visits[1]
    )
    try:
        async with world.running(None, authorization_wait_s=3.0):
            free = await world.wait_claims(claim.c.state == "ready", count=2)
            assert all(row.awaiting_authorization_until is None for row in free)
            await world.publish(visits[2])
            (held,) = await world.wait_claims(
                claim.c.session_id == visits[2].session_id, claim.c.state == "held"
            )
            assert [r["code"] for r in held.hold_reasons] == ["authorization_missing"]
    finally:
        await world.close()
