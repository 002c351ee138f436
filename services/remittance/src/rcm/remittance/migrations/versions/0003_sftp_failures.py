"""Files of the SFTP mailbox that failed to post: consecutive failures, and the hold after N of them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from rcm.remittance import store as t

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database this exists already.
    t.metadata.create_all(op.get_bind(), tables=[t.sftp_failure], checkfirst=True)


def downgrade() -> None:
    op.drop_table("sftp_failure")
