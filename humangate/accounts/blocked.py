"""The data rights of a suspended or banned owner, who cannot log in: export and cancellation.

The owner asks for a one-time code to the account's identifier (the answer is the same for any
identifier, as every code request is) and enters it; that opens a limited access for
`ACCESS_TTL`: a token held in the shared store that reaches the account's export and its
cancellation, and nothing else. It is no session, so no other console page accepts it, and it
stops working as soon as the account is restored, cancelled or the access is ended.

A ban must not lapse by cancellation: a banned account that is cancelled, by its owner here or by
an admin, holds its identifiers for `BAN_HOLD` (a year) instead of the usual `hold_period`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._common import (
    BLOCKED,
    CodeOffer,
    check_now,
    find_account,
    read_identifier,
    send_code_if,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._keys import sha256_hex
from humangate.accounts._views import account_view
from humangate.accounts.cancellation import cancel_now
from humangate.accounts.codes import check_code, read_code
from humangate.accounts.export import export_account
from humangate.accounts.outcomes import AccountView, Cancelled, CodeRejected, CodeSent, Throttled
from humangate.accounts.sessions import new_token
from humangate.db import accounts as db
from humangate.db.models import Account

ACCESS_TTL = timedelta(minutes=15)
BAN_HOLD = timedelta(days=365)
NS_ACCESS = "acct-blocked"
BLOCKED_ACCESS_CODE = CodeOffer(
    "login",
    "login-code",
    lambda ctx, account, now: account.status in BLOCKED,
    details={"purpose": "blocked-access"},
)


@dataclass(frozen=True, slots=True, repr=False)
class BlockedAccess:
    """A limited access for `expires_in` seconds; set `token` as an HttpOnly cookie."""

    account: AccountView
    token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"BlockedAccess(account_id={self.account.id})"


def hold_context(ctx: AccountContext, account: Account) -> AccountContext:
    """The context to cancel `account` with: a banned one holds its identifiers for BAN_HOLD."""
    if account.status != "banned" or ctx.policy.hold_period >= BAN_HOLD:
        return ctx
    policy = dataclasses.replace(ctx.policy, hold_period=BAN_HOLD)
    return dataclasses.replace(ctx, policy=policy)


async def request_blocked_code(
    ctx: AccountContext, session: AsyncSession, identifier: str, *, client: Client, now: datetime
) -> CodeSent | Throttled:
    """Send a code to a suspended or banned account's identifier; any other identifier gets
    the same CodeSent with nothing to send, and is throttled the same way.

    Raises:
        InvalidInput: a malformed identifier.
    """
    return await send_code_if(ctx, session, identifier, BLOCKED_ACCESS_CODE, client=client, now=now)


async def open_blocked_access(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    code: str,
    *,
    client: Client,
    now: datetime,
) -> BlockedAccess | CodeRejected:
    """Open the limited access with the code from `request_blocked_code`. Whatever fails (no
    such account, one that is not blocked, a wrong code) is `wrong-or-expired`.

    Raises:
        InvalidInput: a malformed identifier or code.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    digits = read_code(code)
    account = await find_account(session, ident)
    if account is None or account.status not in BLOCKED:
        return CodeRejected("wrong-or-expired")
    check = await check_code(
        session, ctx.keys, ctx.policy, account_id=account.id, purpose="login", code=digits, now=now
    )
    ok = check.ok and check.target == ident.value
    await audit.record_by_account(
        session,
        "login.limited" if ok else "code.rejected",
        account.id,
        ip=client.ip,
        now=now,
        details={"status": account.status} if ok else {"purpose": "blocked-access"},
    )
    await session.commit()
    if not ok:
        return CodeRejected("wrong-or-expired")
    token = new_token()
    ttl = ACCESS_TTL.total_seconds()
    await ctx.store.put(NS_ACCESS, sha256_hex(token), str(account.id).encode(), ttl)
    return BlockedAccess(account_view(account), token, int(ttl))


async def blocked_account(
    ctx: AccountContext, session: AsyncSession, token: str | None
) -> AccountView | None:
    """The account a limited access opens, while it lasts and the account is still blocked."""
    account = await _blocked_row(ctx, session, token)
    return None if account is None else account_view(account)


async def export_blocked_account(
    ctx: AccountContext, session: AsyncSession, token: str | None, *, client: Client, now: datetime
) -> dict[str, object] | None:
    """The owner's data export (audited as any export), or None if the access is gone."""
    check_now(now)
    account = await _blocked_row(ctx, session, token)
    if account is None:
        return None
    return await export_account(ctx, session, account.id, client=client, now=now)


async def cancel_blocked_account(
    ctx: AccountContext, session: AsyncSession, token: str | None, *, client: Client, now: datetime
) -> Cancelled | None:
    """Cancel the account for good, as its owner; None if the access is gone. A banned
    account's identifiers stay held for BAN_HOLD."""
    check_now(now)
    account = await _blocked_row(ctx, session, token)
    if account is None or token is None:
        return None
    actor = audit.Actor.account(account.id)
    cancelled = await cancel_now(
        hold_context(ctx, account), session, account, actor=actor, reason="owner", now=now
    )
    await session.commit()
    await end_blocked_access(ctx, token)
    return cancelled


async def end_blocked_access(ctx: AccountContext, token: str | None) -> None:
    """Forget a limited access (nothing happens for an unknown one)."""
    if token:
        await ctx.store.delete(NS_ACCESS, sha256_hex(token))


async def _blocked_row(
    ctx: AccountContext, session: AsyncSession, token: str | None
) -> Account | None:
    if not token:
        return None
    value = await ctx.store.get(NS_ACCESS, sha256_hex(token))
    if value is None:
        return None
    account = await db.get_account(session, int(value))
    if account is None or account.status not in BLOCKED:
        return None
    return account
