"""What each verification cost its owner: `verifications.cost`, in minor units of the billing
currency, the prices its sends were charged less the credit notes for codes not delivered. NULL
for verifications started while billing was off (rows older than this revision included).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no batch rebuild of the table on SQLite.
    op.add_column("verifications", sa.Column("cost", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL), never a batch copy of every verification.
    op.execute("ALTER TABLE verifications DROP COLUMN cost")
