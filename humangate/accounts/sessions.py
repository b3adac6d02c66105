"""Console sessions and known devices.

A session token is 256 bits from `secrets`; only its SHA-256 digest is stored. A session ends
12 hours after it was last seen or 30 days after it began, whichever comes first. Logging in
always mints a new token and deletes the session the browser held before, so an identifier
planted before login (session fixation) is never promoted.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._context import AccountContext
from humangate.accounts._keys import sha256_hex
from humangate.accounts._views import account_view, session_view
from humangate.accounts.outcomes import SessionInfo, SessionView
from humangate.db import account_sessions as session_db
from humangate.db import accounts as db
from humangate.db.accounts import aware
from humangate.db.models import AccountSession
from humangate.errors import InvalidInput
from humangate.netaddr import ip_prefix

MAX_TOKEN_LENGTH = 128
# Writes of "last seen" are spaced out so that every console request is not a database write.
TOUCH_EVERY = timedelta(minutes=1)
ACTIVITY_EVERY = timedelta(hours=1)


def new_token() -> str:
    """256 random bits, URL-safe: a session token, a device cookie or a step-up token."""
    return secrets.token_urlsafe(32)


def clean_label(label: str | None) -> str:
    """A device label ("Firefox on Linux") with control characters dropped, at most 100 long."""
    if not label:
        return "Unknown device"
    kept = "".join(ch for ch in label if unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())[:100] or "Unknown device"


async def start_session(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    *,
    ip: str | None,
    device_label: str | None,
    previous_token: str | None,
    now: datetime,
) -> str:
    """Create a session and return its token; the `previous_token` session, if any, is ended."""
    if previous_token and len(previous_token) <= MAX_TOKEN_LENGTH:
        await session_db.delete_session(session, sha256_hex(previous_token))
    token = new_token()
    await session_db.add_session(
        session,
        AccountSession(
            account_id=account_id,
            token_digest=sha256_hex(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + ctx.policy.session_absolute,
            ip_prefix=ip_prefix(ip),
            device_label=clean_label(device_label),
        ),
    )
    return token


async def authenticate(
    ctx: AccountContext, session: AsyncSession, token: str | None, *, now: datetime
) -> SessionInfo | None:
    """The session and account behind a cookie, or None if it is unknown, expired or its account
    is no longer active. Ended sessions are deleted on sight."""
    if not token or not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = await session_db.find_session(session, sha256_hex(token))
    if row is None:
        return None
    last_seen = aware(row.last_seen_at)
    if aware(row.expires_at) <= now or last_seen + ctx.policy.session_idle <= now:
        await session_db.delete_session(session, row.token_digest)
        await session.commit()
        return None
    account = await db.get_account(session, row.account_id)
    if account is None or account.status != "active":
        return None
    if now - last_seen >= TOUCH_EVERY:
        row.last_seen_at = now
        if now - aware(account.last_active_at) >= ACTIVITY_EVERY:
            account.last_active_at = now
            account.inactivity_warned_at = None
        await session.commit()
    return SessionInfo(session=session_view(row, current=True), account=account_view(account))


async def log_out(
    ctx: AccountContext, session: AsyncSession, token: str | None, *, ip: str | None, now: datetime
) -> bool:
    """End the session behind `token`; False if there was none."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    row = await session_db.find_session(session, sha256_hex(token))
    if row is None:
        return False
    account_id = row.account_id
    await session_db.delete_session(session, row.token_digest)
    await audit.record_by_account(session, "session.logout", account_id, ip=ip, now=now)
    await session.commit()
    return True


async def list_sessions(
    session: AsyncSession, account_id: int, *, current_token: str | None, now: datetime
) -> list[SessionView]:
    """The account's sessions, most recently seen first, with the caller's marked `current`."""
    current = sha256_hex(current_token) if current_token else None
    return [
        session_view(row, current=row.token_digest == current)
        for row in await session_db.list_sessions(session, account_id)
    ]


async def revoke_session(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    session_id: int,
    *,
    ip: str | None,
    now: datetime,
) -> bool:
    """End one of the account's own sessions by id; False if it has no such session."""
    gone = await session_db.delete_account_sessions(session, account_id, only_id=session_id)
    if gone:
        await audit.record_by_account(
            session, "session.revoked", account_id, ip=ip, now=now, target=f"session:{session_id}"
        )
    await session.commit()
    return bool(gone)


async def revoke_other_sessions(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    current_token: str,
    *,
    ip: str | None,
    now: datetime,
) -> int:
    """End every session of the account but the caller's; return how many ended.

    Raises:
        InvalidInput: `current_token` is not a session of this account.
    """
    current = await session_db.find_session(session, sha256_hex(current_token or ""))
    if current is None or current.account_id != account_id:
        raise InvalidInput("The current session does not belong to this account.")
    gone = await session_db.delete_account_sessions(session, account_id, keep_id=current.id)
    await audit.record_by_account(
        session, "session.revoked_others", account_id, ip=ip, now=now, details={"sessions": gone}
    )
    await session.commit()
    return gone
