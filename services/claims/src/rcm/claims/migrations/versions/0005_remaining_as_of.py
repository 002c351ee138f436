"""When the authorizations service counted an authorization's remaining visits.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the column exists already.
    op.execute('ALTER TABLE "authorization" ADD COLUMN IF NOT EXISTS remaining_as_of timestamptz')


def downgrade() -> None:
    op.execute('ALTER TABLE "authorization" DROP COLUMN IF EXISTS remaining_as_of')
