"""Parts of acknowledgment files set aside because they cannot be read (a 999 set, a 277CA claim, a TA1).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

from rcm.claims import store

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the table exists already.
    store.unread_acknowledgment.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.unread_acknowledgment.drop(op.get_bind(), checkfirst=True)
