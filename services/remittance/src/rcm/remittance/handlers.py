"""Consumers: the claims projection the matcher needs (claim-created, -submitted, -acknowledged)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert

from rcm.events.models import ClaimAcknowledged, ClaimCreated, ClaimSubmitted
from rcm.remittance import store as t
from rcm.servicekit import Delivered, Transaction

__all__ = ["HANDLERS", "on_claim_acknowledged", "on_claim_created", "on_claim_submitted"]


async def on_claim_created(tx: Transaction, d: Delivered[ClaimCreated]) -> None:
    claim = d.event
    inserted = (
        await tx.conn.execute(
            pg_insert(t.claim)
            .values(
                claim_id=claim.claim_id,
                claim_key=claim.claim_id.upper(),
                patient_id=claim.patient_id,
                payer_id=claim.payer_id,
                payer_responsibility=claim.payer_responsibility.value,
                total_charge=claim.total_charge,
            )
            .on_conflict_do_nothing()
            .returning(t.claim.c.claim_id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        return  # a claim is created once; the same claim id again is a replay
    await tx.conn.execute(
        t.claim_line.insert(),
        [
            {
                "claim_id": claim.claim_id,
                "line_key": line.line_key,
                "procedure_code": line.procedure_code,
                "modifiers": list(line.modifiers),
                "service_date": line.service_date,
                "units": line.units,
                "charge": line.charge,
            }
            for line in claim.lines
        ],
    )
    if claim.payer_claim_number and claim.replaces_claim_id:
        # REF*F8 names the payer's number of the claim being replaced or voided.
        await _remember_number(tx, claim.payer_claim_number, claim.replaces_claim_id)


async def on_claim_submitted(tx: Transaction, d: Delivered[ClaimSubmitted]) -> None:
    await tx.conn.execute(
        t.claim.update()
        .where(t.claim.c.claim_id == d.event.claim_id)
        .values(submitted_at=d.event.submitted_at)
    )


async def on_claim_acknowledged(tx: Transaction, d: Delivered[ClaimAcknowledged]) -> None:
    if d.event.payer_claim_number:
        await _remember_number(tx, d.event.payer_claim_number, d.event.claim_id)


async def _remember_number(tx: Transaction, number: str, claim_id: str) -> None:
    exists = (await tx.conn.execute(t.claim.select().where(t.claim.c.claim_id == claim_id))).first()
    if exists is None:
        return
    await tx.conn.execute(
        pg_insert(t.payer_claim_number)
        .values(number_key=number.upper(), claim_id=claim_id)
        .on_conflict_do_nothing()
    )


HANDLERS: dict[type, Any] = {
    ClaimCreated: on_claim_created,
    ClaimSubmitted: on_claim_submitted,
    ClaimAcknowledged: on_claim_acknowledged,
}
