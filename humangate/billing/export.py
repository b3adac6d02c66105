"""An owner's billing records in their data export: the plan, the balance, every ledger
transaction with its postings, the vouchers and the monthly statements. Amounts are integers in
minor units of `currency`. Voucher codes are held only as digests and are not exported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import aware
from humangate.db.models import (
    BillingAccount,
    BillingPlan,
    LedgerPosting,
    LedgerTransaction,
    Statement,
    Voucher,
)

OWNER_BOOK_PREFIX = "voucher:"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return aware(moment).isoformat()


async def export_billing(session: AsyncSession, account_id: int) -> dict[str, object]:
    """The account's billing records as JSON-serialisable values (empty when it has none)."""
    row = await session.get(BillingAccount, account_id)
    plan = None if row is None else await session.get(BillingPlan, row.plan_id)
    transactions = (
        await session.scalars(
            select(LedgerTransaction)
            .where(LedgerTransaction.account_id == account_id)
            .order_by(LedgerTransaction.id)
        )
    ).all()
    vouchers = (
        await session.scalars(
            select(Voucher).where(Voucher.account_id == account_id).order_by(Voucher.id)
        )
    ).all()
    statements = (
        await session.scalars(
            select(Statement).where(Statement.account_id == account_id).order_by(Statement.period)
        )
    ).all()
    balance = await session.scalar(
        select(func.coalesce(func.sum(LedgerPosting.amount), 0)).where(
            LedgerPosting.account_id == account_id,
            (LedgerPosting.book == "cash") | LedgerPosting.book.like(OWNER_BOOK_PREFIX + "%"),
        )
    )
    return {
        "plan": None if plan is None else {"name": plan.name, "edition": plan.edition},
        "balance": int(balance or 0),
        "ledger": [_transaction(t) for t in transactions],
        "vouchers": [_voucher(v) for v in vouchers],
        "statements": [_statement(s) for s in statements],
    }


def _transaction(row: LedgerTransaction) -> dict[str, object]:
    return {
        "id": row.id,
        "kind": row.kind,
        "reference": row.reference,
        "created_at": _iso(row.created_at),
        "effective_at": _iso(row.effective_at),
        "actor": row.actor,
        "memo": row.memo,
        "unit_id": row.unit_id,
        "item": row.item,
        "quantity": row.quantity,
        "postings": [{"book": p.book, "amount": p.amount} for p in row.postings],
    }


def _voucher(row: Voucher) -> dict[str, object]:
    return {
        "id": row.id,
        "batch": row.batch,
        "amount": row.amount,
        "expires_at": _iso(row.expires_at),
        "redeemed_at": _iso(row.redeemed_at),
        "voided_at": _iso(row.voided_at),
    }


def _statement(row: Statement) -> dict[str, object]:
    return {
        "number": row.number,
        "period": row.period,
        "opening": row.opening,
        "closing": row.closing,
        "created_at": _iso(row.created_at),
    }
