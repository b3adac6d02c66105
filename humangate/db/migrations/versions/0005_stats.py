"""Per-unit counters by hour.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_stats",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.String(24), nullable=False),
        sa.Column("key", sa.String(48), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("unit_id", "hour", "metric", "key"),
    )


def downgrade() -> None:
    op.drop_table("unit_stats")
