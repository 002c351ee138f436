"""What a 278 renewal request needs from the ledger: diagnoses and its own control numbers.

- ``service_line.diagnoses`` keeps the ICD-10-CM codes each billed line points at, so a 278
  asking to extend or renew the authorization the line used names them (2000E HI);
- ``interchange_control_seq`` numbers the 278 files (ISA13/GS06), so no two share a number.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

from rcm.authorizations import store

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the column exists already.
    op.execute("ALTER TABLE service_line ADD COLUMN IF NOT EXISTS diagnoses text[]")
    store.interchange_sequence.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.interchange_sequence.drop(op.get_bind(), checkfirst=True)
    # lines billed before this revision have no diagnoses on file: they are dropped
    op.execute("ALTER TABLE service_line DROP COLUMN IF EXISTS diagnoses")
