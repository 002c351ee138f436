"""The claims service's own tables (SQLAlchemy Core) and the queries the handlers share.

Reference data arrives on compacted topics carrying full state; each entity is kept as
its latest event body (``reference``), keyed by kind and id. Claims keep their draft
(the domain value) as JSON next to the columns that are queried. A claim is unique by
its id (the deterministic claim key), so a redelivered session creates nothing; a
claim's n-th submission is in exactly one batch (``batch_claim`` primary key).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcm.clearinghouse import FileLedger
from rcm.servicekit import among

__all__ = [
    "SHARED_KINDS",
    "PostgresFileLedger",
    "SharedReferences",
    "auth_answer",
    "authorization",
    "batch",
    "batch_claim",
    "claim",
    "claim_audit",
    "claim_line",
    "claim_remit",
    "correction_refusal",
    "eligibility",
    "interchange_sequence",
    "keyed_references",
    "metadata",
    "pending_secondary_request",
    "received_file",
    "received_name",
    "reference",
    "references",
    "session",
    "unread_acknowledgment",
]

metadata = sa.MetaData()

reference = sa.Table(
    "reference",
    metadata,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("entity_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text),
    sa.Column("body", JSONB, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("reference_by_patient", "kind", "patient_id"),
)

reference_stamp = sa.Table(
    "reference_stamp",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("stamp", sa.BigInteger, nullable=False, server_default="0"),
    comment="one row: raised by triggers on every committed write of a shared reference row",
)
STAMP = sa.select(reference_stamp.c.stamp).where(reference_stamp.c.id == 1)

eligibility = sa.Table(
    "eligibility",
    metadata,
    sa.Column("check_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("coverage_id", sa.Text, nullable=False),
    sa.Column("body", JSONB, nullable=False),
)

authorization = sa.Table(
    "authorization",
    metadata,
    sa.Column("authorization_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("body", JSONB, nullable=False),
    sa.Column("remaining", sa.Integer),
    sa.Column(
        "remaining_as_of",
        sa.DateTime(timezone=True),
        comment="when the authorizations service counted ``remaining`` (an older count never replaces it)",
    ),
)

session = sa.Table(
    "session",
    metadata,
    sa.Column("session_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("body", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
)
"""Every session received: 'claimed', 'not_billable', 'waiting' for reference data, or 'voided'.

``body`` is the latest facts (a session-corrected replaces them; ``revision`` is its number);
a session voided before it was received keeps an empty body, so a late session-completed is ignored.
"""

auth_answer = sa.Table(
    "auth_answer",
    metadata,
    sa.Column("session_id", sa.Text, primary_key=True),
    sa.Column("authorization_id", sa.Text),
    sa.Column("consumed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("alert_kind", sa.Text),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
)
"""The authorizations service's answer for a session: consumed (with the auth) or an alert."""

claim = sa.Table(
    "claim",
    metadata,
    sa.Column("claim_id", sa.Text, primary_key=True),
    sa.Column("session_id", sa.Text, nullable=False, index=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("organization_id", sa.Text),
    sa.Column("rendering_provider_id", sa.Text, nullable=False),
    sa.Column("coverage_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("payer_order", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column(
        "session_revision",
        sa.Integer,
        nullable=False,
        server_default="0",
        comment="the session's revision the claim was coded from",
    ),
    sa.Column("frequency_code", sa.Text, nullable=False),
    sa.Column("replaces_claim_id", sa.Text),
    sa.Column("payer_claim_number", sa.Text),
    sa.Column("state", sa.Text, nullable=False, index=True),
    sa.Column("draft", JSONB, nullable=False),
    sa.Column("cob", JSONB),
    sa.Column(
        "cob_due",
        JSONB,
        comment="the prior payer's adjudication as it stood when it changed while this claim was on "
        "its way without a payer claim number: sent as a replacement once the payer acknowledges it",
    ),
    sa.Column("hold_reasons", JSONB, nullable=False, server_default="[]"),
    sa.Column(
        "scrub_warnings",
        JSONB,
        nullable=False,
        server_default="[]",
        comment="what the edits warned of when the claim passed them ({code, message, fix} each): "
        "nothing that holds it, things a person may act on (a filing window closing, eligibility "
        "not checked where the payer does not require it)",
    ),
    sa.Column("awaiting_authorization_until", sa.DateTime(timezone=True)),
    sa.Column("submitter_id", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total_charge", sa.Numeric(12, 2), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ready_at", sa.DateTime(timezone=True)),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Column("status_checked_at", sa.DateTime(timezone=True)),
    sa.Column("remitted_at", sa.DateTime(timezone=True), comment="when its latest remit was read"),
    sa.Column("remit_paid", sa.Numeric(12, 2), comment="paid on its latest remit"),
    sa.Column(
        "remit_patient_responsibility", sa.Numeric(12, 2), comment="patient's share on its latest remit"
    ),
    sa.Column(
        "remit_contractual",
        sa.Numeric(12, 2),
        comment="contractual write-off (CO-45, CO-253..., claim and lines) on its latest remit: owed by no one",
    ),
    sa.Column(
        "crossed_over",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        comment="its latest remit says the payer forwarded it to the next payer",
    ),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("session_id", "payer_order", "revision", name="claim_one_per_session_payer_revision"),
)

claim_line = sa.Table(
    "claim_line",
    metadata,
    sa.Column("claim_id", sa.Text, sa.ForeignKey("claim.claim_id"), primary_key=True),
    sa.Column("line_number", sa.Integer, primary_key=True),
    sa.Column("line_key", sa.Text, nullable=False),
    sa.Column("procedure_code", sa.Text, nullable=False),
    sa.Column("modifiers", JSONB, nullable=False),
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("place_of_service", sa.Text, nullable=False),
    sa.Column("charge", sa.Numeric(12, 2)),
    sa.Column("rule", sa.Text, nullable=False),
    sa.UniqueConstraint("claim_id", "line_key", name="claim_line_key_unique"),
)

claim_remit = sa.Table(
    "claim_remit",
    metadata,
    sa.Column(
        "id", sa.BigInteger, sa.Identity(), primary_key=True, comment="the order remits were applied in"
    ),
    sa.Column("claim_id", sa.Text, sa.ForeignKey("claim.claim_id"), nullable=False),
    sa.Column("remit_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, comment="CLP02"),
    sa.Column("payer_claim_number", sa.Text, nullable=False, comment="CLP07"),
    sa.Column("paid", sa.Numeric(12, 2), nullable=False),
    sa.Column("patient_responsibility", sa.Numeric(12, 2), nullable=False),
    sa.Column(
        "contractual",
        sa.Numeric(12, 2),
        nullable=False,
        comment="contractual write-off (CO-45, CO-253...), claim and lines",
    ),
    sa.Column("refused", sa.Numeric(12, 2), nullable=False, comment="refused at claim level"),
    sa.Column(
        "lines",
        JSONB,
        nullable=False,
        server_default="[]",
        comment="the lines it adjudicated: line_key, paid, patient_responsibility, contractual, refused",
    ),
    sa.Column("payment_date", sa.Date, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("claim_id", "remit_id", name="claim_remit_once"),
)
"""Every remit (CLP) applied to a claim, once, with the lines it adjudicated: the claim's state
and remit figures are derived from them (``rcm.claims.domain.adjudication``), so a payer's
split claim adds up and a reversal takes back its remit's lines."""

claim_audit = sa.Table(
    "claim_audit",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("claim_id", sa.Text, sa.ForeignKey("claim.claim_id"), nullable=False, index=True),
    sa.Column("from_state", sa.Text),
    sa.Column("to_state", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

correction_refusal = sa.Table(
    "correction_refusal",
    metadata,
    sa.Column("request_id", sa.Text, primary_key=True, comment="one refusal per request"),
    sa.Column("claim_id", sa.Text, nullable=False, index=True),
    sa.Column("denial_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("action", sa.Text),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
)
"""Corrections the service could not apply (claim-correction-refused was published for each, once)."""

batch = sa.Table(
    "batch",
    metadata,
    sa.Column("batch_id", sa.Text, primary_key=True),
    sa.Column("submitter_id", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("interchange_control_number", sa.Text, nullable=False, unique=True),
    sa.Column("group_control_number", sa.Text, nullable=False),
    sa.Column("file_name", sa.Text, nullable=False, unique=True),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True)),
    sa.Column("upload_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Index("batch_not_uploaded", "created_at", postgresql_where=sa.text("uploaded_at IS NULL")),
)
BATCH_BY_GROUP = sa.Index("batch_group_control_number", batch.c.group_control_number)
"""A 999 names its batch by GS06: found through this instead of a scan of every batch sent."""

batch_claim = sa.Table(
    "batch_claim",
    metadata,
    sa.Column("claim_id", sa.Text, sa.ForeignKey("claim.claim_id"), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Text, sa.ForeignKey("batch.batch_id"), nullable=False, index=True),
    sa.Column("transaction_set_control_number", sa.Text, nullable=False),
)
"""A claim's n-th submission belongs to exactly one batch: it can never be in two at once."""

received_file = sa.Table(
    "received_file",
    metadata,
    sa.Column("sha256", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

pending_secondary_request = sa.Table(
    "pending_secondary_request",
    metadata,
    sa.Column("request_id", sa.Text, primary_key=True),
    sa.Column("patient_id", sa.Text, nullable=False, index=True),
    sa.Column("coverage_id", sa.Text, nullable=False),
    sa.Column("body", JSONB, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
"""A secondary-claim-requested whose coverage is not on file yet (coverage-updated travels on another
topic and may come later): billed when that coverage arrives, never dropped."""

unread_acknowledgment = sa.Table(
    "unread_acknowledgment",
    metadata,
    sa.Column("sha256", sa.Text, primary_key=True),
    sa.Column("part", sa.Text, primary_key=True),
    sa.Column("reference", sa.Text, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
"""A part of a received acknowledgment file set aside because it cannot be read (a 999 set response,
a 277CA claim or level, a TA1), recorded with the file (``received_file.sha256``); the rest of the
file was applied. Control numbers, claim ids and positions only."""

received_name = sa.Table(
    "received_name",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.Text, nullable=False),
)

received_version = sa.Table(
    "received_version",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True),
    sa.Column("mtime", sa.BigInteger, primary_key=True, comment="-1 when the server gives none"),
)
"""Each version of a mailbox file read: a file overwritten under its name and size (a 999 sent again
as a rejection) has another modification time and is read again."""

interchange_sequence = sa.Sequence("interchange_control_seq", start=1, minvalue=1, maxvalue=999_999_999)
"""ISA13 and GS06 of our 837P files: persisted, so a restart never reuses a number."""


class PostgresFileLedger(FileLedger):
    """The SFTP poll's file ledger in the service database (files handed on once, across restarts)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def seen(self, sha256: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.scalar(sa.select(sa.literal(1)).where(received_file.c.sha256 == sha256))
        return found is not None

    async def seen_name(self, name: str, size: int) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                sa.select(sa.literal(1)).where(received_name.c.name == name, received_name.c.size == size)
            )
        return found is not None

    async def seen_names(self, files: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        if not files:
            return set()
        wanted = set(files)
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(received_name.c.name, received_name.c.size).where(
                    received_name.c.name
                    == sa.func.any(sa.literal(sorted({name for name, _ in files}), ARRAY(sa.Text)))
                )
            )
            return {(r.name, r.size) for r in rows} & wanted

    async def seen_versions(
        self, files: Sequence[tuple[str, int, int | None]]
    ) -> set[tuple[str, int, int | None]]:
        if not files:
            return set()
        v = received_version.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(v.name, v.size, v.mtime).where(
                    v.name == sa.func.any(sa.literal(sorted({name for name, _, _ in files}), ARRAY(sa.Text)))
                )
            )
            known = {(r.name, r.size, r.mtime) for r in rows}
        return {f for f in files if (f[0], f[1], -1 if f[2] is None else f[2]) in known}

    async def note_version(self, *, name: str, size: int, mtime: int | None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                pg_insert(received_version)
                .values(name=name, size=size, mtime=-1 if mtime is None else mtime)
                .on_conflict_do_nothing()
            )

    async def record(self, *, name: str, sha256: str, size: int, kind: str) -> bool:
        async with self.engine.begin() as conn:
            return await record_file(conn, name=name, sha256=sha256, size=size, kind=kind)


async def record_file(conn: AsyncConnection, *, name: str, sha256: str, size: int, kind: str) -> bool:
    """Record a received file in ``conn``'s transaction; False when its content was recorded before."""
    await conn.execute(
        pg_insert(received_name).values(name=name, size=size, sha256=sha256).on_conflict_do_nothing()
    )
    result = await conn.execute(
        pg_insert(received_file)
        .values(sha256=sha256, name=name, size=size, kind=kind)
        .on_conflict_do_nothing()
        .returning(received_file.c.sha256)
    )
    return result.first() is not None


async def upsert_reference(
    conn: AsyncConnection,
    *,
    kind: str,
    entity_id: str,
    body: dict[str, Any],
    updated_at: datetime,
    deleted: bool = False,
    patient_id: str | None = None,
) -> None:
    """Keep the newest state of a reference entity (an older event never overwrites a newer one)."""
    stmt = pg_insert(reference).values(
        kind=kind,
        entity_id=entity_id,
        patient_id=patient_id,
        body=body,
        deleted=deleted,
        updated_at=updated_at,
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[reference.c.kind, reference.c.entity_id],
            set_={
                "body": stmt.excluded.body,
                "deleted": stmt.excluded.deleted,
                "patient_id": stmt.excluded.patient_id,
                "updated_at": stmt.excluded.updated_at,
            },
            where=reference.c.updated_at <= stmt.excluded.updated_at,
        )
    )


async def references(
    conn: AsyncConnection, kind: str, *, ids: Sequence[str] | None = None, patient_id: str | None = None
) -> list[dict[str, Any]]:
    """Bodies of the live entities of ``kind`` (all, by id, or of one patient)."""
    rows = await keyed_references(
        conn, kind, ids=ids, patient_ids=None if patient_id is None else [patient_id]
    )
    return [body for _, _, body in rows]


async def keyed_references(
    conn: AsyncConnection,
    kind: str,
    *,
    ids: Sequence[str] | None = None,
    patient_ids: Sequence[str] | None = None,
) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(entity id, patient id, body) of the live entities of ``kind``: all, by id, or of some
    patients, in one query."""
    r = reference.c
    query = sa.select(r.entity_id, r.patient_id, r.body).where(r.kind == kind, r.deleted.is_(False))
    if ids is not None:
        query = query.where(among(r.entity_id, ids))
    if patient_ids is not None:
        query = query.where(among(r.patient_id, patient_ids))
    return [(row.entity_id, row.patient_id, row.body) for row in await conn.execute(query)]


SHARED_KINDS = ("organization", "fee_schedule", "payer", "provider")
"""Reference kinds every claim reads and that change rarely: kept in memory by ``SharedReferences``."""

_SHARED = ", ".join(f"'{kind}'" for kind in SHARED_KINDS)
REFERENCE_STAMP_DDL = (
    "INSERT INTO reference_stamp (id, stamp) VALUES (1, 0) ON CONFLICT DO NOTHING",
    """CREATE OR REPLACE FUNCTION raise_reference_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE reference_stamp SET stamp = stamp + 1 WHERE id = 1;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS reference_stamp_written ON reference",
    "CREATE TRIGGER reference_stamp_written AFTER INSERT OR UPDATE ON reference FOR EACH ROW"
    f" WHEN (NEW.kind IN ({_SHARED})) EXECUTE FUNCTION raise_reference_stamp()",
    "DROP TRIGGER IF EXISTS reference_stamp_deleted ON reference",
    "CREATE TRIGGER reference_stamp_deleted AFTER DELETE ON reference FOR EACH ROW"
    f" WHEN (OLD.kind IN ({_SHARED})) EXECUTE FUNCTION raise_reference_stamp()",
)
"""The stamp's row and triggers (run by a revision): any write of a shared row, by any path,
raises the stamp in the writer's transaction; a rollback takes it back, and concurrent writers
take turns on the one row, so every committed write leaves a stamp no reader has seen before."""

T = TypeVar("T")


class SharedReferences:
    """This process's copy of the shared reference rows, and what was derived from them.

    ``sync`` costs one primary-key read of ``reference_stamp``, however many providers and
    payers are on file. Every write of a shared row (committed, or this transaction's own)
    raises the stamp, a rollback brings it back, so any difference means "reload"; otherwise the
    bodies and the values derived from them (parsed providers, payer rules, fee schedules) are
    reused. Other replicas' writes are seen once committed, as with a query.
    """

    def __init__(self) -> None:
        self._fingerprint: int | None = None
        self._bodies: dict[str, dict[str, dict[str, Any]]] = {}
        self._derived: dict[Hashable, Any] = {}
        self.reloads = 0

    async def sync(self, conn: AsyncConnection) -> None:
        r = reference.c
        fingerprint = await conn.scalar(STAMP)
        if fingerprint is None:
            raise RuntimeError("reference_stamp has no row: the claims migrations were not run to head")
        if fingerprint == self._fingerprint:
            return
        bodies: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in SHARED_KINDS}
        for kind, entity_id, body in await conn.execute(
            sa.select(r.kind, r.entity_id, r.body)
            .where(r.kind.in_(SHARED_KINDS), r.deleted.is_(False))
            .order_by(r.kind, r.entity_id)
        ):
            bodies[kind][entity_id] = body
        self._bodies, self._derived, self._fingerprint = bodies, {}, fingerprint
        self.reloads += 1

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every live body of ``kind`` (after ``sync``)."""
        return list(self._bodies.get(kind, {}).values())

    def get(self, kind: str, entity_id: str) -> dict[str, Any] | None:
        return self._bodies.get(kind, {}).get(entity_id)

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per reload: for values computed from the shared bodies only."""
        try:
            return cast(T, self._derived[key])
        except KeyError:
            value = self._derived[key] = build()
            return value
