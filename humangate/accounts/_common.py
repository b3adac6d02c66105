"""Helpers every account flow shares: time and input checks, look-ups, code messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._context import AccountContext, Client
from humangate.accounts.codes import Purpose, issue_code
from humangate.accounts.identifiers import Identifier, parse_identifier
from humangate.accounts.outcomes import CodeSent, Outgoing, Throttled
from humangate.db import accounts as db
from humangate.db.models import Account
from humangate.errors import InvalidInput

BLOCKED = ("suspended", "banned")


def check_now(now: datetime) -> datetime:
    """Raises InvalidInput for a naive datetime: every moment here is timezone-aware UTC."""
    if now.tzinfo is None:
        raise InvalidInput("`now` must be a timezone-aware datetime.")
    return now


def read_identifier(ctx: AccountContext, text: str) -> Identifier:
    return parse_identifier(text, default_region=ctx.policy.default_region)


async def find_account(session: AsyncSession, identifier: Identifier) -> Account | None:
    if identifier.kind == "email":
        return await db.find_account(session, email_key=identifier.key, phone=None)
    return await db.find_account(session, email_key=None, phone=identifier.key)


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds an identifier: a hold left by a cancellation, and the account that has it
    (a pending sign-up included)."""

    held_until: datetime | None
    account: Account | None

    @property
    def taken(self) -> bool:
        """Whether nobody else may have it: held, or a confirmed account's."""
        return self.held_until is not None or (
            self.account is not None and self.account.status != "pending"
        )

    def notice(self, ident: Identifier) -> Outgoing | None:
        """What its holder is told when someone asks for a taken identifier; None if free."""
        if self.held_until is not None:
            params = {"until": self.held_until.isoformat()}
            return Outgoing(ident.channel, ident.value, "identifier-held", params)
        if self.taken:
            return Outgoing(ident.channel, ident.value, "already-registered", {})
        return None


async def find_holder(
    ctx: AccountContext, session: AsyncSession, ident: Identifier, now: datetime
) -> Holder:
    held_until = await db.find_hold(session, ctx.keys.identifier_digest(ident), now)
    return Holder(held_until, await find_account(session, ident))


async def add_account_for(
    session: AsyncSession,
    ident: Identifier,
    *,
    password_hash: str,
    role: str,
    status: str,
    now: datetime,
) -> Account:
    """A new account whose identifier is `ident` (flushed; the caller commits)."""
    email = ident.kind == "email"
    return await db.add_account(
        session,
        email=ident.value if email else None,
        email_key=ident.key if email else None,
        phone=None if email else ident.key,
        password_hash=password_hash,
        role=role,
        status=status,
        now=now,
    )


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
        InvalidInput: there is no such account, or it is not active.
    """
    account = await db.get_account(session, account_id)
    if account is None or account.status == "pending":
        raise InvalidInput(f"No account has id {account_id}.")
    if active and account.status != "active":
        raise InvalidInput(f"Account {account_id} is {account.status}.")
    return account


async def issue_code_message(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    ident: Identifier,
    *,
    purpose: Purpose,
    template: str,
    action: audit.AuditAction,
    client: Client,
    now: datetime,
    details: Mapping[str, object] | None = None,
) -> Outgoing:
    """Store a code for the account, audit that it was sent (in the caller's transaction), and
    return the message that carries it to `ident`."""
    code = await issue_code(
        session,
        ctx.keys,
        ctx.policy,
        account_id=account_id,
        purpose=purpose,
        target=ident.value,
        now=now,
    )
    await audit.record_by_account(
        session, action, account_id, ip=client.ip, now=now, details=details
    )
    return code_message(ctx, ident, template, code)


@dataclass(frozen=True, slots=True)
class CodeOffer:
    """A code that anyone may ask for by identifier: its purpose and message, the accounts it
    serves, and the audit entry's details (by default the purpose)."""

    purpose: Purpose
    template: str
    eligible: Callable[[AccountContext, Account, datetime], bool]
    details: Mapping[str, object] | None = None


async def send_code_if(
    ctx: AccountContext,
    session: AsyncSession,
    identifier: str,
    offer: CodeOffer,
    *,
    client: Client,
    now: datetime,
) -> CodeSent | Throttled:
    """Send the offer's code to an identifier whose account it serves; any other identifier
    gets the same CodeSent with nothing to send. The send limits count either way, before the
    look-up, so neither the answer nor its throttling tells whether an account exists.

    Raises:
        InvalidInput: a malformed identifier.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    retry = await limits.allow_send(ctx.store, ctx.policy, ctx.keys.identifier_digest(ident), now)
    if retry is not None:
        return Throttled(retry)
    account = await find_account(session, ident)
    if account is None or not offer.eligible(ctx, account, now):
        return CodeSent((), expires_in(ctx))
    message = await issue_code_message(
        ctx,
        session,
        account.id,
        ident,
        purpose=offer.purpose,
        template=offer.template,
        action="code.sent",
        client=client,
        now=now,
        details=offer.details or {"purpose": offer.purpose},
    )
    await session.commit()
    return CodeSent((message,), expires_in(ctx))
