"""Operations on stored units, shared by the CLI, the console and the demo.

Each takes an `AsyncSession` and, where a console owner acts, `owner=` (their account id): a unit
of another owner then answers like one that does not exist. The SQL is in humangate/db/units.py;
the settings come checked from `parse_unit_input`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db import stats as stats_db
from humangate.db import units as unit_db
from humangate.db.stats import StatRow
from humangate.db.units import CreatedUnit
from humangate.errors import InvalidInput
from humangate.units.input import UnitChanges
from humangate.units.view import DEFAULT_DIFFICULTY, DEFAULT_KINDS, DEFAULT_POW_DIFFICULTY, UnitView

__all__ = [
    "CreatedUnit",
    "create_unit",
    "delete_unit",
    "get_unit",
    "list_units",
    "rotate_secret",
    "set_disabled",
    "unit_stats",
    "update_unit",
]


async def create_unit(
    session: AsyncSession,
    settings: UnitChanges,
    *,
    account_id: int | None = None,
    sitekey: str | None = None,
    secret: str | None = None,
) -> CreatedUnit:
    """Create a unit with `settings`; what they leave out takes its default (managed, slide…).

    Args:
        session: the database session; committed.
        settings: checked by `parse_unit_input`; a name and the domains are required.
        account_id: the console account that owns the unit; None for the CLI's and the demo's.
        sitekey: the site key to use instead of a fresh one (the demo unit's).
        secret: the secret to use instead of a fresh one (the demo unit's).

    Returns:
        The new unit and its secret, which is shown once and stored only as a digest.

    Raises:
        InvalidInput: `settings` lack the name or the domains.
    """
    if settings.name is None or not settings.domains:
        raise InvalidInput("A new unit needs a name and at least one domain.")
    return await unit_db.create_unit(
        session,
        name=settings.name,
        domains=settings.domains,
        mode=settings.mode or "managed",
        pow_difficulty=settings.pow_difficulty or DEFAULT_POW_DIFFICULTY,
        kinds=settings.kinds or DEFAULT_KINDS,
        difficulty=DEFAULT_DIFFICULTY if settings.difficulty is None else settings.difficulty,
        score_threshold=settings.score_threshold,
        allow_networks=settings.allow_networks or (),
        deny_networks=settings.deny_networks or (),
        good_bots=settings.good_bots or (),
        sitekey=sitekey,
        secret=secret,
        account_id=account_id,
    )


async def update_unit(
    session: AsyncSession, sitekey: str, changes: UnitChanges, *, owner: int | None = None
) -> UnitView | None:
    """Apply checked `changes` to the unit `sitekey`; None if there is none (of `owner`)."""
    return await unit_db.update_unit(session, sitekey, changes, owner=owner)


async def set_disabled(
    session: AsyncSession, sitekey: str, *, disabled: bool, owner: int | None = None
) -> UnitView | None:
    """Disable the unit (siteverify refuses its tokens) or enable it; None if there is none."""
    return await update_unit(session, sitekey, UnitChanges(disabled=disabled), owner=owner)


async def rotate_secret(
    session: AsyncSession, sitekey: str, *, grace: timedelta, owner: int | None = None
) -> str | None:
    """Issue a new secret; the current ones keep working for `grace`. None if there is no unit."""
    return await unit_db.rotate_secret(session, sitekey, grace=grace, owner=owner)


async def delete_unit(session: AsyncSession, sitekey: str, *, owner: int | None = None) -> bool:
    """Delete the unit with its secrets, events and statistics; False if there is none."""
    return await unit_db.delete_unit(session, sitekey, owner=owner)


async def list_units(session: AsyncSession, *, owner: int | None = None) -> list[UnitView]:
    """Every unit in the order they were made, or with `owner` only that account's."""
    return await unit_db.list_units(session, owner=owner)


async def get_unit(
    session: AsyncSession, sitekey: str, *, owner: int | None = None
) -> UnitView | None:
    """The unit with this site key (of `owner`, if given), or None."""
    return await unit_db.get_unit_by_sitekey(session, sitekey, owner=owner)


async def unit_stats(
    session: AsyncSession,
    sitekey: str,
    *,
    since: datetime,
    until: datetime,
    owner: int | None = None,
) -> list[StatRow] | None:
    """The unit's hourly counters from `since` to `until`; None if there is no such unit."""
    unit = await get_unit(session, sitekey, owner=owner)
    if unit is None:
        return None
    return await stats_db.unit_stats(session, [unit.id], since=since, until=until)
