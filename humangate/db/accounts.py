"""Verb-first functions over accounts and what hangs off them; each takes an `AsyncSession`.

Unlike `db.units`, these functions only flush: an account operation touches several tables
(the account, its codes, sessions, audit entries) and the service commits once, so an error
half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Executable, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every moment stored here is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def _bulk(session: AsyncSession, statement: Executable) -> int:
    """Run an UPDATE or DELETE; return the rows it touched.

    Objects already loaded are not updated in Python (SQLite hands back naive datetimes, which
    that evaluation cannot compare with aware ones); callers refresh what they reuse.
    """
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]


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


async def find_inactive_accounts(
    session: AsyncSession, *, unused_since: datetime, limit: int = 500
) -> Sequence[Account]:
    """Active owner accounts with no activity since `unused_since` and not yet warned."""
    rows = await session.scalars(
        select(Account)
        .where(
            Account.status == "active",
            Account.role == "owner",
            Account.last_active_at < unused_since,
            Account.inactivity_warned_at.is_(None),
        )
        .order_by(Account.id)
        .limit(limit)
    )
    return rows.all()


async def find_warned_accounts(
    session: AsyncSession, *, warned_before: datetime, limit: int = 500
) -> Sequence[Account]:
    """Active owner accounts warned before `warned_before` and not used since the warning."""
    rows = await session.scalars(
        select(Account)
        .where(
            Account.status == "active",
            Account.role == "owner",
            Account.inactivity_warned_at < warned_before,
            Account.last_active_at <= Account.inactivity_warned_at,
        )
        .order_by(Account.id)
        .limit(limit)
    )
    return rows.all()


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
    about it."""

    units = await _bulk(session, delete(Unit).where(Unit.account_id == account_id))
    sessions = await _bulk(
        session, delete(AccountSession).where(AccountSession.account_id == account_id)
    )
    await _bulk(session, delete(KnownDevice).where(KnownDevice.account_id == account_id))
    await _bulk(session, delete(Passkey).where(Passkey.account_id == account_id))
    codes = await _bulk(session, delete(AccountCode).where(AccountCode.account_id == account_id))
    notes = await _bulk(session, delete(Notification).where(Notification.account_id == account_id))
    audit = await _bulk(session, delete(AuditEntry).where(AuditEntry.account_id == account_id))
    await _bulk(session, delete(Account).where(Account.id == account_id))
    session.expire_all()
    return Erased(units, sessions, codes, notes, audit)


# --- units --------------------------------------------------------------------------------------


async def set_unit_owner(session: AsyncSession, unit_id: int, account_id: int | None) -> bool:
    return bool(
        await _bulk(session, update(Unit).where(Unit.id == unit_id).values(account_id=account_id))
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
        await _bulk(
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


# --- sessions and devices -----------------------------------------------------------------------


async def add_session(session: AsyncSession, row: AccountSession) -> AccountSession:
    session.add(row)
    await session.flush()
    return row


async def find_session(session: AsyncSession, token_digest: str) -> AccountSession | None:
    return await session.scalar(
        select(AccountSession).where(AccountSession.token_digest == token_digest)
    )


async def delete_session(session: AsyncSession, token_digest: str) -> bool:
    statement = delete(AccountSession).where(AccountSession.token_digest == token_digest)
    return bool(await _bulk(session, statement))


async def delete_account_sessions(
    session: AsyncSession,
    account_id: int,
    *,
    keep_id: int | None = None,
    only_id: int | None = None,
) -> int:
    """Delete an account's sessions: all, all but `keep_id`, or only `only_id`."""
    statement = delete(AccountSession).where(AccountSession.account_id == account_id)
    if keep_id is not None:
        statement = statement.where(AccountSession.id != keep_id)
    if only_id is not None:
        statement = statement.where(AccountSession.id == only_id)
    return await _bulk(session, statement)


async def list_sessions(session: AsyncSession, account_id: int) -> Sequence[AccountSession]:
    rows = await session.scalars(
        select(AccountSession)
        .where(AccountSession.account_id == account_id)
        .order_by(AccountSession.last_seen_at.desc(), AccountSession.id.desc())
    )
    return rows.all()


async def delete_expired_sessions(
    session: AsyncSession, *, now: datetime, idle_since: datetime
) -> int:
    return await _bulk(
        session,
        delete(AccountSession).where(
            or_(AccountSession.expires_at <= now, AccountSession.last_seen_at <= idle_since)
        ),
    )


async def device_seen(
    session: AsyncSession, account_id: int, device_digest: str, network: str
) -> tuple[bool, bool]:
    """Whether this account has logged in before (from this device, from this network)."""
    device = await session.scalar(
        select(KnownDevice.id)
        .where(KnownDevice.account_id == account_id, KnownDevice.device_digest == device_digest)
        .limit(1)
    )
    place = await session.scalar(
        select(KnownDevice.id)
        .where(KnownDevice.account_id == account_id, KnownDevice.network == network)
        .limit(1)
    )
    return device is not None, place is not None


async def remember_device(
    session: AsyncSession, account_id: int, device_digest: str, network: str, now: datetime
) -> bool:
    """Record a (device, network) pair as known; True if it was new."""
    row = await session.scalar(
        select(KnownDevice).where(
            KnownDevice.account_id == account_id,
            KnownDevice.device_digest == device_digest,
            KnownDevice.network == network,
        )
    )
    if row is not None:
        row.last_seen_at = now
        return False
    session.add(
        KnownDevice(
            account_id=account_id,
            device_digest=device_digest,
            network=network,
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()
    return True


async def list_devices(session: AsyncSession, account_id: int) -> Sequence[KnownDevice]:
    rows = await session.scalars(
        select(KnownDevice).where(KnownDevice.account_id == account_id).order_by(KnownDevice.id)
    )
    return rows.all()


# --- one-time codes -----------------------------------------------------------------------------


async def replace_code(session: AsyncSession, row: AccountCode) -> AccountCode:
    """Store a new code; earlier codes of the same account and purpose die with it."""
    await _bulk(
        session,
        delete(AccountCode).where(
            AccountCode.account_id == row.account_id, AccountCode.purpose == row.purpose
        ),
    )
    session.add(row)
    await session.flush()
    return row


async def find_live_code(
    session: AsyncSession, account_id: int, purpose: str, now: datetime, max_attempts: int
) -> AccountCode | None:
    return await session.scalar(
        select(AccountCode)
        .where(
            AccountCode.account_id == account_id,
            AccountCode.purpose == purpose,
            AccountCode.used_at.is_(None),
            AccountCode.expires_at > now,
            AccountCode.attempts < max_attempts,
        )
        .order_by(AccountCode.id.desc())
        .limit(1)
    )


async def claim_code_attempt(
    session: AsyncSession, code_id: int, now: datetime, max_attempts: int
) -> bool:
    """Count one attempt on a live code, atomically; False if the code is already dead.

    The attempt is counted before the comparison, so concurrent guesses can never exceed
    `max_attempts` comparisons in total.
    """
    statement = (
        update(AccountCode)
        .where(
            AccountCode.id == code_id,
            AccountCode.used_at.is_(None),
            AccountCode.expires_at > now,
            AccountCode.attempts < max_attempts,
        )
        .values(attempts=AccountCode.attempts + 1)
    )
    return bool(await _bulk(session, statement))


async def use_code(session: AsyncSession, code_id: int, now: datetime) -> bool:
    """Mark a code used; exactly one caller wins."""
    statement = (
        update(AccountCode)
        .where(AccountCode.id == code_id, AccountCode.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(await _bulk(session, statement))


async def delete_dead_codes(session: AsyncSession, *, now: datetime) -> int:
    return await _bulk(
        session,
        delete(AccountCode).where(
            or_(AccountCode.expires_at <= now, AccountCode.used_at.is_not(None))
        ),
    )


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
    await _bulk(session, delete(IdentifierHold).where(IdentifierHold.identifier_digest == digest))
    session.add(IdentifierHold(identifier_digest=digest, held_until=until, created_at=now))
    await session.flush()


async def delete_expired_holds(session: AsyncSession, *, now: datetime) -> int:
    return await _bulk(session, delete(IdentifierHold).where(IdentifierHold.held_until <= now))


# --- retention of what a live account accumulates -----------------------------------------------


async def delete_audit_entries(session: AsyncSession, *, before: datetime) -> int:
    """Delete every audit entry created before `before`, whatever its action or account."""
    return await _bulk(session, delete(AuditEntry).where(AuditEntry.created_at < before))


async def delete_unused_devices(session: AsyncSession, *, unused_since: datetime) -> int:
    """Forget known devices (and networks) last seen before `unused_since`."""
    return await _bulk(session, delete(KnownDevice).where(KnownDevice.last_seen_at < unused_since))


async def delete_read_notifications(session: AsyncSession, *, before: datetime) -> int:
    """Delete inbox notices created before `before` that have been read; unread ones stay."""
    return await _bulk(
        session,
        delete(Notification).where(
            Notification.created_at < before, Notification.read_at.is_not(None)
        ),
    )


# --- notifications (the console inbox) ----------------------------------------------------------


async def add_notification(
    session: AsyncSession, account_id: int, *, kind: str, subject: str, body: str, now: datetime
) -> Notification:
    row = Notification(
        account_id=account_id, kind=kind, subject=subject[:200], body=body, created_at=now
    )
    session.add(row)
    await session.flush()
    return row


async def list_notifications(
    session: AsyncSession,
    account_id: int,
    *,
    unread_only: bool = False,
    before_id: int | None = None,
    limit: int = 50,
) -> Sequence[Notification]:
    """Newest first; page with `before_id` (the last id of the previous page)."""
    statement = select(Notification).where(Notification.account_id == account_id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    if before_id is not None:
        statement = statement.where(Notification.id < before_id)
    rows = await session.scalars(statement.order_by(Notification.id.desc()).limit(limit))
    return rows.all()


async def mark_notifications_read(
    session: AsyncSession, account_id: int, *, ids: Sequence[int] | None, now: datetime
) -> int:
    """Mark some (or, with `ids=None`, all) unread notifications of this account read."""
    statement = (
        update(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    return await _bulk(session, statement)
