"""What burning a billed line again takes, replaced claims and partly covered lines.

- ``service_line`` keeps the line's coverage, units and rendering provider, so a line can be
  burned again when an authorization received later covers it, or no longer covers it;
- ``replaced_claim`` remembers the claims a replacement (frequency 7) took the place of;
- ``uncovered_line.quantity`` is the shortfall of a line covered in part, and the table is
  found by patient (the lines an authorization received later may take);
- ``reservation.scheduled_at`` and ``cancelled_at`` keep the scheduler's times of the schedule
  booked and of the cancellation, so an older event arriving late changes nothing.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from rcm.authorizations import store

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database all of this exists already.
    op.execute("ALTER TABLE service_line ADD COLUMN IF NOT EXISTS coverage_id text")
    op.execute("ALTER TABLE service_line ADD COLUMN IF NOT EXISTS units integer")
    op.execute("ALTER TABLE service_line ADD COLUMN IF NOT EXISTS provider_id text")
    op.execute("ALTER TABLE uncovered_line ADD COLUMN IF NOT EXISTS quantity integer")
    op.execute("CREATE INDEX IF NOT EXISTS ix_uncovered_line_patient_id ON uncovered_line (patient_id)")
    op.execute("ALTER TABLE reservation ADD COLUMN IF NOT EXISTS scheduled_at timestamptz")
    op.execute("ALTER TABLE reservation ADD COLUMN IF NOT EXISTS cancelled_at timestamptz")
    store.replaced_claim.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    store.replaced_claim.drop(op.get_bind(), checkfirst=True)
    op.execute("ALTER TABLE reservation DROP COLUMN IF EXISTS cancelled_at")
    op.execute("ALTER TABLE reservation DROP COLUMN IF EXISTS scheduled_at")
    op.execute("DROP INDEX IF EXISTS ix_uncovered_line_patient_id")
    # the shortfall of a line covered in part has no place before this revision: it is dropped
    op.execute("ALTER TABLE uncovered_line DROP COLUMN IF EXISTS quantity")
    op.execute("ALTER TABLE service_line DROP COLUMN IF EXISTS provider_id")
    op.execute("ALTER TABLE service_line DROP COLUMN IF EXISTS units")
    op.execute("ALTER TABLE service_line DROP COLUMN IF EXISTS coverage_id")
