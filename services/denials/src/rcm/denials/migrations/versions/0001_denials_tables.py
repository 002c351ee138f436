"""Denials tables, projections and the runtime's inbox/outbox.

Revision ID: 0001
Revises:
"""

from alembic import op

from rcm.denials.store import metadata
from rcm.servicekit import create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())
    create_kit_tables()


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
