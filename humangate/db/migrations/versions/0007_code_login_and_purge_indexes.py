"""An owner may turn login by one-time code off; the terms version an owner accepted; a visitor
may opt a device out of risk records; indexes for the housekeeping purges.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("code_login", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "device_opt_outs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("device_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit_id", "device_id"),
    )
    op.add_column("accounts", sa.Column("terms_version", sa.String(40), nullable=True))
    op.add_column(
        "accounts", sa.Column("terms_accepted_at", sa.DateTime(timezone=True), nullable=True)
    )
    # The hourly purges select by these columns (DEVICE_/NOTICE_RETENTION_DAYS).
    op.create_index("ix_known_devices_last_seen_at", "known_devices", ["last_seen_at"])
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])


def downgrade() -> None:
    op.drop_table("device_opt_outs")
    op.drop_index("ix_notifications_created_at", "notifications")
    op.drop_index("ix_known_devices_last_seen_at", "known_devices")
    op.drop_column("accounts", "terms_accepted_at")
    op.drop_column("accounts", "terms_version")
    op.drop_column("accounts", "code_login")
