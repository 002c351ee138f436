"""Indexes for posting's claim reads: claim keys in byte order (a cut control number is a range of
them) and payer claim numbers by claim.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from rcm.remittance import store as t

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_NEW = (t.CLAIM_KEY_PREFIX, t.PAYER_CLAIM_NUMBER_BY_CLAIM)


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database these exist already.
    for index in _NEW:
        index.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for index in _NEW:
        index.drop(op.get_bind(), checkfirst=True)
