"""What an owner does with their own account: profile, password, contact details, export, inbox."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit, limits
from humangate.accounts._common import (
    check_now,
    code_message,
    find_account,
    issue_audited_code,
    read_identifier,
    require_account,
)
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._keys import sha256_hex
from humangate.accounts._views import account_view, contacts, mask, notification_view
from humangate.accounts.codes import check_code, read_code
from humangate.accounts.outcomes import (
    AccountView,
    CodeRejected,
    CodeSent,
    ContactChanged,
    Locked,
    LoginFailed,
    NotificationView,
    Outgoing,
    PasswordChanged,
    Throttled,
)
from humangate.accounts.passwords import check_password, check_password_length
from humangate.db import accounts as db
from humangate.db.models import Account
from humangate.netaddr import ip_prefix

MAX_DISPLAY_NAME = 100
# A BCP 47 language tag, as the console offers them ("en", "zh-CN", "pt-BR").
_TERMS_VERSION_RE = re.compile(r"[A-Za-z0-9._-]+")
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")


async def update_profile(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    *,
    display_name: str | None = None,
    language: str | None = None,
    client: Client,
    now: datetime,
) -> AccountView:
    """Change the display name and/or language; None leaves a field as it is.

    Raises:
        ValueError: a name with control characters or over 100 characters, a malformed language
            tag, or an account that is not active.
    """
    check_now(now)
    changes: dict[str, str] = {}
    if display_name is not None:
        name = " ".join(display_name.split())
        if len(name) > MAX_DISPLAY_NAME:
            raise ValueError(f"A display name has at most {MAX_DISPLAY_NAME} characters.")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in display_name):
            raise ValueError("A display name cannot hold control characters.")
        changes["display_name"] = name
    if language is not None:
        if len(language) > 35 or not _LANGUAGE_RE.fullmatch(language):
            raise ValueError(f"{language[:40]!r} is not a language tag such as en or zh-CN.")
        changes["language"] = language
    account = await require_account(session, account_id)
    for field, value in changes.items():
        setattr(account, field, value)
    await audit.record(
        session,
        "profile.updated",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"fields": sorted(changes)},
    )
    await session.commit()
    return account_view(account)


async def change_password(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    current_password: str,
    new_password: str,
    *,
    client: Client,
    now: datetime,
) -> PasswordChanged | LoginFailed | Locked:
    """Replace the password after checking the current one; every other session ends.

    Raises:
        ValueError: the new password breaks the policy, or the account is not active.
    """
    check_now(now)
    check_password_length(current_password)
    account = await require_account(session, account_id)
    notice_to = contacts(account)
    check_password(new_password, identifier=notice_to[0] if notice_to else None)
    if not await _reauthenticate(ctx, session, account, current_password, client, now):
        return await _reauth_failed(ctx, session, account, client, now)
    account.password_hash = await asyncio.to_thread(ctx.hasher.hash, new_password)
    current = await db.find_session(session, sha256_hex(client.session_token or ""))
    keep = current.id if current is not None and current.account_id == account.id else None
    revoked = await db.delete_account_sessions(session, account.id, keep_id=keep)
    await audit.record(
        session,
        "password.changed",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"sessions_ended": revoked},
    )
    await session.commit()
    outgoing = tuple(Outgoing(c.channel, c.value, "password-changed", {}) for c in notice_to[:1])
    return PasswordChanged(account_view(account), outgoing, revoked)


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
        ValueError: a malformed identifier, the account's own identifier, or an inactive account.
    """
    check_now(now)
    ident = read_identifier(ctx, new_identifier)
    check_password_length(password)
    account = await require_account(session, account_id)
    if any(c.key == ident.key for c in contacts(account)):
        raise ValueError(f"{ident.value} is already this account's {_kind_name(ident.kind)}.")
    if not await _reauthenticate(ctx, session, account, password, client, now):
        return await _reauth_failed(ctx, session, account, client, now)
    expires_in = int(ctx.policy.code_ttl.total_seconds())
    digest = ctx.keys.identifier_digest(ident)
    retry = await limits.allow_send(ctx.store, ctx.policy, digest, now)
    if retry is not None:
        return Throttled(retry)
    held_until = await db.find_hold(session, digest, now)
    if held_until is not None:
        notice = Outgoing(
            ident.channel, ident.value, "identifier-held", {"until": held_until.isoformat()}
        )
        return CodeSent((notice,), expires_in)
    other = await find_account(session, ident)
    if other is not None and other.status != "pending":
        return CodeSent(
            (Outgoing(ident.channel, ident.value, "already-registered", {}),), expires_in
        )
    code = await issue_audited_code(
        ctx,
        session,
        account_id=account.id,
        purpose="contact-change",
        target=ident.value,
        action="contact.change_requested",
        client=client,
        now=now,
        details={"kind": ident.kind},
    )
    await session.commit()
    return CodeSent((code_message(ctx, ident, "contact-change-code", code),), expires_in)


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
        ValueError: a malformed code or an inactive account.
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
        await _record_rejection(session, account, "contact-change", check.reason, client, now)
        return check.rejected()
    ident = read_identifier(ctx, check.target)
    other = await find_account(session, ident)
    held = await db.find_hold(session, ctx.keys.identifier_digest(ident), now)
    if held is not None or (other is not None and other.status != "pending"):
        await _record_rejection(session, account, "contact-change", "unavailable", client, now)
        return CodeRejected("unavailable")
    if other is not None:  # someone's unconfirmed sign-up; a confirmed owner wins
        await db.erase_account(session, other.id)
        account = await require_account(session, account_id)
    old = [c for c in contacts(account) if c.kind == ident.kind]
    if ident.kind == "email":
        account.email, account.email_key = ident.value, ident.key
    else:
        account.phone = ident.key
    await audit.record(
        session,
        "contact.changed",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"kind": ident.kind},
    )
    await db.add_notification(
        session,
        account.id,
        kind="security",
        subject=f"Your {_kind_name(ident.kind)} changed",
        body=f"Your account now uses {mask(ident)}.",
        now=now,
    )
    try:
        await session.commit()
    except IntegrityError:  # taken between the check and the commit
        await session.rollback()
        return CodeRejected("unavailable")
    outgoing = tuple(
        Outgoing(c.channel, c.value, "contact-changed", {"new": mask(ident)}) for c in old
    )
    return ContactChanged(account_view(account), outgoing)


async def list_inbox(
    session: AsyncSession,
    account_id: int,
    *,
    unread_only: bool = False,
    before_id: int | None = None,
    limit: int = 50,
) -> list[NotificationView]:
    """The account's notifications, newest first."""
    if not 1 <= limit <= 200:
        raise ValueError("An inbox page holds 1 to 200 notifications.")
    rows = await db.list_notifications(
        session, account_id, unread_only=unread_only, before_id=before_id, limit=limit
    )
    return [notification_view(row) for row in rows]


async def mark_read(
    session: AsyncSession, account_id: int, ids: Sequence[int] | None, *, now: datetime
) -> int:
    """Mark the given (or all) unread notifications read; return how many changed."""
    check_now(now)
    changed = await db.mark_notifications_read(session, account_id, ids=ids, now=now)
    await session.commit()
    return changed


async def _reauthenticate(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account,
    password: str,
    client: Client,
    now: datetime,
) -> bool:
    keys = _reauth_keys(account, client)
    if await limits.locked_for(ctx.store, keys, now) is not None:
        return False
    return await asyncio.to_thread(ctx.hasher.verify, account.password_hash, password)


async def _reauth_failed(
    ctx: AccountContext, session: AsyncSession, account: Account, client: Client, now: datetime
) -> LoginFailed | Locked:
    keys = _reauth_keys(account, client)
    locked = await limits.locked_for(ctx.store, keys, now)
    if locked is None:
        locked = await limits.record_failure(ctx.store, ctx.policy, keys, now)
    await audit.record(
        session,
        "login.failed",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"method": "reauthenticate", "locked": locked is not None},
    )
    await session.commit()
    return Locked(locked) if locked is not None else LoginFailed("The password is wrong.")


def _reauth_keys(account: Account, client: Client) -> limits.LoginKeys:
    return limits.LoginKeys(pair=f"a{account.id}:{ip_prefix(client.ip)}", account=f"a{account.id}")


async def _record_rejection(
    session: AsyncSession,
    account: Account,
    purpose: str,
    reason: str,
    client: Client,
    now: datetime,
) -> None:
    await audit.record(
        session,
        "code.rejected",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"purpose": purpose, "reason": reason},
    )
    await session.commit()


def _kind_name(kind: str) -> str:
    return "e-mail address" if kind == "email" else "phone number"


async def set_code_login(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    enabled: bool,
    *,
    client: Client,
    now: datetime,
) -> AccountView:
    """Allow or refuse login by one-time code alone for this account.

    Codes that prove the mailbox for one step stay: after the password on a new device, for a
    contact change, a cancellation or a forgotten password (which sets a new password).

    Raises:
        ValueError: the account is not active.
    """
    check_now(now)
    account = await require_account(session, account_id)
    if account.code_login != enabled:
        account.code_login = enabled
        await audit.record(
            session,
            "profile.updated",
            actor=audit.Actor.account(account.id),
            account_id=account.id,
            now=now,
            ip_prefix=ip_prefix(client.ip),
            details={"fields": ["code_login"], "enabled": enabled},
        )
    await session.commit()
    return account_view(account)


async def accept_terms(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    version: str,
    *,
    client: Client,
    now: datetime,
) -> AccountView:
    """Record that the owner accepted this version of the operator's terms.

    Raises:
        ValueError: an empty or malformed version, or an account that is not active.
    """
    check_now(now)
    if not version or len(version) > 40 or not _TERMS_VERSION_RE.fullmatch(version):
        raise ValueError("A terms version is 1 to 40 letters, digits, dots, dashes or underscores.")
    account = await require_account(session, account_id)
    account.terms_version, account.terms_accepted_at = version, now
    await audit.record(
        session,
        "terms.accepted",
        actor=audit.Actor.account(account.id),
        account_id=account.id,
        now=now,
        ip_prefix=ip_prefix(client.ip),
        details={"version": version},
    )
    await session.commit()
    return account_view(account)
