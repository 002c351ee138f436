"""Reservations found by authorization (the ledger sums them per authorization).

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
    # 0001 builds the tables from the current metadata, so on a fresh database the index exists already.
    op.execute("CREATE INDEX IF NOT EXISTS ix_reservation_authorization_id ON reservation (authorization_id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_reservation_authorization_id")
