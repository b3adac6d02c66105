"""The end of an account: cancellation by its owner, and by inactivity.

Cancellation is irreversible. It deletes the account's units (their secrets and risk events go
with them), sessions, devices, codes, notifications and the audit entries about it; what remains
is one audit entry recording the cancellation (until the audit retention of `run_housekeeping`
deletes it with every other entry of its age) and, for `hold_period` (10 days), a hold on the
keyed digest of each identifier so it cannot sign up again until then.

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
from humangate.accounts._views import account_view, contacts
from humangate.accounts.codes import check_code, read_code
from humangate.accounts.outcomes import (
    AccountView,
    Cancelled,
    CodeRejected,
    CodeSent,
    HousekeepingReport,
    Outgoing,
    Throttled,
)
from humangate.accounts.policy import RetentionPolicy
from humangate.db import account_codes as code_db
from humangate.db import account_sessions as session_db
from humangate.db import accounts as db
from humangate.db import inbox as inbox_db
from humangate.db.models import Account

# --- cancellation -------------------------------------------------------------------------------


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
    erased = await db.erase_account(session, account_id)
    await audit.record(
        session,
        "account.cancelled",
        actor=actor,
        account_id=account_id,
        now=now,
        details={"reason": reason, "units": erased.units, "held_until": held_until.isoformat()},
    )
    outgoing = tuple(
        Outgoing(c.channel, c.value, "account-cancelled", {"reason": reason}, language)
        for c in reached[:1]
    )
    return Cancelled(account_id, erased.units, held_until, outgoing)


# --- inactivity ---------------------------------------------------------------------------------


async def find_inactive_accounts(
    ctx: AccountContext, session: AsyncSession, *, now: datetime
) -> list[AccountView]:
    """Active owner accounts unused for `inactive_after` (365 days) and not yet warned."""
    check_now(now)
    rows = await db.find_inactive_accounts(session, unused_since=now - ctx.policy.inactive_after)
    return [account_view(row) for row in rows]


async def warn_inactive_accounts(
    ctx: AccountContext, session: AsyncSession, *, now: datetime
) -> tuple[list[int], list[Outgoing]]:
    """Mark inactive accounts warned and return the warnings to send. Using the account (a login
    or a console visit) clears the mark."""
    check_now(now)
    cancel_after = (now + ctx.policy.inactivity_grace).date().isoformat()
    warned: list[int] = []
    outgoing: list[Outgoing] = []
    for account in await db.find_inactive_accounts(
        session, unused_since=now - ctx.policy.inactive_after
    ):
        account.inactivity_warned_at = now
        await inbox_db.add_notification(
            session,
            account.id,
            kind="account",
            subject="Your account will be cancelled",
            body=(
                "This account has not been used for a year. "
                f"Log in before {cancel_after} to keep it."
            ),
            now=now,
        )
        await audit.record(
            session, "account.inactivity_warned", actor=audit.SYSTEM, account_id=account.id, now=now
        )
        warned.append(account.id)
        params = {"cancel_after": cancel_after}
        outgoing += [
            Outgoing(c.channel, c.value, "inactivity-warning", params, account.language)
            for c in contacts(account)[:1]
        ]
    await session.commit()
    return warned, outgoing


async def cancel_inactive_accounts(
    ctx: AccountContext, session: AsyncSession, *, now: datetime
) -> list[Cancelled]:
    """Cancel accounts warned more than `inactivity_grace` ago and not used since."""
    check_now(now)
    warned_before = now - ctx.policy.inactivity_grace
    done: list[Cancelled] = []
    for account in await db.find_warned_accounts(session, warned_before=warned_before):
        done.append(
            await cancel_now(
                ctx, session, account, actor=audit.SYSTEM, reason="inactivity", now=now
            )
        )
    await session.commit()
    return done


async def run_housekeeping(
    ctx: AccountContext,
    session: AsyncSession,
    *,
    now: datetime,
    cancel_inactive: bool = True,
    retention: RetentionPolicy | None = None,
) -> HousekeepingReport:
    """The operator's hourly job: warn and cancel inactive accounts, drop stale sign-ups, ended
    sessions, dead codes and expired holds, and what `retention` no longer keeps.

    Args:
        cancel_inactive: False only warns; accounts warned long enough ago stay, and are
            cancelled by the first run that passes True.
        retention: how long audit entries, known devices and read notices are kept; None uses
            the documented defaults (`RetentionPolicy()`).
    """
    check_now(now)
    warned, outgoing = await warn_inactive_accounts(ctx, session, now=now)
    cancelled = await cancel_inactive_accounts(ctx, session, now=now) if cancel_inactive else []
    stale = await db.find_stale_pending(session, created_before=now - ctx.policy.pending_ttl)
    for account_id in stale:
        await db.erase_account(session, account_id)
    sessions = await session_db.delete_expired_sessions(
        session, now=now, idle_since=now - ctx.policy.session_idle
    )
    codes = await code_db.delete_dead_codes(session, now=now)
    holds = await db.delete_expired_holds(session, now=now)
    audit_rows, devices, notices = await _purge_retained(
        session, RetentionPolicy() if retention is None else retention, now=now
    )
    await session.commit()
    return HousekeepingReport(
        warned=tuple(warned),
        cancelled=tuple(c.account_id for c in cancelled),
        outgoing=tuple(outgoing) + tuple(o for c in cancelled for o in c.outgoing),
        purged_pending=len(stale),
        purged_sessions=sessions,
        purged_codes=codes,
        purged_holds=holds,
        purged_audit=audit_rows,
        purged_devices=devices,
        purged_notices=notices,
    )


async def _purge_retained(
    session: AsyncSession, retention: RetentionPolicy, *, now: datetime
) -> tuple[int, int, int]:
    """Delete audit entries, known devices and read notices past their limit; the caller
    commits. Returns the three counts."""
    audit_rows = devices = notices = 0
    if retention.audit is not None:
        audit_rows = await db.delete_audit_entries(session, before=now - retention.audit)
    if retention.devices is not None:
        devices = await session_db.delete_unused_devices(
            session, unused_since=now - retention.devices
        )
    if retention.notices is not None:
        notices = await inbox_db.delete_read_notifications(session, before=now - retention.notices)
    return audit_rows, devices, notices
