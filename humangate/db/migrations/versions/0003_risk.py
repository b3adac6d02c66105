"""Risk settings per unit, the risk events kept for owners and visitors.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    empty_list = sa.text("'[]'")
    # Plain ADD COLUMN: a batch rebuild of `units` on SQLite would take the secrets with it.
    for column in (
        sa.Column("score_threshold", sa.Float(), nullable=True),
        sa.Column("calibrated_threshold", sa.Float(), nullable=True),
        sa.Column("allow_networks", sa.JSON(), nullable=False, server_default=empty_list),
        sa.Column("deny_networks", sa.JSON(), nullable=False, server_default=empty_list),
        sa.Column("good_bots", sa.JSON(), nullable=False, server_default=empty_list),
        sa.Column("device_salt", sa.String(32), nullable=False, server_default=sa.text("''")),
    ):
        op.add_column("units", column)
    units = sa.table("units", sa.column("id", sa.Integer), sa.column("device_salt", sa.String))
    connection = op.get_bind()
    for (unit_id,) in connection.execute(sa.select(units.c.id)).fetchall():
        connection.execute(
            units.update().where(units.c.id == unit_id).values(device_salt=secrets.token_hex(16))
        )
    op.create_table(
        "risk_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "unit_id", sa.Integer(), sa.ForeignKey("units.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(32), nullable=False),
        sa.Column("ip_prefix", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=True),
        sa.Column("label", sa.String(16), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_risk_events_unit_device", "risk_events", ["unit_id", "device_id"])
    op.create_index("ix_risk_events_created_at", "risk_events", ["created_at"])
    op.create_index("ix_risk_events_token_digest", "risk_events", ["token_digest"], unique=True)
    op.create_index("ix_risk_events_unit_label", "risk_events", ["unit_id", "label"])


def downgrade() -> None:
    op.drop_table("risk_events")
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch rebuild of `units` on SQLite would
    # drop the table and, with foreign keys on, every unit's secrets with it.
    for column in (
        "device_salt",
        "good_bots",
        "deny_networks",
        "allow_networks",
        "calibrated_threshold",
        "score_threshold",
    ):
        op.execute(f"ALTER TABLE units DROP COLUMN {column}")
