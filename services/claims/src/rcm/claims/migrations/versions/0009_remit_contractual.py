"""A claim's contract write-off on its latest remit (CO-45), which A/R leaves out of the balance.

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
    # 0001 builds the tables from the current metadata, so on a fresh database the column exists already.
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS remit_contractual numeric(12, 2)")


def downgrade() -> None:
    op.execute("ALTER TABLE claim DROP COLUMN IF EXISTS remit_contractual")
