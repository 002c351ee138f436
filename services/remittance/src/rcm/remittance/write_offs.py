"""Denied amounts the denials service writes off (``claim-write-off-requested``).

A denied amount (CO or PI without a contractual reason, ``domain.posting``) stays open on the
claim until the payer adjudicates the claim again or the denials service decides to write the
denial off. Its request is carried out here:

- **once per request**: ``claim_write_off.request_id`` is unique; the same request delivered again
  (a redelivery, a replay, the denials service re-sending it) finds its row and does nothing;
- **recorded, then applied once the claim's remit is on file**: the request follows the remit it
  concerns on another topic, and may be read before this service has posted it (a payment held or
  unmatched, an 835 posted late). It is recorded as waiting, without holding up the consumer's
  partition, and applied in the transaction that posts the claim's next adjudication
  (``apply_waiting``, from ``ingest``); a claim with an adjudication on file applies it at once;
- **never more than the open denied amount**: the request's amount may name what this service
  books elsewhere (the patient's share, OA, a contractual amount): what it closes is capped at the
  claim's open denied amount (``ClaimTotals.writing_off``); ``requested - applied`` is kept;
- **published**: a ``PaymentPosted`` of the write-off (nothing paid, ``written_off`` the amount
  closed, ``claim_balance`` after it; its ``posting_id`` and ``remit_id`` are the write-off's, not a
  remit's), so dashboards see the claim's balance move.

A write-off is the claim's, not the claim payment's: a reversal (CLP02 22) of the payment takes
back the denied amount, so the write-off closes nothing until the corrected payment posts, then
closes that payment's denied amount up to what was written off (``domain.posting``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from rcm.events.models import ClaimWriteOffRequested, PaymentPosted
from rcm.remittance import store as t
from rcm.remittance.domain.posting import ClaimTotals
from rcm.remittance.domain.remit import ZERO, ClaimStatus
from rcm.servicekit import Delivered, Transaction

__all__ = ["apply_waiting", "on_claim_write_off_requested", "totals_of"]

log = logging.getLogger(__name__)

_IDS = uuid.UUID("5d0c7b8e-2f41-4a8e-b6d3-9e1a4c7f2b60")
"""Namespace of the deterministic ids of a write-off's posting and event."""

_c, _w, _cp = t.claim.c, t.claim_write_off.c, t.claim_payment.c

_LOCK_CLAIM = (
    sa.select(
        _c.patient_id,
        _c.payer_id,
        _c.total_charge,
        _c.paid,
        _c.contractual,
        _c.denied,
        _c.patient_responsibility,
        _c.forwarded,
        _c.other,
        _c.written_off,
    )
    .where(_c.claim_id == sa.bindparam("claim_id"))
    .with_for_update()
)
"""The claim row, locked as a posting locks it (its ``UPDATE``): a posting on the claim in another
transaction is committed, and seen, before a write-off reads what is denied."""

_ADJUDICATED = sa.select(
    sa.exists().where(
        _cp.claim_id == sa.bindparam("claim_id"),
        _cp.state == "posted",
        _cp.reversed_by.is_(None),
        _cp.reverses.is_(None),
        _cp.status != ClaimStatus.REVERSAL.value,
    )
)
"""Whether the claim has an adjudication on file that stands (posted, not reversed)."""

_WAITING = (
    sa.select(_w.request_id, _w.requested)
    .where(_w.claim_id == sa.bindparam("claim_id"), _w.applied.is_(None))
    .order_by(_w.requested_at, _w.request_id)
    .with_for_update()
)


def totals_of(row: Any) -> ClaimTotals:
    """A claim row's ledger totals."""
    return ClaimTotals(
        charge=row.total_charge,
        paid=row.paid,
        contractual=row.contractual,
        denied=row.denied,
        patient_responsibility=row.patient_responsibility,
        forwarded=row.forwarded,
        other=row.other,
        written_off=row.written_off,
    )


async def on_claim_write_off_requested(tx: Transaction, d: Delivered[ClaimWriteOffRequested]) -> None:
    """Record the request once; apply it now when the claim has an adjudication on file, else when
    one posts (see the module docstring)."""
    e = d.event
    claim = (await tx.conn.execute(_LOCK_CLAIM, {"claim_id": e.claim_id})).first()
    recorded = await tx.conn.scalar(
        pg_insert(t.claim_write_off)
        .values(
            request_id=e.request_id,
            claim_id=e.claim_id,
            denial_id=e.denial_id,
            reason=e.reason,
            requested=e.amount,
            requested_at=e.requested_at,
        )
        .on_conflict_do_nothing(index_elements=[_w.request_id])
        .returning(_w.request_id)
    )
    if recorded is None:
        return  # the same request again: carried out once
    if claim is None or not await tx.conn.scalar(_ADJUDICATED, {"claim_id": e.claim_id}):
        log.info("write-off %s waits for the claim's adjudication to post", e.request_id)
        return
    await apply_waiting(
        tx,
        claim_id=e.claim_id,
        patient_id=claim.patient_id,
        payer_id=claim.payer_id,
        totals=totals_of(claim),
        at=e.requested_at,
        cause=d,
    )


async def apply_waiting(
    tx: Transaction,
    *,
    claim_id: str,
    patient_id: str,
    payer_id: str,
    totals: ClaimTotals,
    at: datetime,
    cause: Delivered[Any] | None = None,
) -> ClaimTotals:
    """Apply the claim's waiting write-offs, oldest first, to ``totals`` (the claim's, its row
    locked and an adjudication on file); each closes at most the open denied amount then. Returns
    the totals after them."""
    waiting = (await tx.conn.execute(_WAITING, {"claim_id": claim_id})).all()
    if not waiting:
        return totals
    for request in waiting:
        closed, totals = totals.writing_off(request.requested)
        await tx.conn.execute(
            t.claim_write_off.update()
            .where(_w.request_id == request.request_id)
            .values(applied=closed, applied_at=at)
        )
        if closed != request.requested:
            log.info(
                "write-off %s closes %s of the %s it names: the rest is not an open denied amount",
                request.request_id,
                closed,
                request.requested,
            )
        if closed > ZERO:
            _publish(tx, request.request_id, claim_id, patient_id, payer_id, closed, totals, at, cause)
    await tx.conn.execute(
        t.claim.update().where(_c.claim_id == claim_id).values(written_off=totals.written_off)
    )
    return totals


def _publish(
    tx: Transaction,
    request_id: str,
    claim_id: str,
    patient_id: str,
    payer_id: str,
    closed: Decimal,
    totals: ClaimTotals,
    at: datetime,
    cause: Delivered[Any] | None,
) -> None:
    posting_id = f"wof-{uuid.uuid5(_IDS, f'posting|{request_id}').hex[:24]}"
    tx.publish(
        PaymentPosted(
            posting_id=posting_id,
            remit_id=posting_id,
            claim_id=claim_id,
            patient_id=patient_id,
            payer_id=payer_id,
            paid=ZERO,
            contractual_adjustment=ZERO,
            patient_responsibility=ZERO,
            claim_balance=totals.insurance_balance,
            lines=[],
            posted_at=at,
            denied=ZERO,
            written_off=closed,
        ),
        cause=cause,
        event_id=f"evt-{uuid.uuid5(_IDS, f'event|{request_id}').hex[:24]}",
    )
