"""Verb-first functions over verifications, signed requests' nonces, usage and prefix blocks;
each takes an `AsyncSession`. The counting writes are single statements, so two nodes never
count one attempt, one approval or one message twice.

The statements a verification request runs every time (the nonce, reading and updating its
row, the usage) are built once, on the tables, with bound parameters: no ORM unit of work and
no statement construction per request. The ones with an ON CONFLICT clause are built once per
dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Executable, Row, Table, bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import Verification, VerifyNonce, VerifyPrefixBlock, VerifyUsage

_VERIFICATIONS = cast(Table, Verification.__table__)
_NONCES = cast(Table, VerifyNonce.__table__)
_USAGE = cast(Table, VerifyUsage.__table__)
_ROW = _VERIFICATIONS.c

_SELECT_ONE = select(_VERIFICATIONS).where(
    _ROW.id == bindparam("verification_id"), _ROW.app_id == bindparam("app_id")
)
_COUNT_ATTEMPT = (
    update(_VERIFICATIONS)
    .where(
        _ROW.id == bindparam("verification_id"),
        _ROW.status == "pending",
        _ROW.expires_at > bindparam("now"),
        _ROW.attempts < bindparam("max_attempts"),
    )
    .values(attempts=_ROW.attempts + 1)
    .returning(*_VERIFICATIONS.c)
)
# Only the code that was read: a resend between the read and this statement replaced it, and
# the code it matched approves nothing.
_APPROVE = _COUNT_ATTEMPT.where(_ROW.code_digest == bindparam("read_code_digest")).values(
    status="approved", finished_at=bindparam("now")
)
_BY_KEY = select(_VERIFICATIONS).where(
    _ROW.app_id == bindparam("app_id"), _ROW.idempotency_key == bindparam("key")
)
_LIVE = (
    select(_VERIFICATIONS)
    .where(
        _ROW.app_id == bindparam("app_id"),
        _ROW.destination_digest == bindparam("destination_digest"),
        _ROW.status == "pending",
        _ROW.expires_at > bindparam("now"),
    )
    .order_by(_ROW.created_at.desc())
    .limit(1)
)
_INSERT = insert(_VERIFICATIONS)
_RESEND = (
    update(_VERIFICATIONS)
    .where(_ROW.id == bindparam("verification_id"))
    .values(
        sends=_ROW.sends + 1,
        expires_at=bindparam("new_expires_at"),
        last_sent_at=bindparam("now"),
        locale=bindparam("new_locale"),
        delivery="queued",
        code_digest=bindparam("new_code_digest"),
    )
    .returning(*_VERIFICATIONS.c)
)
_RESEND_PRICED = _RESEND.values(cost=func.coalesce(_ROW.cost, 0) + bindparam("price"))
_DELIVERED = (
    update(_VERIFICATIONS)
    .where(_ROW.id == bindparam("verification_id"))
    .values(delivery=bindparam("new_delivery"))
    .returning(*_VERIFICATIONS.c)
)
# The credit is taken from the cost as it stands, not from one read earlier: another send of the
# same verification may have added its price meanwhile. NULL (billing off) stays NULL.
_FAILED = _DELIVERED.values(
    status="failed",
    finished_at=bindparam("now"),
    cost=case((_ROW.cost < bindparam("credited"), 0), else_=_ROW.cost - bindparam("credited")),
)
_FINISH = (
    update(_VERIFICATIONS)
    .where(_ROW.id == bindparam("verification_id"), _ROW.status == "pending")
    .values(status=bindparam("new_status"), finished_at=bindparam("now"))
    .returning(*_VERIFICATIONS.c)
)


def _nonce_insert(insert: Callable[[Table], Any]) -> Executable:
    statement: Executable = insert(_NONCES).on_conflict_do_nothing()
    return statement


def _usage_upsert(insert: Callable[[Table], Any]) -> Executable:
    statement = insert(_USAGE)
    upsert: Executable = statement.on_conflict_do_update(
        index_elements=["app_id", "day", "channel", "country"],
        set_={
            "sent": _USAGE.c.sent + statement.excluded.sent,
            "failed": _USAGE.c.failed + statement.excluded.failed,
            "approved": _USAGE.c.approved + statement.excluded.approved,
        },
    )
    return upsert


_BY_DIALECT = {
    "postgresql": (_nonce_insert(postgresql.insert), _usage_upsert(postgresql.insert)),
    "sqlite": (_nonce_insert(sqlite.insert), _usage_upsert(sqlite.insert)),
}


def _dialect(session: AsyncSession) -> tuple[Executable, Executable]:
    """The nonce insert and the usage upsert in the session's dialect."""
    return _BY_DIALECT[session.get_bind().dialect.name]


async def claim_nonce(
    session: AsyncSession, app_id: int, nonce: str, *, expires_at: datetime
) -> bool:
    """Record a signed request's nonce in the session's transaction; False when the app used it
    before. The caller commits: the nonce is kept with the request's own writes, or with
    none, never without them."""
    insert, _ = _dialect(session)
    result = await session.execute(
        insert, {"app_id": app_id, "nonce": nonce, "expires_at": expires_at}
    )
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
    _, upsert = _dialect(session)
    await session.execute(
        upsert,
        {
            "app_id": app_id,
            "day": day,
            "channel": channel,
            "country": country,
            "sent": sent,
            "failed": failed,
            "approved": approved,
        },
    )


async def read_verification(
    session: AsyncSession, app_id: int, verification_id: str
) -> Row[Any] | None:
    """The app's verification as a row of its columns (read-only), or None."""
    result = await session.execute(
        _SELECT_ONE, {"verification_id": verification_id, "app_id": app_id}
    )
    return result.first()


async def find_by_idempotency_key(session: AsyncSession, app_id: int, key: str) -> Row[Any] | None:
    """The app's verification started with this idempotency key, if any."""
    result = await session.execute(_BY_KEY, {"app_id": app_id, "key": key})
    return result.first()


async def find_live(
    session: AsyncSession, app_id: int, destination_digest: str, *, now: datetime
) -> Row[Any] | None:
    """The pending, unexpired verification of this destination, if any (the newest)."""
    result = await session.execute(
        _LIVE, {"app_id": app_id, "destination_digest": destination_digest, "now": now}
    )
    return result.first()


async def add_verification(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """Insert a verification with these column values (the caller commits)."""
    await session.execute(_INSERT, dict(values))


async def resend(
    session: AsyncSession,
    verification_id: str,
    *,
    code_digest: str,
    locale: str,
    now: datetime,
    expires_at: datetime,
    price: int | None,
) -> Row[Any] | None:
    """Count one more send of a verification with a new code; its row after the change. `price`:
    added to its cost (billing on), or None to leave the cost as it is (the caller commits)."""
    statement = _RESEND if price is None else _RESEND_PRICED
    result = await session.execute(
        statement,
        {
            "verification_id": verification_id,
            "new_code_digest": code_digest,
            "new_locale": locale,
            "now": now,
            "new_expires_at": expires_at,
            "price": price or 0,
        },
    )
    return result.first()


async def set_delivery(
    session: AsyncSession,
    verification_id: str,
    delivery: str,
    *,
    failed_at: datetime | None = None,
    credited: int = 0,
) -> Row[Any] | None:
    """Record how the code's message went; with `failed_at`, the verification failed then and
    `credited` (given back for this send) comes off its cost. Its row after the change (the
    caller commits)."""
    if failed_at is None:
        result = await session.execute(
            _DELIVERED, {"verification_id": verification_id, "new_delivery": delivery}
        )
    else:
        result = await session.execute(
            _FAILED,
            {
                "verification_id": verification_id,
                "new_delivery": delivery,
                "now": failed_at,
                "credited": credited,
            },
        )
    return result.first()


async def count_attempt(
    session: AsyncSession, verification_id: str, *, max_attempts: int, now: datetime
) -> Row[Any] | None:
    """Count one code entry of a pending, unexpired verification; its row after the count, or
    None when it is no longer pending or has no attempts left (the caller commits)."""
    result = await session.execute(
        _COUNT_ATTEMPT,
        {"verification_id": verification_id, "now": now, "max_attempts": max_attempts},
    )
    return result.first()


async def approve(
    session: AsyncSession,
    verification_id: str,
    *,
    code_digest: str,
    max_attempts: int,
    now: datetime,
) -> Row[Any] | None:
    """Count the attempt that entered the right code and approve the verification, in one
    statement, if it is pending, unexpired, has attempts left and its code is still the one
    whose digest (`code_digest`) the entered code matched; its row after the change, or None
    (the caller commits)."""
    result = await session.execute(
        _APPROVE,
        {
            "verification_id": verification_id,
            "now": now,
            "max_attempts": max_attempts,
            "read_code_digest": code_digest,
        },
    )
    return result.first()


async def finish(
    session: AsyncSession, verification_id: str, status: str, *, now: datetime
) -> Row[Any] | None:
    """Move a pending verification to `status`; its row after the change, or None if it was no
    longer pending (the caller commits)."""
    result = await session.execute(
        _FINISH, {"verification_id": verification_id, "new_status": status, "now": now}
    )
    return result.first()


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
