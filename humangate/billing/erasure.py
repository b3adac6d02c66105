"""A cancelled owner's ledger: erased with the account, or kept apart for as long as the operator
must keep it by law (HUMANGATE_BILLING_KEEP_LEDGER_DAYS), then purged.

The seeds' rule (the VAPTCHA agreement 4.5.3–4.5.4): on cancellation the balance, the vouchers
and the transaction records are cleared. The account's ledger transactions and postings, its
billing account, redeemed vouchers, statements and payment events go with the account's row by
cascade. With a keeping period, the transactions are first copied into `ledger_archive`, with the
former account's number and no link to anything else, and deleted past `keep_until` by the
retention job every node runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import run_bulk
from humangate.db.models import LedgerArchive, LedgerTransaction


async def archive_ledger(
    session: AsyncSession, account_id: int, *, now: datetime, keep: timedelta
) -> int:
    """Copy the account's ledger transactions (with their postings) into the archive, kept until
    `now + keep`; the caller then erases the account and commits. Returns how many."""
    transactions = await session.scalars(
        select(LedgerTransaction)
        .where(LedgerTransaction.account_id == account_id)
        .order_by(LedgerTransaction.id)
    )
    copied = 0
    for row in transactions:
        session.add(
            LedgerArchive(
                former_account_id=account_id,
                transaction_id=row.id,
                kind=row.kind,
                reference=row.reference,
                created_at=row.created_at,
                effective_at=row.effective_at,
                actor=row.actor,
                memo=row.memo,
                unit_id=row.unit_id,
                item=row.item,
                quantity=row.quantity,
                postings=[{"book": p.book, "amount": p.amount} for p in row.postings],
                cancelled_at=now,
                keep_until=now + keep,
            )
        )
        copied += 1
    await session.flush()
    return copied


async def purge_ledger_archive(session: AsyncSession, *, now: datetime) -> int:
    """Delete the archived transactions past their `keep_until`; commits. Returns how many."""
    purged = await run_bulk(session, delete(LedgerArchive).where(LedgerArchive.keep_until < now))
    await session.commit()
    return purged
