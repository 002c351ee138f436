"""Every remit applied to a claim, with the lines it adjudicated (a split claim adds up).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

from rcm.claims import store

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the table exists already.
    store.claim_remit.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.claim_remit.drop(op.get_bind(), checkfirst=True)
