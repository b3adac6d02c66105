"""Verb-first queries for the operator's notice to every owner; each takes an `AsyncSession`.

Recipients are read by keyset paging (ids above `after`, up to `up_to`, `limit` at a time), so
each batch is one index scan and no transaction holds every account. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import Account, Notification


async def get_last_account_id(session: AsyncSession) -> int:
    """The highest account id so far (0 without accounts)."""
    return int(await session.scalar(select(func.max(Account.id))) or 0)


async def list_recipient_ids(
    session: AsyncSession,
    *,
    statuses: Sequence[str],
    roles: Sequence[str],
    after: int,
    up_to: int,
    limit: int,
) -> list[int]:
    """The next `limit` ids of accounts with one of `statuses` and `roles`, in id order."""
    statement = (
        select(Account.id)
        .where(Account.id > after, Account.id <= up_to)
        .where(Account.status.in_(statuses), Account.role.in_(roles))
        .order_by(Account.id)
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def add_inbox_notices(
    session: AsyncSession, account_ids: Sequence[int], *, title: str, body: str, now: datetime
) -> None:
    """Put one notice in the inbox of each of `account_ids`, in one statement."""
    rows = [
        {"account_id": i, "kind": "notice", "subject": title, "body": body, "created_at": now}
        for i in account_ids
    ]
    await session.execute(insert(Notification), rows)


async def list_notice_recipients(
    session: AsyncSession, *, title: str, at: datetime, after: int, up_to: int, limit: int
) -> list[Account]:
    """The next `limit` accounts, in id order, whose inbox holds the notice `title` written at
    `at` (what `add_inbox_notices` wrote)."""
    has_notice = exists().where(
        Notification.account_id == Account.id,
        Notification.created_at == at,
        Notification.subject == title,
    )
    statement = (
        select(Account)
        .where(Account.id > after, Account.id <= up_to, has_notice)
        .order_by(Account.id)
        .limit(limit)
    )
    return list(await session.scalars(statement))
