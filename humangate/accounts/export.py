"""Everything held about an account, as one JSON-serialisable dict (the owner's data export).

Secrets are held only as digests (password hash, secret keys, session, device and code digests,
the units' device salts); digests say nothing to their owner, so none is exported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._common import check_now, require_account
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._views import account_view, notification_view, session_view
from humangate.accounts.outcomes import AccountView
from humangate.db import account_sessions as session_db
from humangate.db import accounts as db
from humangate.db import inbox as inbox_db
from humangate.db import passkeys as passkey_db
from humangate.db.accounts import aware
from humangate.db.models import KnownDevice, Passkey, Unit
from humangate.db.units import to_view
from humangate.units import unit_settings

FORMAT = "humangate.account-export/1"


async def export_account(
    ctx: AccountContext, session: AsyncSession, account_id: int, *, client: Client, now: datetime
) -> dict[str, object]:
    """The account, its units, sessions, known devices, passkeys, audit entries and
    notifications.

    Raises:
        InvalidInput: no such account.
    """
    check_now(now)
    account = await require_account(session, account_id, active=False)
    await audit.record_by_account(session, "account.exported", account.id, ip=client.ip, now=now)
    await session.commit()
    units = await db.list_account_units(session, account.id)
    events = await db.count_unit_events(session, [unit.id for unit in units])
    sessions = await session_db.list_sessions(session, account.id)
    devices = await session_db.list_devices(session, account.id)
    passkeys = await passkey_db.list_passkeys(session, account.id)
    notifications = await inbox_db.list_notifications(session, account.id, limit=10_000)
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "account": _account(account_view(account)),
        "units": [_unit(unit, events.get(unit.id, 0)) for unit in units],
        "sessions": [_plain(session_view(row)) for row in sessions],
        "known_devices": [_device(row) for row in devices],
        "passkeys": [_passkey(row) for row in passkeys],
        "audit": await _audit_entries(session, account.id),
        "notifications": [_plain(notification_view(row)) for row in notifications],
        "not_included": (
            "Passwords, secret keys, session and device cookies and one-time codes are stored "
            "only as one-way digests, which are not exported."
        ),
    }


async def _audit_entries(session: AsyncSession, account_id: int) -> list[dict[str, object]]:
    """Every audit entry about the account, newest first, page by page."""
    entries: list[dict[str, object]] = []
    before: int | None = None
    while True:
        page = await audit.list_entries(
            session, account_id=account_id, before_id=before, limit=audit.MAX_PAGE
        )
        entries += [entry.as_dict() for entry in page.entries]
        if page.next_before_id is None:
            return entries
        before = page.next_before_id


def _device(row: KnownDevice) -> dict[str, object]:
    return {
        "network": row.network,
        "first_seen_at": aware(row.first_seen_at).isoformat(),
        "last_seen_at": aware(row.last_seen_at).isoformat(),
    }


def _passkey(row: Passkey) -> dict[str, object]:
    return {
        "name": row.name,
        "credential_id": row.credential_id,
        "created_at": aware(row.created_at).isoformat(),
        "last_used_at": aware(row.last_used_at).isoformat() if row.last_used_at else None,
    }


def _account(view: AccountView) -> dict[str, object]:
    return _plain(view)


def _unit(unit: Unit, events: int) -> dict[str, object]:
    return {
        "id": unit.id,
        **unit_settings(to_view(unit)),
        "score_threshold": unit.score_threshold,
        "allow_networks": list(unit.allow_networks or ()),
        "deny_networks": list(unit.deny_networks or ()),
        "good_bots": list(unit.good_bots or ()),
        "created_at": aware(unit.created_at).isoformat() if unit.created_at else None,
        "secret_keys": [
            {
                "created_at": aware(s.created_at).isoformat(),
                "expires_at": aware(s.expires_at).isoformat() if s.expires_at else None,
            }
            for s in unit.secrets
        ],
        "risk_events_held": events,
    }


def _plain(view: object) -> dict[str, object]:
    """A slotted dataclass as a dict with ISO dates."""
    out: dict[str, object] = {}
    for name in view.__slots__:  # type: ignore[attr-defined]
        value = getattr(view, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out
