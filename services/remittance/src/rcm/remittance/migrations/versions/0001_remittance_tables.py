"""The remittance tables and the runtime's inbox, outbox and parked keys.

Revision ID: 0001
Revises:
"""

from alembic import op

from rcm.remittance.store import metadata
from rcm.servicekit.db import create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The tables as they are at this revision; later revisions change them with explicit ops.
    metadata.create_all(op.get_bind())
    create_kit_tables()


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
