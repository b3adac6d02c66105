"""Verb-first functions over the verification API's apps; each takes an `AsyncSession` and
commits on its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import Unit, VerifyApp, VerifyAppSecret
from humangate.errors import InvalidInput, NotFound
from humangate.verify.apps import (
    CAP_LIMITS,
    DEFAULT_CHANNELS,
    DEFAULT_CODE_LENGTH,
    DEFAULT_CODE_TTL,
    DEFAULT_DAILY_CAP,
    DEFAULT_DESTINATION_DAILY_CAP,
    DEFAULT_NETWORK_HOURLY_CAP,
    DEFAULT_PREFIX_HOURLY_CAP,
    AppChanges,
    AppChannel,
    AppView,
    check_changes,
)
from humangate.verify.keys import new_app_key, new_app_secret, seal_secret, unseal_secret

DEFAULT_GRACE_HOURS = 24.0
_DEFAULT_CAPS = {
    "daily_cap": DEFAULT_DAILY_CAP,
    "destination_daily_cap": DEFAULT_DESTINATION_DAILY_CAP,
    "prefix_hourly_cap": DEFAULT_PREFIX_HOURLY_CAP,
    "network_hourly_cap": DEFAULT_NETWORK_HOURLY_CAP,
}


@dataclass(frozen=True, slots=True)
class CreatedApp:
    """A new app and its secret, shown once; the database keeps it sealed."""

    app: AppView
    secret: str


def to_app_view(app: VerifyApp) -> AppView:
    channels: tuple[AppChannel, ...] = tuple(app.channels)  # type: ignore[arg-type]
    return AppView(
        id=app.id,
        account_id=app.account_id,
        app_key=app.app_key,
        name=app.name,
        channels=channels,
        countries=tuple(app.countries),
        three_carriers_only=app.three_carriers_only,
        allow_virtual=app.allow_virtual,
        code_length=app.code_length,
        code_ttl=app.code_ttl,
        templates=dict(app.templates),
        require_token=app.require_token,
        sitekey=app.sitekey,
        daily_cap=app.daily_cap,
        destination_daily_cap=app.destination_daily_cap,
        prefix_hourly_cap=app.prefix_hourly_cap,
        network_hourly_cap=app.network_hourly_cap,
        disabled=app.disabled,
        created_at=app.created_at,
    )


async def _check_sitekey(session: AsyncSession, account_id: int | None, sitekey: str) -> None:
    """A token unit must exist and, for an owner's app, be one of that owner's units."""
    unit = await session.scalar(select(Unit).where(Unit.sitekey == sitekey))
    if unit is None or (account_id is not None and unit.account_id != account_id):
        raise InvalidInput("The site key must be one of your units' site keys.")


def _apply(app: VerifyApp, changes: AppChanges) -> None:
    for name in (
        "name",
        "three_carriers_only",
        "allow_virtual",
        "code_length",
        "code_ttl",
        "require_token",
        "disabled",
    ):
        value = getattr(changes, name)
        if value is not None:
            setattr(app, name, value)
    if changes.channels is not None:
        app.channels = list(changes.channels)
    if changes.countries is not None:
        app.countries = list(changes.countries)
    if changes.templates is not None:
        app.templates = dict(changes.templates)
    if changes.sitekey is not None:
        app.sitekey = changes.sitekey
    if changes.clear_sitekey:
        app.sitekey = None
    for name, value in changes.caps.items():
        setattr(app, name, value)


async def create_app(
    session: AsyncSession,
    changes: AppChanges,
    *,
    account_id: int | None,
    server_key: bytes,
    now: datetime,
) -> CreatedApp:
    """Create an app with its first secret. Countries start empty: no SMS until chosen.

    Raises:
        InvalidInput: a setting breaks its rule, or the site key is not the owner's unit's.
    """
    changes = check_changes(changes)
    if not changes.name:
        raise InvalidInput("An app needs a name.")
    if changes.sitekey:
        await _check_sitekey(session, account_id, changes.sitekey)
    app = VerifyApp(
        account_id=account_id,
        app_key=new_app_key(),
        name=changes.name,
        channels=list(DEFAULT_CHANNELS),
        countries=[],
        three_carriers_only=False,
        allow_virtual=True,
        code_length=DEFAULT_CODE_LENGTH,
        code_ttl=DEFAULT_CODE_TTL,
        templates={},
        require_token=True,
        sitekey=None,
        disabled=False,
        created_at=now,
        **_DEFAULT_CAPS,
    )
    _apply(app, changes)
    secret = new_app_secret()
    session.add(app)
    await session.flush()
    session.add(
        VerifyAppSecret(
            app_id=app.id,
            sealed=seal_secret(server_key, app.app_key, secret),
            created_at=now,
            expires_at=None,
        )
    )
    await session.commit()
    return CreatedApp(to_app_view(app), secret)


def _select_apps(account_id: int | None) -> Select[Any]:
    query = select(VerifyApp)
    return query if account_id is None else query.where(VerifyApp.account_id == account_id)


async def list_apps(session: AsyncSession, *, account_id: int | None = None) -> list[AppView]:
    """An owner's apps, or every app (`account_id` None: the CLI, an operator), oldest first."""
    rows = await session.scalars(_select_apps(account_id).order_by(VerifyApp.id))
    return [to_app_view(app) for app in rows]


async def _find(session: AsyncSession, app_key: str, account_id: int | None) -> VerifyApp:
    app: VerifyApp | None = await session.scalar(
        _select_apps(account_id).where(VerifyApp.app_key == app_key)
    )
    if app is None:
        raise NotFound("There is no such app.")
    return app


async def get_app(
    session: AsyncSession, app_key: str, *, account_id: int | None = None
) -> AppView | None:
    """The app with `app_key` (an owner's only, when `account_id` is given), or None."""
    try:
        return to_app_view(await _find(session, app_key, account_id))
    except NotFound:
        return None


async def update_app(
    session: AsyncSession, app_key: str, changes: AppChanges, *, account_id: int | None = None
) -> AppView:
    """Apply `changes` to the app; returns it as it now is.

    Raises:
        NotFound: no such app (or not the owner's).
        InvalidInput: a setting breaks its rule.
    """
    changes = check_changes(changes)
    app = await _find(session, app_key, account_id)
    if changes.sitekey:
        await _check_sitekey(session, app.account_id, changes.sitekey)
    _apply(app, changes)
    await session.commit()
    return to_app_view(app)


async def rotate_app_secret(
    session: AsyncSession,
    app_key: str,
    *,
    server_key: bytes,
    now: datetime,
    grace_hours: float = DEFAULT_GRACE_HOURS,
    account_id: int | None = None,
) -> str:
    """A new secret; the current ones keep working for `grace_hours` (0: stop at once).

    Raises:
        NotFound: no such app (or not the owner's).
        InvalidInput: `grace_hours` is negative or more than a week.
    """
    if not 0 <= grace_hours <= 168:
        raise InvalidInput("The overlap must be from 0 to 168 hours.")
    app = await _find(session, app_key, account_id)
    ends = now + timedelta(hours=grace_hours)
    current = await session.scalars(
        select(VerifyAppSecret).where(
            VerifyAppSecret.app_id == app.id,
            or_(VerifyAppSecret.expires_at.is_(None), VerifyAppSecret.expires_at > ends),
        )
    )
    for row in current:
        row.expires_at = ends
    secret = new_app_secret()
    session.add(
        VerifyAppSecret(
            app_id=app.id,
            sealed=seal_secret(server_key, app.app_key, secret),
            created_at=now,
            expires_at=None,
        )
    )
    await session.commit()
    return secret


async def delete_app(session: AsyncSession, app_key: str, *, account_id: int | None = None) -> None:
    """Delete the app with its secrets, verifications and usage.

    Raises:
        NotFound: no such app (or not the owner's).
    """
    app = await _find(session, app_key, account_id)
    await session.delete(app)
    await session.commit()


async def live_secrets(
    session: AsyncSession, app: AppView, *, server_key: bytes, now: datetime
) -> Sequence[str]:
    """The app's secrets that sign requests now, newest first; a secret sealed under an earlier
    server key does not open and is left out."""
    rows = await session.scalars(
        select(VerifyAppSecret.sealed)
        .where(
            VerifyAppSecret.app_id == app.id,
            or_(VerifyAppSecret.expires_at.is_(None), VerifyAppSecret.expires_at > now),
        )
        .order_by(VerifyAppSecret.id.desc())
    )
    opened = (unseal_secret(server_key, app.app_key, sealed) for sealed in rows)
    return [secret for secret in opened if secret is not None]


__all__ = [
    "CAP_LIMITS",
    "CreatedApp",
    "create_app",
    "delete_app",
    "get_app",
    "list_apps",
    "live_secrets",
    "rotate_app_secret",
    "to_app_view",
    "update_app",
]
