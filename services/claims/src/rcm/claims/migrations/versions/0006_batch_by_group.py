"""An index on a batch's group control number, which a 999 acknowledgment names it by.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

from rcm.claims import store

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the index exists already.
    store.BATCH_BY_GROUP.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.BATCH_BY_GROUP.drop(op.get_bind(), checkfirst=True)
