"""Cutting 837P batches and uploading them, crash-safe.

A batch (its claims, ISA13/GS06 from the persisted sequence, file name and bytes) is
committed before anything is uploaded. Uploading is a separate step over every batch
not yet marked uploaded, so after a crash the same bytes go up under the same name; the
transport first checks the server and sends only when the file is absent.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rcm.claims.domain import ClaimDraft, ClaimState
from rcm.claims.domain.batching import BatchPolicy, ReadyClaim, batches_due
from rcm.claims.domain.cob import PriorAdjudication
from rcm.claims.lifecycle import move, move_all
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import batch, batch_claim, claim, interchange_sequence, keyed_references
from rcm.claims.submission.x837 import ClaimForBatch, Envelope, build_837p
from rcm.clearinghouse import SftpBatchClient, TransportError, batch_file_name
from rcm.events.models import ClaimSubmitted, HoldReason, HoldReasonCode
from rcm.servicekit import Service, among
from rcm.x12.errors import X12Error

__all__ = ["Batcher"]

log = logging.getLogger(__name__)


class Batcher:
    def __init__(
        self, service: Service, *, envelope: Envelope, policy: BatchPolicy, metrics: ClaimsMetrics
    ) -> None:
        self.service = service
        self.envelope = envelope
        self.policy = policy
        self.metrics = metrics

    async def cut(self, *, now: datetime | None = None) -> list[str]:
        """Commit the batches due now; returns their ids (nothing is uploaded here)."""
        now = now or datetime.now(UTC)
        async with self.service.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(claim.c.claim_id, claim.c.submitter_id, claim.c.payer_id, claim.c.ready_at).where(
                    claim.c.state == ClaimState.READY.value
                )
            )
            ready = [
                ReadyClaim(
                    claim_id=r.claim_id,
                    submitter_id=r.submitter_id or self.envelope.submitter_id,
                    payer_id=r.payer_id,
                    ready_at=r.ready_at or now,
                )
                for r in rows
            ]
        cut = []
        for due in batches_due(ready, now=now, policy=self.policy):
            batch_id = await self._commit(
                due.claim_ids, submitter_id=due.submitter_id, payer_id=due.payer_id, now=now
            )
            if batch_id is not None:
                log.info("batch %s committed (%s)", batch_id, due.reason)
                cut.append(batch_id)
        return cut

    async def _commit(
        self, claim_ids: tuple[str, ...], *, submitter_id: str, payer_id: str, now: datetime
    ) -> str | None:
        async with self.service.transaction() as tx:
            rows = (
                await tx.conn.execute(
                    sa.select(claim)
                    .where(among(claim.c.claim_id, claim_ids), claim.c.state == ClaimState.READY.value)
                    .order_by(claim.c.claim_id)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return None
            items = await self._items(tx.conn, rows)
            control = int(await tx.conn.scalar(sa.select(interchange_sequence.next_value())) or 0)
            batch_id = f"bat-{uuid.uuid4().hex[:20]}"
            try:
                content = build_837p(
                    items, envelope=self.envelope, control=control, reference=batch_id, created=now
                )
            except X12Error as exc:
                # a claim that cannot be written holds itself, not the claims batched with it
                failed = self._unwritable(items, control=control, batch_id=batch_id, now=now)
                for index, row in enumerate(rows):
                    if not failed or index in failed:
                        await self._hold(tx, row, failed.get(index, exc), now=now)
                kept = [
                    (r, i)
                    for index, (r, i) in enumerate(zip(rows, items, strict=True))
                    if failed and index not in failed
                ]
                if not kept:
                    return None
                rows, items = [r for r, _ in kept], [i for _, i in kept]
                try:
                    content = build_837p(
                        items, envelope=self.envelope, control=control, reference=batch_id, created=now
                    )
                except X12Error as again:
                    for row in rows:
                        await self._hold(tx, row, again, now=now)
                    return None
            name = batch_file_name(submitter_id=submitter_id, control_number=control, created_at=now)
            await tx.conn.execute(
                batch.insert().values(
                    batch_id=batch_id,
                    submitter_id=submitter_id,
                    payer_id=payer_id,
                    interchange_control_number=f"{control:09d}",
                    group_control_number=str(control),
                    file_name=name,
                    content=content,
                    sha256=hashlib.sha256(content).hexdigest(),
                    created_at=now,
                )
            )
            await tx.conn.execute(
                batch_claim.insert(),
                [
                    {
                        "claim_id": r.claim_id,
                        "attempt": r.attempts + 1,
                        "batch_id": batch_id,
                        "transaction_set_control_number": "0001",
                    }
                    for r in rows
                ],
            )
            await move_all(
                tx,
                rows,
                ClaimState.BATCHED,
                reason=f"in batch {batch_id}",
                at=now,
                attempts=claim.c.attempts + 1,
            )
            return batch_id

    def _unwritable(
        self, items: Sequence[ClaimForBatch], *, control: int, batch_id: str, now: datetime
    ) -> dict[int, X12Error]:
        """The claims that cannot be written even alone, by their index in ``items``, with why."""
        failed = {}
        for index, item in enumerate(items):
            try:
                build_837p([item], envelope=self.envelope, control=control, reference=batch_id, created=now)
            except X12Error as exc:
                failed[index] = exc
        return failed

    async def _hold(self, tx: Any, row: Any, exc: X12Error, *, now: datetime) -> None:
        reason = HoldReason(code=HoldReasonCode.OTHER, message=f"837P could not be built: {exc}"[:300])
        await move(
            tx,
            row,
            ClaimState.HELD,
            reason="837P build failed",
            at=now,
            hold_reasons=[reason.model_dump(mode="json")],
        )

    async def _items(self, conn: Any, rows: Sequence[Any]) -> list[ClaimForBatch]:
        """The batch's claims with their patient, coverage and payer, and the prior payer of a
        COB claim (one query per kind)."""
        priors = {r.claim_id: PriorAdjudication.model_validate(r.cob) for r in rows if r.cob}
        every_prior = [a for p in priors.values() for a in p.chain()]
        wanted = {
            "patient": sorted({r.patient_id for r in rows}),
            "coverage": sorted(
                {r.coverage_id for r in rows} | {p.coverage_id for p in every_prior if p.coverage_id}
            ),
            "payer": sorted({r.payer_id for r in rows} | {p.payer_id for p in every_prior}),
        }
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, ids in wanted.items():
            for entity_id, _, body in await keyed_references(conn, kind, ids=ids):
                found[(kind, entity_id)] = body
        items = []
        for row in rows:
            prior = priors.get(row.claim_id)
            items.append(
                ClaimForBatch(
                    draft=ClaimDraft.model_validate(row.draft),
                    patient=found.get(("patient", row.patient_id), {}),
                    coverage=found.get(("coverage", row.coverage_id), {}),
                    payer=found.get(("payer", row.payer_id), {}),
                    prior=prior,
                    prior_payer=found.get(("payer", prior.payer_id)) if prior else None,
                    prior_coverage=found.get(("coverage", prior.coverage_id))
                    if prior and prior.coverage_id
                    else None,
                    earlier_payers={
                        a.payer_id: found[("payer", a.payer_id)]
                        for a in (prior.earlier if prior else ())
                        if ("payer", a.payer_id) in found
                    },
                    earlier_coverages={
                        a.coverage_id: found[("coverage", a.coverage_id)]
                        for a in (prior.earlier if prior else ())
                        if a.coverage_id and ("coverage", a.coverage_id) in found
                    },
                )
            )
        return items

    async def upload_pending(self, sftp: SftpBatchClient) -> int:
        """Upload every committed batch not yet uploaded (the server check makes a repeat harmless)."""
        async with self.service.engine.connect() as conn:
            pending = (
                await conn.execute(
                    sa.select(batch.c.batch_id, batch.c.file_name, batch.c.content)
                    .where(batch.c.uploaded_at.is_(None))
                    .order_by(batch.c.created_at)
                )
            ).all()
        done = 0
        for b in pending:
            try:
                receipt = await sftp.upload(b.content, name=b.file_name)
            except TransportError as exc:
                log.warning("upload of %s failed: %s", b.file_name, type(exc).__name__)
                async with self.service.engine.begin() as conn:
                    await conn.execute(
                        sa.update(batch)
                        .where(batch.c.batch_id == b.batch_id)
                        .values(upload_attempts=batch.c.upload_attempts + 1)
                    )
                continue
            await self._submitted(b.batch_id, already_present=receipt.already_present)
            done += 1
        return done

    async def _submitted(self, batch_id: str, *, already_present: bool) -> None:
        now = datetime.now(UTC)
        async with self.service.transaction() as tx:
            b = (
                await tx.conn.execute(sa.select(batch).where(batch.c.batch_id == batch_id).with_for_update())
            ).one()
            if b.uploaded_at is not None:
                return
            await tx.conn.execute(
                sa.update(batch).where(batch.c.batch_id == batch_id).values(uploaded_at=now)
            )
            rows = (
                await tx.conn.execute(
                    sa.select(claim, batch_claim.c.transaction_set_control_number)
                    .join(batch_claim, batch_claim.c.claim_id == claim.c.claim_id)
                    .where(batch_claim.c.batch_id == batch_id, claim.c.state == ClaimState.BATCHED.value)
                    .with_for_update(of=claim)
                )
            ).all()
            await move_all(
                tx,
                rows,
                ClaimState.SUBMITTED,
                reason=f"uploaded as {b.file_name}" + (" (found on server)" if already_present else ""),
                at=now,
                published_from=ClaimState.READY,
                submitted_at=now,
            )
            for row in rows:
                tx.publish(
                    ClaimSubmitted(
                        claim_id=row.claim_id,
                        patient_id=row.patient_id,
                        payer_id=row.payer_id,
                        batch_id=batch_id,
                        file_name=b.file_name,
                        interchange_control_number=b.interchange_control_number,
                        group_control_number=b.group_control_number,
                        transaction_set_control_number=row.transaction_set_control_number,
                        submitted_at=now,
                    )
                )
                self.metrics.submitted.labels(payer=row.payer_id).inc()
