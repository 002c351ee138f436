"""Checks queued behind a busy payer keep what asked for them and how fresh an answer must be.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the columns exist already.
    op.execute("ALTER TABLE elig_scheduled_check ADD COLUMN IF NOT EXISTS trigger text")
    op.execute("ALTER TABLE elig_scheduled_check ADD COLUMN IF NOT EXISTS not_before timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE elig_scheduled_check DROP COLUMN IF EXISTS not_before")
    op.execute("ALTER TABLE elig_scheduled_check DROP COLUMN IF EXISTS trigger")
