"""A forgotten password: a code to the account's e-mail or phone, then a new password.

The code proves the mailbox or phone, the same proof a login by code gives, so a reset also logs
this browser in (no step-up follows). Every other session ends, and the identifier is told that
the password changed. From outside, an unknown identifier looks exactly like a known one: the
same `CodeSent` (with nothing to send) and the same `CodeRejected`. A suspended or banned
account gets no code, so a reset cannot lift a block.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._common import (
    CodeOffer,
    check_now,
    find_account,
    read_identifier,
    send_code_if,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._steps import check_identifier_code, finish_login
from humangate.accounts.codes import read_code
from humangate.accounts.outcomes import (
    CodeRejected,
    CodeSent,
    Locked,
    LoggedIn,
    Outgoing,
    Throttled,
)
from humangate.accounts.passwords import check_password
from humangate.db import account_sessions as session_db

PASSWORD_RESET = CodeOffer(
    "password-reset", "password-reset-code", lambda ctx, account, now: account.status == "active"
)


async def request_password_reset(
    ctx: AccountContext, session: AsyncSession, identifier: str, *, client: Client, now: datetime
) -> CodeSent | Throttled:
    """Send a reset code to an active account's identifier; anything else sends nothing and
    answers the same. Counts against the identifier's resend limits either way.

    Raises:
        InvalidInput: a malformed identifier.
    """
    return await send_code_if(ctx, session, identifier, PASSWORD_RESET, client=client, now=now)


async def reset_password(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    code: str,
    new_password: str,
    *,
    client: Client,
    now: datetime,
) -> LoggedIn | CodeRejected | Locked:
    """Set a new password with a reset code, end every session, and log this browser in.

    Wrong codes count towards the identifier-from-this-network lock, as for a login by code.

    Raises:
        InvalidInput: a malformed identifier or code, or a password the policy refuses; nothing
            is changed and no attempt is counted.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    digits = read_code(code)
    check_password(new_password, identifier=ident)
    account = await find_account(session, ident)
    if account is not None and account.status != "active":
        account = None
    refused = await check_identifier_code(
        ctx,
        session,
        ident,
        account,
        digits,
        purpose="password-reset",
        method="password-reset",
        client=client,
        now=now,
    )
    if refused is not None or account is None:
        return refused or CodeRejected("wrong-or-expired")
    account.password_hash = await asyncio.to_thread(ctx.hasher.hash, new_password)
    ended = await session_db.delete_account_sessions(session, account.id)
    await audit.record_by_account(
        session,
        "password.reset",
        account.id,
        ip=client.ip,
        now=now,
        details={"sessions_ended": ended},
    )
    notice = Outgoing(ident.channel, ident.value, "password-changed", {}, account.language)
    logged = await finish_login(ctx, session, account, client, method="password-reset", now=now)
    return LoggedIn(
        logged.account, logged.session_token, logged.device_token, (notice, *logged.outgoing)
    )
