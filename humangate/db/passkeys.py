"""Passkey rows: add, find by credential, list, rename, delete, count a use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import Passkey


async def add_passkey(session: AsyncSession, row: Passkey) -> Passkey:
    """Add a passkey (flushed; the caller commits). A credential id used before raises
    IntegrityError at the flush."""
    session.add(row)
    await session.flush()
    return row


async def find_passkey(session: AsyncSession, credential_key: str) -> Passkey | None:
    return await session.scalar(select(Passkey).where(Passkey.credential_key == credential_key))


async def list_passkeys(session: AsyncSession, account_id: int) -> Sequence[Passkey]:
    statement = select(Passkey).where(Passkey.account_id == account_id).order_by(Passkey.id)
    return (await session.scalars(statement)).all()


async def count_passkeys(session: AsyncSession, account_id: int) -> int:
    statement = select(func.count()).select_from(Passkey).where(Passkey.account_id == account_id)
    return int(await session.scalar(statement) or 0)


async def delete_passkey(session: AsyncSession, account_id: int, passkey_id: int) -> Passkey | None:
    """Delete one of the account's passkeys; the deleted row, or None if it had no such one."""
    row = await session.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.account_id == account_id)
    )
    if row is not None:
        await session.execute(delete(Passkey).where(Passkey.id == row.id))
    return row


def record_use(row: Passkey, sign_count: int, now: datetime) -> None:
    row.sign_count = sign_count
    row.last_used_at = now
