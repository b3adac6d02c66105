"""Logging in by password (with a step-up on a new device or network, see `step_up`) or by a
one-time code.

Every function takes the context, a database session and `now`; each commits once. Nothing here
sends a message: outcomes carry `Outgoing` values for the web layer. From outside, an unknown
identifier is indistinguishable from a known one: the same outcome type and shape, and for a
password the same work (one argon2 verification against a dummy hash).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import limits
from humangate.accounts._common import (
    BLOCKED,
    CodeOffer,
    check_now,
    find_account,
    read_identifier,
    send_code_if,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._steps import (
    blocked_outcome,
    check_identifier_code,
    device_token_for,
    finish_login,
    locked_outcome,
    login_failed,
    login_keys,
)
from humangate.accounts.codes import read_code
from humangate.accounts.outcomes import (
    CodeLoginOutcome,
    CodeRejected,
    CodeSent,
    LoginOutcome,
    Throttled,
)
from humangate.accounts.passwords import check_password_length
from humangate.accounts.step_up import start_step_up
from humangate.db import account_sessions as session_db
from humangate.netaddr import ip_prefix


async def log_in(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    password: str,
    *,
    client: Client,
    now: datetime,
) -> LoginOutcome:
    """Log in with a password.

    Returns LoggedIn; StepUpRequired from a device or network the account has not used (a code
    went to the identifier); LoginFailed for a wrong password or unknown identifier alike;
    Locked after too many failures; AccountBlocked (only to someone who gave the right
    password) for a suspended or banned account.

    Raises:
        InvalidInput: malformed identifier or a password longer than the maximum.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    check_password_length(password)
    account = await find_account(session, ident)
    if account is not None and account.status == "pending":
        account = None  # an unconfirmed sign-up cannot log in; it looks unknown
    network = ip_prefix(client.ip)
    keys = login_keys(ctx, ident, account, network)
    retry = await limits.locked_for(ctx.store, keys, now)
    if retry is not None:
        return await locked_outcome(session, account, retry, client, now)
    if account is None:
        ok = await asyncio.to_thread(ctx.hasher.verify_dummy, password)
    else:
        ok = await asyncio.to_thread(ctx.hasher.verify, account.password_hash, password)
    if account is None or not ok:
        return await login_failed(ctx, session, account, keys, client, "password", now)
    await limits.clear_failures(ctx.store, ctx.policy, keys, now)
    if account.status in BLOCKED:
        return await blocked_outcome(session, account, client, now)
    if ctx.hasher.needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(ctx.hasher.hash, password)
    device_token = device_token_for(client)
    device_digest = ctx.keys.device_digest(device_token)
    device_known, network_known = await session_db.device_seen(
        session, account.id, device_digest, network
    )
    if device_known and network_known:
        return await finish_login(
            ctx, session, account, client, method="password", now=now, device_token=device_token
        )
    return await start_step_up(ctx, session, account, ident, client, device_token, keys, now)


LOGIN_CODE = CodeOffer(
    "login",
    "login-code",
    lambda ctx, account, now: account.status != "pending" and account.code_login,
)


async def request_login_code(
    ctx: AccountContext, session: AsyncSession, identifier: str, *, client: Client, now: datetime
) -> CodeSent | Throttled:
    """Send a password-free login code. An unknown identifier, or an account whose owner turned
    login by code off, gets the same CodeSent, with nothing to send.

    Raises:
        InvalidInput: a malformed identifier.
    """
    return await send_code_if(ctx, session, identifier, LOGIN_CODE, client=client, now=now)


async def log_in_with_code(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    code: str,
    *,
    client: Client,
    now: datetime,
) -> CodeLoginOutcome:
    """Log in with a code from `request_login_code`. The code proves the mailbox or phone, the
    same proof a step-up asks for, so no step-up follows; the device becomes known.

    Raises:
        InvalidInput: a malformed identifier or code.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    digits = read_code(code)
    account = await find_account(session, ident)
    if account is not None and (account.status == "pending" or not account.code_login):
        account = None
    refused = await check_identifier_code(
        ctx, session, ident, account, digits, purpose="login", method="code", client=client, now=now
    )
    if refused is not None or account is None:
        return refused or CodeRejected("wrong-or-expired")
    if account.status in BLOCKED:
        return await blocked_outcome(session, account, client, now)
    return await finish_login(ctx, session, account, client, method="code", now=now)
