"""Consumers: the claims projection the matcher needs (claim-created, -submitted, -acknowledged),
the payer projection that tells which payer an 835 comes from (payer-updated), patient payments
applied to what the patient owes (patient-payment-received -> patient-balance-changed), and the
prior payer's patient share moved to the next payer once it is billed (secondary-claim-requested
-> patient-balance-changed), and denied amounts the denials service writes off
(claim-write-off-requested -> payment-posted, ``write_offs``).

``handle_batch`` is what the service consumes with. A batch arrives grouped by topic partition, so
claim events come in runs of one kind; each run of claim-created, claim-submitted or
claim-acknowledged events is applied with one statement over the whole run (the claim lines are
queued with the transaction's other inserts), which has the effect the events would have one by
one in order. The single-event handlers of ``HANDLERS`` apply a run of one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from rcm.events.models import (
    BalanceChangeReason,
    ClaimAcknowledged,
    ClaimCreated,
    ClaimSubmitted,
    ClaimWriteOffRequested,
    PatientBalanceChanged,
    PatientPaymentReceived,
    PayerUpdated,
    SecondaryClaimRequested,
)
from rcm.remittance import store as t
from rcm.remittance.domain.payers import payer_keys
from rcm.remittance.write_offs import on_claim_write_off_requested
from rcm.servicekit import Delivered, Transaction, dispatch

__all__ = [
    "HANDLERS",
    "handle_batch",
    "on_claim_acknowledged",
    "on_claim_created",
    "on_claim_submitted",
    "on_claim_write_off_requested",
    "on_patient_payment_received",
    "on_payer_updated",
    "on_secondary_claim_requested",
    "transfer_to_patient",
]

_TEXTS = ARRAY(sa.Text)
_EVENT_IDS = uuid.UUID("0b6f1c52-8d2e-4d4c-9a7e-3f5b2c1d9e80")
"""Namespace of the deterministic ids of the events a handler publishes once per cause."""

_CREATE_CLAIMS = (
    sa.text(
        """
        INSERT INTO claim (claim_id, claim_key, patient_id, payer_id, payer_responsibility, total_charge,
                           patient_paid)
        SELECT v.claim_id, v.claim_key, v.patient_id, v.payer_id, v.payer_responsibility, v.total_charge,
               coalesce((SELECT sum(p.amount) FROM patient_payment p WHERE p.claim_id = v.claim_id), 0)
        FROM unnest(CAST(:claim_ids AS text[]), CAST(:claim_keys AS text[]), CAST(:patient_ids AS text[]),
                    CAST(:payer_ids AS text[]), CAST(:responsibilities AS text[]),
                    CAST(:total_charges AS numeric[]))
             AS v(claim_id, claim_key, patient_id, payer_id, payer_responsibility, total_charge)
        ON CONFLICT DO NOTHING
        RETURNING claim_id
        """
    )
    .bindparams(
        sa.bindparam("claim_ids", type_=_TEXTS),
        sa.bindparam("claim_keys", type_=_TEXTS),
        sa.bindparam("patient_ids", type_=_TEXTS),
        sa.bindparam("payer_ids", type_=_TEXTS),
        sa.bindparam("responsibilities", type_=_TEXTS),
        sa.bindparam("total_charges", type_=ARRAY(sa.Numeric)),
    )
    .columns(claim_id=sa.Text)
)
"""New claims of a run, once each. What the patient paid towards a claim before it reached us is
its ``patient_paid`` from the start."""

_SUBMIT_CLAIMS = sa.text(
    """
    UPDATE claim SET submitted_at = v.submitted_at
    FROM unnest(CAST(:claim_ids AS text[]), CAST(:submitted_at AS timestamptz[])) AS v(claim_id, submitted_at)
    WHERE claim.claim_id = v.claim_id
    """
).bindparams(sa.bindparam("claim_ids", type_=_TEXTS), sa.bindparam("submitted_at", type_=ARRAY(sa.DateTime)))

_REMEMBER_NUMBERS = sa.text(
    """
    INSERT INTO payer_claim_number (number_key, claim_id)
    SELECT v.number_key, claim.claim_id
    FROM unnest(CAST(:number_keys AS text[]), CAST(:claim_ids AS text[])) AS v(number_key, claim_id)
    JOIN claim ON claim.claim_id = v.claim_id
    ON CONFLICT DO NOTHING
    """
).bindparams(sa.bindparam("number_keys", type_=_TEXTS), sa.bindparam("claim_ids", type_=_TEXTS))
"""Payer claim numbers of claims we know (a number for a claim not projected is dropped)."""

_APPLY_PATIENT_PAYMENT = (
    sa.text(
        """
        WITH paid AS (
            INSERT INTO patient_payment (payment_id, patient_id, claim_id, session_id, amount, method,
                                         reference, received_at)
            VALUES (:payment_id, :patient_id, :claim_id, :session_id, :amount, :method, :reference,
                    :received_at)
            ON CONFLICT DO NOTHING
            RETURNING patient_id, claim_id, amount
        ), towards_claim AS (
            UPDATE claim SET patient_paid = claim.patient_paid + paid.amount
            FROM paid WHERE claim.claim_id = paid.claim_id
        )
        INSERT INTO patient_balance (patient_id, balance)
        SELECT patient_id, -amount FROM paid
        ON CONFLICT (patient_id) DO UPDATE
        SET balance = patient_balance.balance + excluded.balance, updated_at = now()
        RETURNING balance
        """
    )
    .bindparams(sa.bindparam("amount", type_=sa.Numeric), sa.bindparam("received_at", type_=sa.DateTime))
    .columns(balance=sa.Numeric)
)
"""A patient payment recorded once per payment id, added to its claim's ``patient_paid`` and taken
off what the patient owes, in one statement; no row back means the payment was applied before."""


_LOCK_CLAIM = sa.text("SELECT patient_id, forwarded FROM claim WHERE claim_id = :claim_id FOR UPDATE")
"""The claim row, locked as a posting locks it: a payment or reversal posting on the claim in
another transaction is committed (and seen) before a move between the patient and a next payer
reads the claim's lines."""

_KEPT_BY_THE_PATIENT = ["100"]
"""PR reasons a next payer is not billed for: PR-100, the prior payer paid the patient, who owes
that amount to the practice whatever the next payer does."""

_TO_NEXT_PAYER = sa.text(
    """
    WITH lines AS (
        SELECT pl.id, pl.patient_responsibility - coalesce((
            SELECT sum(pa.amount) FROM posted_adjustment pa
            WHERE pa.posted_line_id = pl.id AND pa.group_code = 'PR'
              AND pa.carc = ANY(CAST(:kept AS text[]))
        ), 0) AS amount
        FROM posted_line pl JOIN claim_payment cp ON cp.remit_id = pl.remit_id
        WHERE pl.remit_id = :remit_id AND cp.claim_id = :claim_id AND cp.state = 'posted'
          AND cp.reversed_by IS NULL AND pl.patient_responsibility > 0
        FOR UPDATE OF pl
    ), moved AS (
        UPDATE posted_line pl
        SET forwarded = pl.forwarded + lines.amount,
            patient_responsibility = pl.patient_responsibility - lines.amount
        FROM lines WHERE pl.id = lines.id AND lines.amount > 0
        RETURNING lines.amount
    ), total AS (
        SELECT coalesce(sum(amount), 0) AS amount FROM moved
    ), towards_claim AS (
        UPDATE claim
        SET patient_responsibility = claim.patient_responsibility - total.amount,
            forwarded = claim.forwarded + total.amount
        FROM total WHERE claim.claim_id = :claim_id AND total.amount <> 0
        RETURNING claim.patient_id, total.amount
    )
    INSERT INTO patient_balance (patient_id, balance)
    SELECT patient_id, -amount FROM towards_claim
    ON CONFLICT (patient_id) DO UPDATE
    SET balance = patient_balance.balance + excluded.balance, updated_at = now()
    RETURNING patient_id, balance, (SELECT amount FROM total) AS moved
    """
).columns(patient_id=sa.Text, balance=sa.Numeric, moved=sa.Numeric)
"""The patient share a posted (not reversed) claim payment put on the patient, but for
``_KEPT_BY_THE_PATIENT``, moved to ``forwarded`` (the next payer's to adjudicate) on its lines, its
claim and the patient's balance, in one statement after ``_LOCK_CLAIM``; no row back means nothing
was left to move (moved before, or none)."""


def _payer_upsert() -> Any:
    p = t.payer
    stmt = pg_insert(p).values(
        payer_id=sa.bindparam("payer_id"),
        name=sa.bindparam("name"),
        identifiers=sa.bindparam("identifiers"),
        deleted=sa.bindparam("deleted"),
        updated_at=sa.bindparam("updated_at"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[p.c.payer_id],
        set_={c: stmt.excluded[c] for c in ("name", "identifiers", "deleted", "updated_at")},
        where=p.c.updated_at <= stmt.excluded.updated_at,
    )


_UPSERT_PAYER = _payer_upsert()


# ------------------------------------------------------------------ runs of claim events
async def create_claims(tx: Transaction, claims: Sequence[ClaimCreated]) -> None:
    """Project claim-created events: a claim is created once, the same claim id again is a replay.

    Only the last event of ``claims`` may name the payer claim number of a claim it replaces
    (``_runs`` ends a run there), so that number is remembered after exactly the claims created
    before it, as one event at a time would."""
    firsts: dict[str, ClaimCreated] = {}
    for c in claims:
        firsts.setdefault(c.claim_id, c)
    first = list(firsts.values())
    inserted = set(
        (
            await tx.conn.execute(
                _CREATE_CLAIMS,
                {
                    "claim_ids": [c.claim_id for c in first],
                    "claim_keys": [c.claim_id.upper() for c in first],
                    "patient_ids": [c.patient_id for c in first],
                    "payer_ids": [c.payer_id for c in first],
                    "responsibilities": [c.payer_responsibility.value for c in first],
                    "total_charges": [c.total_charge for c in first],
                },
            )
        ).scalars()
    )
    for claim in first:
        if claim.claim_id not in inserted:
            continue
        for line in claim.lines:
            tx.insert_later(
                t.claim_line,
                {
                    "claim_id": claim.claim_id,
                    "line_key": line.line_key,
                    "procedure_code": line.procedure_code,
                    "modifiers": list(line.modifiers),
                    "service_date": line.service_date,
                    "units": line.units,
                    "charge": line.charge,
                },
            )
    last = claims[-1]
    number, replaced = last.payer_claim_number, last.replaces_claim_id
    if number and replaced and last.claim_id in inserted and firsts[last.claim_id] is last:
        # REF*F8 names the payer's number of the claim being replaced or voided.
        await _remember_numbers(tx, [(number, replaced)])


async def submit_claims(tx: Transaction, events: Sequence[ClaimSubmitted]) -> None:
    """When each claim was submitted; of one claim submitted twice in a run, the later time."""
    latest = {e.claim_id: e.submitted_at for e in events}
    await tx.conn.execute(_SUBMIT_CLAIMS, {"claim_ids": list(latest), "submitted_at": list(latest.values())})


async def acknowledge_claims(tx: Transaction, events: Sequence[ClaimAcknowledged]) -> None:
    await _remember_numbers(tx, [(e.payer_claim_number, e.claim_id) for e in events if e.payer_claim_number])


async def _remember_numbers(tx: Transaction, numbers: Sequence[tuple[str, str]]) -> None:
    if not numbers:
        return
    await tx.conn.execute(
        _REMEMBER_NUMBERS,
        {"number_keys": [n.upper() for n, _ in numbers], "claim_ids": [c for _, c in numbers]},
    )


def _replaces_with_number(claim: ClaimCreated) -> bool:
    return bool(claim.payer_claim_number and claim.replaces_claim_id)


_RUNS: dict[type, Any] = {
    ClaimCreated: create_claims,
    ClaimSubmitted: submit_claims,
    ClaimAcknowledged: acknowledge_claims,
}


def _runs(events: Sequence[Delivered[Any]]) -> Iterator[list[Delivered[Any]]]:
    """Consecutive events of one type; a claim-created that remembers a payer claim number for the
    claim it replaces closes its run (the number must not see claims created after it)."""
    run: list[Delivered[Any]] = []
    for d in events:
        if run and type(run[0].event) is not type(d.event):
            yield run
            run = []
        run.append(d)
        if isinstance(d.event, ClaimCreated) and _replaces_with_number(d.event):
            yield run
            run = []
    if run:
        yield run


# ------------------------------------------------------------------ one event at a time
async def on_claim_created(tx: Transaction, d: Delivered[ClaimCreated]) -> None:
    await create_claims(tx, [d.event])


async def on_claim_submitted(tx: Transaction, d: Delivered[ClaimSubmitted]) -> None:
    await submit_claims(tx, [d.event])


async def on_claim_acknowledged(tx: Transaction, d: Delivered[ClaimAcknowledged]) -> None:
    await acknowledge_claims(tx, [d.event])


async def on_payer_updated(tx: Transaction, d: Delivered[PayerUpdated]) -> None:
    """The payer's identifiers, kept at their latest state (an older state read late is ignored)."""
    payer = d.event
    await tx.conn.execute(
        _UPSERT_PAYER,
        {
            "payer_id": payer.payer_id,
            "name": payer.name,
            "identifiers": payer_keys(payer.electronic_payer_id, payer.clearinghouse_payer_ids.values()),
            "deleted": payer.deleted,
            "updated_at": payer.updated_at,
        },
    )


async def on_patient_payment_received(tx: Transaction, d: Delivered[PatientPaymentReceived]) -> None:
    """Apply a patient payment to what the patient owes, once per payment id.

    The balance may go below zero: a copay paid at the visit, before the payer has said what the
    patient owes, is a credit until the remit posts the patient's share.
    """
    p = d.event
    balance = (
        await tx.conn.execute(
            _APPLY_PATIENT_PAYMENT,
            {
                "payment_id": p.payment_id,
                "patient_id": p.patient_id,
                "claim_id": p.claim_id,
                "session_id": p.session_id,
                "amount": p.amount,
                "method": p.method.value,
                "reference": p.reference,
                "received_at": p.received_at,
            },
        )
    ).scalar_one_or_none()
    if balance is None:
        return  # the same payment again (replay or resend): applied once
    _balance_changed(
        tx,
        patient_id=p.patient_id,
        claim_id=p.claim_id,
        balance=balance,
        change=-p.amount,
        reason=BalanceChangeReason.PATIENT_PAYMENT,
        source_id=p.payment_id,
        at=p.received_at,
        cause=d,
    )


def _balance_changed(
    tx: Transaction,
    *,
    patient_id: str,
    claim_id: str | None,
    balance: Decimal,
    change: Decimal,
    reason: BalanceChangeReason,
    source_id: str,
    at: datetime,
    cause: Delivered[Any] | None = None,
    event_id: str | None = None,
) -> None:
    """Publish the patient's balance, ``change`` after what it was."""
    tx.publish(
        PatientBalanceChanged(
            patient_id=patient_id,
            claim_id=claim_id,
            previous_balance=balance - change,
            balance=balance,
            change=change,
            reason=reason,
            source_id=source_id,
            changed_at=at,
        ),
        cause=cause,
        event_id=event_id,
    )


async def on_secondary_claim_requested(tx: Transaction, d: Delivered[SecondaryClaimRequested]) -> None:
    """The next payer is billed with the prior payer's adjudication: the patient share that
    payment posted (but what the payer paid the patient, PR-100) is the next payer's to adjudicate,
    no longer the patient's. The claim row is locked first, as a posting locks it, so a reversal
    being posted meanwhile is seen. The next payer's own remit then puts on the patient what it
    leaves. Once per claim payment: a re-sent request,
    or one for a payment already moved, finds nothing left to move; a payment reversed before the
    request moves nothing (the reversal took its share back)."""
    e = d.event
    if e.remit_id is None:
        return
    if (await tx.conn.execute(_LOCK_CLAIM, {"claim_id": e.claim_id})).first() is None:
        return  # a claim this service never had: nothing of it was posted
    row = (
        await tx.conn.execute(
            _TO_NEXT_PAYER, {"remit_id": e.remit_id, "claim_id": e.claim_id, "kept": _KEPT_BY_THE_PATIENT}
        )
    ).first()
    if row is None:
        return
    _balance_changed(
        tx,
        patient_id=row.patient_id,
        claim_id=e.claim_id,
        balance=row.balance,
        change=-row.moved,
        reason=BalanceChangeReason.NEXT_PAYER_BILLED,
        source_id=e.request_id,
        at=e.requested_at,
        cause=d,
        event_id=f"evt-{uuid.uuid5(_EVENT_IDS, f'next-payer-billed|{e.remit_id}').hex[:24]}",
    )


_FORWARDED_LINES = sa.text(
    """
    SELECT pl.id, pl.forwarded
    FROM posted_line pl JOIN claim_payment cp ON cp.remit_id = pl.remit_id
    WHERE cp.claim_id = :claim_id AND cp.state = 'posted' AND cp.reversed_by IS NULL
      AND cp.reverses IS NULL AND pl.forwarded > 0
    ORDER BY pl.id
    FOR UPDATE OF pl
    """
)


async def transfer_to_patient(
    tx: Transaction, claim_id: str, amount: Decimal | None = None, *, by: str
) -> tuple[Decimal, Decimal] | None:
    """Put back on the patient what a payment of the claim forwarded to the next payer, when a person
    finds that payer will not adjudicate it (the patient has no such coverage, its claim was
    refused): ``amount``, or all of it, at most what is forwarded. Returns (moved, the patient's
    balance), or None when the claim is unknown or nothing is forwarded. Never for a Qualified
    Medicare Beneficiary's Medicare cost sharing (N781-N783), which the patient may not be billed.
    """
    claim_row = (await tx.conn.execute(_LOCK_CLAIM, {"claim_id": claim_id})).first()
    if claim_row is None:
        return None
    lines = (await tx.conn.execute(_FORWARDED_LINES, {"claim_id": claim_id})).all()
    # what is still forwarded: a later payer's posting on a crossover claim took its part off
    left = min(claim_row.forwarded, amount if amount is not None else claim_row.forwarded)
    moves: list[tuple[int, Decimal]] = []
    for ln in lines:
        if left <= 0:
            break
        part = min(ln.forwarded, left)
        moves.append((ln.id, part))
        left -= part
    moved = sum((part for _, part in moves), Decimal("0"))
    if moved <= 0:
        return None
    pl, c = t.posted_line.c, t.claim.c
    for line_id, part in moves:
        await tx.conn.execute(
            t.posted_line.update()
            .where(pl.id == line_id)
            .values(forwarded=pl.forwarded - part, patient_responsibility=pl.patient_responsibility + part)
        )
    await tx.conn.execute(
        t.claim.update()
        .where(c.claim_id == claim_id)
        .values(forwarded=c.forwarded - moved, patient_responsibility=c.patient_responsibility + moved)
    )
    balance = (
        await tx.conn.execute(
            pg_insert(t.patient_balance)
            .values(patient_id=claim_row.patient_id, balance=moved)
            .on_conflict_do_update(
                index_elements=[t.patient_balance.c.patient_id],
                set_={
                    "balance": t.patient_balance.c.balance + moved,
                    "updated_at": sa.func.now(),
                },
            )
            .returning(t.patient_balance.c.balance)
        )
    ).scalar_one()
    _balance_changed(
        tx,
        patient_id=claim_row.patient_id,
        claim_id=claim_id,
        balance=balance,
        change=moved,
        reason=BalanceChangeReason.TRANSFER_TO_PATIENT,
        source_id=by,
        at=datetime.now(UTC),
    )
    return moved, balance


HANDLERS: dict[type, Any] = {
    ClaimCreated: on_claim_created,
    ClaimSubmitted: on_claim_submitted,
    ClaimAcknowledged: on_claim_acknowledged,
    PayerUpdated: on_payer_updated,
    PatientPaymentReceived: on_patient_payment_received,
    SecondaryClaimRequested: on_secondary_claim_requested,
    ClaimWriteOffRequested: on_claim_write_off_requested,
}

_ONE_BY_ONE = dispatch(HANDLERS)


async def handle_batch(tx: Transaction, events: list[Delivered[Any]]) -> None:
    """The service's batch handler: runs of claim events set-based, the others one by one."""
    for run in _runs(events):
        apply = _RUNS.get(type(run[0].event))
        if apply is None:
            await _ONE_BY_ONE(tx, run)
        else:
            await apply(tx, [d.event for d in run])
