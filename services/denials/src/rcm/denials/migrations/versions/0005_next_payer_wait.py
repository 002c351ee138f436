"""A remit's patient share with no next payer on file waits for one (``next_payer_wait``): a
secondary or tertiary coverage added later is billed it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

from rcm.denials import store

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database it exists already.
    store.next_payer_wait.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.next_payer_wait.drop(op.get_bind(), checkfirst=True)
