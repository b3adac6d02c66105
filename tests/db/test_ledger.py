"""The ledger's invariants on SQLite and PostgreSQL, over random histories (hypothesis):

- an owner's balance is the sum of their books' postings, and every transaction sums to zero;
- the balance never goes below zero (the plan grants no credit) when usage is settled only
  from reserved money, as the meter does;
- a voucher pays only for usage of hours before its expiry, and nothing is left in it after
  the expiry job;
- vouchers are spent before cash, earliest expiry first;
- a reference is written once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing import ledger
from humangate.db._rows import aware
from humangate.db.models import BillingAccount, LedgerPosting, LedgerTransaction, Voucher
from humangate.errors import InvalidInput
from tests.billing._db import make_owner

START = datetime(2026, 11, 1, tzinfo=UTC)

top_up = st.tuples(st.just("top-up"), st.integers(1, 5_000))
voucher = st.tuples(st.just("voucher"), st.integers(1, 3_000), st.integers(1, 72))
usage = st.tuples(st.just("usage"), st.integers(0, 2_000))
refund = st.tuples(st.just("refund"), st.integers(1, 3_000))
adjust = st.tuples(st.just("adjust"), st.integers(-3_000, 3_000).filter(bool))
expire = st.tuples(st.just("expire"))
wait = st.tuples(st.just("wait"), st.integers(1, 48))
history = st.lists(st.one_of(top_up, voucher, usage, refund, adjust, expire, wait), max_size=25)


async def _sum_of_books(session: AsyncSession, account_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerPosting.amount), 0)).where(
            LedgerPosting.account_id == account_id,
            (LedgerPosting.book == "cash") | LedgerPosting.book.like("voucher:%"),
        )
    )
    return int(total or 0)


async def _unbalanced(session: AsyncSession, account_id: int) -> list[int]:
    rows = await session.execute(
        select(LedgerPosting.transaction_id, func.sum(LedgerPosting.amount))
        .where(LedgerPosting.account_id == account_id)
        .group_by(LedgerPosting.transaction_id)
    )
    return [transaction for transaction, total in rows if total != 0]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=history)
async def test_invariants_hold_over_any_history(
    sessions: async_sessionmaker[AsyncSession], steps: list[tuple[object, ...]]
) -> None:
    now = START
    async with sessions() as session:
        owner = await make_owner(sessions)
        for n, step in enumerate(steps):
            what = step[0]
            if what == "top-up":
                await ledger.top_up(
                    session,
                    owner,
                    int(step[1]),
                    reference=f"t{owner}:{n}",
                    actor="operator:1",
                    now=now,
                )
            elif what == "voucher":
                row = Voucher(
                    amount=int(step[1]),
                    expires_at=now + timedelta(hours=int(step[2])),
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                await ledger.grant_voucher(session, row, owner, actor="operator:1", now=now)
            elif what == "usage":
                amount = int(step[1])
                got = await ledger.reserve(
                    session, owner, want=amount, price=max(amount, 1), now=now
                )
                if got:
                    line = ledger.UsageLine(
                        now.replace(minute=0, second=0), 7, "challenge", max(1, amount), amount
                    )
                    await ledger.settle_usage(
                        session, owner, [line], batch=f"b{owner}:{n}", now=now
                    )
                    await ledger.release(session, owner, got - amount)
            elif what == "refund":
                try:
                    await ledger.refund(
                        session,
                        owner,
                        int(step[1]),
                        reference=f"r{owner}:{n}",
                        actor="operator:1",
                        now=now,
                    )
                except InvalidInput:
                    pass
            elif what == "adjust":
                try:
                    await ledger.adjust(
                        session,
                        owner,
                        int(step[1]),
                        reference=f"a{owner}:{n}",
                        actor="operator:1",
                        now=now,
                        memo="correction",
                    )
                except InvalidInput:
                    pass
            elif what == "expire":
                await ledger.expire_vouchers(session, now=now)
            else:
                now += timedelta(hours=int(step[1]))
            await session.commit()

            held = await ledger.balance(session, owner, now=now)
            assert held.total == await _sum_of_books(session, owner)
            assert held.cash >= 0 and held.total >= 0, held
            assert all(voucher.remaining >= 0 for voucher in held.vouchers), held
        assert await _unbalanced(session, owner) == []
        await ledger.expire_vouchers(session, now=now + timedelta(days=4))
        for voucher_balance in (await ledger.balance(session, owner, now=now)).vouchers:
            assert voucher_balance.expires_at > now + timedelta(days=4), voucher_balance
        await _check_vouchers_paid_only_before_expiry(session, owner)


async def _check_vouchers_paid_only_before_expiry(session: AsyncSession, owner: int) -> None:
    expiries = {
        f"voucher:{voucher_id}": aware(expires)
        for voucher_id, expires in await session.execute(select(Voucher.id, Voucher.expires_at))
    }
    rows = await session.execute(
        select(LedgerPosting.book, LedgerTransaction.effective_at)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .where(
            LedgerPosting.account_id == owner,
            LedgerTransaction.kind == "usage",
            LedgerPosting.book.like("voucher:%"),
        )
    )
    for book, effective in rows:
        assert aware(effective) < expiries[book], (book, effective, expiries[book])


async def test_vouchers_are_spent_first_earliest_expiry_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = START
    async with sessions() as session:
        owner = await make_owner(sessions)
        await ledger.top_up(session, owner, 1000, reference="t", actor="operator:1", now=now)
        late = Voucher(amount=300, expires_at=now + timedelta(days=30), created_at=now)
        soon = Voucher(amount=200, expires_at=now + timedelta(days=3), created_at=now)
        session.add_all([late, soon])
        await session.flush()
        for row in (late, soon):
            await ledger.grant_voucher(session, row, owner, actor="operator:1", now=now)
        assert await ledger.reserve(session, owner, want=450, price=450, now=now) == 450
        line = ledger.UsageLine(now, 7, "challenge", 450, 450)
        assert await ledger.settle_usage(session, owner, [line], batch="b1", now=now)
        assert not await ledger.settle_usage(session, owner, [line], batch="b1", now=now)
        await session.commit()
        held = await ledger.balance(session, owner, now=now)
        assert held.cash == 1000
        assert [(v.voucher_id, v.remaining) for v in held.vouchers] == [(late.id, 50)]
        assert held.total == 1050


async def test_a_reference_is_written_once_and_unbalanced_postings_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        owner = await make_owner(sessions)
        assert await ledger.top_up(
            session, owner, 500, reference="pay-1", actor="stripe", now=START
        )
        assert not await ledger.top_up(
            session, owner, 500, reference="pay-1", actor="stripe", now=START
        )
        with pytest.raises(ValueError):
            await ledger.post(
                session,
                owner,
                "adjustment",
                [ledger.Posting("cash", 5)],
                reference="x",
                actor="operator:1",
                now=START,
            )
        with pytest.raises(ValueError):
            await ledger.post(
                session,
                owner,
                "adjustment",
                [ledger.Posting("cash", 5), ledger.Posting("adjustments", -4)],
                reference="y",
                actor="operator:1",
                now=START,
            )
        await session.commit()
        assert (await ledger.balance(session, owner, now=START)).total == 500


async def test_at_zero_nothing_more_is_reserved(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        owner = await make_owner(sessions)
        await ledger.top_up(session, owner, 10, reference="t", actor="operator:1", now=START)
        assert await ledger.reserve(session, owner, want=100, price=3, now=START) == 10
        assert await ledger.reserve(session, owner, want=100, price=3, now=START) == 0
        await ledger.release(session, owner, 4)
        await session.commit()
        assert await ledger.reserve(session, owner, want=100, price=3, now=START) == 4


async def test_reservations_at_once_never_reserve_more_than_the_balance(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Each reservation reads `reserved` under the row's lock, afresh: one read before the lock
    would let two reservations each see the whole balance."""
    owner = await make_owner(sessions)
    async with sessions() as session:
        await ledger.top_up(session, owner, 100, reference="t", actor="operator:1", now=START)
        await ledger.ensure_billing_account(session, owner, now=START)
        await session.commit()

    async def reserve() -> int:
        async with sessions() as session:
            return await ledger.reserve(session, owner, want=60, price=1, now=START)

    for _ in range(3):
        got = await asyncio.gather(*(reserve() for _ in range(4)))
        async with sessions() as session:
            row = await session.get(BillingAccount, owner)
            assert row is not None
            assert sum(got) == row.reserved <= 100, got
            await ledger.release(session, owner, row.reserved)
            await session.commit()
