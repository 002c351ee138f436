"""The deposit's ACH originator (company id), when the bank gives it: reassociation matches it
against the 835's TRN03 so two payers' equal trace numbers are not cross-matched.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the column exists already.
    op.execute("ALTER TABLE deposit ADD COLUMN IF NOT EXISTS originator_id text")


def downgrade() -> None:
    op.execute("ALTER TABLE deposit DROP COLUMN IF EXISTS originator_id")
