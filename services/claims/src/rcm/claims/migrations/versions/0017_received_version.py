"""Each version (name, size, modification time) of a mailbox file read (``received_version``).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the table exists already.
    op.execute(
        "CREATE TABLE IF NOT EXISTS received_version (name text NOT NULL, size integer NOT NULL,"
        " mtime bigint NOT NULL, PRIMARY KEY (name, size, mtime))"
    )
    op.execute("COMMENT ON COLUMN received_version.mtime IS '-1 when the server gives none'")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS received_version")
