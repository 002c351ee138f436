"""Payers found by electronic payer id (a 271's other payer is matched to ours by it).

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
    # 0001 builds the tables from the current metadata, so on a fresh database the index exists already.
    op.execute(
        "CREATE INDEX IF NOT EXISTS elig_payer_electronic_payer_id ON elig_payer "
        "((body ->> 'electronic_payer_id')) WHERE deleted IS false"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS elig_payer_electronic_payer_id")
