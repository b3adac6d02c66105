"""Read-only account queries for the operator's pages: search, and one account with its units.

They only read; every change goes through the account core (`suspend_account`, …), which checks
the admin and writes the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import AccountView
from humangate.accounts._views import account_view
from humangate.console._i18n import Phrase
from humangate.db.models import Account, Unit

MAX_QUERY = 254


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account in the search results, with how many units it owns."""

    account: AccountView
    units: int


def _escape(fragment: str) -> str:
    return fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_accounts(
    session: AsyncSession, query: str, *, limit: int = 50
) -> list[AccountRow]:
    """Accounts whose e-mail address or phone number contains `query` (any case), or whose id
    it is; the newest first. An empty query lists the newest accounts.

    Raises:
        ValueError: a query longer than MAX_QUERY characters.
    """
    text = query.strip().lower()
    if len(text) > MAX_QUERY:
        raise ValueError(Phrase("A search has at most %(max)s characters.", max=MAX_QUERY))
    units = select(func.count(Unit.id)).where(Unit.account_id == Account.id).scalar_subquery()
    statement = select(Account, units).order_by(Account.id.desc()).limit(limit)
    if text:
        pattern = f"%{_escape(text)}%"
        phone = "".join(ch for ch in text if ch.isdigit() or ch == "+")
        conditions: list[ColumnElement[bool]] = [Account.email_key.like(pattern, escape="\\")]
        if phone:
            conditions.append(Account.phone.like(f"%{_escape(phone)}%", escape="\\"))
        if text.isdigit() and len(text) <= 12:
            conditions.append(Account.id == int(text))
        statement = statement.where(or_(*conditions))
    rows = await session.execute(statement)
    return [AccountRow(account_view(account), int(count)) for account, count in rows.all()]


async def get_account(session: AsyncSession, account_id: int) -> AccountRow | None:
    """One account and its unit count; None if there is no such account."""
    account = await session.get(Account, account_id)
    if account is None:
        return None
    count = await session.scalar(select(func.count(Unit.id)).where(Unit.account_id == account_id))
    return AccountRow(account_view(account), int(count or 0))
