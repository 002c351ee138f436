"""Denied amounts the denials service writes off (claim-write-off-requested): each request once
(``claim_write_off``), and the claim's total as applied (``claim.written_off``).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database they exist already.
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS written_off numeric(14, 2) NOT NULL DEFAULT 0")
    op.execute(
        "COMMENT ON COLUMN claim.written_off IS "
        "'denied amounts the denials service wrote off, as applied (claim_write_off)'"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS claim_write_off (request_id text PRIMARY KEY, claim_id text NOT NULL,"
        " denial_id text, reason text NOT NULL, requested numeric(14, 2) NOT NULL, applied numeric(14, 2),"
        " requested_at timestamptz NOT NULL, applied_at timestamptz,"
        " created_at timestamptz NOT NULL DEFAULT now())"
    )
    op.execute("CREATE INDEX IF NOT EXISTS ix_claim_write_off_claim_id ON claim_write_off (claim_id)")
    op.execute("COMMENT ON COLUMN claim_write_off.request_id IS 'claim-write-off-requested, once each'")
    op.execute("COMMENT ON COLUMN claim_write_off.requested IS 'the amount the request names'")
    op.execute(
        "COMMENT ON COLUMN claim_write_off.applied IS "
        "'what it closed of the claim''s open denied amount; null: waiting'"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS claim_write_off")
    op.execute("ALTER TABLE claim DROP COLUMN IF EXISTS written_off")
