"""The step-up: a password given from a device or network the account has not used is not
enough; a code goes to the account's identifier, and only the browser that gave the password
may enter it, within `step_up_ttl`.

The waiting login lives in the hot store under a 256-bit token the browser holds, with the
device that asked, the lockout key of the identifier it logged in with, and its deadline.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._common import check_now, code_message
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._keys import sha256_hex
from humangate.accounts._steps import finish_login, locked_outcome, record_code_rejected
from humangate.accounts.codes import check_code, issue_code, read_code
from humangate.accounts.identifiers import Identifier
from humangate.accounts.outcomes import CodeRejected, Locked, LoggedIn, Outgoing, StepUpRequired
from humangate.accounts.sessions import MAX_TOKEN_LENGTH, clean_label, new_token
from humangate.db import accounts as db
from humangate.db.models import Account
from humangate.netaddr import ip_prefix

NS_STEP_UP = "acct-stepup"


def new_device_message(message: Outgoing, client: Client) -> Outgoing:
    """A step-up code's message, naming the network and the device that asked for it."""
    params = {
        **message.params,
        "network": ip_prefix(client.ip),
        "device": clean_label(client.device_label),
    }
    return dataclasses.replace(message, params=params)


async def start_step_up(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account,
    ident: Identifier,
    client: Client,
    device_token: str,
    keys: limits.LoginKeys,
    now: datetime,
) -> StepUpRequired:
    """Keep the waiting login and send its code, unless the resend limit holds it back."""
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
        outgoing = (new_device_message(message, client),)
    details = {"message_sent": retry is None}
    await audit.record_by_account(
        session, "login.step_up", account.id, ip=client.ip, now=now, details=details
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
    state: dict[str, Any] | None = json.loads(raw) if raw is not None else None
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
        InvalidInput: a malformed code.
    """
    check_now(now)
    digits = read_code(code)
    waiting = await waiting_step_up(ctx, session, step_up_token, client=client, now=now)
    if isinstance(waiting, CodeRejected):
        return waiting
    account, state = waiting
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
        await record_code_rejected(session, account.id, "new-device", check.reason, client, now)
        locked = await limits.record_failure(ctx.store, ctx.policy, keys, now)
        return Locked(locked) if locked else check.rejected()
    if await ctx.store.take(NS_STEP_UP, sha256_hex(step_up_token)) is None:  # done concurrently
        await session.rollback()
        return CodeRejected("expired")
    return await finish_login(
        ctx, session, account, client, method="step-up", now=now, device_token=client.device_token
    )
