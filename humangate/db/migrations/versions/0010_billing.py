"""Billing: plans, owners' billing accounts, the double-entry ledger, vouchers, statements and
payment providers' events.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _account(nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer(),
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=nullable,
    )


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "billing_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False, unique=True),
        sa.Column("edition", sa.String(16), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        _at("created_at"),
    )
    op.create_table(
        "billing_accounts",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("billing_plans.id"), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("notified_below", sa.BigInteger(), nullable=True),
        _at("created_at"),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _account(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False, unique=True),
        _at("created_at"),
        _at("effective_at"),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("item", sa.String(24), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_ledger_transactions_account_id", "ledger_transactions", ["account_id"])
    op.create_index("ix_ledger_transactions_created_at", "ledger_transactions", ["created_at"])
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "transaction_id",
            sa.Integer(),
            sa.ForeignKey("ledger_transactions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _account(),
        sa.Column("book", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_ledger_postings_transaction_id", "ledger_postings", ["transaction_id"])
    op.create_index("ix_ledger_postings_account_book", "ledger_postings", ["account_id", "book"])
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_digest", sa.String(64), nullable=True, unique=True),
        sa.Column("batch", sa.String(60), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        _at("expires_at"),
        _account(nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _at("created_at"),
        _at("redeemed_at", nullable=True),
        _at("voided_at", nullable=True),
    )
    op.create_index("ix_vouchers_batch", "vouchers", ["batch"])
    op.create_index("ix_vouchers_expires_at", "vouchers", ["expires_at"])
    op.create_index("ix_vouchers_account_id", "vouchers", ["account_id"])
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(40), nullable=False, unique=True),
        _account(),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("opening", sa.BigInteger(), nullable=False),
        sa.Column("closing", sa.BigInteger(), nullable=False),
        _at("created_at"),
        sa.UniqueConstraint("account_id", "period"),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        _account(nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _at("created_at"),
        sa.UniqueConstraint("provider", "event_id"),
    )
    op.create_index("ix_payment_events_account_id", "payment_events", ["account_id"])


def downgrade() -> None:
    for table in (
        "payment_events",
        "statements",
        "vouchers",
        "ledger_postings",
        "ledger_transactions",
        "billing_accounts",
        "billing_plans",
    ):
        op.drop_table(table)
