"""Open information requests by claim (a payer's 277 asking for more before it adjudicates is a
work item until the claim is adjudicated or voided), through a partial index.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from rcm.denials import store

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_NAME = "work_item_open_requests"


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database it exists already.
    for index in store.work_item.indexes:
        if index.name == _NAME:
            index.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_index(_NAME, if_exists=True)
