"""Read-only account queries for the operator's pages: search, and one account with its units.

They only read; every change goes through the account core (`suspend_account`, …), which checks
the admin and writes the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import AccountView
from humangate.accounts._views import account_view
from humangate.console._i18n import Phrase
from humangate.db import account_search
from humangate.db import accounts as account_db

MAX_QUERY = 254


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account in the search results, with how many units it owns."""

    account: AccountView
    units: int


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
    rows = await account_search.search_accounts(session, text, limit=limit)
    return [AccountRow(account_view(account), units) for account, units in rows]


async def get_account(session: AsyncSession, account_id: int) -> AccountRow | None:
    """One account and its unit count; None if there is no such account."""
    account = await account_db.get_account(session, account_id)
    if account is None:
        return None
    units = await account_search.count_account_units(session, account_id)
    return AccountRow(account_view(account), units)
