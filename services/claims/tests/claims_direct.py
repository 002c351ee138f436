"""The claims handlers called directly against PostgreSQL: one event, one transaction, no broker.

For paths that depend on the order of events from different topics, which a test sets up
by hand (claim states as the acknowledgements and remits would have left them).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from claims_world import DOS, at, reference, session
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.acknowledgements import Acknowledgements
from rcm.claims.handlers import ClaimsHandlers
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import batch, batch_claim, claim, claim_audit
from rcm.clearinghouse import ReceivedFile
from rcm.events import Event
from rcm.events import testing as f
from rcm.servicekit import Delivered, Service, Transaction
from rcm.servicekit.messages import Record


def handlers() -> ClaimsHandlers:
    return ClaimsHandlers(
        ClaimsMetrics(CollectorRegistry()), auth_wait=timedelta(minutes=15), submitter_id="S"
    )


def delivered(event: Event) -> Delivered[Any]:
    return Delivered(record=Record(topic="t.x", partition=0, offset=0, key=None, value=b"{}"), event=event)


async def apply(engine: AsyncEngine, h: ClaimsHandlers, *events: Event) -> None:
    """Each event through the service's dispatcher in its own transaction, as the consumer would."""
    handle = h.dispatcher()
    for event in events:
        async with engine.begin() as conn:
            tx = Transaction(conn, "tests", source="claims", prefix="t")
            await handle(tx, [delivered(event)])
            await tx.flush()
        tx.committed()


def session_fields(n: int, minutes: int = 53) -> dict[str, Any]:
    """Start, end and signature of the claims_world session of patient ``n`` (on ``DOS``)."""
    start = at(DOS)
    return {
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "note_signed_at": start + timedelta(hours=1),
    }


def corrected(n: int, *, revision: int = 1, minutes: int = 53, **overrides: Any) -> Event:
    return f.session_corrected(
        n, revision=revision, minutes=minutes, **session_fields(n, minutes), **overrides
    )


async def rows(engine: AsyncEngine, *where: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    sa.select(claim).where(*where).order_by(claim.c.revision, claim.c.payer_order)
                )
            ).all()
        )


async def one(engine: AsyncEngine, claim_id: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(claim).where(claim.c.claim_id == claim_id))).one()


async def force(engine: AsyncEngine, claim_id: str, **values: Any) -> None:
    """Set a claim's columns as the batches, acknowledgements and remits not run here would have."""
    async with engine.begin() as conn:
        await conn.execute(sa.update(claim).where(claim.c.claim_id == claim_id).values(**values))


async def trail(engine: AsyncEngine, claim_id: str) -> list[tuple[str | None, str]]:
    async with engine.connect() as conn:
        return [
            (r.from_state, r.to_state)
            for r in await conn.execute(
                sa.select(claim_audit.c.from_state, claim_audit.c.to_state)
                .where(claim_audit.c.claim_id == claim_id)
                .order_by(claim_audit.c.id)
            )
        ]


async def apply_batch(engine: AsyncEngine, h: ClaimsHandlers, *events: Event) -> None:
    """The events as one consumer batch: one transaction, the batch's reads first."""
    handle = h.dispatcher()
    async with engine.begin() as conn:
        tx = Transaction(conn, "tests", source="claims", prefix="t")
        await handle(tx, [delivered(event) for event in events])
        await tx.flush()


class AckService:
    """What ``Acknowledgements`` uses of a service: a transaction on the test's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "service", source="claims", prefix="t")
            yield tx
            await tx.flush()


def acknowledgements(engine: AsyncEngine, h: ClaimsHandlers) -> Acknowledgements:
    """The acknowledgement reader of the claims service, on the test's database."""
    return Acknowledgements(
        cast(Service, AckService(engine)), ClaimsMetrics(CollectorRegistry()), after=h.after_acknowledgement
    )


def received(name: str, kind: str, content: bytes) -> ReceivedFile:
    """An acknowledgement file as the SFTP poll hands it on."""
    return ReceivedFile(
        name=name, kind=kind, content=content, sha256=hashlib.sha256(content).hexdigest(), size=len(content)
    )


async def submitted_claims(engine: AsyncEngine, h: ClaimsHandlers, count: int, *, member: str) -> list[Any]:
    """``count`` claims of sessions 1..count, each patient with its own member id (``member`` + n),
    moved to submitted in their first attempt."""
    for n in range(1, count + 1):
        await apply(
            engine, h, *reference(n, electronic_payer_id="EVRGRN", member_id=f"{member}{n}"), session(n)
        )
    made = [(await rows(engine, claim.c.session_id == f"ses-{n:04d}"))[0] for n in range(1, count + 1)]
    for row in made:
        await force(engine, row.claim_id, state="submitted", attempts=1)
    return made


async def in_batch(
    engine: AsyncEngine,
    batch_id: str,
    group: str,
    sets: dict[str, str],
    *,
    interchange: str | None = None,
    attempt: int = 1,
) -> None:
    """A sent 837 batch with group control number ``group`` (ISA13 ``interchange``, else the group
    number in nine digits): claim id -> its ST02, in the claims' ``attempt``."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            batch.insert().values(
                batch_id=batch_id,
                submitter_id="PRACTICE01",
                payer_id="EVRGRN",
                interchange_control_number=interchange or f"{int(group):09d}",
                group_control_number=group,
                file_name=f"{batch_id}.837",
                content=b"",
                sha256="0" * 64,
                created_at=now,
                uploaded_at=now,
            )
        )
        await conn.execute(
            batch_claim.insert(),
            [
                {
                    "claim_id": c,
                    "attempt": attempt,
                    "batch_id": batch_id,
                    "transaction_set_control_number": st02,
                }
                for c, st02 in sets.items()
            ],
        )
