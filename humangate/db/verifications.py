"""Verb-first functions over verifications, signed requests' nonces, usage and prefix blocks;
each takes an `AsyncSession`. The counting writes are single statements, so two nodes never
count one attempt, one approval or one message twice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import conflict_insert, run_bulk
from humangate.db.models import Verification, VerifyNonce, VerifyPrefixBlock, VerifyUsage


async def use_nonce(
    session: AsyncSession, app_id: int, nonce: str, *, expires_at: datetime
) -> bool:
    """Record a signed request's nonce; False when the app used it before. Commits."""
    statement = (
        conflict_insert(session, VerifyNonce)
        .values(app_id=app_id, nonce=nonce, expires_at=expires_at)
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_usage(
    session: AsyncSession,
    app_id: int,
    *,
    day: date,
    channel: str,
    country: str,
    sent: int = 0,
    failed: int = 0,
    approved: int = 0,
) -> None:
    """Add to the day's counts of the app, channel and country (the caller commits)."""
    insert = conflict_insert(session, VerifyUsage)
    statement = insert.values(
        app_id=app_id,
        day=day,
        channel=channel,
        country=country,
        sent=sent,
        failed=failed,
        approved=approved,
    ).on_conflict_do_update(
        index_elements=["app_id", "day", "channel", "country"],
        set_={
            "sent": VerifyUsage.sent + sent,
            "failed": VerifyUsage.failed + failed,
            "approved": VerifyUsage.approved + approved,
        },
    )
    await session.execute(statement)


async def get_verification(
    session: AsyncSession, app_id: int, verification_id: str
) -> Verification | None:
    row: Verification | None = await session.scalar(
        select(Verification).where(
            Verification.id == verification_id, Verification.app_id == app_id
        )
    )
    return row


async def find_by_idempotency_key(
    session: AsyncSession, app_id: int, key: str
) -> Verification | None:
    row: Verification | None = await session.scalar(
        select(Verification).where(
            Verification.app_id == app_id, Verification.idempotency_key == key
        )
    )
    return row


async def find_live(
    session: AsyncSession, app_id: int, destination_digest: str, *, now: datetime
) -> Verification | None:
    """The pending, unexpired verification of this destination, if any (the newest)."""
    row: Verification | None = await session.scalar(
        select(Verification)
        .where(
            Verification.app_id == app_id,
            Verification.destination_digest == destination_digest,
            Verification.status == "pending",
            Verification.expires_at > now,
        )
        .order_by(Verification.created_at.desc())
        .limit(1)
    )
    return row


async def count_attempt(
    session: AsyncSession, verification_id: str, *, max_attempts: int, now: datetime
) -> int | None:
    """Count one code entry of a pending, unexpired verification; the count after it, or None
    when it is no longer pending or has no attempts left. Commits."""
    attempts = await session.scalar(
        update(Verification)
        .where(
            Verification.id == verification_id,
            Verification.status == "pending",
            Verification.expires_at > now,
            Verification.attempts < max_attempts,
        )
        .values(attempts=Verification.attempts + 1)
        .returning(Verification.attempts)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return None if attempts is None else int(attempts)


async def finish(
    session: AsyncSession, verification_id: str, status: str, *, now: datetime
) -> bool:
    """Move a pending verification to `status`; False if it was no longer pending (the caller
    commits)."""
    finished = await run_bulk(
        session,
        update(Verification)
        .where(Verification.id == verification_id, Verification.status == "pending")
        .values(status=status, finished_at=now),
    )
    return finished == 1


async def is_blocked(session: AsyncSession, app_id: int, prefix: str, *, now: datetime) -> bool:
    found = await session.scalar(
        select(VerifyPrefixBlock.id)
        .where(
            VerifyPrefixBlock.app_id == app_id,
            VerifyPrefixBlock.prefix == prefix,
            VerifyPrefixBlock.until > now,
        )
        .limit(1)
    )
    return found is not None


async def block_prefix(
    session: AsyncSession,
    app_id: int,
    prefix: str,
    *,
    sent: int,
    approved: int,
    now: datetime,
    until: datetime,
) -> bool:
    """Block `prefix` until `until`; False when it already was (another node got there first).
    Commits."""
    if await is_blocked(session, app_id, prefix, now=now):
        return False
    session.add(
        VerifyPrefixBlock(
            app_id=app_id, prefix=prefix, sent=sent, approved=approved, created_at=now, until=until
        )
    )
    await session.commit()
    return True
