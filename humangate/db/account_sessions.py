"""Console sessions and the devices and networks an account has logged in from; each function
takes an `AsyncSession` and only flushes (the account service commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import run_bulk
from humangate.db.models import AccountSession, KnownDevice


async def add_session(session: AsyncSession, row: AccountSession) -> AccountSession:
    session.add(row)
    await session.flush()
    return row


async def find_session(session: AsyncSession, token_digest: str) -> AccountSession | None:
    return await session.scalar(
        select(AccountSession).where(AccountSession.token_digest == token_digest)
    )


async def delete_session(session: AsyncSession, token_digest: str) -> bool:
    statement = delete(AccountSession).where(AccountSession.token_digest == token_digest)
    return bool(await run_bulk(session, statement))


async def delete_account_sessions(
    session: AsyncSession,
    account_id: int,
    *,
    keep_id: int | None = None,
    only_id: int | None = None,
) -> int:
    """Delete an account's sessions: all, all but `keep_id`, or only `only_id`."""
    statement = delete(AccountSession).where(AccountSession.account_id == account_id)
    if keep_id is not None:
        statement = statement.where(AccountSession.id != keep_id)
    if only_id is not None:
        statement = statement.where(AccountSession.id == only_id)
    return await run_bulk(session, statement)


async def list_sessions(session: AsyncSession, account_id: int) -> Sequence[AccountSession]:
    rows = await session.scalars(
        select(AccountSession)
        .where(AccountSession.account_id == account_id)
        .order_by(AccountSession.last_seen_at.desc(), AccountSession.id.desc())
    )
    return rows.all()


async def delete_expired_sessions(
    session: AsyncSession, *, now: datetime, idle_since: datetime
) -> int:
    return await run_bulk(
        session,
        delete(AccountSession).where(
            or_(AccountSession.expires_at <= now, AccountSession.last_seen_at <= idle_since)
        ),
    )


async def device_seen(
    session: AsyncSession, account_id: int, device_digest: str, network: str
) -> tuple[bool, bool]:
    """Whether this account has logged in before (from this device, from this network)."""
    device = await session.scalar(
        select(KnownDevice.id)
        .where(KnownDevice.account_id == account_id, KnownDevice.device_digest == device_digest)
        .limit(1)
    )
    place = await session.scalar(
        select(KnownDevice.id)
        .where(KnownDevice.account_id == account_id, KnownDevice.network == network)
        .limit(1)
    )
    return device is not None, place is not None


async def remember_device(
    session: AsyncSession, account_id: int, device_digest: str, network: str, now: datetime
) -> bool:
    """Record a (device, network) pair as known; True if it was new."""
    row = await session.scalar(
        select(KnownDevice).where(
            KnownDevice.account_id == account_id,
            KnownDevice.device_digest == device_digest,
            KnownDevice.network == network,
        )
    )
    if row is not None:
        row.last_seen_at = now
        return False
    session.add(
        KnownDevice(
            account_id=account_id,
            device_digest=device_digest,
            network=network,
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()
    return True


async def list_devices(session: AsyncSession, account_id: int) -> Sequence[KnownDevice]:
    rows = await session.scalars(
        select(KnownDevice).where(KnownDevice.account_id == account_id).order_by(KnownDevice.id)
    )
    return rows.all()


async def delete_unused_devices(session: AsyncSession, *, unused_since: datetime) -> int:
    """Forget known devices (and networks) last seen before `unused_since`."""
    return await run_bulk(
        session, delete(KnownDevice).where(KnownDevice.last_seen_at < unused_since)
    )
