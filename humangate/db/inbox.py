"""The console inbox: an account's notifications; each function takes an `AsyncSession` and only
flushes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import run_bulk
from humangate.db.models import Notification


async def add_notification(
    session: AsyncSession, account_id: int, *, kind: str, subject: str, body: str, now: datetime
) -> Notification:
    row = Notification(
        account_id=account_id, kind=kind, subject=subject[:200], body=body, created_at=now
    )
    session.add(row)
    await session.flush()
    return row


async def list_notifications(
    session: AsyncSession,
    account_id: int,
    *,
    unread_only: bool = False,
    before_id: int | None = None,
    limit: int = 50,
) -> Sequence[Notification]:
    """Newest first; page with `before_id` (the last id of the previous page)."""
    statement = select(Notification).where(Notification.account_id == account_id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    if before_id is not None:
        statement = statement.where(Notification.id < before_id)
    rows = await session.scalars(statement.order_by(Notification.id.desc()).limit(limit))
    return rows.all()


async def mark_notifications_read(
    session: AsyncSession, account_id: int, *, ids: Sequence[int] | None, now: datetime
) -> int:
    """Mark some (or, with `ids=None`, all) unread notifications of this account read."""
    statement = (
        update(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    return await run_bulk(session, statement)


async def delete_read_notifications(session: AsyncSession, *, before: datetime) -> int:
    """Delete inbox notices created before `before` that have been read; unread ones stay."""
    return await run_bulk(
        session,
        delete(Notification).where(
            Notification.created_at < before, Notification.read_at.is_not(None)
        ),
    )
