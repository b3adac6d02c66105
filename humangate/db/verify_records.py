"""An owner's records in the verification API, for their data export: the secrets' dates (never
the secrets), the verifications and the usage of every app they own, oldest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import Verification, VerifyApp, VerifyAppSecret, VerifyUsage


async def list_owner_secret_dates(
    session: AsyncSession, account_id: int
) -> Sequence[Row[str, VerifyAppSecret]]:
    """(app key, secret row) for each secret of the owner's apps; read only its dates."""
    rows = await session.execute(
        select(VerifyApp.app_key, VerifyAppSecret)
        .join(VerifyApp, VerifyApp.id == VerifyAppSecret.app_id)
        .where(VerifyApp.account_id == account_id)
        .order_by(VerifyAppSecret.id)
    )
    return rows.all()


async def list_owner_verifications(
    session: AsyncSession, account_id: int
) -> Sequence[Row[str, Verification]]:
    """(app key, verification) for every verification the owner's apps still hold."""
    rows = await session.execute(
        select(VerifyApp.app_key, Verification)
        .join(VerifyApp, VerifyApp.id == Verification.app_id)
        .where(VerifyApp.account_id == account_id)
        .order_by(Verification.created_at, Verification.id)
    )
    return rows.all()


async def list_owner_usage(
    session: AsyncSession, account_id: int
) -> Sequence[Row[str, VerifyUsage]]:
    """(app key, usage row) for every day the owner's apps counted something."""
    rows = await session.execute(
        select(VerifyApp.app_key, VerifyUsage)
        .join(VerifyApp, VerifyApp.id == VerifyUsage.app_id)
        .where(VerifyApp.account_id == account_id)
        .order_by(VerifyUsage.day, VerifyApp.id, VerifyUsage.channel, VerifyUsage.country)
    )
    return rows.all()


__all__ = ["list_owner_secret_dates", "list_owner_usage", "list_owner_verifications"]
