"""The reference rows' write stamps (``version`` and its sequence), read by nothing since the
stamp row of 0008 tells the processes that a shared row changed.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE reference DROP COLUMN IF EXISTS version")
    op.execute("DROP SEQUENCE IF EXISTS reference_version")


def downgrade() -> None:
    op.execute("CREATE SEQUENCE IF NOT EXISTS reference_version")
    op.execute(
        "ALTER TABLE reference ADD COLUMN IF NOT EXISTS version bigint NOT NULL "
        "DEFAULT nextval('reference_version')"
    )
