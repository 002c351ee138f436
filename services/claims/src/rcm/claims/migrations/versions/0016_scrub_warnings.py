"""What the edits warned of when a claim passed them (``scrub_warnings``).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the column exists already.
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS scrub_warnings jsonb NOT NULL DEFAULT '[]'")


def downgrade() -> None:
    op.execute("ALTER TABLE claim DROP COLUMN IF EXISTS scrub_warnings")
