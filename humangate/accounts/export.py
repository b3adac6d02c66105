"""Everything held about an account, as one JSON-serialisable dict (the owner's data export).

Secrets are held only as digests (password hash, secret keys, session, device and code digests,
the units' device salts); digests say nothing to their owner, so none is exported. The
verification API's apps come with their settings and key, never their sealed secrets; their
verifications with the masked destination only (the database holds no other readable form).
Billing comes as the ledger's transactions with their postings, the vouchers (never their codes,
held as digests) and the statements, amounts in minor units.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts._common import check_now, require_account
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._views import account_view, notification_view, session_view
from humangate.accounts.outcomes import AccountView
from humangate.billing.export import export_billing
from humangate.db import account_sessions as session_db
from humangate.db import accounts as db
from humangate.db import inbox as inbox_db
from humangate.db import passkeys as passkey_db
from humangate.db import verify_apps as verify_app_db
from humangate.db import verify_records as verify_db
from humangate.db.accounts import aware
from humangate.db.models import KnownDevice, Passkey, Unit, Verification, VerifyUsage
from humangate.db.units import to_view
from humangate.units import unit_settings
from humangate.verify.apps import AppView

FORMAT = "humangate.account-export/1"


async def export_account(
    ctx: AccountContext, session: AsyncSession, account_id: int, *, client: Client, now: datetime
) -> dict[str, object]:
    """The account, its units, sessions, known devices, passkeys, audit entries,
    notifications, its verification API apps with their verifications and usage, and its
    billing records (plan, balance, ledger, vouchers, statements).

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
        **await _verify_records(session, account.id),
        "billing": await export_billing(session, account.id),
        "not_included": (
            "Passwords, secret keys, session and device cookies and one-time codes are stored "
            "only as one-way digests, which are not exported. App secrets are stored sealed and "
            "are not exported; verified phone numbers and addresses are held only masked and as "
            "digests. Voucher codes are stored only as keyed digests and are not exported."
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


async def _verify_records(session: AsyncSession, account_id: int) -> dict[str, object]:
    """The owner's verification API apps, the verifications they hold and their daily usage."""
    secrets: dict[str, list[dict[str, object]]] = {}
    for app_key, secret in await verify_db.list_owner_secret_dates(session, account_id):
        secrets.setdefault(app_key, []).append(
            {
                "created_at": aware(secret.created_at).isoformat(),
                "expires_at": aware(secret.expires_at).isoformat() if secret.expires_at else None,
            }
        )
    apps = await verify_app_db.list_apps(session, account_id=account_id)
    return {
        "verify_apps": [_verify_app(app, secrets.get(app.app_key, [])) for app in apps],
        "verifications": [
            _verification(app_key, row)
            for app_key, row in await verify_db.list_owner_verifications(session, account_id)
        ],
        "verify_usage": [
            _usage(app_key, row)
            for app_key, row in await verify_db.list_owner_usage(session, account_id)
        ],
    }


def _verify_app(app: AppView, secrets: list[dict[str, object]]) -> dict[str, object]:
    return {
        **_plain(app),
        "channels": list(app.channels),
        "countries": list(app.countries),
        "templates": dict(app.templates),
        "created_at": aware(app.created_at).isoformat(),
        "secrets": secrets,
    }


def _verification(app_key: str, row: Verification) -> dict[str, object]:
    def moment(value: datetime | None) -> str | None:
        return aware(value).isoformat() if value else None

    return {
        "id": row.id,
        "app_key": app_key,
        "channel": row.channel,
        "destination": row.destination_masked,
        "country": row.country,
        "status": row.status,
        "delivery": row.delivery,
        "attempts": row.attempts,
        "sends": row.sends,
        # Minor units of the billing currency, net of credit notes; None: billing was off.
        "cost": row.cost,
        "created_at": moment(row.created_at),
        "expires_at": moment(row.expires_at),
        "finished_at": moment(row.finished_at),
    }


def _usage(app_key: str, row: VerifyUsage) -> dict[str, object]:
    return {
        "app_key": app_key,
        "day": row.day.isoformat(),
        "channel": row.channel,
        "country": row.country,
        "sent": row.sent,
        "failed": row.failed,
        "approved": row.approved,
    }


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
