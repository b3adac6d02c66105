"""Changing an account's e-mail address or phone number: the password, then a code sent to the
new identifier; the old one is told once the change is made.

A new identifier that is taken (a confirmed account's, or held after a cancellation) looks free
from here: its holder is told instead, and the change cannot be confirmed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._common import (
    check_now,
    expires_in,
    find_holder,
    issue_code_message,
    read_identifier,
    require_account,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._reauth import reauth_failed, reauthenticate
from humangate.accounts._steps import record_code_rejected
from humangate.accounts._views import account_view, contacts, mask
from humangate.accounts.codes import check_code, read_code
from humangate.accounts.identifiers import Identifier
from humangate.accounts.outcomes import (
    CodeRejected,
    CodeSent,
    ContactChanged,
    Locked,
    LoginFailed,
    Outgoing,
    Throttled,
)
from humangate.accounts.passwords import check_password_length
from humangate.db import accounts as db
from humangate.db import inbox as inbox_db
from humangate.db.models import Account
from humangate.errors import InvalidInput


def _kind_name(kind: str) -> str:
    return "e-mail address" if kind == "email" else "phone number"


async def request_contact_change(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    new_identifier: str,
    password: str,
    *,
    client: Client,
    now: datetime,
) -> CodeSent | Throttled | LoginFailed | Locked:
    """Send a code to a new e-mail address or phone number, after checking the password.

    The new identifier replaces the account's identifier of the same kind once the code comes
    back. If it is taken or held, its holder is told instead and the outcome is the same.

    Raises:
        InvalidInput: a malformed identifier, the account's own identifier, or an inactive
            account.
    """
    check_now(now)
    ident = read_identifier(ctx, new_identifier)
    check_password_length(password)
    account = await require_account(session, account_id)
    if any(c.key == ident.key for c in contacts(account)):
        raise InvalidInput(f"{ident.value} is already this account's {_kind_name(ident.kind)}.")
    if not await reauthenticate(ctx, account, password, client, now):
        return await reauth_failed(ctx, session, account, client, now)
    retry = await limits.allow_send(ctx.store, ctx.policy, ctx.keys.identifier_digest(ident), now)
    if retry is not None:
        return Throttled(retry)
    notice = (await find_holder(ctx, session, ident, now)).notice(ident)
    if notice is not None:
        return CodeSent((notice,), expires_in(ctx))
    message = await issue_code_message(
        ctx,
        session,
        account.id,
        ident,
        purpose="contact-change",
        template="contact-change-code",
        action="contact.change_requested",
        client=client,
        now=now,
        details={"kind": ident.kind},
    )
    await session.commit()
    return CodeSent((message,), expires_in(ctx))


async def confirm_contact_change(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    code: str,
    *,
    client: Client,
    now: datetime,
) -> ContactChanged | CodeRejected:
    """Apply a contact change with the code sent to the new identifier; the old one is told.

    Raises:
        InvalidInput: a malformed code or an inactive account.
    """
    check_now(now)
    digits = read_code(code)
    account = await require_account(session, account_id)
    check = await check_code(
        session,
        ctx.keys,
        ctx.policy,
        account_id=account.id,
        purpose="contact-change",
        code=digits,
        now=now,
    )
    if not check.ok or check.target is None:
        await record_code_rejected(session, account.id, "contact-change", check.reason, client, now)
        return check.rejected()
    ident = read_identifier(ctx, check.target)
    holder = await find_holder(ctx, session, ident, now)
    if holder.taken:
        await record_code_rejected(
            session, account.id, "contact-change", "unavailable", client, now
        )
        return CodeRejected("unavailable")
    if holder.account is not None:  # someone's unconfirmed sign-up; a confirmed owner wins
        await db.erase_account(session, holder.account.id)
        account = await require_account(session, account_id)
    replaced = await _switch_contact(session, account, ident, client, now)
    try:
        await session.commit()
    except IntegrityError:  # taken between the check and the commit
        await session.rollback()
        return CodeRejected("unavailable")
    outgoing = tuple(
        Outgoing(c.channel, c.value, "contact-changed", {"new": mask(ident)}) for c in replaced
    )
    return ContactChanged(account_view(account), outgoing)


async def _switch_contact(
    session: AsyncSession, account: Account, ident: Identifier, client: Client, now: datetime
) -> list[Identifier]:
    """Give the account `ident` in place of its identifier of that kind, audit it and tell the
    inbox (the caller commits); return the identifiers it replaced."""
    replaced = [c for c in contacts(account) if c.kind == ident.kind]
    if ident.kind == "email":
        account.email, account.email_key = ident.value, ident.key
    else:
        account.phone = ident.key
    await audit.record_by_account(
        session, "contact.changed", account.id, ip=client.ip, now=now, details={"kind": ident.kind}
    )
    await inbox_db.add_notification(
        session,
        account.id,
        kind="security",
        subject=f"Your {_kind_name(ident.kind)} changed",
        body=f"Your account now uses {mask(ident)}.",
        now=now,
    )
    return replaced
