"""Per-unit visual challenge kinds and base difficulty.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(
            sa.Column("kinds", sa.JSON(), nullable=False, server_default=sa.text("'[\"slide\"]'"))
        )
        batch.add_column(
            sa.Column("difficulty", sa.Integer(), nullable=False, server_default=sa.text("2"))
        )


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.drop_column("difficulty")
        batch.drop_column("kinds")
