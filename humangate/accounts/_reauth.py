"""Asking a logged-in owner for the password again before a change that needs it (a new password,
a new e-mail address or phone number). Failures lock on their own path: the account from one
network, so a stolen session cannot guess the password at leisure."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._context import AccountContext, Client
from humangate.accounts.outcomes import Locked, LoginFailed
from humangate.db.models import Account
from humangate.netaddr import ip_prefix


def _reauth_keys(account: Account, client: Client) -> limits.LoginKeys:
    return limits.LoginKeys(pair=f"a{account.id}:{ip_prefix(client.ip)}", account=f"a{account.id}")


async def reauthenticate(
    ctx: AccountContext, account: Account, password: str, client: Client, now: datetime
) -> bool:
    """Whether `password` is the account's; False while the path is locked."""
    keys = _reauth_keys(account, client)
    if await limits.locked_for(ctx.store, keys, now) is not None:
        return False
    return await asyncio.to_thread(ctx.hasher.verify, account.password_hash, password)


async def reauth_failed(
    ctx: AccountContext, session: AsyncSession, account: Account, client: Client, now: datetime
) -> LoginFailed | Locked:
    """Count and audit a failed `reauthenticate`, commit, and say why it failed."""
    keys = _reauth_keys(account, client)
    locked = await limits.locked_for(ctx.store, keys, now)
    if locked is None:
        locked = await limits.record_failure(ctx.store, ctx.policy, keys, now)
    details = {"method": "reauthenticate", "locked": locked is not None}
    await audit.record_by_account(
        session, "login.failed", account.id, ip=client.ip, now=now, details=details
    )
    await session.commit()
    return Locked(locked) if locked is not None else LoginFailed("The password is wrong.")
