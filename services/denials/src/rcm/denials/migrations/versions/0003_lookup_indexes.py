"""Open denials by patient and payer (an authorization on file is matched to the denials waiting
for it) and fix attempts by request (an answer to a re-check or a corrected claim names its request),
through indexes instead of scans of every denial and every fix.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from rcm.denials import store

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_NAMES = ("denial_open_by_patient", "ix_fix_attempt_request_id")
_INDEXES = [i for table in (store.denial, store.fix_attempt) for i in table.indexes if i.name in _NAMES]


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database they exist already.
    for index in _INDEXES:
        index.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for name in _NAMES:
        op.drop_index(name, if_exists=True)
