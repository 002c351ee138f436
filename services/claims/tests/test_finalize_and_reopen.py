"""Finalization (``rcm claims finalize`` and the service's timer) and reopening on a later remit,
against the real broker, database and sandbox."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from claims_world import World, reference, session
from typer.testing import CliRunner

from rcm.claims.cli import app
from rcm.claims.store import claim, claim_audit
from rcm.events import decode
from rcm.events import testing as f
from rcm.sandbox import Sandbox
from rcm.sandbox.testing import settings_for
from rcm.servicekit.db import outbox
from rcm.servicekit.testing import read_topic, wait_for

runner = CliRunner()


def _secondary_coverage_of_patient_1() -> list[Any]:
    return [
        f.organization_updated(1, payer_ids=["payer-0001", "payer-0009"]),
        f.provider_updated(
            1,
            enrollments=[
                {
                    "payer_id": p,
                    "state": "NY",
                    "network_status": "in_network",
                    "valid": {"start": "2024-01-01"},
                }
                for p in ("payer-0001", "payer-0009")
            ],
            licenses=[
                {"state": "NY", "license_type": "LCSW", "number": "SYN1", "valid": {"start": "2020-01-01"}}
            ],
        ),
        f.payer_updated(9, payer_id="payer-0009", electronic_payer_id="SUPPL1"),
        f.coverage_updated(
            1,
            coverage_id="cov-0001-b",
            payer_id="payer-0009",
            member_id="SLV300000001",
            priority="secondary",
            effective={"start": "2024-01-01"},
        ),
        f.eligibility_checked(
            1,
            check_id="elig-b",
            coverage_id="cov-0001-b",
            payer_id="payer-0009",
            service_date=session(1).start.date(),
            plan_period={"start": "2024-01-01"},
        ),
    ]


def _reversal(claim_id: str) -> Any:
    paid = f.remit_received(2, claim_id=claim_id)
    return f.remit_received(
        2,
        remit_id="rmt-reversal",
        claim_id=claim_id,
        status="22",
        charge=-paid.charge,
        paid=-paid.paid,
        patient_responsibility=-paid.patient_responsibility,
        lines=[],
    )


async def test_settled_claims_are_finalized_by_the_command_and_the_timer_and_reopened_by_a_later_remit(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    await world.publish(*_secondary_coverage_of_patient_1())
    await world.publish(*reference(2, electronic_payer_id="EVRGRN", member_id="EVG100000002"))
    await world.publish(session(1, modality="in_person", at_home=False), session(2))
    env = {
        "RCM_DATABASE_URL": fresh_database,
        "RCM_TOPIC_PREFIX": world.prefix,
        "RCM_SERVICE_NAME": world.name,
        "RCM_FINALIZE_AFTER_DAYS": "0",
    }

    async def finalize(*args: str) -> str:
        result = await asyncio.to_thread(runner.invoke, app, ["finalize", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    async def state(claim_id: str) -> str:
        return str((await world.claims(claim.c.claim_id == claim_id))[0].state)

    async def trail(claim_id: str) -> list[tuple[str | None, str, str, str]]:
        async with world.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(
                    claim_audit.c.from_state,
                    claim_audit.c.to_state,
                    claim_audit.c.reason,
                    claim_audit.c.actor,
                )
                .where(claim_audit.c.claim_id == claim_id)
                .order_by(claim_audit.c.id)
            )
            return [tuple(r) for r in rows.all()]  # type: ignore[misc]

    try:
        # the service's own timer keeps the default quiet period (30 days): nothing it finalizes here
        async with world.running(settings_for(sandbox)):
            accepted = await world.wait_claims(claim.c.state == "accepted", claim.c.payer_order == 1, count=2)
            with_secondary, alone = sorted(accepted, key=lambda r: r.patient_id)
            await world.publish(
                f.remit_received(1, claim_id=with_secondary.claim_id, payer_id="payer-0001"),
                f.remit_received(2, claim_id=alone.claim_id, payer_id="payer-0002"),
            )
            await world.wait_claims(claim.c.state == "paid", count=2)
            (secondary,) = await world.wait_claims(claim.c.payer_order == 2)
            assert secondary.session_id == with_secondary.session_id

            dry = await finalize("--dry-run")
            assert f"{alone.claim_id}\tpaid -> finalized_paid" in dry
            assert f"{with_secondary.claim_id}\tpaid\twaits: next_payer_in_flight" in dry
            assert dry.rstrip().endswith("1 claims would be finalized")
            assert await state(alone.claim_id) == "paid"  # a dry run changes nothing

            done = await finalize()
            assert done.rstrip().endswith("1 claims finalized")
            assert await state(alone.claim_id) == "finalized_paid"
            assert await state(with_secondary.claim_id) == "paid"  # its secondary is still in flight
            assert (await trail(alone.claim_id))[-1] == (
                "paid",
                "finalized_paid",
                "finalized: payer side settled as paid for 0 days",
                "operator",
            )
            topic = f"{world.prefix}.claim-status-changed"

            async def closed_is_published() -> bool:
                # in the outbox until the relay sends it (and deletes the row), on the topic after
                async with world.engine.connect() as conn:
                    rows = (
                        await conn.execute(sa.select(outbox.c.value).where(outbox.c.topic == topic))
                    ).all()
                kept = [json.loads(value) for (value,) in rows]
                sent = [
                    decode(r.value, r.headers).event.model_dump(mode="json")
                    for r in await read_topic(world.bootstrap, topic, expect=1, timeout=10)
                ]
                return any(
                    e["claim_id"] == alone.claim_id and e["to_status"] == "closed" for e in kept + sent
                )

            assert await wait_for(closed_is_published, timeout=30)
            assert "0 claims finalized" in await finalize()  # asked again: nothing left to do

            # the payer reverses the payment of the finalized claim: it reopens, pended, and is not lost
            await world.publish(_reversal(alone.claim_id))

            async def reopened() -> bool:
                return await state(alone.claim_id) == "pended"

            await wait_for(reopened, timeout=15)
            assert (await trail(alone.claim_id))[-1] == (
                "finalized_paid",
                "pended",
                "reopened: remit-received CLP02 22 reverses the finalized_paid claim",
                "claims",
            )
            # the corrected payment that follows adjudicates it again
            await world.publish(
                f.remit_received(2, remit_id="rmt-corrected", claim_id=alone.claim_id, paid=Decimal("100.00"))
            )

            async def repaid() -> bool:
                return await state(alone.claim_id) == "paid"

            await wait_for(repaid, timeout=15)

        # with a quiet period of zero the service's timer finalizes it again, the primary still waits
        async with world.running(settings_for(sandbox), finalize_after_days=0.0, finalize_interval_s=0.2):

            async def refinalized() -> bool:
                return await state(alone.claim_id) == "finalized_paid"

            await wait_for(refinalized, timeout=15)
            assert (await trail(alone.claim_id))[-1][1:] == (
                "finalized_paid",
                "finalized: payer side settled as paid for 0 days",
                "claims",
            )
            assert await state(with_secondary.claim_id) == "paid"

            # a later corrected payment of a finalized claim is applied, not rejected as illegal
            await world.publish(
                f.remit_received(
                    2, remit_id="rmt-late", claim_id=alone.claim_id, status="1", paid=Decimal("90.00")
                )
            )

            async def reopened_by_payment() -> bool:
                reasons = [r[2] for r in await trail(alone.claim_id)]
                return "reopened: remit-received CLP02 1 after finalized_paid" in reasons

            await wait_for(reopened_by_payment, timeout=15)
            assert (await world.claims(claim.c.claim_id == alone.claim_id))[0].remit_paid == Decimal("90.00")
    finally:
        await world.close()
