"""Monthly statements reconciled with the ledger, on SQLite and PostgreSQL, over random ledgers
(hypothesis): for every statement issued, opening + Σ movements = closing = the owner's balance
at the month's end, summed here straight from the postings; each opening is the previous
month's closing; numbers run 000001, 000002, … per month without a gap; issuing again issues
nothing; an open month gets no statement.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing import ledger, statements
from humangate.db.models import LedgerPosting, LedgerTransaction, Statement, Voucher
from humangate.errors import InvalidInput
from tests.billing._db import make_owner

START = datetime(2026, 1, 20, tzinfo=UTC)

owner_index = st.integers(0, 2)
top_up = st.tuples(st.just("top-up"), owner_index, st.integers(1, 5_000))
voucher = st.tuples(st.just("voucher"), owner_index, st.integers(1, 3_000), st.integers(1, 900))
usage = st.tuples(
    st.just("usage"),
    owner_index,
    st.integers(0, 2_000),
    st.sampled_from(["challenge", "verify", "sms:CN"]),
    st.sampled_from([None, 1, 2]),
)
refund = st.tuples(st.just("refund"), owner_index, st.integers(1, 3_000))
adjust = st.tuples(st.just("adjust"), owner_index, st.integers(-3_000, 3_000).filter(bool))
expire = st.tuples(st.just("expire"))
wait = st.tuples(st.just("wait"), st.integers(1, 24 * 40))
history = st.lists(
    st.one_of(top_up, voucher, usage, refund, adjust, expire, wait), min_size=1, max_size=30
)


async def _apply(
    session: AsyncSession, owner: int, step: tuple[object, ...], n: int, now: datetime
) -> None:
    what = step[0]
    ref = f"{owner}:{n}"
    try:
        if what == "top-up":
            await ledger.top_up(session, owner, int(step[2]), reference=ref, actor="t", now=now)  # type: ignore[call-overload]
        elif what == "voucher":
            row = Voucher(
                amount=int(step[2]),  # type: ignore[call-overload]
                expires_at=now + timedelta(hours=int(step[3])),  # type: ignore[call-overload]
                created_at=now,
            )
            session.add(row)
            await session.flush()
            await ledger.grant_voucher(session, row, owner, actor="t", now=now)
        elif what == "usage":
            amount = int(step[2])  # type: ignore[call-overload]
            got = await ledger.reserve(session, owner, want=amount, price=max(amount, 1), now=now)
            if got:
                hour = now.replace(minute=0, second=0, microsecond=0)
                line = ledger.UsageLine(hour, step[4], str(step[3]), 3, amount)  # type: ignore[arg-type]
                await ledger.settle_usage(session, owner, [line], batch=ref, now=now)
                await ledger.release(session, owner, got - amount)
        elif what == "refund":
            await ledger.refund(session, owner, int(step[2]), reference=ref, actor="t", now=now)  # type: ignore[call-overload]
        elif what == "adjust":
            amount = int(step[2])  # type: ignore[call-overload]
            await ledger.adjust(session, owner, amount, reference=ref, actor="t", now=now, memo="m")
    except InvalidInput:
        await session.rollback()
        return
    await session.commit()


async def _books_before(session: AsyncSession, owner: int, moment: datetime) -> int:
    """The owner's balance at `moment`, summed here without the module under test."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerPosting.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .where(
            LedgerPosting.account_id == owner,
            (LedgerPosting.book == "cash") | LedgerPosting.book.like("voucher:%"),
            LedgerTransaction.created_at < moment,
        )
    )
    return int(total or 0)


async def _check_all(session: AsyncSession, owners: list[int], now: datetime) -> None:
    rows = list(
        await session.scalars(
            select(Statement)
            .where(Statement.account_id.in_(owners))
            .order_by(Statement.account_id, Statement.period)
        )
    )
    last: dict[int, int] = {}
    for row in rows:
        start, end = statements.month_bounds(row.period)
        assert end <= now - statements.STATEMENT_GRACE, row.period
        view = await statements.load_statement(session, row.number, account_id=row.account_id)
        assert view is not None
        assert view.reconciles, view
        assert view.opening == await _books_before(session, row.account_id, start)
        assert view.closing == await _books_before(session, row.account_id, end)
        assert view.opening == last.get(row.account_id, view.opening)
        last[row.account_id] = view.closing
        assert view.moved("usage") == -sum(entry.cost for entry in view.usage)
        parsed = list(csv.reader(io.StringIO(statements.to_csv(view, currency="CNY"))))
        cents = [round(float(line[4]) * 100) for line in parsed[3:-1]]
        assert round(float(parsed[2][4]) * 100) + sum(cents) == round(float(parsed[-1][4]) * 100)
    # Every owner with money or movements in a closed month has that month's statement.
    for owner in owners:
        periods = {row.period for row in rows if row.account_id == owner}
        for period in statements.closed_periods(START, now - statements.STATEMENT_GRACE):
            start, end = statements.month_bounds(period)
            moved = await _books_before(session, owner, end) != await _books_before(
                session, owner, start
            )
            if moved or await _books_before(session, owner, start):
                assert period in periods, (owner, period)


async def _check_numbers(session: AsyncSession) -> None:
    for period, numbers in itertools.groupby(
        (
            await session.execute(
                select(Statement.period, Statement.number).order_by(Statement.number)
            )
        ).all(),
        key=lambda pair: pair[0],
    ):
        found = [number for _, number in numbers]
        assert found == [statements.statement_number(period, i + 1) for i in range(len(found))]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=history)
async def test_every_statement_reconciles_with_the_ledger(
    sessions: async_sessionmaker[AsyncSession], steps: list[tuple[object, ...]]
) -> None:
    now = START
    async with sessions() as session:
        owners = [await make_owner(sessions) for _ in range(3)]
        for n, step in enumerate(steps):
            if step[0] == "wait":
                now += timedelta(hours=int(step[1]))  # type: ignore[call-overload]
                # The hourly round, as the housekeeping job runs it.
                await statements.issue_statements(session, now=now)
            elif step[0] == "expire":
                await ledger.expire_vouchers(session, now=now)
            else:
                await _apply(session, owners[int(step[1])], step, n, now)  # type: ignore[call-overload]
        end = now + timedelta(days=40)
        await ledger.expire_vouchers(session, now=end)
        await statements.issue_statements(session, now=end)
        assert await statements.issue_statements(session, now=end) == []
        await _check_all(session, owners, end)
        await _check_numbers(session)


async def test_an_open_month_has_no_statement_and_a_closed_one_is_numbered(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        owner = await make_owner(sessions)
        quiet = await make_owner(sessions)
        at = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
        await ledger.top_up(session, owner, 500, reference="s1", actor="t", now=at)
        await ledger.ensure_billing_account(session, quiet, now=at)
        await session.commit()
        april = datetime(2026, 4, 1, tzinfo=UTC)
        # Within the grace after the month's end: not yet.
        assert await statements.issue_statements(session, now=april + timedelta(minutes=5)) == []
        issued = await statements.issue_statements(session, now=april + timedelta(hours=1))
        assert issued == ["HG-202603-000001"]
        view = await statements.load_statement(session, issued[0], account_id=owner)
        assert view is not None and (view.opening, view.closing) == (0, 500)
        assert view.moved("top-up") == 500
        # Another owner's number is not theirs to read.
        assert await statements.load_statement(session, issued[0], account_id=quiet) is None
        # Nothing moved in April but the balance carried over: April still gets a statement.
        may = datetime(2026, 5, 1, 1, tzinfo=UTC)
        assert await statements.issue_statements(session, now=may) == ["HG-202604-000001"]


def test_months_numbers_and_amounts() -> None:
    assert statements.month_bounds("2026-12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    for bad in ("2026-13", "2026-1", "26-12-01", "abcd-ef", "1999-01"):
        with pytest.raises(ValueError):
            statements.month_bounds(bad)
    first = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert statements.closed_periods(first, datetime(2027, 1, 1, tzinfo=UTC)) == [
        "2026-11",
        "2026-12",
    ]
    assert statements.closed_periods(first, datetime(2026, 12, 31, tzinfo=UTC)) == ["2026-11"]
    assert statements.statement_number("2026-12", 7) == "HG-202612-000007"
    assert statements.format_minor(-1234, "CNY") == "-12.34"
    assert statements.format_minor(5, "USD") == "0.05"
    assert statements.format_minor(1234, "JPY") == "1234"
    assert statements.format_minor(1234, "KWD") == "1.234"
