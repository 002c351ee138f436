"""Write-off requests from the denials service, against the real broker, database and sandbox."""

from __future__ import annotations

import sqlalchemy as sa
from claims_world import World, reference, session

from rcm.claims.store import claim, claim_audit
from rcm.events import testing as f
from rcm.sandbox import Sandbox
from rcm.sandbox.testing import settings_for
from rcm.servicekit.testing import wait_for


async def test_a_write_off_closes_a_held_claim_once_and_an_accepted_one_whose_remit_is_still_on_its_way(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    await world.publish(*reference(2, electronic_payer_id="EVRGRN", member_id="EVG100000002", enrolled=False))
    await world.publish(session(1), session(2))
    try:
        async with world.running(settings_for(sandbox)):
            (accepted,) = await world.wait_claims(claim.c.state == "accepted")
            (held,) = await world.wait_claims(claim.c.state == "held")
            request = f.claim_write_off_requested(2, claim_id=held.claim_id, patient_id=held.patient_id)
            await world.publish(
                request,
                request,  # asked twice
                f.claim_write_off_requested(1, claim_id=accepted.claim_id, patient_id=accepted.patient_id),
                f.claim_write_off_requested(3, claim_id="clm-unknown", patient_id="pat-0003"),
            )
            await world.wait_claims(claim.c.state == "written_off", claim.c.claim_id == held.claim_id)

            async def audit() -> list[tuple[str, str, str]] | None:
                async with world.engine.connect() as conn:
                    rows = (
                        await conn.execute(
                            sa.select(
                                claim_audit.c.from_state, claim_audit.c.to_state, claim_audit.c.reason
                            ).where(
                                claim_audit.c.claim_id == held.claim_id,
                                claim_audit.c.to_state == "written_off",
                            )
                        )
                    ).all()
                return [tuple(r) for r in rows] or None

            trail = await wait_for(audit, timeout=10)
            assert trail == [("held", "written_off", "write-off: CO-29 without proof of timely filing")]

            # the request can overtake the remit it follows: an accepted claim is closed as well
            async def closed() -> bool:
                return (await world.claims(claim.c.claim_id == accepted.claim_id))[0].state == "written_off"

            await wait_for(closed, timeout=10)
    finally:
        await world.close()
