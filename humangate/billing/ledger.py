"""The double-entry ledger of owners' prepaid balances, in integer minor units.

Every movement is a transaction whose postings sum to zero, each posting in a book: the owner's
`cash` and one `voucher:<id>` per voucher (positive: the owner's money), and the counter books
`payments`, `promotions`, `revenue`, `adjustments` and `expired`. An owner's balance is the sum
of their own books' postings; nothing else stores it. A transaction's `reference` is unique, so a
retried form, a webhook delivered twice or a usage batch settled again is written once.

Usage is paid from vouchers first, earliest expiry first, with only the vouchers that had not
expired at the usage's hour; then from cash. An expired voucher's remainder is voided by the
expiry job. Money reserved into hot-store allowances (the meter's slices) is counted in
`billing_accounts.reserved`, not in the ledger: it is still the owner's until it is settled as
usage or released.

No function here commits, except `reserve` and `expire_vouchers`, which hold a lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeGuard

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import aware, conflict_insert, run_bulk
from humangate.db.models import (
    BillingAccount,
    BillingPlan,
    LedgerPosting,
    LedgerTransaction,
    Voucher,
)
from humangate.errors import InvalidInput

Kind = Literal["top-up", "voucher-grant", "voucher-expiry", "usage", "refund", "adjustment"]
Edition = Literal["standard", "enterprise"]
BOOK_CASH = "cash"
OWNER_BOOKS = (BOOK_CASH, "voucher:%")
COUNTER_BOOKS = ("payments", "promotions", "revenue", "adjustments", "expired")
DEFAULT_PLAN = "standard"
# A voucher expiring sooner than this is not counted for new reservations: a slice reserved
# against it could otherwise be settled after it expired.
RESERVE_HORIZON = timedelta(hours=1)
# A price, a credit limit or an amount moved above this is a typo, not a tariff (ten billion
# major units).
MAX_AMOUNT = 10**12


def voucher_book(voucher_id: int) -> str:
    return f"voucher:{voucher_id}"


def _voucher_id(book: str) -> int:
    return int(book.split(":", 1)[1])


@dataclass(frozen=True, slots=True)
class Posting:
    book: str
    amount: int


@dataclass(frozen=True, slots=True)
class VoucherBalance:
    voucher_id: int
    remaining: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Balance:
    """An owner's money: cash, each voucher's remainder, and their total."""

    cash: int
    vouchers: tuple[VoucherBalance, ...]
    total: int


@dataclass(frozen=True, slots=True)
class PlanView:
    id: int
    name: str
    edition: Edition
    prices: Mapping[str, int]
    credit_limit: int
    is_default: bool


@dataclass(frozen=True, slots=True)
class UsageLine:
    """Usage of one item by one unit in one hour: how many, and what it cost."""

    hour: datetime
    unit_id: int | None
    item: str
    quantity: int
    amount: int


def price_of(plan: PlanView, item: str) -> int:
    """The plan's price of `item`; `sms:CN` falls back to `sms:*`; an unpriced item is free."""
    if item in plan.prices:
        return plan.prices[item]
    family = item.split(":", 1)[0]
    return plan.prices.get(f"{family}:*", 0)


def plan_view(plan: BillingPlan) -> PlanView:
    edition: Edition = "enterprise" if plan.edition == "enterprise" else "standard"
    return PlanView(
        id=plan.id,
        name=plan.name,
        edition=edition,
        prices=dict(plan.prices),
        credit_limit=plan.credit_limit,
        is_default=plan.is_default,
    )


async def default_plan(session: AsyncSession, *, now: datetime) -> BillingPlan:
    """The plan new owners get; a free standard plan is made when the operator set none (once,
    whichever node asks first)."""
    plan: BillingPlan | None = await session.scalar(
        select(BillingPlan).where(BillingPlan.is_default.is_(True)).limit(1)
    )
    if plan is None:
        await session.execute(
            conflict_insert(session, BillingPlan)
            .values(
                name=DEFAULT_PLAN,
                edition="standard",
                prices={},
                credit_limit=0,
                is_default=True,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["name"])
        )
        plan = await session.scalar(select(BillingPlan).where(BillingPlan.name == DEFAULT_PLAN))
    assert plan is not None
    return plan


async def ensure_billing_account(
    session: AsyncSession, account_id: int, *, now: datetime
) -> BillingAccount:
    """The owner's billing account, made on the default plan when first needed; two first uses
    at once make one row (the insert does nothing when another made it)."""
    found: BillingAccount | None = await session.get(BillingAccount, account_id)
    if found is not None:
        return found
    plan = await default_plan(session, now=now)
    await session.execute(
        conflict_insert(session, BillingAccount)
        .values(account_id=account_id, plan_id=plan.id, reserved=0, created_at=now)
        .on_conflict_do_nothing(index_elements=["account_id"])
    )
    row: BillingAccount | None = await session.get(BillingAccount, account_id)
    assert row is not None
    return row


async def plan_of(session: AsyncSession, account_id: int, *, now: datetime) -> PlanView:
    row = await ensure_billing_account(session, account_id, now=now)
    plan = await session.get(BillingPlan, row.plan_id)
    assert plan is not None  # a foreign key
    return plan_view(plan)


def is_minor_units(value: object, *, least: int = 1) -> TypeGuard[int]:
    """Whether `value` is a whole number (not a bool) of minor units, `least` to MAX_AMOUNT."""
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= MAX_AMOUNT


def check_amount(amount: int, *, named: str = "An amount") -> int:
    """`amount` if it is 1 to MAX_AMOUNT minor units: the amount of a top-up or a refund.

    Args:
        named: the amount as the refusal's sentence names it, such as "The amount of a refund".

    Raises:
        InvalidInput: `bad-amount`.
    """
    if not is_minor_units(amount):
        raise InvalidInput(
            f"{named} is a whole number of minor units, 1 to {MAX_AMOUNT}.",
            code="bad-amount",
            params={"max": MAX_AMOUNT},
        )
    return amount


def check_adjustment(amount: int) -> int:
    """`amount` if it is a non-zero whole number of at most MAX_AMOUNT minor units either way.

    Raises:
        InvalidInput: `bad-adjustment-amount`.
    """
    if not is_minor_units(amount, least=-MAX_AMOUNT) or amount == 0:
        raise InvalidInput(
            f"An adjustment is a signed, non-zero whole number of at most {MAX_AMOUNT} "
            "minor units.",
            code="bad-adjustment-amount",
            params={"max": MAX_AMOUNT},
        )
    return amount


async def post(
    session: AsyncSession,
    account_id: int,
    kind: Kind,
    postings: Sequence[Posting],
    *,
    reference: str,
    actor: str,
    now: datetime,
    effective_at: datetime | None = None,
    memo: str = "",
    unit_id: int | None = None,
    item: str | None = None,
    quantity: int | None = None,
) -> bool:
    """Write one transaction; False (and nothing written) when `reference` exists.

    Raises:
        ValueError: the postings do not sum to zero, or there are fewer than two.
    """
    if len(postings) < 2 or sum(posting.amount for posting in postings) != 0:
        raise ValueError("A transaction's postings must be two or more and sum to zero.")
    exists = await session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.reference == reference)
    )
    if exists is not None:
        return False
    transaction = LedgerTransaction(
        account_id=account_id,
        kind=kind,
        reference=reference,
        created_at=now,
        effective_at=effective_at or now,
        actor=actor,
        memo=memo[:500],
        unit_id=unit_id,
        item=item,
        quantity=quantity,
    )
    transaction.postings = [
        LedgerPosting(account_id=account_id, book=posting.book, amount=posting.amount)
        for posting in postings
        if posting.amount
    ]
    session.add(transaction)
    await session.flush()
    return True


async def _books(session: AsyncSession, account_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(LedgerPosting.book, func.sum(LedgerPosting.amount))
        .where(
            LedgerPosting.account_id == account_id,
            (LedgerPosting.book == BOOK_CASH) | LedgerPosting.book.like("voucher:%"),
        )
        .group_by(LedgerPosting.book)
    )
    return {book: int(total or 0) for book, total in rows}


async def balance(session: AsyncSession, account_id: int, *, now: datetime) -> Balance:
    """The owner's balance: the sum of their books (a voided voucher's book is at zero)."""
    books = await _books(session, account_id)
    voucher_ids = [
        _voucher_id(book) for book, total in books.items() if book != BOOK_CASH and total
    ]
    expiries: dict[int, datetime] = {}
    if voucher_ids:
        rows = await session.execute(
            select(Voucher.id, Voucher.expires_at).where(Voucher.id.in_(voucher_ids))
        )
        expiries = {voucher_id: aware(expires) for voucher_id, expires in rows}
    vouchers = tuple(
        sorted(
            (
                VoucherBalance(voucher_id, books[voucher_book(voucher_id)], expiries[voucher_id])
                for voucher_id in voucher_ids
                if voucher_id in expiries
            ),
            key=lambda voucher: (voucher.expires_at, voucher.voucher_id),
        )
    )
    cash = books.get(BOOK_CASH, 0)
    return Balance(cash, vouchers, cash + sum(voucher.remaining for voucher in vouchers))


async def available(session: AsyncSession, account_id: int, *, now: datetime) -> int:
    """What new reservations may draw on now: the balance without vouchers about to expire,
    plus the plan's credit, less what is already reserved."""
    row = await ensure_billing_account(session, account_id, now=now)
    plan = await plan_of(session, account_id, now=now)
    held = await balance(session, account_id, now=now)
    horizon = now + RESERVE_HORIZON
    usable = held.cash + sum(v.remaining for v in held.vouchers if v.expires_at > horizon)
    return usable + plan.credit_limit - row.reserved


async def _free_cash(session: AsyncSession, account_id: int, *, now: datetime) -> int:
    """Cash that no reservation may need: reservations are paid from usable vouchers first,
    so only the part of `reserved` they do not cover is held back from cash. Vouchers are
    never taken back by a refund or a debit: the money they hold was never paid."""
    row = await ensure_billing_account(session, account_id, now=now)
    held = await balance(session, account_id, now=now)
    horizon = now + RESERVE_HORIZON
    covered = sum(v.remaining for v in held.vouchers if v.expires_at > horizon)
    return held.cash - max(0, row.reserved - covered)


async def _move_cash(
    session: AsyncSession,
    account_id: int,
    kind: Kind,
    amount: int,
    counter_book: str,
    reference: str,
    actor: str,
    now: datetime,
    memo: str,
) -> bool:
    """Post `amount` into the owner's cash (out of it when negative) against `counter_book`."""
    postings = [Posting(BOOK_CASH, amount), Posting(counter_book, -amount)]
    return await post(
        session,
        account_id,
        kind,
        postings,
        reference=reference,
        actor=actor,
        now=now,
        memo=memo,
    )


async def top_up(
    session: AsyncSession,
    account_id: int,
    amount: int,
    *,
    reference: str,
    actor: str,
    now: datetime,
    memo: str = "",
) -> bool:
    """Credit cash (a payment, or an operator's manual top-up)."""
    check_amount(amount)
    await ensure_billing_account(session, account_id, now=now)
    return await _move_cash(
        session, account_id, "top-up", amount, "payments", reference, actor, now, memo
    )


async def refund(
    session: AsyncSession,
    account_id: int,
    amount: int,
    *,
    reference: str,
    actor: str,
    now: datetime,
    memo: str = "",
) -> bool:
    """Pay cash back (never more than the cash not reserved; vouchers are not refunded).

    Raises:
        InvalidInput: more than the refundable cash.
    """
    check_amount(amount)
    await _locked(session, account_id, now=now)  # against a reservation or refund meanwhile
    if amount > await _free_cash(session, account_id, now=now):
        raise InvalidInput(
            "A refund cannot exceed the cash balance that is not in use.",
            code="refund-above-cash",
        )
    return await _move_cash(
        session, account_id, "refund", -amount, "payments", reference, actor, now, memo
    )


async def adjust(
    session: AsyncSession,
    account_id: int,
    amount: int,
    *,
    reference: str,
    actor: str,
    now: datetime,
    memo: str,
) -> bool:
    """An operator's correction of cash, up or down, with a reason.

    Raises:
        InvalidInput: no reason, or a debit that would take the balance below the plan's credit.
    """
    check_adjustment(amount)
    if not memo.strip():
        raise InvalidInput("An adjustment needs a reason.", code="reason-required")
    if amount < 0:
        await _locked(session, account_id, now=now)  # against a reservation meanwhile
        credit = (await plan_of(session, account_id, now=now)).credit_limit
        if await _free_cash(session, account_id, now=now) + credit + amount < 0:
            raise InvalidInput(
                "That debit would take the balance below what the plan allows.",
                code="below-credit-limit",
            )
    return await _move_cash(
        session, account_id, "adjustment", amount, "adjustments", reference, actor, now, memo
    )


async def grant_voucher(
    session: AsyncSession, voucher: Voucher, account_id: int, *, actor: str, now: datetime
) -> bool:
    """Put a voucher's amount in its own book of the owner's (a redemption or a grant).

    Raises:
        InvalidInput: the voucher expired or was voided.
    """
    if voucher.voided_at is not None or aware(voucher.expires_at) <= now:
        raise InvalidInput("That voucher has expired or was voided.", code="voucher-expired")
    await ensure_billing_account(session, account_id, now=now)
    voucher.account_id = account_id
    voucher.redeemed_at = voucher.redeemed_at or now
    book = voucher_book(voucher.id)
    postings = [Posting(book, voucher.amount), Posting("promotions", -voucher.amount)]
    return await post(
        session,
        account_id,
        "voucher-grant",
        postings,
        reference=f"voucher-grant:{voucher.id}",
        actor=actor,
        now=now,
    )


async def settle_usage(
    session: AsyncSession,
    account_id: int,
    lines: Sequence[UsageLine],
    *,
    batch: str,
    now: datetime,
) -> bool:
    """Write a usage batch, one transaction per line, vouchers first; reserved shrinks by the
    batch's amount. False when the batch was settled before (nothing written)."""
    if not lines:
        return True
    first = f"usage:{batch}:0"
    if await session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.reference == first)
    ):
        return False
    row = await ensure_billing_account(session, account_id, now=now)
    held = await balance(session, account_id, now=now)
    remaining = {voucher.voucher_id: voucher.remaining for voucher in held.vouchers}
    for index, line in enumerate(lines):
        hour = aware(line.hour)
        postings: list[Posting] = []
        due = line.amount
        for voucher in held.vouchers:
            if due <= 0:
                break
            if voucher.expires_at <= hour or remaining[voucher.voucher_id] <= 0:
                continue
            spent = min(due, remaining[voucher.voucher_id])
            remaining[voucher.voucher_id] -= spent
            postings.append(Posting(voucher_book(voucher.voucher_id), -spent))
            due -= spent
        if due:
            postings.append(Posting(BOOK_CASH, -due))
        postings.append(Posting("revenue", line.amount))
        if len(postings) < 2:  # a free item: its quantity is recorded, no money moves
            postings.insert(0, Posting(BOOK_CASH, 0))
        await post(
            session,
            account_id,
            "usage",
            postings,
            reference=f"usage:{batch}:{index}",
            actor="system",
            now=now,
            effective_at=hour,
            unit_id=line.unit_id,
            item=line.item,
            quantity=line.quantity,
        )
    row.reserved = max(0, row.reserved - sum(line.amount for line in lines))
    await session.flush()
    return True


async def _locked(session: AsyncSession, account_id: int, *, now: datetime) -> BillingAccount:
    """The account's row, locked (PostgreSQL) and read afresh: a row loaded before the lock
    keeps the values it had, and `reserved` must be the one the lock holder committed. SQLite
    has no row lock: a first write takes its database lock before anything is read."""
    if session.get_bind().dialect.name != "postgresql":
        await run_bulk(
            session,
            update(BillingAccount)
            .where(BillingAccount.account_id == account_id)
            .values(reserved=BillingAccount.reserved),
        )
    await ensure_billing_account(session, account_id, now=now)
    row: BillingAccount | None = await session.scalar(
        select(BillingAccount)
        .where(BillingAccount.account_id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def reserve(
    session: AsyncSession, account_id: int, *, want: int, price: int, now: datetime
) -> int:
    """Move up to `want` from the owner's available money into `reserved`, under the account
    row's lock; the amount moved, or 0 when not even `price` is available. Commits."""
    row = await _locked(session, account_id, now=now)
    room = await available(session, account_id, now=now)
    amount = min(max(want, price), room) if room >= price else 0
    if amount > 0:
        row.reserved += amount
    await session.commit()
    return amount


async def release(session: AsyncSession, account_id: int, amount: int) -> None:
    """Give back reserved money the hot store no longer holds (not below zero)."""
    await run_bulk(
        session,
        update(BillingAccount)
        .where(BillingAccount.account_id == account_id)
        .values(
            reserved=case(
                (BillingAccount.reserved > amount, BillingAccount.reserved - amount), else_=0
            )
        ),
    )


async def expire_vouchers(session: AsyncSession, *, now: datetime) -> int:
    """Void the remainder of every voucher that has expired; returns how many. Commits."""
    rows = await session.scalars(
        select(Voucher).where(
            Voucher.expires_at <= now, Voucher.voided_at.is_(None), Voucher.account_id.is_not(None)
        )
    )
    voided = 0
    for voucher in list(rows):
        assert voucher.account_id is not None
        book = voucher_book(voucher.id)
        left = await session.scalar(
            select(func.coalesce(func.sum(LedgerPosting.amount), 0)).where(
                LedgerPosting.account_id == voucher.account_id, LedgerPosting.book == book
            )
        )
        if left:
            await post(
                session,
                voucher.account_id,
                "voucher-expiry",
                [Posting(book, -int(left)), Posting("expired", int(left))],
                reference=f"voucher-expiry:{voucher.id}",
                actor="system",
                now=now,
                effective_at=aware(voucher.expires_at),
            )
        voucher.voided_at = now
        voided += 1
    await session.commit()
    return voided
