"""Finalizing claims whose payer side is settled: the service's periodic task and ``rcm claims finalize``.

The rule is the domain's (:func:`rcm.claims.domain.finalization.finalization`); this module
reads its facts from the claim rows (the claim, the other claims of its session, the
session, the patient's coverages) and moves each finalized claim with an audit row and a
claim-status-changed (to ``closed``), as every other transition.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.claims import adapters as ad
from rcm.claims.domain import ClaimDraft, ClaimState
from rcm.claims.domain.cob import next_coverage
from rcm.claims.domain.finalization import Blocker, Finalize, NotYet, Settlement, finalization
from rcm.claims.lifecycle import move
from rcm.claims.reads import moved_on
from rcm.claims.store import claim, claim_audit, keyed_references, session
from rcm.servicekit import Transaction, among

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


def _next_payer_due(row: Any, payers: dict[str, Any], coverages: dict[str, list[Any]]) -> bool:
    """A balance left to the patient that a next coverage on file should see, with no claim to it."""
    if row.crossed_over or row.remit_patient_responsibility is None or row.remit_patient_responsibility <= 0:
        return False
    if ((payers.get(row.payer_id) or {}).get("rules") or {}).get("forwards_crossover"):
        return False
    draft = ClaimDraft.model_validate(row.draft)
    found = coverages.get(row.patient_id, [])
    return next_coverage(found, after=draft.payer_order, day=draft.date_of_service) is not None


def _owes_patient_balance(row: Any) -> bool:
    return not row.crossed_over and (row.remit_patient_responsibility or 0) > 0


async def settlements(conn: AsyncConnection, rows: Sequence[Any]) -> list[Settlement]:
    """The facts the finalization rule reads, for each claim of ``rows``, in a few set-based queries."""
    if not rows:
        return []
    session_ids = sorted({r.session_id for r in rows})
    by_session: dict[str, list[Any]] = {}
    for other in await conn.execute(sa.select(claim).where(among(claim.c.session_id, session_ids))):
        by_session.setdefault(other.session_id, []).append(other)
    moved: dict[str, datetime] = {
        r.claim_id: r.at
        for r in await conn.execute(
            sa.select(claim_audit.c.claim_id, sa.func.max(claim_audit.c.at).label("at"))
            .where(among(claim_audit.c.claim_id, [r.claim_id for r in rows]))
            .group_by(claim_audit.c.claim_id)
        )
    }
    sessions = {
        s.session_id: s
        for s in await conn.execute(
            sa.select(session.c.session_id, session.c.status, session.c.revision).where(
                among(session.c.session_id, session_ids)
            )
        )
    }
    owing = [r for r in rows if _owes_patient_balance(r)]
    payers: dict[str, Any] = {}
    coverages: dict[str, list[Any]] = {}
    if owing:
        for entity_id, _, body in await keyed_references(
            conn, "payer", ids=sorted({r.payer_id for r in owing})
        ):
            payers[entity_id] = body
        for _, patient_id, body in await keyed_references(
            conn, "coverage", patient_ids=sorted({r.patient_id for r in owing})
        ):
            coverages.setdefault(str(patient_id), []).append(ad.coverage_of(body))
    found = []
    for row in rows:
        siblings = by_session.get(row.session_id, [])
        later = [c for c in siblings if c.payer_order > row.payer_order]
        last = max(t for t in (moved.get(row.claim_id), row.remitted_at, row.created_at) if t is not None)
        current = sessions.get(row.session_id)
        found.append(
            Settlement(
                claim_key=row.claim_id,
                state=ClaimState(row.state),
                last_activity_at=last,
                paid=row.remit_paid,
                remitted=row.remitted_at is not None or row.remit_paid is not None,
                next_payer_due=not later and _next_payer_due(row, payers, coverages),
                next_payer_claims=tuple(ClaimState(c.state) for c in later),
                successors=tuple(ClaimState(c.state) for c in _successors(row.claim_id, siblings)),
                session_changed=current is not None and moved_on(row, current.status, current.revision),
            )
        )
    return found


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

    The candidates are read page by page (``limit`` a page) in claim key order, without locks,
    so claims that stay blocked never hide the ones after them. Claims changed within the quiet
    period are not read (``updated_at`` moves with every transition and remit). Only the claims
    to be moved are locked, and only if unchanged since they were read; one locked by a handler
    (or changed meanwhile) is left to the next pass.
    """
    verdicts: list[Verdict] = []
    after: str | None = None
    while True:
        query = sa.select(claim).where(
            claim.c.state.in_([s.value for s in CANDIDATES]), claim.c.updated_at <= now - quiet
        )
        if after is not None:
            query = query.where(claim.c.claim_id > after)
        rows = (await tx.conn.execute(query.order_by(claim.c.claim_id).limit(limit))).all()
        if not rows:
            break
        after = rows[-1].claim_id
        decided = [
            (row, finalization(facts, now=now, quiet=quiet))
            for row, facts in zip(rows, await settlements(tx.conn, rows), strict=True)
        ]
        due = [(row, d) for row, d in decided if isinstance(d, Finalize)]
        moved = await _move(tx, due, now=now, actor=actor, dry_run=dry_run)
        for row, decision in decided:
            state = ClaimState(row.state)
            if isinstance(decision, NotYet):
                verdicts.append(Verdict(row.claim_id, state, None, decision.blockers))
            elif row.claim_id in moved:
                verdicts.append(Verdict(row.claim_id, state, decision.to))
        if len(rows) < limit:
            break
    finalized = sum(1 for v in verdicts if v.to is not None)
    if finalized and not dry_run:
        log.info("finalized %d claims", finalized)
    return verdicts


async def _move(
    tx: Transaction, due: list[tuple[Any, Finalize]], *, now: datetime, actor: str, dry_run: bool
) -> set[str]:
    """Lock the claims to finalize (skipping locked ones and those changed since read) and move them."""
    if not due or dry_run:
        return {row.claim_id for row, _ in due}
    locked = {
        r.claim_id: r
        for r in (
            await tx.conn.execute(
                sa.select(claim)
                .where(among(claim.c.claim_id, sorted(row.claim_id for row, _ in due)))
                .order_by(claim.c.claim_id)
                .with_for_update(skip_locked=True)
            )
        ).all()
    }
    moved = set()
    for row, decision in due:
        current = locked.get(row.claim_id)
        if current is None or (current.state, current.updated_at) != (row.state, row.updated_at):
            continue  # a handler holds or moved it: the next pass decides again
        await move(tx, current, decision.to, reason=decision.reason, at=now, actor=actor)
        moved.add(row.claim_id)
    return moved
