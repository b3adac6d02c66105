"""What an owner sets on their own account: name and language, password, login by code, terms.

Contact details are changed in `contact`, the inbox is read in `inbox`, the export is `export`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._common import check_now, require_account
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._keys import sha256_hex
from humangate.accounts._reauth import reauth_failed, reauthenticate
from humangate.accounts._views import account_view, contacts
from humangate.accounts.outcomes import (
    AccountView,
    Locked,
    LoginFailed,
    Outgoing,
    PasswordChanged,
)
from humangate.accounts.passwords import check_password, check_password_length
from humangate.db import account_sessions as session_db
from humangate.db.models import Account
from humangate.errors import InvalidInput

MAX_DISPLAY_NAME = 100
_TERMS_VERSION_RE = re.compile(r"[A-Za-z0-9._-]+")
# A BCP 47 language tag, as the console offers them ("en", "zh-CN", "pt-BR").
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")


async def _save(
    session: AsyncSession,
    account: Account,
    action: audit.AuditAction,
    details: Mapping[str, object],
    client: Client,
    now: datetime,
) -> AccountView:
    """Audit a change the owner made to their account, commit, and return the account."""
    await audit.record_by_account(
        session, action, account.id, ip=client.ip, now=now, details=details
    )
    await session.commit()
    return account_view(account)


def _profile_changes(display_name: str | None, language: str | None) -> dict[str, str]:
    """The fields to set, checked; None leaves a field out.

    Raises:
        InvalidInput: a name with control characters or too long, or a malformed language tag.
    """
    changes: dict[str, str] = {}
    if display_name is not None:
        name = " ".join(display_name.split())
        if len(name) > MAX_DISPLAY_NAME:
            raise InvalidInput(f"A display name has at most {MAX_DISPLAY_NAME} characters.")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in display_name):
            raise InvalidInput("A display name cannot hold control characters.")
        changes["display_name"] = name
    if language is not None:
        if len(language) > 35 or not _LANGUAGE_RE.fullmatch(language):
            raise InvalidInput(f"{language[:40]!r} is not a language tag such as en or zh-CN.")
        changes["language"] = language
    return changes


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
        InvalidInput: a name with control characters or over 100 characters, a malformed
            language tag, or an account that is not active.
    """
    check_now(now)
    changes = _profile_changes(display_name, language)
    account = await require_account(session, account_id)
    for field, value in changes.items():
        setattr(account, field, value)
    return await _save(
        session, account, "profile.updated", {"fields": sorted(changes)}, client, now
    )


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
        InvalidInput: the new password breaks the policy, or the account is not active.
    """
    check_now(now)
    check_password_length(current_password)
    account = await require_account(session, account_id)
    notice_to = contacts(account)
    check_password(new_password, identifier=notice_to[0] if notice_to else None)
    if not await reauthenticate(ctx, account, current_password, client, now):
        return await reauth_failed(ctx, session, account, client, now)
    account.password_hash = await asyncio.to_thread(ctx.hasher.hash, new_password)
    current = await session_db.find_session(session, sha256_hex(client.session_token or ""))
    keep = current.id if current is not None and current.account_id == account.id else None
    revoked = await session_db.delete_account_sessions(session, account.id, keep_id=keep)
    view = await _save(
        session, account, "password.changed", {"sessions_ended": revoked}, client, now
    )
    outgoing = tuple(Outgoing(c.channel, c.value, "password-changed", {}) for c in notice_to[:1])
    return PasswordChanged(view, outgoing, revoked)


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
        InvalidInput: the account is not active.
    """
    check_now(now)
    account = await require_account(session, account_id)
    if account.code_login == enabled:
        await session.commit()
        return account_view(account)
    account.code_login = enabled
    details = {"fields": ["code_login"], "enabled": enabled}
    return await _save(session, account, "profile.updated", details, client, now)


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
        InvalidInput: an empty or malformed version, or an account that is not active.
    """
    check_now(now)
    if not version or len(version) > 40 or not _TERMS_VERSION_RE.fullmatch(version):
        raise InvalidInput(
            "A terms version is 1 to 40 letters, digits, dots, dashes or underscores."
        )
    account = await require_account(session, account_id)
    account.terms_version, account.terms_accepted_at = version, now
    return await _save(session, account, "terms.accepted", {"version": version}, client, now)
