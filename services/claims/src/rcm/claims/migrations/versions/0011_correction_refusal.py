"""Corrections refused (an unknown provider, a recode with nothing billable...), one per request.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

from rcm.claims import store

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the table exists already.
    store.correction_refusal.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.correction_refusal.drop(op.get_bind(), checkfirst=True)
