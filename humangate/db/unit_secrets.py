"""Verb-first queries over a unit's secrets beyond what `db.units` offers; each takes an
`AsyncSession` and, like `db.units`, commits on its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import UnitSecret


async def restore_secret(
    session: AsyncSession, unit_id: int, digest: str, *, now: datetime
) -> bool:
    """Make the secret with `digest` a current one (never expiring) of unit `unit_id`.

    Returns:
        False if it already was; True if it had expired or been rotated out, or was missing.

    Raises:
        RuntimeError: `digest` belongs to another unit (only a SHA-256 collision could do this).
    """
    row = await session.scalar(select(UnitSecret).where(UnitSecret.digest == digest))
    if row is not None and row.unit_id != unit_id:
        raise RuntimeError("That secret is registered to another unit.")
    if row is not None and row.expires_at is None:
        return False
    if row is not None:
        row.expires_at = None
    else:
        session.add(UnitSecret(unit_id=unit_id, digest=digest, created_at=now, expires_at=None))
    try:
        await session.commit()
    except IntegrityError:  # another node restored it at the same moment
        await session.rollback()
    return True
