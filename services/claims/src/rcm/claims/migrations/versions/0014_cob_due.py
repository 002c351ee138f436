"""A next payer's claim on its way when the prior payer adjudicates again keeps the new
adjudication (``cob_due``) until the payer acknowledges the claim, then sends it as a replacement.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the column exists already.
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS cob_due jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE claim DROP COLUMN IF EXISTS cob_due")
