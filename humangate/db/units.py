"""Verb-first functions over verification units; each takes an `AsyncSession`."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import Unit, UnitSecret
from humangate.risk.fingerprint import model_fingerprint
from humangate.units import DEFAULT_DIFFICULTY, DEFAULT_KINDS, Mode, UnitChanges, UnitView

__all__ = [
    "CreatedUnit",
    "UnitChanges",  # defined with the parser that makes it, humangate.units
    "create_unit",
    "delete_unit",
    "digest_secret",
    "find_unit_by_secret",
    "get_unit_by_sitekey",
    "list_units",
    "new_secret",
    "new_sitekey",
    "rotate_secret",
    "to_view",
    "update_unit",
]


@dataclass(frozen=True, slots=True)
class CreatedUnit:
    """A new unit and its secret, which is shown once and never stored in clear."""

    unit: UnitView
    secret: str


def digest_secret(secret: str) -> str:
    """SHA-256 of a secret key; secrets carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_sitekey() -> str:
    return "hg" + secrets.token_urlsafe(18)


def new_secret() -> str:
    return "hgs_" + secrets.token_urlsafe(32)


def to_view(unit: Unit) -> UnitView:
    return UnitView(
        id=unit.id,
        sitekey=unit.sitekey,
        name=unit.name,
        domains=tuple(unit.domains),
        mode=unit.mode,  # type: ignore[arg-type]
        pow_difficulty=unit.pow_difficulty,
        disabled=unit.disabled,
        kinds=tuple(unit.kinds),
        difficulty=unit.difficulty,
        score_threshold=unit.score_threshold,
        calibrated_threshold=unit.calibrated_threshold,
        threshold_model=unit.threshold_model,
        allow_networks=tuple(unit.allow_networks or ()),
        deny_networks=tuple(unit.deny_networks or ()),
        good_bots=tuple(unit.good_bots or ()),
        device_salt=unit.device_salt,
        account_id=unit.account_id,
        hide_mark=bool(unit.hide_mark),
    )


async def create_unit(
    session: AsyncSession,
    *,
    name: str,
    domains: Sequence[str],
    mode: Mode,
    pow_difficulty: int,
    kinds: tuple[str, ...] = DEFAULT_KINDS,
    difficulty: int = DEFAULT_DIFFICULTY,
    score_threshold: float | None = None,
    allow_networks: Sequence[str] = (),
    deny_networks: Sequence[str] = (),
    good_bots: Sequence[str] = (),
    sitekey: str | None = None,
    secret: str | None = None,
    account_id: int | None = None,
) -> CreatedUnit:
    """Create a unit with a fresh site key and secret (both may be given, for the demo unit).

    `account_id` is the console account that owns it; None for the CLI's and the demo's units.
    The values are stored as given: check them first (humangate.units.parse_unit_input).
    """
    now = datetime.now(UTC)
    secret = secret or new_secret()
    unit = Unit(
        sitekey=sitekey or new_sitekey(),
        name=name,
        domains=list(domains),
        mode=mode,
        pow_difficulty=pow_difficulty,
        kinds=list(kinds),
        difficulty=difficulty,
        disabled=False,
        score_threshold=score_threshold,
        threshold_model=None if score_threshold is None else model_fingerprint(),
        allow_networks=list(allow_networks),
        deny_networks=list(deny_networks),
        good_bots=list(good_bots),
        device_salt=secrets.token_hex(16),
        created_at=now,
        account_id=account_id,
    )
    unit.secrets.append(UnitSecret(digest=digest_secret(secret), created_at=now, expires_at=None))
    session.add(unit)
    await session.commit()
    return CreatedUnit(unit=to_view(unit), secret=secret)


async def list_units(session: AsyncSession, *, owner: int | None = None) -> list[UnitView]:
    """Every unit, or with `owner` only the units of that console account."""
    statement = select(Unit).order_by(Unit.id)
    if owner is not None:
        statement = statement.where(Unit.account_id == owner)
    return [to_view(unit) for unit in await session.scalars(statement)]


def _by_sitekey(sitekey: str, owner: int | None) -> Select[Unit]:
    """The unit with this site key; with `owner`, only if that account owns it."""
    statement = select(Unit).where(Unit.sitekey == sitekey)
    if owner is not None:
        statement = statement.where(Unit.account_id == owner)
    return statement


async def get_unit_by_sitekey(
    session: AsyncSession, sitekey: str, *, owner: int | None = None
) -> UnitView | None:
    unit = await session.scalar(_by_sitekey(sitekey, owner))
    return to_view(unit) if unit is not None else None


async def delete_unit(session: AsyncSession, sitekey: str, *, owner: int | None = None) -> bool:
    """Delete a unit with its secrets, risk events and statistics; False if there is none."""
    unit = await session.scalar(_by_sitekey(sitekey, owner))
    if unit is None:
        return False
    await session.delete(unit)
    await session.commit()
    return True


async def update_unit(
    session: AsyncSession, sitekey: str, changes: UnitChanges, *, owner: int | None = None
) -> UnitView | None:
    """Apply `changes` to the unit with this site key (of `owner`, if given); None if none."""
    unit = await session.scalar(_by_sitekey(sitekey, owner))
    if unit is None:
        return None
    for field in UnitChanges.__dataclass_fields__:
        value = getattr(changes, field)
        if value is not None and field != "clear_threshold":
            setattr(unit, field, list(value) if isinstance(value, (tuple, list)) else value)
    if changes.score_threshold is not None:
        record_threshold_model(unit, setting="owner")
    if changes.clear_threshold:
        unit.score_threshold = None
    await session.commit()
    return to_view(unit)


def record_threshold_model(unit: Unit, *, setting: Literal["owner", "calibrated"]) -> None:
    """A threshold of `unit` is being set now, on the current model's scale; the other one, if
    it was set against an earlier model, is dropped rather than revived on the wrong scale."""
    current = model_fingerprint()
    if unit.threshold_model != current:
        if setting == "owner":
            unit.calibrated_threshold = None
        else:
            unit.score_threshold = None
        unit.threshold_model = current


async def find_unit_by_secret(
    session: AsyncSession, secret: str, *, now: datetime | None = None
) -> UnitView | None:
    """Return the unit owning `secret` if the secret is current or still in its grace period."""
    now = now or datetime.now(UTC)
    row = await session.scalar(
        select(UnitSecret).where(
            UnitSecret.digest == digest_secret(secret),
            or_(UnitSecret.expires_at.is_(None), UnitSecret.expires_at > now),
        )
    )
    if row is None:
        return None
    unit = await session.get(Unit, row.unit_id)
    return to_view(unit) if unit is not None else None


async def rotate_secret(
    session: AsyncSession,
    sitekey: str,
    *,
    grace: timedelta,
    now: datetime | None = None,
    owner: int | None = None,
) -> str | None:
    """Issue a new secret; current secrets expire after `grace`, expired ones are dropped.

    Returns the new secret, or None if no unit has this site key (or `owner` does not own it).
    """
    now = now or datetime.now(UTC)
    unit = await session.scalar(_by_sitekey(sitekey, owner))
    if unit is None:
        return None
    for old in list(unit.secrets):
        expires_at = _aware(old.expires_at)
        if expires_at is not None and expires_at <= now:
            unit.secrets.remove(old)
        elif expires_at is None:
            old.expires_at = now + grace
    secret = new_secret()
    unit.secrets.append(UnitSecret(digest=digest_secret(secret), created_at=now, expires_at=None))
    await session.commit()
    return secret


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every moment stored here is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
