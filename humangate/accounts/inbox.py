"""The console inbox: an account's notifications, newest first, and marking them read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts._common import check_now
from humangate.accounts._views import notification_view
from humangate.accounts.outcomes import NotificationView
from humangate.db import inbox as inbox_db
from humangate.errors import InvalidInput


async def list_inbox(
    session: AsyncSession,
    account_id: int,
    *,
    unread_only: bool = False,
    before_id: int | None = None,
    limit: int = 50,
) -> list[NotificationView]:
    """The account's notifications, newest first.

    Raises:
        InvalidInput: a page size outside 1 to 200.
    """
    if not 1 <= limit <= 200:
        raise InvalidInput("An inbox page holds 1 to 200 notifications.")
    rows = await inbox_db.list_notifications(
        session, account_id, unread_only=unread_only, before_id=before_id, limit=limit
    )
    return [notification_view(row) for row in rows]


async def mark_read(
    session: AsyncSession, account_id: int, ids: Sequence[int] | None, *, now: datetime
) -> int:
    """Mark the given (or all) unread notifications read; return how many changed."""
    check_now(now)
    changed = await inbox_db.mark_notifications_read(session, account_id, ids=ids, now=now)
    await session.commit()
    return changed
