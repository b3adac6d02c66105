"""Console accounts: accounts, sessions, known devices, one-time codes, audit, inbox, holds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _moment(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _owner() -> sa.Column[int]:
    return sa.Column(
        "account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("email_key", sa.String(254), nullable=True, unique=True),
        sa.Column("phone", sa.String(16), nullable=True, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        _moment("status_changed_at", nullable=True),
        sa.Column("disabled_unit_ids", sa.JSON(), nullable=False),
        _moment("created_at"),
        _moment("confirmed_at", nullable=True),
        _moment("last_active_at"),
        _moment("inactivity_warned_at", nullable=True),
    )
    op.create_index("ix_accounts_status", "accounts", ["status"])
    op.create_index("ix_accounts_last_active_at", "accounts", ["last_active_at"])
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
        _moment("created_at"),
        _moment("last_seen_at"),
        _moment("expires_at"),
        sa.Column("ip_prefix", sa.String(64), nullable=False),
        sa.Column("device_label", sa.String(100), nullable=False),
    )
    op.create_index("ix_account_sessions_account_id", "account_sessions", ["account_id"])
    op.create_table(
        "known_devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column("device_digest", sa.String(64), nullable=False),
        sa.Column("network", sa.String(64), nullable=False),
        _moment("first_seen_at"),
        _moment("last_seen_at"),
        sa.UniqueConstraint("account_id", "device_digest", "network"),
    )
    op.create_index("ix_known_devices_account_id", "known_devices", ["account_id"])
    op.create_table(
        "account_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("target", sa.String(254), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        _moment("created_at"),
        _moment("expires_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _moment("used_at", nullable=True),
    )
    op.create_index("ix_account_codes_account_id", "account_codes", ["account_id"])
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        _moment("created_at"),
        sa.Column("actor_kind", sa.String(10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("ip_prefix", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_entries_created_at", "audit_entries", ["created_at"])
    op.create_index("ix_audit_entries_action", "audit_entries", ["action"])
    op.create_index("ix_audit_entries_account_id", "audit_entries", ["account_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        _owner(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _moment("created_at"),
        _moment("read_at", nullable=True),
    )
    op.create_index("ix_notifications_account_id", "notifications", ["account_id"])
    op.create_table(
        "identifier_holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("identifier_digest", sa.String(64), nullable=False, unique=True),
        _moment("held_until"),
        _moment("created_at"),
    )
    op.create_index("ix_identifier_holds_held_until", "identifier_holds", ["held_until"])
    _add_unit_owner()
    op.create_index("ix_units_account_id", "units", ["account_id"])


def _add_unit_owner() -> None:
    """units.account_id, by a plain ADD COLUMN … REFERENCES and never by a batch copy: on SQLite
    with foreign keys on, dropping the old `units` table would cascade into its secrets and risk
    events. SQLite accepts REFERENCES in ADD COLUMN when the default is NULL."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE units ADD COLUMN account_id INTEGER "
            "REFERENCES accounts (id) ON DELETE CASCADE"
        )
        return
    op.add_column("units", sa.Column("account_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_units_account_id", "units", "accounts", ["account_id"], ["id"], ondelete="CASCADE"
    )


def downgrade() -> None:
    op.drop_index("ix_units_account_id", table_name="units")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite 3.35+ drops the column in place; a batch copy would cascade (see above).
        op.execute("ALTER TABLE units DROP COLUMN account_id")
    else:
        op.drop_constraint("fk_units_account_id", "units", type_="foreignkey")
        op.drop_column("units", "account_id")
    for table in (
        "identifier_holds",
        "notifications",
        "audit_entries",
        "account_codes",
        "known_devices",
        "account_sessions",
        "accounts",
    ):
        op.drop_table(table)
