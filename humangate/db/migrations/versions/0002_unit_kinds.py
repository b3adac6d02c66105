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
    # Plain ADD COLUMN: a batch rebuild of `units` on SQLite would drop the table and, with
    # foreign keys on, every unit's secrets with it.
    op.add_column(
        "units",
        sa.Column("kinds", sa.JSON(), nullable=False, server_default=sa.text("'[\"slide\"]'")),
    )
    op.add_column(
        "units", sa.Column("difficulty", sa.Integer(), nullable=False, server_default=sa.text("2"))
    )


def downgrade() -> None:
    # Plain DROP COLUMN: a batch rebuild on SQLite would take every unit's secrets with it.
    op.execute("ALTER TABLE units DROP COLUMN difficulty")
    op.execute("ALTER TABLE units DROP COLUMN kinds")
