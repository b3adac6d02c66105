"""Verb-first read-only queries for the operator's account pages; each takes an `AsyncSession`."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import Account, Unit
from humangate.text import is_ascii_digits


def _escape(fragment: str) -> str:
    return fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_accounts(
    session: AsyncSession, text: str, *, limit: int
) -> list[tuple[Account, int]]:
    """Accounts whose e-mail key or phone number contains `text` (already lower-case), or whose
    id it is, each with how many units it owns; the newest first. An empty `text` matches all.
    """
    units = select(func.count(Unit.id)).where(Unit.account_id == Account.id).scalar_subquery()
    statement = select(Account, units).order_by(Account.id.desc()).limit(limit)
    if text:
        pattern = f"%{_escape(text)}%"
        phone = "".join(ch for ch in text if ch.isdigit() or ch == "+")
        conditions: list[ColumnElement[bool]] = [Account.email_key.like(pattern, escape="\\")]
        if phone:
            conditions.append(Account.phone.like(f"%{_escape(phone)}%", escape="\\"))
        if is_ascii_digits(text) and len(text) <= 9:
            conditions.append(Account.id == int(text))
        statement = statement.where(or_(*conditions))
    rows = await session.execute(statement)
    return [(account, int(count)) for account, count in rows.all()]


async def count_account_units(session: AsyncSession, account_id: int) -> int:
    """How many units the account owns."""
    count = await session.scalar(select(func.count(Unit.id)).where(Unit.account_id == account_id))
    return int(count or 0)
