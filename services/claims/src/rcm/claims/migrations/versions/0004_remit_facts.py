"""What the latest remit said of a claim, for finalization: when, paid, patient's share, crossover.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the columns exist already.
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS remitted_at timestamptz")
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS remit_paid numeric(12, 2)")
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS remit_patient_responsibility numeric(12, 2)")
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS crossed_over boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    for column in ("crossed_over", "remit_patient_responsibility", "remit_paid", "remitted_at"):
        op.execute(f"ALTER TABLE claim DROP COLUMN IF EXISTS {column}")
