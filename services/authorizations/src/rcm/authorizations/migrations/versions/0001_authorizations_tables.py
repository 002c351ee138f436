"""The authorizations ledger tables and the runtime's tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from rcm.authorizations.store import metadata
from rcm.servicekit.db import create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())
    create_kit_tables()


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
