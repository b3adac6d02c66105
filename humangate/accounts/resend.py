"""Sending a one-time code again, for the pages that wait for one.

Each flow already kills its previous code when it issues a new one (`codes.issue_code`), so here
too **a resent code replaces the earlier one**: only the newest code works, and its ten minutes
start again. Every resend counts against the same per-identifier limits as the first message
(`limits.allow_send`), counted before anything is looked up, so a throttled answer says as little
about an account as a successful one.

Flows that already resend by being asked again need no function here: a login code by calling
`request_login_code` again, a cancellation code by calling `request_cancellation` again. The
flows below cannot be asked again without what the first request had (a password), so they
resend from what the waiting page holds:

- `resend_sign_up_code(identifier)`: a pending sign-up's code; anything else sends nothing and
  answers the same.
- `resend_step_up_code(step_up_token)`: the new-device code of a login that is waiting for it,
  from the browser that gave the password, to the identifier it logged in with. The login's own
  deadline (`step_up_ttl` after the password) does not move.
- `resend_contact_code(account_id, identifier)`: a contact change's code, only while the change
  still has a live code for that identifier; a change whose code expired or was used up must be
  started again with the password.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import limits
from humangate.accounts._common import (
    CodeOffer,
    check_now,
    expires_in,
    find_holder,
    issue_code_message,
    read_identifier,
    require_account,
    send_code_if,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._views import contacts
from humangate.accounts.codes import Purpose
from humangate.accounts.identifiers import Identifier
from humangate.accounts.outcomes import CodeRejected, CodeSent, Outgoing, Throttled
from humangate.accounts.step_up import new_device_message, waiting_step_up
from humangate.db import account_codes as code_db
from humangate.db.accounts import aware
from humangate.db.models import Account

SIGN_UP_RESEND = CodeOffer(
    "signup",
    "signup-code",
    lambda ctx, account, now: (
        account.status == "pending" and aware(account.created_at) + ctx.policy.pending_ttl > now
    ),
    details={"purpose": "signup", "resend": True},
)


async def resend_sign_up_code(
    ctx: AccountContext, session: AsyncSession, identifier: str, *, client: Client, now: datetime
) -> CodeSent | Throttled:
    """Send a pending sign-up a new code. Any other identifier (unknown, confirmed, expired)
    gets the same CodeSent with nothing to send.

    Raises:
        InvalidInput: a malformed identifier.
    """
    return await send_code_if(ctx, session, identifier, SIGN_UP_RESEND, client=client, now=now)


async def resend_step_up_code(
    ctx: AccountContext,
    session: AsyncSession,
    step_up_token: str,
    *,
    client: Client,
    now: datetime,
) -> CodeSent | Throttled | CodeRejected:
    """Send a new code for a login waiting at the step-up, to the identifier it logged in with.

    Returns CodeRejected("expired") when the login is over (or the token is unknown), and
    CodeRejected("unavailable") from a browser other than the one that gave the password; both
    mean "log in again". Only someone who gave the right password holds a step-up token, so
    these answers reveal nothing about an account.
    """
    check_now(now)
    waiting = await waiting_step_up(ctx, session, step_up_token, client=client, now=now)
    if isinstance(waiting, CodeRejected):
        return waiting
    account, state = waiting
    ident = _login_identifier(ctx, account, str(state["pair"]))
    if ident is None:  # the contact it logged in with was changed meanwhile
        return CodeRejected("expired")
    retry = await limits.allow_send(ctx.store, ctx.policy, ctx.keys.identifier_digest(ident), now)
    if retry is not None:
        return Throttled(retry)
    message = await _issue(
        ctx, session, account, ident, "new-device", "new-device-code", client, now
    )
    return CodeSent((new_device_message(message, client),), expires_in(ctx))


async def resend_contact_code(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    identifier: str,
    *,
    client: Client,
    now: datetime,
) -> CodeSent | Throttled:
    """Send the code of an open contact change to `identifier` again.

    A code goes only if the account's live contact-change code was sent to this identifier and
    the identifier is still free; otherwise nothing is sent and the outcome is the same, so the
    page cannot tell a taken identifier from a free one (as `request_contact_change` cannot).

    Raises:
        InvalidInput: a malformed identifier, or an account that is not active.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    account = await require_account(session, account_id)
    digest = ctx.keys.identifier_digest(ident)
    retry = await limits.allow_send(ctx.store, ctx.policy, digest, now)
    if retry is not None:
        return Throttled(retry)
    live = await code_db.find_live_code(
        session, account.id, "contact-change", now, ctx.policy.code_max_attempts
    )
    target = read_identifier(ctx, live.target) if live is not None else None
    if live is None or target is None or target.key != ident.key:
        return CodeSent((), expires_in(ctx))
    ident = target  # as the owner first typed it
    # The row is about to be replaced by a bulk delete; SQLite may reuse its id for the new one.
    session.expunge(live)
    if (await find_holder(ctx, session, ident, now)).taken:
        return CodeSent((), expires_in(ctx))
    message = await _issue(
        ctx, session, account, ident, "contact-change", "contact-change-code", client, now
    )
    return CodeSent((message,), expires_in(ctx))


def _login_identifier(ctx: AccountContext, account: Account, pair: str) -> Identifier | None:
    """The account's identifier whose digest begins the login's lockout key (`digest:network`)."""
    for ident in contacts(account):
        if pair.startswith(ctx.keys.identifier_digest(ident) + ":"):
            return ident
    return None


async def _issue(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account,
    ident: Identifier,
    purpose: Purpose,
    template: str,
    client: Client,
    now: datetime,
) -> Outgoing:
    """Replace the account's code for `purpose`, audit the resend, commit; the message to send."""
    message = await issue_code_message(
        ctx,
        session,
        account.id,
        ident,
        purpose=purpose,
        template=template,
        action="code.sent",
        client=client,
        now=now,
        details={"purpose": purpose, "resend": True},
    )
    await session.commit()
    return message
