"""What the hourly housekeeping deletes of the verification API's records (docs/verify.md,
docs/promises.md): verifications past HUMANGATE_VERIFY_RETENTION_DAYS, spent nonces, usage
past `USAGE_RETENTION` and prefix blocks that ended and are older than the retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import run_bulk
from humangate.db.models import Verification, VerifyNonce, VerifyPrefixBlock, VerifyUsage

# Usage rows hold counts per app, day, channel and country, nothing about a person; they stay
# 400 days so that a year can be compared with the one before it (and billed), then go.
USAGE_RETENTION = timedelta(days=400)


@dataclass(frozen=True, slots=True)
class VerifyPurged:
    """How many rows one round deleted, per table."""

    verifications: int
    nonces: int
    usage: int
    prefix_blocks: int

    def as_dict(self) -> dict[str, int]:
        return {
            "verifications": self.verifications,
            "nonces": self.nonces,
            "usage": self.usage,
            "prefix_blocks": self.prefix_blocks,
        }


async def purge_verify_records(
    session: AsyncSession, *, now: datetime, retention: timedelta
) -> VerifyPurged:
    """Delete what is past its limit, every app at once, and commit.

    Args:
        now: the round's moment (UTC).
        retention: verifications started longer ago than this go, whatever their status, and
            prefix blocks created longer ago that have ended.

    Raises:
        ValueError: a retention that is not positive.
    """
    if retention <= timedelta(0):
        raise ValueError("The verification retention must be positive.")
    before = now - retention
    verifications = await run_bulk(
        session, delete(Verification).where(Verification.created_at < before)
    )
    nonces = await run_bulk(session, delete(VerifyNonce).where(VerifyNonce.expires_at < now))
    usage = await run_bulk(
        session, delete(VerifyUsage).where(VerifyUsage.day < (now - USAGE_RETENTION).date())
    )
    blocks = await run_bulk(
        session,
        delete(VerifyPrefixBlock).where(
            VerifyPrefixBlock.until < now, VerifyPrefixBlock.created_at < before
        ),
    )
    await session.commit()
    return VerifyPurged(verifications, nonces, usage, blocks)


__all__ = ["USAGE_RETENTION", "VerifyPurged", "purge_verify_records"]
