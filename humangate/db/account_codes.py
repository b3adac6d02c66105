"""One-time code rows: at most one live code per account and purpose, attempts counted
atomically; each function takes an `AsyncSession` and only flushes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import run_bulk
from humangate.db.models import AccountCode


async def replace_code(session: AsyncSession, row: AccountCode) -> AccountCode:
    """Store a new code; earlier codes of the same account and purpose die with it."""
    await run_bulk(
        session,
        delete(AccountCode).where(
            AccountCode.account_id == row.account_id, AccountCode.purpose == row.purpose
        ),
    )
    session.add(row)
    await session.flush()
    return row


async def find_live_code(
    session: AsyncSession, account_id: int, purpose: str, now: datetime, max_attempts: int
) -> AccountCode | None:
    return await session.scalar(
        select(AccountCode)
        .where(
            AccountCode.account_id == account_id,
            AccountCode.purpose == purpose,
            AccountCode.used_at.is_(None),
            AccountCode.expires_at > now,
            AccountCode.attempts < max_attempts,
        )
        .order_by(AccountCode.id.desc())
        .limit(1)
    )


async def claim_code_attempt(
    session: AsyncSession, code_id: int, now: datetime, max_attempts: int
) -> bool:
    """Count one attempt on a live code, atomically; False if the code is already dead.

    The attempt is counted before the comparison, so concurrent guesses can never exceed
    `max_attempts` comparisons in total.
    """
    statement = (
        update(AccountCode)
        .where(
            AccountCode.id == code_id,
            AccountCode.used_at.is_(None),
            AccountCode.expires_at > now,
            AccountCode.attempts < max_attempts,
        )
        .values(attempts=AccountCode.attempts + 1)
    )
    return bool(await run_bulk(session, statement))


async def use_code(session: AsyncSession, code_id: int, now: datetime) -> bool:
    """Mark a code used; exactly one caller wins."""
    statement = (
        update(AccountCode)
        .where(AccountCode.id == code_id, AccountCode.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(await run_bulk(session, statement))


async def delete_dead_codes(session: AsyncSession, *, now: datetime) -> int:
    return await run_bulk(
        session,
        delete(AccountCode).where(
            or_(AccountCode.expires_at <= now, AccountCode.used_at.is_not(None))
        ),
    )
