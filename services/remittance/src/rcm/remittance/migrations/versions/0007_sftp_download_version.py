"""Each version (name, size, modification time) of a mailbox file read (``sftp_download_version``).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the table exists already.
    op.execute(
        "CREATE TABLE IF NOT EXISTS sftp_download_version (name text NOT NULL, size integer NOT NULL,"
        " mtime bigint NOT NULL, PRIMARY KEY (name, size, mtime))"
    )
    op.execute("COMMENT ON COLUMN sftp_download_version.mtime IS '-1 when the server gives none'")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sftp_download_version")
