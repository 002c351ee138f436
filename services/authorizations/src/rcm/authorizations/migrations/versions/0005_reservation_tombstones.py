"""Reservations that hold nothing: a cancellation received before its schedule, a schedule
received after its visit was billed.

``reservation.authorization_id`` and ``service_date`` may be empty: a cancellation that finds
no booking leaves a released row with its ``cancelled_at`` and no authorization or day (a
tombstone), so the schedule arriving after it books nothing; a schedule whose visit was
billed before it arrived is kept released as ``billed`` with no authorization.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE reservation ALTER COLUMN authorization_id DROP NOT NULL")
    op.execute("ALTER TABLE reservation ALTER COLUMN service_date DROP NOT NULL")


def downgrade() -> None:
    # rows holding nothing have no place before this revision: they are dropped
    op.execute("DELETE FROM reservation WHERE authorization_id IS NULL OR service_date IS NULL")
    op.execute("ALTER TABLE reservation ALTER COLUMN service_date SET NOT NULL")
    op.execute("ALTER TABLE reservation ALTER COLUMN authorization_id SET NOT NULL")
