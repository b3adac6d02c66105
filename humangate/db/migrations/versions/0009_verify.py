"""The verification API: apps and their sealed secrets, verifications, signed requests' nonces,
usage per day and country, and the prefixes the pumping guard blocked.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _app_id() -> sa.Column[int]:
    return sa.Column(
        "app_id",
        sa.Integer(),
        sa.ForeignKey("verify_apps.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "verify_apps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        sa.Column("app_key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("three_carriers_only", sa.Boolean(), nullable=False),
        sa.Column("allow_virtual", sa.Boolean(), nullable=False),
        sa.Column("code_length", sa.Integer(), nullable=False),
        sa.Column("code_ttl", sa.Integer(), nullable=False),
        sa.Column("templates", sa.JSON(), nullable=False),
        sa.Column("require_token", sa.Boolean(), nullable=False),
        sa.Column("sitekey", sa.String(64), nullable=True),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("destination_daily_cap", sa.Integer(), nullable=False),
        sa.Column("prefix_hourly_cap", sa.Integer(), nullable=False),
        sa.Column("network_hourly_cap", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "verify_app_secrets",
        sa.Column("id", sa.Integer(), primary_key=True),
        _app_id(),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_verify_app_secrets_app_id", "verify_app_secrets", ["app_id"])
    op.create_table(
        "verifications",
        sa.Column("id", sa.String(40), primary_key=True),
        _app_id(),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("destination_digest", sa.String(64), nullable=False),
        sa.Column("destination_masked", sa.String(80), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("carrier", sa.String(24), nullable=True),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code_digest", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("network", sa.String(64), nullable=True),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("app_id", "idempotency_key"),
    )
    op.create_index("ix_verifications_created_at", "verifications", ["created_at"])
    op.create_index(
        "ix_verifications_app_destination", "verifications", ["app_id", "destination_digest"]
    )
    op.create_index("ix_verifications_app_created", "verifications", ["app_id", "created_at"])
    op.create_table(
        "verify_nonces",
        sa.Column(
            "app_id",
            sa.Integer(),
            sa.ForeignKey("verify_apps.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_verify_nonces_expires_at", "verify_nonces", ["expires_at"])
    op.create_table(
        "verify_usage",
        sa.Column("id", sa.Integer(), primary_key=True),
        _app_id(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.UniqueConstraint("app_id", "day", "channel", "country"),
    )
    op.create_table(
        "verify_prefix_blocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        _app_id(),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_verify_prefix_blocks_app_id", "verify_prefix_blocks", ["app_id"])


def downgrade() -> None:
    for table in (
        "verify_prefix_blocks",
        "verify_usage",
        "verify_nonces",
        "verifications",
        "verify_app_secrets",
        "verify_apps",
    ):
        op.drop_table(table)
