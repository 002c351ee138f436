"""Finalizing claims whose payer side is settled: the service's periodic task and ``rcm claims finalize``.

The rule is the domain's (:func:`rcm.claims.domain.finalization.finalization`); this module
reads its facts from the claim rows (the claim, the other claims of its session, the
session, the patient's coverages) and moves each finalized claim with an audit row and a
claim-status-changed (to ``closed``), as every other transition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.claims import adapters as ad
from rcm.claims.domain import ClaimDraft, ClaimState
from rcm.claims.domain.cob import next_coverage
from rcm.claims.domain.finalization import Blocker, Finalize, NotYet, Settlement, finalization
from rcm.claims.handlers import _moved_on
from rcm.claims.lifecycle import move
from rcm.claims.store import claim, claim_audit, references, session
from rcm.servicekit import Transaction

__all__ = ["CANDIDATES", "Verdict", "finalize_claims"]

log = logging.getLogger(__name__)

_S = ClaimState
CANDIDATES = (_S.PAID, _S.PARTIALLY_PAID, _S.DENIED, _S.WRITTEN_OFF)
"""The states the policy can finalize; others are not read at all."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One claim looked at: where it went (or would go), or what keeps it open."""

    claim_id: str
    state: ClaimState
    to: ClaimState | None
    blockers: tuple[Blocker, ...] = ()


def _successors(claim_id: str, claims: list[Any]) -> list[Any]:
    """The replacements, voids and new originals of ``claim_id``, and theirs in turn."""
    found: dict[str, Any] = {}
    frontier = [claim_id]
    while frontier:
        current = frontier.pop()
        for other in claims:
            if other.replaces_claim_id == current and other.claim_id not in found:
                found[other.claim_id] = other
                frontier.append(other.claim_id)
    return list(found.values())


async def _next_payer_due(conn: AsyncConnection, row: Any) -> bool:
    """A balance left to the patient that a next coverage on file should see, with no claim to it."""
    if row.crossed_over or row.remit_patient_responsibility is None or row.remit_patient_responsibility <= 0:
        return False
    payer = (await references(conn, "payer", ids=[row.payer_id]) or [{}])[0]
    if (payer.get("rules") or {}).get("forwards_crossover"):
        return False
    draft = ClaimDraft.model_validate(row.draft)
    coverages = [ad.coverage_of(b) for b in await references(conn, "coverage", patient_id=row.patient_id)]
    return next_coverage(coverages, after=draft.payer_order, day=draft.date_of_service) is not None


async def settlement(conn: AsyncConnection, row: Any) -> Settlement:
    """The facts the finalization rule reads, for the claim ``row``."""
    siblings = list((await conn.execute(sa.select(claim).where(claim.c.session_id == row.session_id))).all())
    later = [c for c in siblings if c.payer_order > row.payer_order]
    moved_at = await conn.scalar(
        sa.select(sa.func.max(claim_audit.c.at)).where(claim_audit.c.claim_id == row.claim_id)
    )
    last = max(t for t in (moved_at, row.remitted_at, row.created_at) if t is not None)
    current = (
        await conn.execute(
            sa.select(session.c.status, session.c.revision).where(session.c.session_id == row.session_id)
        )
    ).first()
    return Settlement(
        claim_key=row.claim_id,
        state=ClaimState(row.state),
        last_activity_at=last,
        paid=row.remit_paid,
        next_payer_due=not later and await _next_payer_due(conn, row),
        next_payer_claims=tuple(ClaimState(c.state) for c in later),
        successors=tuple(ClaimState(c.state) for c in _successors(row.claim_id, siblings)),
        session_changed=current is not None and _moved_on(row, current.status, current.revision),
    )


async def finalize_claims(
    tx: Transaction,
    *,
    now: datetime,
    quiet: timedelta,
    dry_run: bool = False,
    actor: str = "claims",
    limit: int = 500,
) -> list[Verdict]:
    """Finalize every settled claim quiet for ``quiet`` (or only say which, with ``dry_run``).

    Claims changed within the quiet period are not read (``updated_at`` moves with every
    transition and remit); locked ones are left to the next pass.
    """
    rows = (
        await tx.conn.execute(
            sa.select(claim)
            .where(claim.c.state.in_([s.value for s in CANDIDATES]), claim.c.updated_at <= now - quiet)
            .order_by(claim.c.updated_at, claim.c.claim_id)
            .with_for_update(skip_locked=True)
            .limit(limit)
        )
    ).all()
    verdicts = []
    for row in rows:
        decision = finalization(await settlement(tx.conn, row), now=now, quiet=quiet)
        state = ClaimState(row.state)
        if isinstance(decision, NotYet):
            verdicts.append(Verdict(row.claim_id, state, None, decision.blockers))
            continue
        assert isinstance(decision, Finalize)
        if not dry_run:
            await move(tx, row, decision.to, reason=decision.reason, at=now, actor=actor)
        verdicts.append(Verdict(row.claim_id, state, decision.to))
    finalized = sum(1 for v in verdicts if v.to is not None)
    if finalized and not dry_run:
        log.info("finalized %d claims", finalized)
    return verdicts
