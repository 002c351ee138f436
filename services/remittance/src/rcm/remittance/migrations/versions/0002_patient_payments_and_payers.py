"""Patient payments, the payer projection, each claim's patient payments and each 835 payment's payer.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from rcm.remittance import store as t

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database all of this exists already.
    bind = op.get_bind()
    t.metadata.create_all(bind, tables=[t.patient_payment, t.payer], checkfirst=True)
    op.execute("ALTER TABLE claim ADD COLUMN IF NOT EXISTS patient_paid numeric(14, 2) NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE payment ADD COLUMN IF NOT EXISTS payer_id text")


def downgrade() -> None:
    op.execute("ALTER TABLE payment DROP COLUMN IF EXISTS payer_id")
    op.execute("ALTER TABLE claim DROP COLUMN IF EXISTS patient_paid")
    op.drop_table("payer")
    op.drop_table("patient_payment")
