"""The runtime's retention indexes on its inbox and outbox (block-range indexes on their times).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from rcm.servicekit import create_kit_indexes, drop_kit_indexes

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database they exist already.
    create_kit_indexes()


def downgrade() -> None:
    drop_kit_indexes()
