"""Crash safety of batches, and the claims that follow a paid primary: secondary and corrected."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from claims_world import World, reference, session

from rcm.claims.store import batch, claim
from rcm.events import testing as f
from rcm.sandbox import Sandbox
from rcm.sandbox.testing import settings_for
from rcm.servicekit.testing import wait_for
from rcm.x12.convert import read_interchanges
from rcm.x12.models.remit_835 import Remittance835


async def test_a_batch_committed_but_not_uploaded_is_uploaded_once_after_a_restart(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), session(1))
    try:
        # first life: no clearinghouse, so the claim only gets ready; then the batch is cut and the
        # process "dies" before uploading it
        async with world.running(None) as first:
            (ready,) = await world.wait_claims(claim.c.state == "ready")
            (batch_id,) = await first.batcher.cut(now=datetime.now(UTC))
        assert [r.state for r in await world.claims()] == ["batched"]
        async with world.running(settings_for(sandbox)):
            await world.wait_claims(claim.c.state == "accepted")
        uploads = [p.name for p in sandbox.inbound_dir("practice01").iterdir()]
        async with world.engine.connect() as conn:
            name = await conn.scalar(sa.select(batch.c.file_name).where(batch.c.batch_id == batch_id))
        assert uploads == [name]
        assert ready.claim_id
    finally:
        await world.close()


def _claim_payment(outbound: list[str], claim_id: str) -> tuple[str, str, object]:
    for text in outbound:
        for interchange, _ in read_interchanges(text):
            for group in interchange.groups:
                for tx in group.transactions:
                    if isinstance(tx, Remittance835):
                        for payment in tx.claims():
                            if payment.claim.patient_control_number == claim_id:
                                return text, payment.claim.payer_claim_control_number or "", payment
    raise AssertionError(f"{claim_id} not in any 835")


async def test_a_paid_primary_leads_to_a_secondary_claim_and_a_corrected_claim_both_adjudicated(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    secondary_coverage = f.coverage_updated(
        1,
        coverage_id="cov-0001-b",
        payer_id="payer-0009",
        member_id="SLV300000001",
        priority="secondary",
        effective={"start": "2024-01-01"},
    )
    secondary_payer = f.payer_updated(9, payer_id="payer-0009", electronic_payer_id="SUPPL1")
    secondary_check = f.eligibility_checked(
        1,
        check_id="elig-b",
        coverage_id="cov-0001-b",
        payer_id="payer-0009",
        service_date=session(1).start.date(),
        plan_period={"start": "2024-01-01"},
    )
    org = f.organization_updated(1, payer_ids=["payer-0001", "payer-0009"])
    provider = f.provider_updated(
        1,
        enrollments=[
            {"payer_id": p, "state": "NY", "network_status": "in_network", "valid": {"start": "2024-01-01"}}
            for p in ("payer-0001", "payer-0009")
        ],
        licenses=[
            {"state": "NY", "license_type": "LCSW", "number": "SYN1", "valid": {"start": "2020-01-01"}}
        ],
    )
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    await world.publish(org, provider, secondary_payer, secondary_coverage, secondary_check)
    await world.publish(session(1, modality="in_person", at_home=False))
    try:
        async with world.running(settings_for(sandbox)):
            (primary,) = await world.wait_claims(claim.c.state == "accepted")
            outbound = sandbox.outbound_dir("practice01")

            async def remit() -> tuple[str, str, object] | None:
                texts = [p.read_text() for p in outbound.iterdir() if p.name.endswith(".835")]
                try:
                    return _claim_payment(texts, primary.claim_id)
                except AssertionError:
                    return None

            _, icn, payment = await wait_for(remit, timeout=20)
            lines = [
                {
                    "line_key": next((r.value for r in s.references if r.qualifier == "6R"), None),
                    "procedure_code": s.service.procedure.code,
                    "units_paid": int(s.service.units or 1),
                    "modifiers": s.service.procedure.modifiers,
                    "charge": s.service.charge,
                    "paid": s.service.paid,
                    "adjustments": [
                        {"group": cas.group, "carc": a.reason, "amount": a.amount}
                        for cas in s.adjustments
                        for a in cas.adjustments
                    ],
                }
                for s in payment.services  # type: ignore[attr-defined]
            ]
            info = payment.claim  # type: ignore[attr-defined]
            await world.publish(
                f.remit_received(
                    1,
                    claim_id=primary.claim_id,
                    payer_id="payer-0001",
                    payer_claim_number=icn,
                    status=info.status,
                    charge=info.charge,
                    paid=info.paid,
                    patient_responsibility=info.patient_responsibility or Decimal("0"),
                    lines=lines,
                    claim_adjustments=[],
                    rarcs=[],
                )
            )
            (secondary,) = await world.wait_claims(claim.c.payer_order == 2, claim.c.state == "accepted")
            assert (await world.claims(claim.c.claim_id == primary.claim_id))[0].state == "paid"
            await world.publish(
                f.claim_correction_requested(
                    1,
                    claim_id=primary.claim_id,
                    patient_id="pat-0001",
                    method="replacement",
                    payer_claim_number=icn,
                    changes=[{"action": "add_modifier", "value": "HO"}],
                )
            )
            (corrected,) = await world.wait_claims(claim.c.frequency_code == "7", claim.c.state == "accepted")
            assert corrected.replaces_claim_id == primary.claim_id

            async def both_adjudicated() -> bool:
                texts = [p.read_text() for p in outbound.iterdir() if p.name.endswith(".835")]
                try:
                    _claim_payment(texts, secondary.claim_id)
                    _claim_payment(texts, corrected.claim_id)
                except AssertionError:
                    return False
                return True

            await wait_for(both_adjudicated, timeout=20)
        uploaded = "".join(p.read_text() for p in sandbox.inbound_dir("practice01").iterdir())
        assert f"REF*F8*{icn}~" in uploaded and "CLM*" + corrected.claim_id + "*" in uploaded
        assert "SBR*S*" in uploaded and "SVD*EVRGRN*" in uploaded
        assert Decimal(str(info.paid)) > 0
    finally:
        await world.close()
