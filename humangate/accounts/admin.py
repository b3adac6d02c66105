"""What an operator's admins do: create admins, suspend, ban, restore and cancel accounts.

Suspending or banning an account sets `units.disabled` on each of its enabled units and lists
them in `accounts.disabled_unit_ids`; restoring re-enables exactly those. The verification hot
path already refuses disabled units, so no other check is needed there; the console must not let
a unit be re-enabled while its account is not active.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._common import (
    add_account_for,
    check_now,
    find_account,
    find_holder,
    read_identifier,
    require_account,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._views import account_view, contacts
from humangate.accounts.blocked import hold_context
from humangate.accounts.cancellation import cancel_now
from humangate.accounts.outcomes import (
    AccountView,
    Cancelled,
    Outgoing,
    StatusChanged,
)
from humangate.accounts.passwords import check_password
from humangate.db import account_sessions as session_db
from humangate.db import accounts as db
from humangate.db import inbox as inbox_db
from humangate.db.models import Account
from humangate.errors import InvalidInput
from humangate.netaddr import ip_prefix
from humangate.text import is_ascii_digits

MAX_REASON = 500


async def create_admin(
    ctx: AccountContext, session: AsyncSession, identifier: str, password: str, *, now: datetime
) -> AccountView:
    """Create an active admin account (for `humangate create-admin`).

    Raises:
        InvalidInput: malformed identifier, refused password, identifier taken or held.
    """
    check_now(now)
    ident = read_identifier(ctx, identifier)
    check_password(password, identifier=ident)
    holder = await find_holder(ctx, session, ident, now)
    if holder.held_until is not None:
        raise InvalidInput(
            f"{ident.value} belonged to a cancelled account and is held until "
            f"{holder.held_until:%Y-%m-%d %H:%M} UTC."
        )
    if holder.taken:
        raise InvalidInput(f"An account with {ident.value} exists already.")
    if holder.account is not None:
        await db.erase_account(session, holder.account.id)
    password_hash = await asyncio.to_thread(ctx.hasher.hash, password)
    account = await add_account_for(
        session, ident, password_hash=password_hash, role="admin", status="active", now=now
    )
    await audit.record(
        session, "account.admin_created", actor=audit.SYSTEM, account_id=account.id, now=now
    )
    await session.commit()
    return account_view(account)


async def suspend_account(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    *,
    admin_id: int,
    reason: str,
    ban: bool = False,
    client: Client,
    now: datetime,
) -> StatusChanged:
    """Suspend (or ban) an account: its sessions end, its units stop working, and the reason is
    shown to its owner at every login attempt and in a notice.

    Raises:
        PermissionError: `admin_id` is not an active admin.
        InvalidInput: no such account, the admin's own account, or an empty or overlong reason.
    """
    check_now(now)
    reason = await _admin_acting_on(
        session, admin_id, account_id, reason, "An administrator cannot suspend their own account."
    )
    account = await require_account(session, account_id, active=False)
    status = "banned" if ban else "suspended"
    units = await db.list_account_units(session, account.id)
    newly = [unit.id for unit in units if not unit.disabled]
    await db.set_units_disabled(session, account.id, newly, True)
    account.disabled_unit_ids = sorted(set(account.disabled_unit_ids or ()) | set(newly))
    account.status, account.status_reason, account.status_changed_at = status, reason, now
    await session_db.delete_account_sessions(session, account.id)
    await inbox_db.add_notification(
        session,
        account.id,
        kind="account",
        subject=f"Your account is {status}",
        body=reason,
        now=now,
    )
    await audit.record(
        session,
        "account.banned" if ban else "account.suspended",
        actor=audit.Actor.admin(admin_id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"reason": reason, "units": newly},
    )
    await session.commit()
    outgoing = tuple(
        Outgoing(c.channel, c.value, "account-suspended", {"status": status, "reason": reason})
        for c in contacts(account)[:1]
    )
    return StatusChanged(account_view(account), tuple(newly), outgoing)


async def restore_account(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    *,
    admin_id: int,
    client: Client,
    now: datetime,
) -> StatusChanged:
    """Lift a suspension or ban; the units it disabled work again.

    Raises:
        PermissionError: `admin_id` is not an active admin.
        InvalidInput: no such account, or it is not suspended or banned.
    """
    check_now(now)
    await _require_admin(session, admin_id)
    account = await require_account(session, account_id, active=False)
    if account.status not in ("suspended", "banned"):
        raise InvalidInput(
            f"Account {account_id} is {account.status}; there is nothing to restore."
        )
    restored = list(account.disabled_unit_ids or ())
    await db.set_units_disabled(session, account.id, restored, False)
    previous = account.status
    account.disabled_unit_ids = []
    account.status, account.status_reason, account.status_changed_at = "active", None, now
    await inbox_db.add_notification(
        session,
        account.id,
        kind="account",
        subject="Your account is active again",
        body="",
        now=now,
    )
    await audit.record(
        session,
        "account.restored",
        actor=audit.Actor.admin(admin_id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"previous": previous, "units": restored},
    )
    await session.commit()
    outgoing = tuple(
        Outgoing(c.channel, c.value, "account-restored", {}) for c in contacts(account)[:1]
    )
    return StatusChanged(account_view(account), tuple(restored), outgoing)


async def _require_admin(session: AsyncSession, admin_id: int) -> Account:
    admin = await db.get_account(session, admin_id)
    if admin is None or admin.role != "admin" or admin.status != "active":
        raise PermissionError(f"Account {admin_id} is not an active administrator.")
    return admin


async def _admin_acting_on(
    session: AsyncSession, admin_id: int, account_id: int, reason: str, own_account: str
) -> str:
    """Check that an active admin acts on another account and gives a reason; the reason,
    cleaned. `own_account` is the refusal when the account is the admin's own.

    Raises:
        PermissionError: `admin_id` is not an active admin.
        InvalidInput: an empty or overlong reason, or the admin's own account.
    """
    await _require_admin(session, admin_id)
    reason = _clean_reason(reason)
    if account_id == admin_id:
        raise InvalidInput(own_account)
    return reason


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput("A reason is required; the account's owner will read it.")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"A reason has at most {MAX_REASON} characters.")
    return text


async def cancel_account(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    *,
    admin_id: int,
    reason: str,
    now: datetime,
) -> Cancelled:
    """An admin cancels an account (any status but pending) without a code; a banned one's
    identifiers stay held for `blocked.BAN_HOLD`.

    Raises:
        PermissionError: `admin_id` is not an active admin.
        InvalidInput: no such account, the admin's own account, or an empty or overlong reason.
    """
    check_now(now)
    reason = await _admin_acting_on(
        session,
        admin_id,
        account_id,
        reason,
        "An administrator cannot cancel their own account here.",
    )
    return await _cancel(ctx, session, account_id, audit.Actor.admin(admin_id), reason, now)


async def cancel_account_as_operator(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    *,
    reason: str,
    now: datetime,
) -> Cancelled:
    """The operator cancels an account at the command line (`humangate account cancel`): no
    admin account is involved, so the audit entry's actor is `operator`.

    Raises:
        InvalidInput: no such account, or an empty or overlong reason.
    """
    check_now(now)
    reason = _clean_reason(reason)
    return await _cancel(ctx, session, account_id, audit.OPERATOR, reason, now)


async def _cancel(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    actor: audit.Actor,
    reason: str,
    now: datetime,
) -> Cancelled:
    account = await require_account(session, account_id, active=False)
    # A banned account keeps its identifiers held for the ban's hold (blocked.BAN_HOLD).
    cancelled = await cancel_now(
        hold_context(ctx, account), session, account, actor=actor, reason=reason, now=now
    )
    await session.commit()
    return cancelled


async def find_account_by(ctx: AccountContext, session: AsyncSession, text: str) -> AccountView:
    """The account with this id ("#42", or "42": six digits at most, which no phone number
    is), e-mail address or phone number (for the command line).

    Raises:
        InvalidInput: a malformed identifier, or no account (pending sign-ups are none) has it.
    """
    text = text.strip()
    number = text.removeprefix("#")
    if is_ascii_digits(number) and (number != text or len(number) <= 6):
        if len(number) > 12:
            raise InvalidInput(f"No account has id {number}.")
        return account_view(await require_account(session, int(number), active=False))
    account = await find_account(session, read_identifier(ctx, text))
    if account is None or account.status == "pending":
        raise InvalidInput(f"No account has the identifier {text!r}.")
    return account_view(account)
