"""A secondary-claim-requested whose coverage is not on file yet waits for it
(``pending_secondary_request``) instead of being dropped.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

from rcm.claims import store

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the table exists already.
    store.pending_secondary_request.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.pending_secondary_request.drop(op.get_bind(), checkfirst=True)
