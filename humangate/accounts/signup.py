"""Signing up: a pending account and a code to its identifier; the code activates it.

Nothing here sends a message: outcomes carry `Outgoing` values for the web layer. From outside,
an identifier that is taken (by an account or by a hold after a cancellation) looks like a free
one: the same outcome, and the same work (one argon2 hash); its holder is told instead.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._common import (
    Holder,
    add_account_for,
    check_now,
    expires_in,
    find_account,
    find_holder,
    issue_code_message,
    read_identifier,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._steps import finish_login, record_code_rejected
from humangate.accounts.codes import check_code, read_code
from humangate.accounts.identifiers import Identifier
from humangate.accounts.outcomes import CodeRejected, CodeSent, LoggedIn, Throttled
from humangate.accounts.passwords import check_password
from humangate.db import accounts as db
from humangate.db.accounts import aware
from humangate.db.models import Account


async def sign_up(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    password: str,
    *,
    client: Client,
    now: datetime,
    terms_version: str | None = None,
) -> CodeSent | Throttled:
    """Start a sign-up: a pending account and a code to the identifier. `terms_version` is the
    version of the operator's terms the visitor accepted on the form, if the operator has any.

    If the identifier belongs to an account already, or is held after a cancellation, no account
    is made and the message tells its owner so instead; the outcome is the same.

    Raises:
        InvalidInput: malformed identifier or a password the policy refuses.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    check_password(password, identifier=ident)
    retry = await limits.allow_send(ctx.store, ctx.policy, ctx.keys.identifier_digest(ident), now)
    if retry is not None:
        return Throttled(retry)
    # Hashing on every path keeps the known and unknown paths equally slow.
    password_hash = await asyncio.to_thread(ctx.hasher.hash, password)
    holder = await find_holder(ctx, session, ident, now)
    notice = holder.notice(ident)
    if notice is not None:
        return CodeSent((notice,), expires_in(ctx))
    account = await _add_pending(session, holder, ident, password_hash, terms_version, now)
    message = await issue_code_message(
        ctx,
        session,
        account.id,
        ident,
        purpose="signup",
        template="signup-code",
        action="account.signup",
        client=client,
        now=now,
        details={"kind": ident.kind},
    )
    try:
        await session.commit()
    except IntegrityError:  # a concurrent sign-up for the same identifier won
        await session.rollback()
        return CodeSent((), expires_in(ctx))
    return CodeSent((message,), expires_in(ctx))


async def _add_pending(
    session: AsyncSession,
    holder: Holder,
    ident: Identifier,
    password_hash: str,
    terms_version: str | None,
    now: datetime,
) -> Account:
    """A pending account for `ident`, in place of an unconfirmed sign-up for it (the newer one
    replaces it)."""
    if holder.account is not None:
        await db.erase_account(session, holder.account.id)
    account = await add_account_for(
        session, ident, password_hash=password_hash, role="owner", status="pending", now=now
    )
    if terms_version:
        account.terms_version, account.terms_accepted_at = terms_version, now
    return account


async def confirm_sign_up(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    code: str,
    *,
    client: Client,
    now: datetime,
) -> LoggedIn | CodeRejected:
    """Activate a pending account with its sign-up code and log it in on this device.

    Raises:
        InvalidInput: malformed identifier or code.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    digits = read_code(code)
    account = await find_account(session, ident)
    if (
        account is None
        or account.status != "pending"
        or aware(account.created_at) + ctx.policy.pending_ttl <= now
    ):
        return CodeRejected("wrong-or-expired")
    check = await check_code(
        session, ctx.keys, ctx.policy, account_id=account.id, purpose="signup", code=digits, now=now
    )
    if not check.ok:
        await record_code_rejected(session, account.id, "signup", check.reason, client, now)
        return CodeRejected("wrong-or-expired")
    account.status = "active"
    account.confirmed_at = now
    await audit.record_by_account(session, "account.confirmed", account.id, ip=client.ip, now=now)
    return await finish_login(ctx, session, account, client, method="signup", now=now)
