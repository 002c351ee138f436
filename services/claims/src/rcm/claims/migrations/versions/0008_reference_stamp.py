"""One stamp row raised by triggers on writes of shared reference rows: a process checks it with one
primary-key read instead of summing every provider's and payer's write stamps per batch.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

from rcm.claims import store

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the table exists already.
    store.metadata.create_all(op.get_bind(), tables=[store.reference_stamp], checkfirst=True)
    for statement in store.REFERENCE_STAMP_DDL:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS reference_stamp_written ON reference")
    op.execute("DROP TRIGGER IF EXISTS reference_stamp_deleted ON reference")
    op.execute("DROP FUNCTION IF EXISTS raise_reference_stamp()")
    op.drop_table("reference_stamp")
