"""The steps that end every login attempt: success, failure, lock, block; each commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._notices import NEW_DEVICE_LOGIN, notice_locale, notice_time
from humangate.accounts._views import account_view, contacts
from humangate.accounts.codes import CodeCheck, Purpose, check_code
from humangate.accounts.identifiers import Identifier
from humangate.accounts.outcomes import (
    AccountBlocked,
    CodeRejected,
    Locked,
    LoggedIn,
    LoginFailed,
    Outgoing,
)
from humangate.accounts.sessions import MAX_TOKEN_LENGTH, clean_label, new_token, start_session
from humangate.db import account_sessions as session_db
from humangate.db import inbox as inbox_db
from humangate.db.models import Account
from humangate.netaddr import ip_prefix


def login_keys(
    ctx: AccountContext, ident: Identifier, account: Account | None, network: str
) -> limits.LoginKeys:
    digest = ctx.keys.identifier_digest(ident)
    return limits.LoginKeys(
        pair=f"{digest}:{network}",
        account=f"a{account.id}" if account is not None else f"i{digest}",
    )


def device_token_for(client: Client) -> str:
    token = client.device_token
    if token and 16 <= len(token) <= MAX_TOKEN_LENGTH:
        return token
    return new_token()


async def finish_login(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account,
    client: Client,
    *,
    method: str,
    now: datetime,
    device_token: str | None = None,
) -> LoggedIn:
    """Rotate the session, remember the device and network, record the login, commit.

    A device or network the account had not used gets a security notice in the inbox, and the
    same by message in `LoggedIn.outgoing`; not at sign-up, where every device is new.
    """
    device_token = device_token or device_token_for(client)
    network = ip_prefix(client.ip)
    token = await start_session(
        ctx,
        session,
        account.id,
        ip=client.ip,
        device_label=client.device_label,
        previous_token=client.session_token,
        now=now,
    )
    device_digest = ctx.keys.device_digest(device_token)
    outgoing: tuple[Outgoing, ...] = ()
    if await session_db.remember_device(session, account.id, device_digest, network, now):
        label = clean_label(client.device_label)
        await audit.record_by_account(
            session, "device.added", account.id, ip=client.ip, now=now, details={"device": label}
        )
        if method != "signup":
            outgoing = await new_device_notice(session, account, label, network, now)
    account.last_active_at = now
    account.inactivity_warned_at = None
    await audit.record_by_account(
        session, "login.succeeded", account.id, ip=client.ip, now=now, details={"method": method}
    )
    await session.commit()
    return LoggedIn(account_view(account), token, device_token, outgoing)


async def new_device_notice(
    session: AsyncSession, account: Account, device: str, network: str, now: datetime
) -> tuple[Outgoing, ...]:
    """Put the new-sign-in notice in the inbox (the caller commits); return the message."""
    params = {"device": device, "network": network, "time": notice_time(now)}
    title, body = NEW_DEVICE_LOGIN[notice_locale(account.language)]
    await inbox_db.add_notification(
        session, account.id, kind="security", subject=title, body=body.format(**params), now=now
    )
    return tuple(
        Outgoing(c.channel, c.value, "new-device-login", params, language=account.language)
        for c in contacts(account)[:1]
    )


async def login_failed(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account | None,
    keys: limits.LoginKeys,
    client: Client,
    method: str,
    now: datetime,
) -> LoginFailed | Locked:
    locked = await limits.record_failure(ctx.store, ctx.policy, keys, now)
    account_id = account.id if account is not None else None
    details = {"method": method, "locked": locked is not None}
    await audit.record_by_account(
        session, "login.failed", account_id, ip=client.ip, now=now, details=details
    )
    await session.commit()
    return Locked(locked) if locked is not None else LoginFailed()


async def locked_outcome(
    session: AsyncSession, account: Account | None, retry: int, client: Client, now: datetime
) -> Locked:
    account_id = account.id if account is not None else None
    await audit.record_by_account(session, "login.locked", account_id, ip=client.ip, now=now)
    await session.commit()
    return Locked(retry)


async def blocked_outcome(
    session: AsyncSession, account: Account, client: Client, now: datetime
) -> AccountBlocked:
    details = {"status": account.status}
    await audit.record_by_account(
        session, "login.blocked", account.id, ip=client.ip, now=now, details=details
    )
    await session.commit()
    return AccountBlocked(account.status, account.status_reason)  # type: ignore[arg-type]


async def record_code_rejected(
    session: AsyncSession,
    account_id: int,
    purpose: str,
    reason: str,
    client: Client,
    now: datetime,
) -> None:
    """Audit a code that did not verify, and commit so that the attempt stays counted."""
    details = {"purpose": purpose, "reason": reason}
    await audit.record_by_account(
        session, "code.rejected", account_id, ip=client.ip, now=now, details=details
    )
    await session.commit()


async def check_identifier_code(
    ctx: AccountContext,
    session: AsyncSession,
    ident: Identifier,
    account: Account | None,
    digits: str,
    *,
    purpose: Purpose,
    method: str,
    client: Client,
    now: datetime,
) -> Locked | CodeRejected | None:
    """Check a code that stands in for a password (login by code, password reset): None if it
    is right. `account` is None when the identifier names no account this flow serves; it fails
    the same way. Wrong codes count towards the identifier-from-this-network lock only, so that
    others cannot lock an owner out of their own mailbox's proof.
    """
    keys = login_keys(ctx, ident, account, ip_prefix(client.ip))
    retry = await limits.locked_for(ctx.store, keys, now, account_path=False)
    if retry is not None:
        return await locked_outcome(session, account, retry, client, now)
    check = CodeCheck(ok=False, reason="invalid")
    if account is not None:
        check = await check_code(
            session,
            ctx.keys,
            ctx.policy,
            account_id=account.id,
            purpose=purpose,
            code=digits,
            now=now,
        )
    if account is None or not check.ok:
        await login_failed(ctx, session, account, keys, client, method, now)
        locked = await limits.locked_for(ctx.store, keys, now, account_path=False)
        return Locked(locked) if locked else CodeRejected("wrong-or-expired")
    await limits.clear_failures(ctx.store, ctx.policy, keys, now)
    return None
