"""Accounts nobody uses, and what is kept no longer than needed: the hourly housekeeping warns
inactive accounts, cancels them when the operator turns that on, and purges what has ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._common import (
    check_now,
)
from humangate.accounts._context import AccountContext
from humangate.accounts._views import account_view, contacts
from humangate.accounts.cancellation import cancel_now
from humangate.accounts.outcomes import (
    AccountView,
    Cancelled,
    HousekeepingReport,
    Outgoing,
)
from humangate.accounts.policy import RetentionPolicy
from humangate.db import account_codes as code_db
from humangate.db import account_sessions as session_db
from humangate.db import accounts as db
from humangate.db import inbox as inbox_db


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
