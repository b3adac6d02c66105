"""Monthly statements: what each owner's balance opened a month with, what moved it, and what
it closed with, numbered across the deployment (`HG-YYYYMM-000001`, counted per month).

A month holds the transactions *booked* in it (their `created_at`, UTC). Posted transactions
never change, so a closed month's sums never change either: a usage batch of 31 January settled
at 00:00:03 on 1 February belongs to February's statement, and January's, once issued, stays
true. Only `opening` and `closing` are stored; the lines are read from the ledger again whenever
a statement is shown, and `reconciles` says they still add up.

`issue_statements` runs in the hourly housekeeping round when billing is on (and from
`humangate housekeeping`): every closed month that has no statement yet for an owner with money
or movements gets one, the oldest month first, so numbers follow the calendar.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db import billing_reports as reports
from humangate.db.billing_reports import MemoLine, Movement, StatementRow
from humangate.text import is_ascii_digits

log = logging.getLogger(__name__)

# A month is closed this long after it ended: a node whose clock runs a little behind may
# still book into it until then.
STATEMENT_GRACE = timedelta(minutes=10)
NUMBER_PREFIX = "HG"
# The kinds of transaction, in the order a statement lists them.
KINDS = ("top-up", "voucher-grant", "voucher-expiry", "usage", "refund", "adjustment")
# Minor units per major unit where it is not 100 (ISO 4217 exponents).
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3}
_RETRIES = 5


# --- months and numbers ---------------------------------------------------------------------


def period_of(moment: datetime) -> str:
    """The month (`YYYY-MM`, UTC) of a moment."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """The first moment of the month `YYYY-MM` and of the next one (UTC).

    Raises:
        ValueError: not a month written `YYYY-MM`.
    """
    digits = period[:4] + period[5:]
    if len(period) != 7 or period[4] != "-" or not is_ascii_digits(digits):
        raise ValueError("A month is written YYYY-MM.")
    year, month = int(period[:4]), int(period[5:])
    if not 1 <= month <= 12 or year < 2000:
        raise ValueError("A month is written YYYY-MM.")
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def closed_periods(first: datetime, now: datetime) -> list[str]:
    """The months from the one holding `first` to the last one that ended before `now`."""
    periods: list[str] = []
    period = period_of(first)
    while True:
        start, end = month_bounds(period)
        if end > now:
            return periods
        periods.append(period)
        period = period_of(end)


def statement_number(period: str, sequence: int) -> str:
    """`HG-YYYYMM-000001`: the month and the statement's place among that month's."""
    return f"{NUMBER_PREFIX}-{period[:4]}{period[5:]}-{sequence:06d}"


def currency_exponent(currency: str) -> int:
    """Minor units per major unit, as a power of ten: 2 for CNY, 0 for JPY."""
    return _EXPONENTS.get(currency.upper(), 2)


def format_minor(amount: int, currency: str) -> str:
    """An amount in minor units as a decimal of the currency's major unit: 1234 CNY is 12.34."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d}" if exponent else f"{sign}{whole}"


# --- what a statement says ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """Usage of one item by one unit in the month: how many, and what it cost (positive)."""

    unit_id: int | None
    unit_name: str | None
    item: str
    quantity: int
    cost: int


@dataclass(frozen=True, slots=True)
class StatementView:
    """A statement with its lines: each kind's effect on the balance (signed), usage per unit
    and item, and the balances it opened and closed with."""

    number: str
    account_id: int
    period: str
    issued_at: datetime
    opening: int
    closing: int
    by_kind: Mapping[str, int]
    usage: tuple[UsageEntry, ...] = field(default_factory=tuple)
    memos: tuple[MemoLine, ...] = field(default_factory=tuple)

    def moved(self, kind: str) -> int:
        return self.by_kind.get(kind, 0)

    @property
    def movements(self) -> int:
        return sum(self.by_kind.values())

    @property
    def reconciles(self) -> bool:
        """Whether opening + every movement = closing."""
        return self.opening + self.movements == self.closing


def summarize(movements: list[Movement]) -> dict[str, int]:
    """Each kind's total effect on the owner's balance."""
    totals: dict[str, int] = {}
    for movement in movements:
        totals[movement.kind] = totals.get(movement.kind, 0) + movement.amount
    return totals


async def _usage_entries(session: AsyncSession, movements: list[Movement]) -> list[UsageEntry]:
    usage = [m for m in movements if m.kind == "usage"]
    names = await reports.unit_names(session, [m.unit_id for m in usage if m.unit_id])
    return [
        UsageEntry(
            m.unit_id,
            names.get(m.unit_id) if m.unit_id else None,
            m.item or "",
            m.quantity,
            -m.amount,
        )
        for m in usage
    ]


async def load_statement(
    session: AsyncSession, number: str, *, account_id: int | None = None
) -> StatementView | None:
    """The statement numbered `number` with its lines from the ledger (only if it is
    `account_id`'s, when given); None if there is none."""
    row = await reports.get_statement(session, number, account_id=account_id)
    return None if row is None else await _view(session, row)


async def _view(session: AsyncSession, row: StatementRow) -> StatementView:
    start, end = month_bounds(row.period)
    movements = await reports.list_movements(session, row.account_id, since=start, until=end)
    return StatementView(
        number=row.number,
        account_id=row.account_id,
        period=row.period,
        issued_at=row.created_at,
        opening=row.opening,
        closing=row.closing,
        by_kind=summarize(movements),
        usage=tuple(await _usage_entries(session, movements)),
        memos=tuple(await reports.list_memo_lines(session, row.account_id, since=start, until=end)),
    )


# --- issuing ------------------------------------------------------------------------------


async def issue_statements(
    session: AsyncSession, *, now: datetime, grace: timedelta = STATEMENT_GRACE
) -> list[str]:
    """Issue every statement due: each month closed `grace` before `now`, for each owner with
    a balance or a movement in it and no statement for it yet. Commits each one.

    Returns:
        The numbers issued, in order.
    """
    first = await reports.first_booking(session)
    if first is None:
        return []
    issued: list[str] = []
    for period in closed_periods(first, now - grace):
        start, end = month_bounds(period)
        done = {row.account_id for row in await reports.list_statements(session, period=period)}
        for account_id in await reports.list_ledger_accounts(session, before=end):
            if account_id in done:
                continue
            opening = await reports.balance_before(session, account_id, start)
            moved = summarize(
                await reports.list_movements(session, account_id, since=start, until=end)
            )
            if opening == 0 and not moved:
                continue
            number = await _insert(
                session, account_id, period, opening, opening + sum(moved.values()), now=now
            )
            if number is not None:
                issued.append(number)
    if issued:
        log.info("statements: %d issued", len(issued))
    return issued


async def _insert(
    session: AsyncSession,
    account_id: int,
    period: str,
    opening: int,
    closing: int,
    *,
    now: datetime,
) -> str | None:
    """Store one statement under the month's next number; None if another node issued it.

    Two nodes numbering at once collide on the unique number: the loser takes the next one.
    """
    for _ in range(_RETRIES):
        number = statement_number(
            period, await reports.count_period_statements(session, period) + 1
        )
        try:
            await reports.insert_statement(
                session,
                number=number,
                account_id=account_id,
                period=period,
                opening=opening,
                closing=closing,
                now=now,
            )
            await session.commit()
            return number
        except IntegrityError:
            await session.rollback()
            if any(
                r.account_id == account_id
                for r in await reports.list_statements(session, period=period)
            ):
                return None
    raise RuntimeError(f"No free statement number for {period} after {_RETRIES} tries.")


# --- CSV --------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """An owner's text (a unit's name) that a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def to_csv(view: StatementView, *, currency: str) -> str:
    """The statement as CSV: one row per line, amounts in the currency's major unit (signed:
    what the line did to the balance) and usage per unit and item with its quantity."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def money(amount: int) -> str:
        return format_minor(amount, currency)

    writer.writerow(["statement", view.number, "period", view.period, "currency", currency])
    writer.writerow(["line", "unit", "item", "quantity", "amount"])
    writer.writerow(["opening", "", "", "", money(view.opening)])
    for kind in KINDS:
        if kind == "usage":
            for entry in view.usage:
                unit = _cell(entry.unit_name or (f"#{entry.unit_id}" if entry.unit_id else ""))
                writer.writerow(["usage", unit, entry.item, entry.quantity, money(-entry.cost)])
        elif kind in view.by_kind:
            writer.writerow([kind, "", "", "", money(view.by_kind[kind])])
    writer.writerow(["closing", "", "", "", money(view.closing)])
    return out.getvalue()
