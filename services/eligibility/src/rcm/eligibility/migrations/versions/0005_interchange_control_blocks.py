"""The sequence the 270 interchange control numbers (ISA13/GS06) are taken from, in blocks.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE SEQUENCE IF NOT EXISTS elig_interchange_control_block "
        "START 1 MINVALUE 1 MAXVALUE 999999 CYCLE"
    )


def downgrade() -> None:
    op.execute("DROP SEQUENCE IF EXISTS elig_interchange_control_block")
