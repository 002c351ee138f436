"""A deposit is its trace number, amount, date and payer: the ACH originator (the payer's TRN03)
joins the deposit's key, so two payers' EFTs alike in trace, amount and date are two deposits.

Rows recorded before keep their originator; their key is that originator compared as
``reassociation.payer_key`` compares it ('' when the bank gave none).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database this is so already.
    op.execute("ALTER TABLE deposit ADD COLUMN IF NOT EXISTS originator_key text NOT NULL DEFAULT ''")
    op.execute(
        "UPDATE deposit SET originator_key = CASE"
        " WHEN originator_id IS NULL OR btrim(originator_id) = '' THEN ''"
        " WHEN upper(btrim(originator_id)) ~ '^1[0-9]{9}$' THEN substr(btrim(originator_id), 2)"
        " ELSE upper(btrim(originator_id)) END"
    )
    op.execute(
        "COMMENT ON COLUMN deposit.originator_key IS "
        "'originator_id compared (reassociation.payer_key); '''' when the bank gave none'"
    )
    op.execute("ALTER TABLE deposit DROP CONSTRAINT IF EXISTS deposit_once")
    op.execute(
        "ALTER TABLE deposit ADD CONSTRAINT deposit_once"
        " UNIQUE (trace_key, amount, deposit_date, originator_key)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE deposit DROP CONSTRAINT IF EXISTS deposit_once")
    # fails when two payers' deposits alike in trace, amount and date were recorded since
    op.execute("ALTER TABLE deposit ADD CONSTRAINT deposit_once UNIQUE (trace_key, amount, deposit_date)")
    op.execute("ALTER TABLE deposit DROP COLUMN IF EXISTS originator_key")
