"""A payment is one per payer, TRN02, BPR02 and date (a payer may reuse a TRN02 for another
payment); a PLB amount keeps the claim its reference names even when it is the account's.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

from rcm.remittance import store as t

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NEW = (t.PAYMENT_BY_TRACE, t.PROVIDER_ADJUSTMENT_BY_NAMED_CLAIM)


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database this is so already.
    op.execute("ALTER TABLE payment DROP CONSTRAINT IF EXISTS payment_payer_trace")
    op.execute("ALTER TABLE provider_adjustment ADD COLUMN IF NOT EXISTS named_claim_id text")
    for index in _NEW:
        index.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for index in _NEW:
        index.drop(op.get_bind(), checkfirst=True)
    op.execute("ALTER TABLE provider_adjustment DROP COLUMN IF EXISTS named_claim_id")
    # fails when a payer reused a TRN02 since: those payments are to be told apart first
    op.execute("ALTER TABLE payment ADD CONSTRAINT payment_payer_trace UNIQUE (payer_ref, trace_number)")
