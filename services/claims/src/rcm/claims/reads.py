"""What a batch of events reads per patient and per session, read once for the whole batch.

Coding and scrubbing a session reads the patient's coverages, claimed services (for the
same-day and bundling edits), authorizations and eligibility checks, and the session's
authorization answer: five queries per session when each event reads for itself. The
dispatcher's prepare step reads them for every session of the batch in one query per
kind; a reference, eligibility or authorization event re-runs the edits of the patient's
waiting sessions and held claims, and the prepare step learns in one query which of the
batch's patients have any.

What the batch itself writes makes these rows stale: the dispatcher forgets a patient
before and after each event that changes the patient's reference data (every event naming
a patient but session-completed, whose own writes are claims), and whatever moves, creates
or re-codes a claim or sets a session waiting forgets the patient's claims
(:func:`forget_patient`); the next read goes to the database again. Reads outside a consumer batch (timers, the command line) find no
``BatchReads`` and always query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.claims.domain import ClaimState
from rcm.claims.store import (
    auth_answer,
    authorization,
    claim,
    claim_line,
    eligibility,
    keyed_references,
    session,
)
from rcm.servicekit import Transaction, among

__all__ = [
    "HISTORY_COLUMNS",
    "BatchReads",
    "forget_patient",
    "forget_session_state",
    "forget_session_states",
    "moved_on",
    "reads_of",
    "remember_session_states",
    "session_state",
]

HISTORY_COLUMNS = (
    claim.c.claim_id,
    claim.c.session_id,
    claim.c.payer_id,
    claim.c.rendering_provider_id,
    claim.c.state,
    claim.c.draft,
    claim_line.c.procedure_code,
    claim_line.c.modifiers,
    claim_line.c.units,
)
"""The columns of a patient's original claims and their lines that coding and the edits read."""


def history_query(patient_ids: Sequence[str]) -> sa.Select[Any]:
    """The original (frequency 1) claims and lines of some patients, in claim and line order."""
    return (
        sa.select(claim.c.patient_id, *HISTORY_COLUMNS)
        .join(claim_line, claim_line.c.claim_id == claim.c.claim_id)
        .where(among(claim.c.patient_id, patient_ids), claim.c.frequency_code == "1")
        .order_by(claim.c.claim_id, claim_line.c.line_number)
    )


async def coverage_bodies(conn: AsyncConnection, patients: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {p: [] for p in patients}
    for _, patient_id, body in await keyed_references(conn, "coverage", patient_ids=patients):
        if patient_id is not None:
            found[patient_id].append(body)
    return found


async def history_rows(conn: AsyncConnection, patients: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {p: [] for p in patients}
    for row in await conn.execute(history_query(patients)):
        found[row.patient_id].append(row)
    return found


async def authorization_rows(conn: AsyncConnection, patients: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {p: [] for p in patients}
    for row in await conn.execute(
        sa.select(authorization)
        .where(among(authorization.c.patient_id, patients))
        .order_by(authorization.c.authorization_id)
    ):
        found[row.patient_id].append(row)
    return found


async def eligibility_bodies(
    conn: AsyncConnection, patients: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {p: [] for p in patients}
    for patient_id, body in await conn.execute(
        sa.select(eligibility.c.patient_id, eligibility.c.body)
        .where(among(eligibility.c.patient_id, patients))
        .order_by(eligibility.c.check_id)
    ):
        found[patient_id].append(body)
    return found


async def answer_rows(conn: AsyncConnection, sessions: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = dict.fromkeys(sessions)
    for row in await conn.execute(sa.select(auth_answer).where(among(auth_answer.c.session_id, sessions))):
        found[row.session_id] = row
    return found


class BatchReads:
    """The rows read for a batch, by patient and by session (see the module's docstring)."""

    def __init__(self) -> None:
        self.coverages: dict[str, list[dict[str, Any]]] = {}
        self.history: dict[str, list[Any]] = {}
        self.authorizations: dict[str, list[Any]] = {}
        self.eligibility: dict[str, list[dict[str, Any]]] = {}
        self.answers: dict[str, Any] = {}
        self.quiet: set[str] = set()
        """Patients with no waiting session and no held or ready claim."""
        self.shared_synced = False
        """The shared references were checked in this transaction and no event changed them since."""
        self.shared_reloads = -1
        """The process copy's reload count when this transaction checked it."""
        self.claims: dict[str, Any] = {}
        """Claim rows the batch's remits name, locked; each is taken once (``take_claim``)."""
        self.on_file: dict[str, bool] = {}
        """Whether each of the batch's received sessions has a row (written before the batch, or
        queued by it): a session not on file is new, and its row is written with the batch's
        others (``rcm.claims.lifecycle.receive_later``)."""
        self.queued_eligibility: dict[str, dict[str, dict[str, Any]]] = {}
        """Eligibility checks the batch received, by patient and check id: their rows are written
        with the batch's commit (one statement), so reads of the table add them (``patient_eligibility``)."""

    async def load_sessions(
        self, conn: AsyncConnection, patient_ids: Iterable[str], session_ids: Iterable[str]
    ) -> None:
        """Everything coding and scrubbing reads for these patients' sessions, one query per kind."""
        patients = sorted(set(patient_ids))
        if not patients:
            return
        self.coverages.update(await coverage_bodies(conn, patients))
        self.history.update(await history_rows(conn, patients))
        self.authorizations.update(await authorization_rows(conn, patients))
        self.eligibility.update(await eligibility_bodies(conn, patients))
        sessions = sorted(set(session_ids))
        self.answers.update(await answer_rows(conn, sessions))
        on_file = set(
            (await conn.execute(sa.select(session.c.session_id).where(among(session.c.session_id, sessions))))
            .scalars()
            .all()
        )
        self.on_file.update((session_id, session_id in on_file) for session_id in sessions)

    async def load_remits(
        self, tx: Transaction, claim_ids: Iterable[str], patient_ids: Iterable[str]
    ) -> None:
        """The claims the batch's remits name (locked, in claim order), their sessions' states and
        their patients' coverages, one query each."""
        wanted = sorted(set(claim_ids))
        if not wanted:
            return
        for row in await tx.conn.execute(
            sa.select(claim)
            .where(among(claim.c.claim_id, wanted))
            .order_by(claim.c.claim_id)
            .with_for_update()
        ):
            self.claims[row.claim_id] = row
        await remember_session_states(tx, {row.session_id for row in self.claims.values()})
        missing = sorted(set(patient_ids) - self.coverages.keys())
        if missing:
            self.coverages.update(await coverage_bodies(tx.conn, missing))

    def take_claim(self, claim_id: str) -> Any:
        """The claim's row as the batch read it, once; None when not read or taken already."""
        return self.claims.pop(claim_id, None)

    async def load_quiet(self, conn: AsyncConnection, patient_ids: Iterable[str]) -> None:
        """Which of these patients have nothing a reference change could move on."""
        patients = sorted(set(patient_ids))
        if not patients:
            return
        busy = {
            r[0]
            for r in await conn.execute(
                sa.select(session.c.patient_id)
                .where(among(session.c.patient_id, patients), session.c.status == "waiting")
                .union(
                    sa.select(claim.c.patient_id).where(
                        among(claim.c.patient_id, patients),
                        claim.c.state.in_([ClaimState.HELD.value, ClaimState.READY.value]),
                    )
                )
            )
        }
        self.quiet.update(p for p in patients if p not in busy)

    def forget(self, patient_id: str) -> None:
        """An event changed the patient's reference data: read all of it from the database next time."""
        for rows in (self.coverages, self.authorizations, self.eligibility):
            rows.pop(patient_id, None)
        self.forget_claims(patient_id)

    def forget_claims(self, patient_id: str) -> None:
        """The batch created, moved or re-coded a claim of the patient, or set a session waiting."""
        self.history.pop(patient_id, None)
        self.quiet.discard(patient_id)

    def forget_session(self, session_id: str) -> None:
        """An event named the session: it may have written its answer or its row (a void or a
        correction before the session itself), so a session-completed of it later in the batch
        writes its row at once and finds out."""
        self.answers.pop(session_id, None)
        self.on_file.pop(session_id, None)


def reads_of(tx: Transaction | None) -> BatchReads | None:
    """The batch's reads, when ``tx`` is a consumer batch's transaction."""
    if tx is None:
        return None
    found = tx.memo.get(BatchReads)
    return found if isinstance(found, BatchReads) else None


def forget_patient(tx: Transaction, patient_id: str) -> None:
    """Call after writing a claim of the patient (created, moved, re-coded) or setting one of the
    patient's sessions waiting: the claims the batch read for the patient are stale."""
    reads = reads_of(tx)
    if reads is not None:
        reads.forget_claims(patient_id)


async def patient_coverages(
    conn: AsyncConnection, reads: BatchReads | None, patient_id: str
) -> list[dict[str, Any]]:
    """The patient's live coverage bodies (from the batch's reads when it has them)."""
    if reads is not None and (found := reads.coverages.get(patient_id)) is not None:
        return found
    return (await coverage_bodies(conn, [patient_id]))[patient_id]


async def patient_history(conn: AsyncConnection, reads: BatchReads | None, patient_id: str) -> list[Any]:
    """The patient's original claims and their lines (``HISTORY_COLUMNS``)."""
    if reads is not None and (found := reads.history.get(patient_id)) is not None:
        return found
    return (await history_rows(conn, [patient_id]))[patient_id]


async def patient_authorizations(
    conn: AsyncConnection, reads: BatchReads | None, patient_id: str
) -> list[Any]:
    if reads is not None and (found := reads.authorizations.get(patient_id)) is not None:
        return found
    return (await authorization_rows(conn, [patient_id]))[patient_id]


async def patient_eligibility(
    conn: AsyncConnection, reads: BatchReads | None, patient_id: str
) -> list[dict[str, Any]]:
    if reads is not None and (found := reads.eligibility.get(patient_id)) is not None:
        return found
    bodies = (await eligibility_bodies(conn, [patient_id]))[patient_id]
    queued = reads.queued_eligibility.get(patient_id) if reads is not None else None
    if queued:  # checks of this batch, not written yet: in the order the table gives
        written = {body.get("check_id") for body in bodies}
        bodies = sorted(
            [*bodies, *(body for check_id, body in queued.items() if check_id not in written)],
            key=lambda body: str(body.get("check_id")),
        )
    return bodies


async def session_answer(conn: AsyncConnection, reads: BatchReads | None, session_id: str) -> Any:
    """The authorizations service's answer for the session, or None."""
    if reads is not None and session_id in reads.answers:
        return reads.answers[session_id]
    return (await answer_rows(conn, [session_id]))[session_id]


_SESSION_STATES = "claims.session_states"


async def remember_session_states(tx: Transaction, session_ids: Iterable[str]) -> None:
    """Read the status and revision of these sessions in one query, for :func:`session_state`.

    For transactions that handle no session event (acknowledgements): nothing in them changes a
    session, so what was read stays true until they commit.
    """
    wanted = sorted(set(session_ids))
    states: dict[str, tuple[str, int] | None] = dict.fromkeys(wanted)
    if wanted:
        for session_id, status, revision in await tx.conn.execute(
            sa.select(session.c.session_id, session.c.status, session.c.revision).where(
                among(session.c.session_id, wanted)
            )
        ):
            states[session_id] = (status, revision)
    tx.memo.setdefault(_SESSION_STATES, {}).update(states)


def forget_session_state(tx: Transaction, session_id: str) -> None:
    """The session's status or revision was just written: read it again when asked."""
    tx.memo.get(_SESSION_STATES, {}).pop(session_id, None)


def forget_session_states(tx: Transaction) -> None:
    """Sessions may have changed (a session event ran): read their states again."""
    tx.memo.pop(_SESSION_STATES, None)


def moved_on(row: Any, status: str, revision: int) -> bool:
    """Whether ``row``'s session (``status``, ``revision``) was voided or corrected since it was coded."""
    return status == "voided" or (row.payer_order == 1 and row.session_revision < revision)


async def session_state(tx: Transaction, session_id: str) -> tuple[str, int] | None:
    """The session's status and revision (None: no such session)."""
    remembered: dict[str, tuple[str, int] | None] = tx.memo.get(_SESSION_STATES, {})
    if session_id in remembered:
        return remembered[session_id]
    row = (
        await tx.conn.execute(
            sa.select(session.c.status, session.c.revision).where(session.c.session_id == session_id)
        )
    ).first()
    return None if row is None else (row.status, row.revision)
