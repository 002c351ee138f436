"""How a visit is delivered, for its telehealth benefits: the appointment's modality, and a
scheduled re-check's telehealth places of service.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds the tables from the current metadata, so on a fresh database the columns exist already.
    op.execute("ALTER TABLE elig_appointment ADD COLUMN IF NOT EXISTS modality text")
    op.execute("ALTER TABLE elig_scheduled_check ADD COLUMN IF NOT EXISTS telehealth_places text")


def downgrade() -> None:
    op.execute("ALTER TABLE elig_scheduled_check DROP COLUMN IF EXISTS telehealth_places")
    op.execute("ALTER TABLE elig_appointment DROP COLUMN IF EXISTS modality")
