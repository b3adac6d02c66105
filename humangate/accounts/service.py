"""Signing up and logging in: by password (with step-up on a new device or network) or by code.

Every function takes the context, a database session and `now`; each commits once. Nothing here
sends a message: outcomes carry `Outgoing` values for the web layer. From outside, an unknown
identifier is indistinguishable from a known one: the same outcome type and shape, and for a
password the same work (one argon2 verification against a dummy hash).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._common import (
    BLOCKED,
    check_now,
    code_message,
    expires_in,
    find_account,
    issue_audited_code,
    read_identifier,
    send_code_if,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._keys import sha256_hex
from humangate.accounts._steps import (
    blocked_outcome,
    check_identifier_code,
    device_token_for,
    finish_login,
    locked_outcome,
    login_failed,
    login_keys,
    record_code_rejected,
)
from humangate.accounts.codes import check_code, issue_code, read_code
from humangate.accounts.identifiers import Identifier
from humangate.accounts.outcomes import (
    CodeLoginOutcome,
    CodeRejected,
    CodeSent,
    Locked,
    LoggedIn,
    LoginOutcome,
    Outgoing,
    StepUpRequired,
    Throttled,
)
from humangate.accounts.passwords import check_password, check_password_length
from humangate.accounts.sessions import MAX_TOKEN_LENGTH, clean_label, new_token
from humangate.db import accounts as db
from humangate.db.accounts import aware
from humangate.db.models import Account
from humangate.netaddr import ip_prefix

NS_STEP_UP = "acct-stepup"


# --- sign-up ------------------------------------------------------------------------------------


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
        ValueError: malformed identifier or a password the policy refuses.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    check_password(password, identifier=ident)
    digest = ctx.keys.identifier_digest(ident)
    retry = await limits.allow_send(ctx.store, ctx.policy, digest, now)
    if retry is not None:
        return Throttled(retry)
    # Hashing on every path keeps the known and unknown paths equally slow.
    password_hash = await asyncio.to_thread(ctx.hasher.hash, password)
    held_until = await db.find_hold(session, digest, now)
    if held_until is not None:
        notice = Outgoing(
            ident.channel, ident.value, "identifier-held", {"until": held_until.isoformat()}
        )
        return CodeSent((notice,), expires_in(ctx))
    existing = await find_account(session, ident)
    if existing is not None and existing.status != "pending":
        notice = Outgoing(ident.channel, ident.value, "already-registered", {})
        return CodeSent((notice,), expires_in(ctx))
    if existing is not None:  # an unconfirmed sign-up: the newer one replaces it
        await db.erase_account(session, existing.id)
    account = await db.add_account(
        session,
        email=ident.value if ident.kind == "email" else None,
        email_key=ident.key if ident.kind == "email" else None,
        phone=ident.key if ident.kind == "phone" else None,
        password_hash=password_hash,
        role="owner",
        status="pending",
        now=now,
    )
    if terms_version:
        account.terms_version, account.terms_accepted_at = terms_version, now
    code = await issue_audited_code(
        ctx,
        session,
        account_id=account.id,
        purpose="signup",
        target=ident.value,
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
    return CodeSent((code_message(ctx, ident, "signup-code", code),), expires_in(ctx))


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
        ValueError: malformed identifier or code.
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
        await record_code_rejected(session, account.id, "signup", check, client, now)
        return CodeRejected("wrong-or-expired")
    account.status = "active"
    account.confirmed_at = now
    await audit.record(
        session,
        "account.confirmed",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
    )
    return await finish_login(ctx, session, account, client, method="signup", now=now)


# --- password login and step-up -----------------------------------------------------------------


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
        ValueError: malformed identifier or a password longer than the maximum.
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
    device_known, network_known = await db.device_seen(session, account.id, device_digest, network)
    if device_known and network_known:
        return await finish_login(
            ctx, session, account, client, method="password", now=now, device_token=device_token
        )
    return await _step_up(ctx, session, account, ident, client, device_token, keys, now)


async def _step_up(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account,
    ident: Identifier,
    client: Client,
    device_token: str,
    keys: limits.LoginKeys,
    now: datetime,
) -> StepUpRequired:
    token = new_token()
    state = {
        "account": account.id,
        "device": ctx.keys.device_digest(device_token),
        "pair": keys.pair,
        "expires": (now + ctx.policy.step_up_ttl).timestamp(),
    }
    ttl = ctx.policy.step_up_ttl.total_seconds()
    await ctx.store.put(NS_STEP_UP, sha256_hex(token), json.dumps(state).encode(), ttl)
    outgoing: tuple[Outgoing, ...] = ()
    retry = await limits.allow_send(ctx.store, ctx.policy, ctx.keys.identifier_digest(ident), now)
    if retry is None:
        code = await issue_code(
            session,
            ctx.keys,
            ctx.policy,
            account_id=account.id,
            purpose="new-device",
            target=ident.value,
            now=now,
        )
        message = code_message(ctx, ident, "new-device-code", code)
        params = {
            **message.params,
            "network": ip_prefix(client.ip),
            "device": clean_label(client.device_label),
        }
        outgoing = (Outgoing(message.kind, message.to, message.template, params),)
    await audit.record(
        session,
        "login.step_up",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"message_sent": retry is None},
    )
    await session.commit()
    return StepUpRequired(token, device_token, outgoing, retry)


async def waiting_step_up(
    ctx: AccountContext,
    session: AsyncSession,
    step_up_token: str,
    *,
    client: Client,
    now: datetime,
) -> tuple[Account, dict[str, Any]] | CodeRejected:
    """The account and state of a login waiting at the step-up, asked from the browser that
    gave the password: CodeRejected("expired") when that login is over or unknown,
    ("unavailable") from another browser."""
    if not step_up_token or len(step_up_token) > MAX_TOKEN_LENGTH:
        return CodeRejected("expired")
    raw = await ctx.store.get(NS_STEP_UP, sha256_hex(step_up_token))
    state = json.loads(raw) if raw is not None else None
    if state is None or float(state["expires"]) <= now.timestamp():
        return CodeRejected("expired")
    if not client.device_token or ctx.keys.device_digest(client.device_token) != state["device"]:
        return CodeRejected("unavailable")
    account = await db.get_account(session, int(state["account"]))
    if account is None or account.status != "active":
        return CodeRejected("expired")
    return account, state


async def complete_step_up(
    ctx: AccountContext,
    session: AsyncSession,
    step_up_token: str,
    code: str,
    *,
    client: Client,
    now: datetime,
) -> LoggedIn | CodeRejected | Locked:
    """Finish a login that asked for a code, from the same device that gave the password.

    A wrong code is CodeRejected("invalid") (enter it again), a code that died "exhausted";
    a login that is over is "expired", and another browser gets "unavailable" (log in again).

    Raises:
        ValueError: a malformed code.
    """
    check_now(now)
    digits = read_code(code)
    waiting = await waiting_step_up(ctx, session, step_up_token, client=client, now=now)
    if isinstance(waiting, CodeRejected):
        return waiting
    account, state = waiting
    key = sha256_hex(step_up_token)
    keys = limits.LoginKeys(pair=str(state["pair"]), account=f"a{account.id}")
    retry = await limits.locked_for(ctx.store, keys, now)
    if retry is not None:
        return await locked_outcome(session, account, retry, client, now)
    check = await check_code(
        session,
        ctx.keys,
        ctx.policy,
        account_id=account.id,
        purpose="new-device",
        code=digits,
        now=now,
    )
    if not check.ok:
        await record_code_rejected(session, account.id, "new-device", check, client, now)
        locked = await limits.record_failure(ctx.store, ctx.policy, keys, now)
        return Locked(locked) if locked else check.rejected()
    if await ctx.store.take(NS_STEP_UP, key) is None:  # completed concurrently
        await session.rollback()
        return CodeRejected("expired")
    return await finish_login(
        ctx, session, account, client, method="step-up", now=now, device_token=client.device_token
    )


# --- login by code ------------------------------------------------------------------------------


async def request_login_code(
    ctx: AccountContext, session: AsyncSession, identifier: str, *, client: Client, now: datetime
) -> CodeSent | Throttled:
    """Send a password-free login code. An unknown identifier, or an account whose owner turned
    login by code off, gets the same CodeSent, with nothing to send.

    Raises:
        ValueError: a malformed identifier.
    """
    return await send_code_if(
        ctx,
        session,
        identifier,
        lambda account: account.status != "pending" and account.code_login,
        purpose="login",
        template="login-code",
        client=client,
        now=now,
    )


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
        ValueError: a malformed identifier or code.
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
