"""The claims service against the real Kafka and PostgreSQL and the in-process payer sandbox."""

from __future__ import annotations

from claims_world import DOS, World, reference, session

from rcm.claims.store import claim
from rcm.events import testing as f
from rcm.sandbox import Sandbox
from rcm.sandbox.testing import settings_for
from rcm.x12 import validate


async def test_sessions_become_accepted_claims_and_a_held_claim_is_released_when_fixed(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    # patient 1 bills Evergreen (a sandbox payer); provider 2 is not enrolled with patient 2's payer
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    await world.publish(*reference(2, electronic_payer_id="EVRGRN", member_id="EVG100000002", enrolled=False))
    first = session(1)
    await world.publish(first, first, session(2))  # the first session twice: one claim
    try:
        async with world.running(settings_for(sandbox)):
            (accepted,) = await world.wait_claims(
                claim.c.state == "accepted", claim.c.patient_id == "pat-0001"
            )
            (held,) = await world.wait_claims(claim.c.state == "held")
            assert held.patient_id == "pat-0002"
            assert [r["code"] for r in held.hold_reasons] == ["provider_not_enrolled"]

            assert len(await world.claims(claim.c.session_id == first.session_id)) == 1
            assert accepted.payer_claim_number  # REF*1K of the 277CA
            uploads = sorted(sandbox.inbound_dir("practice01").iterdir())
            assert len(uploads) == 1
            text = uploads[0].read_text()
            assert not [x for x in validate(text) if x.is_error]
            assert f"CLM*{accepted.claim_id}*" in text and f"REF*6R*{accepted.claim_id}L01~" in text
            assert "SV1*HC:90837:95*180.00*UN*1" in text

            fixed = f.provider_updated(
                2,
                licenses=[
                    {
                        "state": "NY",
                        "license_type": "LCSW",
                        "number": "SYN1",
                        "valid": {"start": "2020-01-01"},
                    }
                ],
            )
            await world.publish(fixed)
            await world.wait_claims(claim.c.patient_id == "pat-0002", claim.c.state == "accepted")
    finally:
        await world.close()
    assert DOS
