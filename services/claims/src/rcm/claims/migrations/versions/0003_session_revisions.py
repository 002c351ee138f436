"""Session revisions: which correction of its session a claim was coded from.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the columns exist already.
    op.execute("ALTER TABLE session ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS session_revision integer NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE claim DROP COLUMN IF EXISTS session_revision")
    op.execute("ALTER TABLE session DROP COLUMN IF EXISTS revision")
