"""Helpers every account flow shares: time and input checks, look-ups, code messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._context import AccountContext, Client
from humangate.accounts.codes import Purpose, issue_code
from humangate.accounts.identifiers import Identifier, parse_identifier
from humangate.accounts.outcomes import CodeSent, Outgoing, Throttled
from humangate.db import accounts as db
from humangate.db.models import Account
from humangate.netaddr import ip_prefix

BLOCKED = ("suspended", "banned")


def check_now(now: datetime) -> datetime:
    """Raises ValueError for a naive datetime: every moment here is timezone-aware UTC."""
    if now.tzinfo is None:
        raise ValueError("`now` must be a timezone-aware datetime.")
    return now


def read_identifier(ctx: AccountContext, text: str) -> Identifier:
    return parse_identifier(text, default_region=ctx.policy.default_region)


async def find_account(session: AsyncSession, identifier: Identifier) -> Account | None:
    if identifier.kind == "email":
        return await db.find_account(session, email_key=identifier.key, phone=None)
    return await db.find_account(session, email_key=None, phone=identifier.key)


def code_message(ctx: AccountContext, identifier: Identifier, template: str, code: str) -> Outgoing:
    minutes = str(int(ctx.policy.code_ttl.total_seconds() // 60))
    return Outgoing(
        identifier.channel, identifier.value, template, {"code": code, "minutes": minutes}
    )


def expires_in(ctx: AccountContext) -> int:
    return int(ctx.policy.code_ttl.total_seconds())


async def require_account(
    session: AsyncSession, account_id: int, *, active: bool = True
) -> Account:
    """The account with this id (and, by default, status active).

    Raises:
        ValueError: there is no such account, or it is not active.
    """
    account = await db.get_account(session, account_id)
    if account is None or account.status == "pending":
        raise ValueError(f"No account has id {account_id}.")
    if active and account.status != "active":
        raise ValueError(f"Account {account_id} is {account.status}.")
    return account


async def issue_audited_code(
    ctx: AccountContext,
    session: AsyncSession,
    *,
    account_id: int,
    purpose: Purpose,
    target: str,
    action: audit.AuditAction,
    client: Client,
    now: datetime,
    details: dict[str, object] | None = None,
) -> str:
    """Store a code for the account and audit that it was sent (in the caller's transaction)."""
    code = await issue_code(
        session,
        ctx.keys,
        ctx.policy,
        account_id=account_id,
        purpose=purpose,
        target=target,
        now=now,
    )
    await audit.record(
        session,
        action,
        actor=audit.Actor.account(account_id),
        account_id=account_id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details=details,
    )
    return code


async def send_code_if(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    eligible: Callable[[Account], bool],
    *,
    purpose: Purpose,
    template: str,
    client: Client,
    now: datetime,
    details: dict[str, object] | None = None,
) -> CodeSent | Throttled:
    """Send a code to an identifier whose account `eligible` accepts; any other identifier gets
    the same CodeSent with nothing to send. The send limits count either way, before the
    look-up, so neither the answer nor its throttling tells whether an account exists. The
    audit entry's details default to the purpose.

    Raises:
        ValueError: a malformed identifier.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    retry = await limits.allow_send(ctx.store, ctx.policy, ctx.keys.identifier_digest(ident), now)
    if retry is not None:
        return Throttled(retry)
    account = await find_account(session, ident)
    if account is None or not eligible(account):
        return CodeSent((), expires_in(ctx))
    code = await issue_audited_code(
        ctx,
        session,
        account_id=account.id,
        purpose=purpose,
        target=ident.value,
        action="code.sent",
        client=client,
        now=now,
        details=details or {"purpose": purpose},
    )
    await session.commit()
    return CodeSent((code_message(ctx, ident, template, code),), expires_in(ctx))
