"""A unit's thresholds remember the behaviour model they were set against.

Existing thresholds were set against an earlier model whose scores lie on another scale; they are
left in place but no longer apply (the column starts empty) until the owner sets them again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("units", sa.Column("threshold_model", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("units", "threshold_model")
