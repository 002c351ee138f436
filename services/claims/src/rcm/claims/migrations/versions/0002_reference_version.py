"""A write stamp on reference rows, so the shared references can be cached per process.

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
    # 0001 builds the tables from the current metadata; 0010 drops both again (read by nothing).
    op.execute("CREATE SEQUENCE IF NOT EXISTS reference_version")
    op.execute(
        "ALTER TABLE reference ADD COLUMN IF NOT EXISTS version bigint NOT NULL "
        "DEFAULT nextval('reference_version')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE reference DROP COLUMN IF EXISTS version")
    op.execute("DROP SEQUENCE IF EXISTS reference_version")
