"""Rows to views: what leaves the account core never carries a hash or a digest."""

from __future__ import annotations

from humangate.accounts.identifiers import Identifier
from humangate.accounts.outcomes import AccountView, NotificationView, SessionView
from humangate.db.accounts import aware
from humangate.db.models import Account, AccountSession, Notification


def account_view(row: Account) -> AccountView:
    return AccountView(
        id=row.id,
        email=row.email,
        phone=row.phone,
        display_name=row.display_name,
        language=row.language,
        role=row.role,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        status_reason=row.status_reason,
        created_at=aware(row.created_at),
        confirmed_at=aware(row.confirmed_at) if row.confirmed_at else None,
        last_active_at=aware(row.last_active_at),
        inactivity_warned_at=(
            aware(row.inactivity_warned_at) if row.inactivity_warned_at else None
        ),
        code_login=row.code_login is not False,
        terms_version=row.terms_version,
    )


def session_view(row: AccountSession, *, current: bool = False) -> SessionView:
    return SessionView(
        id=row.id,
        created_at=aware(row.created_at),
        last_seen_at=aware(row.last_seen_at),
        expires_at=aware(row.expires_at),
        ip_prefix=row.ip_prefix,
        device_label=row.device_label,
        current=current,
    )


def contacts(row: Account) -> list[Identifier]:
    """The account's identifiers, e-mail first: the first one is where notices go."""
    found: list[Identifier] = []
    if row.email and row.email_key:
        found.append(Identifier("email", row.email, row.email_key))
    if row.phone:
        found.append(Identifier("phone", row.phone, row.phone))
    return found


def mask(identifier: Identifier) -> str:
    """Enough of an identifier to recognise it in a notice: `a•••@example.com`, `+86•••8000`."""
    if identifier.kind == "email":
        local, _, domain = identifier.value.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"{identifier.value[:3]}•••{identifier.value[-4:]}"


def notification_view(row: Notification) -> NotificationView:
    return NotificationView(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        body=row.body,
        created_at=aware(row.created_at),
        read_at=aware(row.read_at) if row.read_at else None,
    )
