"""Consumers: the claims projection the matcher needs (claim-created, -submitted, -acknowledged),
the payer projection that tells which payer an 835 comes from (payer-updated), and patient payments
applied to what the patient owes (patient-payment-received -> patient-balance-changed)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from rcm.events.models import (
    BalanceChangeReason,
    ClaimAcknowledged,
    ClaimCreated,
    ClaimSubmitted,
    PatientBalanceChanged,
    PatientPaymentReceived,
    PayerUpdated,
)
from rcm.remittance import store as t
from rcm.remittance.domain.payers import payer_keys
from rcm.remittance.ingest import change_patient_balance
from rcm.servicekit import Delivered, Transaction

__all__ = [
    "HANDLERS",
    "on_claim_acknowledged",
    "on_claim_created",
    "on_claim_submitted",
    "on_patient_payment_received",
    "on_payer_updated",
]


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
    paid_before = await tx.conn.scalar(
        sa.select(sa.func.sum(t.patient_payment.c.amount)).where(
            t.patient_payment.c.claim_id == claim.claim_id
        )
    )
    if paid_before:  # the patient paid towards this claim before the claim reached us
        await tx.conn.execute(
            t.claim.update().where(t.claim.c.claim_id == claim.claim_id).values(patient_paid=paid_before)
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


async def on_payer_updated(tx: Transaction, d: Delivered[PayerUpdated]) -> None:
    """The payer's identifiers, kept at their latest state (an older state read late is ignored)."""
    payer = d.event
    values = {
        "name": payer.name,
        "identifiers": payer_keys(payer.electronic_payer_id, payer.clearinghouse_payer_ids.values()),
        "deleted": payer.deleted,
        "updated_at": payer.updated_at,
    }
    await tx.conn.execute(
        pg_insert(t.payer)
        .values(payer_id=payer.payer_id, **values)
        .on_conflict_do_update(
            index_elements=[t.payer.c.payer_id],
            set_=values,
            where=t.payer.c.updated_at <= payer.updated_at,
        )
    )


async def on_patient_payment_received(tx: Transaction, d: Delivered[PatientPaymentReceived]) -> None:
    """Apply a patient payment to what the patient owes, once per payment id.

    The balance may go below zero: a copay paid at the visit, before the payer has said what the
    patient owes, is a credit until the remit posts the patient's share.
    """
    p = d.event
    inserted = (
        await tx.conn.execute(
            pg_insert(t.patient_payment)
            .values(
                payment_id=p.payment_id,
                patient_id=p.patient_id,
                claim_id=p.claim_id,
                session_id=p.session_id,
                amount=p.amount,
                method=p.method.value,
                reference=p.reference,
                received_at=p.received_at,
            )
            .on_conflict_do_nothing()
            .returning(t.patient_payment.c.payment_id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        return  # the same payment again (replay or resend): applied once
    if p.claim_id is not None:
        await tx.conn.execute(
            t.claim.update()
            .where(t.claim.c.claim_id == p.claim_id)
            .values(patient_paid=t.claim.c.patient_paid + p.amount)
        )
    previous, balance = await change_patient_balance(tx.conn, p.patient_id, -p.amount)
    tx.publish(
        PatientBalanceChanged(
            patient_id=p.patient_id,
            claim_id=p.claim_id,
            previous_balance=previous,
            balance=balance,
            change=balance - previous,
            reason=BalanceChangeReason.PATIENT_PAYMENT,
            source_id=p.payment_id,
            changed_at=p.received_at,
        ),
        cause=d,
    )


HANDLERS: dict[type, Any] = {
    ClaimCreated: on_claim_created,
    ClaimSubmitted: on_claim_submitted,
    ClaimAcknowledged: on_claim_acknowledged,
    PayerUpdated: on_payer_updated,
    PatientPaymentReceived: on_patient_payment_received,
}
