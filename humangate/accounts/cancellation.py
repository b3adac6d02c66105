"""The end of an account by its owner's wish: a code, then cancellation, which is irreversible.

Cancellation deletes the account's units (their secrets and risk events go with them),
sessions, devices, codes, notifications and the audit entries about it, and its balance,
vouchers, statements and ledger (by cascade; its ledger transactions are first kept apart for
`policy.keep_ledger` where the operator set it, see humangate/billing/erasure.py). What remains
is one audit entry recording the cancellation (until the audit retention of the housekeeping
deletes it with every other entry of its age, see inactivity.py) and, for `hold_period`, a
hold on the keyed digest of each identifier so it cannot sign up again until then.

Suspension, bans and admins are in `admin.py`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._common import (
    check_now,
    expires_in,
    issue_code_message,
    require_account,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._steps import record_code_rejected
from humangate.accounts._views import contacts
from humangate.accounts.codes import check_code, read_code
from humangate.accounts.outcomes import (
    Cancelled,
    CodeRejected,
    CodeSent,
    Outgoing,
    Throttled,
)
from humangate.billing.erasure import archive_ledger
from humangate.db import accounts as db
from humangate.db.models import Account


async def request_cancellation(
    ctx: AccountContext, session: AsyncSession, account_id: int, *, client: Client, now: datetime
) -> CodeSent | Throttled:
    """Send the code that confirms a cancellation to the account's first identifier.

    Raises:
        InvalidInput: no such account, or it is not active.
    """
    check_now(now)
    account = await require_account(session, account_id)
    to = contacts(account)[0]
    retry = await limits.allow_send(ctx.store, ctx.policy, ctx.keys.identifier_digest(to), now)
    if retry is not None:
        return Throttled(retry)
    message = await issue_code_message(
        ctx,
        session,
        account.id,
        to,
        purpose="cancel",
        template="cancel-code",
        action="account.cancel_requested",
        client=client,
        now=now,
    )
    await session.commit()
    return CodeSent((message,), expires_in(ctx))


async def confirm_cancellation(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    code: str,
    *,
    client: Client,
    now: datetime,
) -> Cancelled | CodeRejected:
    """Cancel the account for good, given the code from `request_cancellation`.

    Raises:
        InvalidInput: a malformed code, no such account, or it is not active.
    """
    check_now(now)
    digits = read_code(code)
    account = await require_account(session, account_id)
    check = await check_code(
        session, ctx.keys, ctx.policy, account_id=account.id, purpose="cancel", code=digits, now=now
    )
    if not check.ok:
        await record_code_rejected(session, account.id, "cancel", check.reason, client, now)
        return check.rejected()
    cancelled = await cancel_now(
        ctx, session, account, actor=audit.Actor.account(account_id), reason="owner", now=now
    )
    await session.commit()
    return cancelled


async def cancel_now(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account,
    *,
    actor: audit.Actor,
    reason: str,
    now: datetime,
) -> Cancelled:
    """Delete everything, hold the identifiers, keep one audit entry; the caller commits."""
    account_id, reached, language = account.id, contacts(account), account.language
    held_until = now + ctx.policy.hold_period
    for identifier in reached:
        await db.put_hold(session, ctx.keys.identifier_digest(identifier), held_until, now)
    details: dict[str, object] = {"reason": reason, "held_until": held_until.isoformat()}
    keep = ctx.policy.keep_ledger
    if keep is not None and await archive_ledger(session, account_id, now=now, keep=keep):
        details["ledger_kept_until"] = (now + keep).isoformat()
    erased = await db.erase_account(session, account_id)
    await audit.record(
        session,
        "account.cancelled",
        actor=actor,
        account_id=account_id,
        now=now,
        details={**details, "units": erased.units},
    )
    outgoing = tuple(
        Outgoing(c.channel, c.value, "account-cancelled", {"reason": reason}, language)
        for c in reached[:1]
    )
    return Cancelled(account_id, erased.units, held_until, outgoing)
