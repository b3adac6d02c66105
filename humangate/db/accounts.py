"""Verb-first functions over accounts and what hangs off them; each takes an `AsyncSession`.

Unlike `db.units`, these functions only flush: an account operation touches several tables
(the account, its codes, sessions, audit entries) and the service commits once, so an error
half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

# Sessions, devices, codes and the inbox have modules of their own; callers that reach every
# account table through this one (`from humangate.db import accounts`) still find them here.
from humangate.db._rows import aware as aware
from humangate.db._rows import run_bulk
from humangate.db.account_codes import claim_code_attempt as claim_code_attempt
from humangate.db.account_codes import delete_dead_codes as delete_dead_codes
from humangate.db.account_codes import find_live_code as find_live_code
from humangate.db.account_codes import replace_code as replace_code
from humangate.db.account_codes import use_code as use_code
from humangate.db.account_sessions import add_session as add_session
from humangate.db.account_sessions import delete_account_sessions as delete_account_sessions
from humangate.db.account_sessions import delete_expired_sessions as delete_expired_sessions
from humangate.db.account_sessions import delete_session as delete_session
from humangate.db.account_sessions import delete_unused_devices as delete_unused_devices
from humangate.db.account_sessions import device_seen as device_seen
from humangate.db.account_sessions import find_session as find_session
from humangate.db.account_sessions import list_devices as list_devices
from humangate.db.account_sessions import list_sessions as list_sessions
from humangate.db.account_sessions import remember_device as remember_device
from humangate.db.inbox import add_notification as add_notification
from humangate.db.inbox import delete_read_notifications as delete_read_notifications
from humangate.db.inbox import list_notifications as list_notifications
from humangate.db.inbox import mark_notifications_read as mark_notifications_read
from humangate.db.models import (
    Account,
    AccountCode,
    AccountSession,
    AuditEntry,
    IdentifierHold,
    KnownDevice,
    Notification,
    Passkey,
    RiskEvent,
    Unit,
)

# --- accounts -----------------------------------------------------------------------------------


async def add_account(
    session: AsyncSession,
    *,
    email: str | None,
    email_key: str | None,
    phone: str | None,
    password_hash: str,
    role: str,
    status: str,
    now: datetime,
) -> Account:
    account = Account(
        email=email,
        email_key=email_key,
        phone=phone,
        password_hash=password_hash,
        display_name="",
        language="en",
        role=role,
        status=status,
        disabled_unit_ids=[],
        created_at=now,
        confirmed_at=now if status == "active" else None,
        last_active_at=now,
    )
    session.add(account)
    await session.flush()
    return account


async def get_account(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def find_account(
    session: AsyncSession, *, email_key: str | None, phone: str | None
) -> Account | None:
    """The account holding this e-mail key or phone number, if any."""
    if email_key is not None:
        return await session.scalar(select(Account).where(Account.email_key == email_key))
    if phone is not None:
        return await session.scalar(select(Account).where(Account.phone == phone))
    return None


async def _list_active_owners(
    session: AsyncSession, *conditions: ColumnElement[bool], limit: int
) -> Sequence[Account]:
    """Active owner accounts that meet every condition, in id order."""
    statement = select(Account).where(
        Account.status == "active", Account.role == "owner", *conditions
    )
    rows = await session.scalars(statement.order_by(Account.id).limit(limit))
    return rows.all()


async def find_inactive_accounts(
    session: AsyncSession, *, unused_since: datetime, limit: int = 500
) -> Sequence[Account]:
    """Active owner accounts with no activity since `unused_since` and not yet warned."""
    return await _list_active_owners(
        session,
        Account.last_active_at < unused_since,
        Account.inactivity_warned_at.is_(None),
        limit=limit,
    )


async def find_warned_accounts(
    session: AsyncSession, *, warned_before: datetime, limit: int = 500
) -> Sequence[Account]:
    """Active owner accounts warned before `warned_before` and not used since the warning."""
    return await _list_active_owners(
        session,
        Account.inactivity_warned_at < warned_before,
        Account.last_active_at <= Account.inactivity_warned_at,
        limit=limit,
    )


async def find_stale_pending(
    session: AsyncSession, *, created_before: datetime, limit: int = 500
) -> Sequence[int]:
    rows = await session.scalars(
        select(Account.id)
        .where(Account.status == "pending", Account.created_at < created_before)
        .order_by(Account.id)
        .limit(limit)
    )
    return rows.all()


@dataclass(frozen=True, slots=True)
class Erased:
    units: int
    sessions: int
    codes: int
    notifications: int
    audit_entries: int


async def erase_account(session: AsyncSession, account_id: int) -> Erased:
    """Delete the account and everything it owns: units (their secrets and risk events go with
    them by cascade), sessions, devices, passkeys, codes, notifications and the audit entries
    about it. Its verification API apps, with their secrets, verifications, nonces, usage and
    prefix blocks, go by cascade when the account's row is deleted."""

    units = await run_bulk(session, delete(Unit).where(Unit.account_id == account_id))
    sessions = await run_bulk(
        session, delete(AccountSession).where(AccountSession.account_id == account_id)
    )
    await run_bulk(session, delete(KnownDevice).where(KnownDevice.account_id == account_id))
    await run_bulk(session, delete(Passkey).where(Passkey.account_id == account_id))
    codes = await run_bulk(session, delete(AccountCode).where(AccountCode.account_id == account_id))
    notes = await run_bulk(
        session, delete(Notification).where(Notification.account_id == account_id)
    )
    audit = await run_bulk(session, delete(AuditEntry).where(AuditEntry.account_id == account_id))
    await run_bulk(session, delete(Account).where(Account.id == account_id))
    session.expire_all()
    return Erased(units, sessions, codes, notes, audit)


# --- units --------------------------------------------------------------------------------------


async def set_unit_owner(session: AsyncSession, unit_id: int, account_id: int | None) -> bool:
    return bool(
        await run_bulk(
            session, update(Unit).where(Unit.id == unit_id).values(account_id=account_id)
        )
    )


async def list_account_units(session: AsyncSession, account_id: int) -> Sequence[Unit]:
    rows = await session.scalars(
        select(Unit).where(Unit.account_id == account_id).order_by(Unit.id)
    )
    return rows.all()


async def set_units_disabled(
    session: AsyncSession, account_id: int, unit_ids: Sequence[int], disabled: bool
) -> None:
    if unit_ids:
        await run_bulk(
            session,
            update(Unit)
            .where(Unit.account_id == account_id, Unit.id.in_(list(unit_ids)))
            .values(disabled=disabled),
        )


async def count_unit_events(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, int]:
    if not unit_ids:
        return {}
    rows = await session.execute(
        select(RiskEvent.unit_id, func.count())
        .where(RiskEvent.unit_id.in_(list(unit_ids)))
        .group_by(RiskEvent.unit_id)
    )
    return {int(unit_id): int(n) for unit_id, n in rows.all()}


# --- holds --------------------------------------------------------------------------------------


async def find_hold(session: AsyncSession, digest: str, now: datetime) -> datetime | None:
    """The end of the hold on this identifier digest, if one is in force."""
    held_until = await session.scalar(
        select(IdentifierHold.held_until).where(
            IdentifierHold.identifier_digest == digest, IdentifierHold.held_until > now
        )
    )
    return aware(held_until) if held_until is not None else None


async def put_hold(session: AsyncSession, digest: str, until: datetime, now: datetime) -> None:
    await run_bulk(
        session, delete(IdentifierHold).where(IdentifierHold.identifier_digest == digest)
    )
    session.add(IdentifierHold(identifier_digest=digest, held_until=until, created_at=now))
    await session.flush()


async def delete_expired_holds(session: AsyncSession, *, now: datetime) -> int:
    return await run_bulk(session, delete(IdentifierHold).where(IdentifierHold.held_until <= now))


# --- retention -----------------------------------------------------------------------------------


async def delete_audit_entries(session: AsyncSession, *, before: datetime) -> int:
    """Delete every audit entry created before `before`, whatever its action or account."""
    return await run_bulk(session, delete(AuditEntry).where(AuditEntry.created_at < before))
