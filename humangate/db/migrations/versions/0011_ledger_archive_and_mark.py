"""A cancelled owner's ledger kept apart where the law asks it, and a unit's HumanGate mark.

`ledger_archive` holds the ledger transactions of cancelled accounts, detached from them (no
foreign key: the account is gone), for HUMANGATE_BILLING_KEEP_LEDGER_DAYS, then purged; with 0
days nothing is kept. `units.hide_mark` asks the widget to leave the HumanGate name out (honoured
for the enterprise edition only, when billing is on).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_archive",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("former_account_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("item", sa.String(24), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        sa.Column("postings", sa.JSON(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.add_column(
        "units",
        sa.Column("hide_mark", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("units", "hide_mark")
    op.drop_table("ledger_archive")
