"""Verb-first reads over the billing ledger, for statements and the console's billing pages.

Each takes an `AsyncSession`. The owner's books are `cash` and `voucher:<id>`; a sum over them is
the owner's money (docs: the billing design). A statement's month holds the transactions
*booked* in it (`created_at`): a posted transaction is never changed, so a month once closed
keeps its sums for ever, whatever is settled later. The usage chart reads `effective_at` (the
hour the usage happened). `insert_statement` is the one write; it does not commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import aware
from humangate.db.models import LedgerPosting, LedgerTransaction, Statement, Unit

VOUCHER_PREFIX = "voucher:"


def _owner_books() -> ColumnElement[bool]:
    return or_(LedgerPosting.book == "cash", LedgerPosting.book.like(VOUCHER_PREFIX + "%"))


def _owner_postings(account_id: int) -> ColumnElement[bool]:
    """A transaction's postings in the owner's books (an outer join keeps a free usage's count,
    which moves no money and so has no posting)."""
    return and_(
        LedgerPosting.transaction_id == LedgerTransaction.id,
        LedgerPosting.account_id == account_id,
        _owner_books(),
    )


@dataclass(frozen=True, slots=True)
class Movement:
    """The owner's money moved by one kind of transaction (and unit and item, for usage).

    `amount` is signed (positive: money in); `quantity` is the usage's count, else 0.
    """

    kind: str
    unit_id: int | None
    item: str | None
    quantity: int
    amount: int
    count: int


@dataclass(frozen=True, slots=True)
class StatementRow:
    """A stored statement: its number, month and the balances it opened and closed with."""

    id: int
    number: str
    account_id: int
    period: str
    opening: int
    closing: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MemoLine:
    """A top-up, refund or adjustment with what the operator (or provider) wrote about it."""

    booked_at: datetime
    kind: str
    amount: int
    memo: str


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """What one item cost on one day (UTC), by the hour the usage happened."""

    day: date
    item: str
    quantity: int
    amount: int


async def balance_before(session: AsyncSession, account_id: int, moment: datetime) -> int:
    """The owner's balance (cash and vouchers) from every transaction booked before `moment`."""
    query = (
        select(func.coalesce(func.sum(LedgerPosting.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .where(
            LedgerPosting.account_id == account_id,
            _owner_books(),
            LedgerTransaction.created_at < moment,
        )
    )
    return int((await session.execute(query)).scalar_one())


async def list_movements(
    session: AsyncSession, account_id: int, *, since: datetime, until: datetime
) -> list[Movement]:
    """The owner's money moved by transactions booked in `since <= created_at < until`, summed
    per kind, unit and item (kind, then unit, then item)."""
    amount = func.sum(LedgerPosting.amount)
    per_txn = (
        select(
            LedgerTransaction.id.label("txn"),
            LedgerTransaction.kind.label("kind"),
            LedgerTransaction.unit_id.label("unit_id"),
            LedgerTransaction.item.label("item"),
            func.coalesce(LedgerTransaction.quantity, 0).label("quantity"),
            func.coalesce(amount, 0).label("amount"),
        )
        .outerjoin(LedgerPosting, _owner_postings(account_id))
        .where(
            LedgerTransaction.account_id == account_id,
            LedgerTransaction.created_at >= since,
            LedgerTransaction.created_at < until,
        )
        .group_by(
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.unit_id,
            LedgerTransaction.item,
            LedgerTransaction.quantity,
        )
        .subquery()
    )
    query = (
        select(
            per_txn.c.kind,
            per_txn.c.unit_id,
            per_txn.c.item,
            func.sum(per_txn.c.quantity),
            func.sum(per_txn.c.amount),
            func.count(),
        )
        .group_by(per_txn.c.kind, per_txn.c.unit_id, per_txn.c.item)
        .order_by(per_txn.c.kind, per_txn.c.unit_id, per_txn.c.item)
    )
    rows = (await session.execute(query)).all()
    return [
        Movement(kind, unit_id, item, int(quantity or 0), int(total or 0), int(count))
        for kind, unit_id, item, quantity, total, count in rows
    ]


async def first_booking(session: AsyncSession) -> datetime | None:
    """When the deployment's first ledger transaction was booked; None for an empty ledger."""
    found = (await session.execute(select(func.min(LedgerTransaction.created_at)))).scalar()
    return None if found is None else aware(found)


async def list_ledger_accounts(session: AsyncSession, *, before: datetime) -> list[int]:
    """The accounts with a transaction booked before `before`, by id."""
    query = (
        select(LedgerTransaction.account_id)
        .where(LedgerTransaction.created_at < before)
        .group_by(LedgerTransaction.account_id)
        .order_by(LedgerTransaction.account_id)
    )
    return [int(account_id) for account_id in (await session.execute(query)).scalars()]


def _statement_row(row: Statement) -> StatementRow:
    return StatementRow(
        row.id,
        row.number,
        row.account_id,
        row.period,
        row.opening,
        row.closing,
        aware(row.created_at),
    )


async def list_statements(
    session: AsyncSession, account_id: int | None = None, *, period: str | None = None
) -> list[StatementRow]:
    """Statements, the newest month first: one owner's, or one month's, or all."""
    query = select(Statement).order_by(Statement.period.desc(), Statement.number.desc())
    if account_id is not None:
        query = query.where(Statement.account_id == account_id)
    if period is not None:
        query = query.where(Statement.period == period)
    return [_statement_row(row) for row in (await session.execute(query)).scalars()]


async def get_statement(
    session: AsyncSession, number: str, *, account_id: int | None = None
) -> StatementRow | None:
    """The statement numbered `number` (only if it is `account_id`'s, when given)."""
    query = select(Statement).where(Statement.number == number[:40])
    if account_id is not None:
        query = query.where(Statement.account_id == account_id)
    row = (await session.execute(query)).scalar_one_or_none()
    return None if row is None else _statement_row(row)


async def count_period_statements(session: AsyncSession, period: str) -> int:
    """How many statements were issued for `period` (`YYYY-MM`) across the deployment."""
    query = select(func.count()).select_from(Statement).where(Statement.period == period)
    return int((await session.execute(query)).scalar_one())


async def insert_statement(
    session: AsyncSession,
    *,
    number: str,
    account_id: int,
    period: str,
    opening: int,
    closing: int,
    now: datetime,
) -> None:
    """Add a statement (the caller commits; the unique number and month decide a race)."""
    session.add(
        Statement(
            number=number,
            account_id=account_id,
            period=period,
            opening=opening,
            closing=closing,
            created_at=now,
        )
    )
    await session.flush()


async def daily_usage(
    session: AsyncSession, account_id: int, *, since: datetime, until: datetime
) -> list[DailyUsage]:
    """The owner's usage per day (UTC) and item for `since <= effective_at < until`."""
    rows = (
        await session.execute(
            select(
                LedgerTransaction.effective_at,
                LedgerTransaction.item,
                func.coalesce(LedgerTransaction.quantity, 0),
                func.sum(LedgerPosting.amount),
            )
            .outerjoin(LedgerPosting, _owner_postings(account_id))
            .where(
                LedgerTransaction.account_id == account_id,
                LedgerTransaction.kind == "usage",
                LedgerTransaction.effective_at >= since,
                LedgerTransaction.effective_at < until,
            )
            .group_by(
                LedgerTransaction.id,
                LedgerTransaction.effective_at,
                LedgerTransaction.item,
                LedgerTransaction.quantity,
            )
        )
    ).all()
    summed: dict[tuple[date, str], list[int]] = {}
    for moment, item, quantity, amount in rows:
        key = (aware(moment).date(), item or "")
        entry = summed.setdefault(key, [0, 0])
        entry[0] += int(quantity)
        entry[1] += -int(amount or 0)
    return [DailyUsage(day, item, q, a) for (day, item), (q, a) in sorted(summed.items())]


async def unit_names(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, str]:
    """The names of those units that still exist, by id."""
    if not unit_ids:
        return {}
    query = select(Unit.id, Unit.name).where(Unit.id.in_(list(unit_ids)))
    return {int(uid): name for uid, name in (await session.execute(query)).all()}


async def owner_balances(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, int]:
    """The balance (cash and vouchers, every transaction) of each of these accounts, by id."""
    if not account_ids:
        return {}
    query = (
        select(LedgerPosting.account_id, func.sum(LedgerPosting.amount))
        .where(LedgerPosting.account_id.in_(list(account_ids)), _owner_books())
        .group_by(LedgerPosting.account_id)
    )
    found = {int(aid): int(total or 0) for aid, total in (await session.execute(query)).all()}
    return {aid: found.get(aid, 0) for aid in account_ids}


async def list_memo_lines(
    session: AsyncSession, account_id: int, *, since: datetime, until: datetime
) -> list[MemoLine]:
    """The owner's top-ups, refunds and adjustments booked in `since <= created_at < until`,
    oldest first, each with its effect on the balance and its memo."""
    rows = (
        await session.execute(
            select(
                LedgerTransaction.created_at,
                LedgerTransaction.kind,
                func.coalesce(func.sum(LedgerPosting.amount), 0),
                LedgerTransaction.memo,
            )
            .outerjoin(LedgerPosting, _owner_postings(account_id))
            .where(
                LedgerTransaction.account_id == account_id,
                LedgerTransaction.kind.in_(("top-up", "refund", "adjustment")),
                LedgerTransaction.created_at >= since,
                LedgerTransaction.created_at < until,
            )
            .group_by(
                LedgerTransaction.id,
                LedgerTransaction.created_at,
                LedgerTransaction.kind,
                LedgerTransaction.memo,
            )
            .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
        )
    ).all()
    return [MemoLine(aware(at), kind, int(amount), memo or "") for at, kind, amount, memo in rows]
