"""The charge of each adjudicated line (``adjudication.charge``): the denominator of the denial
rate by dollars. Rows written before it have none and count no dollars.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the column exists already.
    op.execute("ALTER TABLE adjudication ADD COLUMN IF NOT EXISTS charge numeric(14, 2)")


def downgrade() -> None:
    op.execute("ALTER TABLE adjudication DROP COLUMN IF EXISTS charge")
