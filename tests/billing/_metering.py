"""Metering tests' helpers: owners with a priced plan and a balance, and what the ledger says."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing import ledger
from humangate.db.models import Account, BillingAccount, BillingPlan

_owners = itertools.count(1)
Owner = Callable[..., Awaitable[int]]


async def make_owner(
    sessions: async_sessionmaker[AsyncSession],
    *,
    prices: Mapping[str, int],
    balance: int,
    credit: int = 0,
    edition: str = "standard",
) -> int:
    """A new owner on a plan of their own with `prices`, topped up with `balance`."""
    n = next(_owners)
    now = datetime.now(UTC)
    async with sessions() as session:
        account = Account(
            email=f"payer{n}@example.com",
            email_key=f"payer{n}@example.com",
            password_hash="x",
            status="active",
            created_at=now,
            last_active_at=now,
        )
        plan = BillingPlan(
            name=f"plan-{n}-{now.timestamp()}",
            edition=edition,
            prices=dict(prices),
            credit_limit=credit,
            is_default=False,
            created_at=now,
        )
        session.add_all([account, plan])
        await session.flush()
        session.add(
            BillingAccount(account_id=account.id, plan_id=plan.id, reserved=0, created_at=now)
        )
        if balance:
            await ledger.top_up(
                session, account.id, balance, reference=f"top-up:{n}:{now}", actor="system", now=now
            )
        await session.commit()
        return account.id


async def usage_of(sessions: async_sessionmaker[AsyncSession], account_id: int) -> tuple[int, int]:
    """The owner's settled usage in the ledger: Σ quantity and Σ revenue."""
    from humangate.db.models import LedgerTransaction

    async with sessions() as session:
        rows = (
            await session.scalars(
                select(LedgerTransaction).where(
                    LedgerTransaction.account_id == account_id, LedgerTransaction.kind == "usage"
                )
            )
        ).all()
        quantity = sum(row.quantity or 0 for row in rows)
        revenue = sum(p.amount for row in rows for p in row.postings if p.book == "revenue")
        return quantity, revenue


async def reserved_of(sessions: async_sessionmaker[AsyncSession], account_id: int) -> int:
    async with sessions() as session:
        row = await session.get(BillingAccount, account_id)
        assert row is not None
        return row.reserved


async def balance_of(sessions: async_sessionmaker[AsyncSession], account_id: int) -> int:
    async with sessions() as session:
        return (await ledger.balance(session, account_id, now=datetime.now(UTC))).total
