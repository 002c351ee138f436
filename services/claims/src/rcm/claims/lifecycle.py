"""Moving a stored claim through the state machine: every transition an audit row and an event.

Audit rows are queued on the transaction and written with its commit, one statement for the
batch (nothing reads them back inside the transaction that moves the claim).

The domain's ``transition`` decides whether a move is legal; this module writes it.
The event contract has no 'batched' state, so the ready -> batched step is audited but
published only when the file is uploaded (ready -> submitted).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from rcm.claims.domain import ClaimState, transition
from rcm.claims.reads import forget_patient, reads_of
from rcm.claims.store import claim, claim_audit, claim_line, session
from rcm.events.models import ClaimHeld, ClaimStatus, ClaimStatusChanged, ClaimVoided, HoldReason
from rcm.servicekit import Delivered, Transaction, among

__all__ = [
    "EVENT_STATUS",
    "SessionsRaced",
    "claim_later",
    "defer_insert",
    "flush_moves",
    "flush_received",
    "hold_rejected",
    "insert_deferred",
    "move",
    "move_all",
    "move_later",
    "moves_pending",
    "receive_later",
    "received_pending",
    "record_created",
    "update_claim",
]

_S = ClaimState
EVENT_STATUS: dict[ClaimState, ClaimStatus | None] = {
    _S.CREATED: ClaimStatus.CREATED,
    _S.HELD: ClaimStatus.HELD,
    _S.READY: ClaimStatus.READY,
    _S.BATCHED: None,
    _S.SUBMITTED: ClaimStatus.SUBMITTED,
    _S.ACCEPTED: ClaimStatus.ACCEPTED,
    _S.REJECTED: ClaimStatus.REJECTED,
    _S.PENDED: ClaimStatus.PENDING,
    _S.PAID: ClaimStatus.PAID,
    _S.PARTIALLY_PAID: ClaimStatus.PARTIALLY_PAID,
    _S.DENIED: ClaimStatus.DENIED,
    _S.CORRECTED: ClaimStatus.REPLACED,
    _S.VOIDED: ClaimStatus.VOIDED,
    _S.WRITTEN_OFF: ClaimStatus.WRITTEN_OFF,
    _S.FINALIZED_PAID: ClaimStatus.CLOSED,
    _S.FINALIZED_DENIED: ClaimStatus.CLOSED,
}


_DEFERRED_INSERTS = "claims.deferred_inserts"


def defer_insert(tx: Transaction, columns: dict[str, Any]) -> Any:
    """Defer a new claim's insert until :func:`insert_deferred`: the moves and updates made
    before that (its first evaluation) change the row to be inserted instead of updating the
    table. Returns the row as a read would give it."""
    tx.memo.setdefault(_DEFERRED_INSERTS, {})[columns["claim_id"]] = columns
    defaults = {c.name: None for c in claim.columns} | {
        "revision": 0,
        "attempts": 0,
        "hold_reasons": [],
        "scrub_warnings": [],
    }
    return SimpleNamespace(**(defaults | columns))


async def insert_deferred(tx: Transaction, claim_id: str) -> None:
    """Write the claim row :func:`defer_insert` deferred, with what happened to it since."""
    columns = tx.memo.get(_DEFERRED_INSERTS, {}).pop(claim_id, None)
    if columns is not None:
        await tx.conn.execute(claim.insert(), columns)


class SessionsRaced(RuntimeError):
    """A session the batch took for new was written meanwhile by another transaction (a void or
    a correction on another topic, handled by another replica): the batch is retried, and its
    read of the sessions on file then finds it."""


_RECEIVED = "claims.received"


@dataclass
class _Received:
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Session rows by session id."""
    claims: list[str] = field(default_factory=list)
    """Claims whose rows wait among the deferred inserts."""
    lines: list[dict[str, Any]] = field(default_factory=list)
    patients: set[str] = field(default_factory=set)


def receive_later(tx: Transaction, session_row: dict[str, Any]) -> None:
    """Queue a session just received for :func:`flush_received` (with its claim, see
    :func:`claim_later`): a batch's new sessions are written together, three statements for the
    batch instead of three per session. Whoever queues flushes before anything in the
    transaction reads the patient's sessions or claims again (the claims dispatcher does before
    every event but another session of a patient with nothing queued, and at the batch's end)."""
    pending: _Received = tx.memo.setdefault(_RECEIVED, _Received())
    pending.sessions[session_row["session_id"]] = session_row
    pending.patients.add(session_row["patient_id"])


def claim_later(tx: Transaction, session_id: str, claim_id: str, lines: Sequence[dict[str, Any]]) -> bool:
    """Queue the claim of a session :func:`receive_later` queued (its row deferred by
    :func:`defer_insert`) and its lines; False, queueing nothing, when the session is not queued."""
    pending: _Received | None = tx.memo.get(_RECEIVED)
    if pending is None or session_id not in pending.sessions:
        return False
    pending.claims.append(claim_id)
    pending.lines.extend(lines)
    return True


def received_pending(tx: Transaction, patient_id: str | None = None) -> bool:
    """Whether sessions queued by :func:`receive_later` wait to be written (of ``patient_id``, or any)."""
    pending: _Received | None = tx.memo.get(_RECEIVED)
    if pending is None or not pending.sessions:
        return False
    return patient_id is None or patient_id in pending.patients


async def flush_received(tx: Transaction) -> None:
    """Write what :func:`receive_later` queued: the sessions, their claims (one statement per set
    of columns their first evaluation gave them) and the claims' lines. Raises SessionsRaced
    when a session is found written meanwhile."""
    pending: _Received | None = tx.memo.pop(_RECEIVED, None)
    if pending is None or not pending.sessions:
        return
    written = (
        await tx.conn.execute(
            pg_insert(session).on_conflict_do_nothing().returning(session.c.session_id),
            list(pending.sessions.values()),
        )
    ).scalars()
    raced = pending.sessions.keys() - set(written)
    if raced:
        raise SessionsRaced(f"{len(raced)} session(s) written meanwhile by another transaction")
    kept = tx.memo.get(_DEFERRED_INSERTS, {})
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for claim_id in pending.claims:
        if (columns := kept.pop(claim_id, None)) is not None:
            groups.setdefault(tuple(sorted(columns)), []).append(columns)
    for rows in groups.values():
        await tx.conn.execute(claim.insert(), rows)
    if pending.lines:
        await tx.conn.execute(claim_line.insert(), pending.lines)


async def _deferred(tx: Transaction, claim_ids: Sequence[str], values: dict[str, Any]) -> set[str]:
    """The claims of ``claim_ids`` whose insert is deferred: ``values`` go into their rows (a
    deferred row given an SQL expression is written first, so the expression applies to the
    stored row)."""
    kept = tx.memo.get(_DEFERRED_INSERTS)
    if not kept:
        return set()
    found = {claim_id for claim_id in claim_ids if claim_id in kept}
    if any(isinstance(v, sa.ClauseElement) for v in values.values()):
        for claim_id in found:
            await insert_deferred(tx, claim_id)
        return set()
    for claim_id in found:
        kept[claim_id].update(values)
    return found


def record_created(
    tx: Transaction, *, claim_id: str, patient_id: str, at: datetime, cause: Delivered[Any] | None, why: str
) -> None:
    tx.insert_later(
        claim_audit,
        {
            "claim_id": claim_id,
            "from_state": None,
            "to_state": _S.CREATED.value,
            "reason": why,
            "actor": "claims",
            "at": at,
        },
    )
    tx.publish(
        ClaimStatusChanged(
            claim_id=claim_id,
            patient_id=patient_id,
            from_status=None,
            to_status=ClaimStatus.CREATED,
            cause=why[:80],
            changed_at=at,
        ),
        cause=cause,
    )


async def update_claim(tx: Transaction, claim_id: str, **values: Any) -> None:
    """Set columns of a claim without moving it (the batch's copy of its row is dropped)."""
    if moves_pending(tx, claim_id):
        await flush_moves(tx)
    if not await _deferred(tx, [claim_id], values):
        await tx.conn.execute(sa.update(claim).where(claim.c.claim_id == claim_id).values(**values))
    reads = reads_of(tx)
    if reads is not None:
        reads.claims.pop(claim_id, None)


async def move(
    tx: Transaction,
    row: Any,
    to: ClaimState,
    *,
    reason: str,
    at: datetime,
    actor: str = "claims",
    cause: Delivered[Any] | None = None,
    published_from: ClaimState | None = None,
    **columns: Any,
) -> ClaimState:
    """Move the claim ``row`` (with claim_id, patient_id, state) to ``to``; raises IllegalTransition."""
    await move_all(
        tx,
        [row],
        to,
        reason=reason,
        at=at,
        actor=actor,
        cause=cause,
        published_from=published_from,
        **columns,
    )
    return to


async def move_all(
    tx: Transaction,
    rows: Sequence[Any],
    to: ClaimState,
    *,
    reason: str,
    at: datetime,
    actor: str = "claims",
    cause: Delivered[Any] | None = None,
    published_from: ClaimState | None = None,
    ahead: Callable[[Any], None] | None = None,
    **columns: Any,
) -> None:
    """Move every claim of ``rows`` to ``to`` with the same column values (SQL expressions of the
    row's own columns allowed), in one statement; raises IllegalTransition, before writing
    anything, if any of them may not make the move. ``ahead(row)`` publishes what goes before
    the claim's status change (its events in the order one move at a time would give them)."""
    if not rows:
        return
    if moves_pending(tx):  # a queued move of one of them must not land after this one
        await flush_moves(tx)
    records = [
        (row, transition(row.claim_id, ClaimState(row.state), to, reason=reason[:500], at=at, actor=actor))
        for row in rows
    ]
    values = {"state": to.value, "updated_at": at, **columns}
    kept = await _deferred(tx, [row.claim_id for row in rows], values)
    ids = [row.claim_id for row in rows if row.claim_id not in kept]
    if ids:
        await tx.conn.execute(sa.update(claim).where(among(claim.c.claim_id, ids)).values(**values))
    _moved(tx, records, to, reason=reason, at=at, cause=cause, published_from=published_from, ahead=ahead)


_PENDING_MOVES = "claims.pending_moves"


async def move_later(
    tx: Transaction,
    row: Any,
    to: ClaimState,
    *,
    reason: str,
    at: datetime,
    cause: Delivered[Any] | None = None,
    **columns: Any,
) -> None:
    """``move``, with the claim's row written by :func:`flush_moves` instead of at once: a batch's
    remits move their claims in one statement. The audit row and the status event are queued as
    ``move`` queues them. Whoever queues a move flushes before anything in the transaction reads
    the claim's row again (the claims dispatcher does before every other kind of event, before a
    second remit of the same claim and at the batch's end). Raises IllegalTransition before
    queueing anything."""
    kept = tx.memo.get(_DEFERRED_INSERTS) or {}
    if row.claim_id in kept or any(isinstance(v, sa.ClauseElement) for v in columns.values()):
        await move(tx, row, to, reason=reason, at=at, cause=cause, **columns)
        return
    record = transition(row.claim_id, ClaimState(row.state), to, reason=reason[:500], at=at, actor="claims")
    pending: dict[str, dict[str, Any]] = tx.memo.setdefault(_PENDING_MOVES, {})
    if row.claim_id in pending:
        await flush_moves(tx)
        pending = tx.memo.setdefault(_PENDING_MOVES, {})
    pending[row.claim_id] = {"state": to.value, "updated_at": at, **columns}
    _moved(tx, [(row, record)], to, reason=reason, at=at, cause=cause)


def moves_pending(tx: Transaction, claim_id: str | None = None) -> bool:
    """Whether moves queued by :func:`move_later` wait to be written (for ``claim_id``, or any)."""
    pending: dict[str, Any] | None = tx.memo.get(_PENDING_MOVES)
    if not pending:
        return False
    return claim_id is None or claim_id in pending


async def flush_moves(tx: Transaction) -> None:
    """Write the moves :func:`move_later` queued: one statement per set of columns (the claims'
    own values joined from one array per column)."""
    pending: dict[str, dict[str, Any]] | None = tx.memo.pop(_PENDING_MOVES, None)
    if not pending:
        return
    groups: dict[tuple[str, ...], list[tuple[str, dict[str, Any]]]] = {}
    for claim_id, values in pending.items():
        groups.setdefault(tuple(sorted(values)), []).append((claim_id, values))
    for names, moves in groups.items():
        await tx.conn.execute(
            _moves_statement(names),
            {"m_claim_id": [claim_id for claim_id, _ in moves]}
            | {f"m_{name}": [values[name] for _, values in moves] for name in names},
        )


@functools.cache
def _moves_statement(names: tuple[str, ...]) -> sa.Update:
    """``UPDATE claim ... FROM unnest(:m_claim_id, :m_<name>, ...) AS moved(claim_id, <name>, ...)``:
    the claims' own values as one array per column, one statement text (cached, prepared once)
    whatever the count of claims, where a VALUES list is a text of its own for every count and is
    compiled on every execution."""
    columns = ("claim_id", *names)
    moved = (
        sa.func.unnest(*(sa.bindparam(f"m_{name}", type_=ARRAY(claim.c[name].type)) for name in columns))
        .table_valued(*columns)
        .render_derived(name="moved")
    )
    return sa.update(claim).where(claim.c.claim_id == moved.c.claim_id).values({n: moved.c[n] for n in names})


def _moved(
    tx: Transaction,
    records: Sequence[tuple[Any, Any]],
    to: ClaimState,
    *,
    reason: str,
    at: datetime,
    cause: Delivered[Any] | None,
    published_from: ClaimState | None = None,
    ahead: Callable[[Any], None] | None = None,
) -> None:
    """What follows a move once its row is written or queued: the batch's reads of the claim
    dropped, the audit row queued, the status event published."""
    reads = reads_of(tx)
    for row, record in records:
        forget_patient(tx, row.patient_id)
        if reads is not None:
            reads.claims.pop(row.claim_id, None)
        tx.insert_later(
            claim_audit,
            {
                "claim_id": row.claim_id,
                "from_state": record.from_state.value,
                "to_state": record.to_state.value,
                "reason": record.reason,
                "actor": record.actor,
                "at": at,
            },
        )
        if ahead is not None:
            ahead(row)
        before, after = EVENT_STATUS[published_from or record.from_state], EVENT_STATUS[to]
        if after is not None and before != after:
            tx.publish(
                ClaimStatusChanged(
                    claim_id=row.claim_id,
                    patient_id=row.patient_id,
                    from_status=before,
                    to_status=after,
                    cause=reason[:80],
                    changed_at=at,
                ),
                cause=cause,
            )
            if after is ClaimStatus.VOIDED:
                tx.publish(
                    ClaimVoided(
                        claim_id=row.claim_id,
                        patient_id=row.patient_id,
                        from_status=before,
                        cause=reason[:80],
                        voided_at=at,
                    ),
                    cause=cause,
                )


async def hold_rejected(tx: Transaction, claim_id: str, holds: Sequence[HoldReason], *, at: datetime) -> Any:
    """A claim just moved to rejected waits for a fix: held with ``holds`` and announced
    (claim-held). Its row as read after the rejection; the held row is returned."""
    row = (await tx.conn.execute(sa.select(claim).where(claim.c.claim_id == claim_id))).one()
    await move(
        tx,
        row,
        ClaimState.HELD,
        reason="rejected: waits for a fix",
        at=at,
        hold_reasons=[h.model_dump(mode="json") for h in holds],
    )
    tx.publish(ClaimHeld(claim_id=row.claim_id, patient_id=row.patient_id, reasons=list(holds), held_at=at))
    return row
