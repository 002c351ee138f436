"""The claims tables, the interchange control sequence and the runtime's tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from rcm.claims.store import interchange_sequence, metadata
from rcm.servicekit.db import create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    interchange_sequence.create(bind)
    metadata.create_all(bind)
    create_kit_tables()


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(bind)
    interchange_sequence.drop(bind)
