"""Verb-first reads over an app's verifications, usage and prefix blocks, for the console.

Each takes an `AsyncSession` and the app's id; the caller has already checked that the viewer
owns the app. Nothing here returns a code or a clear destination: a verification row holds
neither, and only its masked destination is read. `delete_prefix_block`, the owner's "unblock",
is the one write, and commits on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db._rows import aware
from humangate.db.models import Verification, VerifyPrefixBlock, VerifyUsage

MAX_LOG_PAGE = 100
MAX_BLOCKS = 200


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One verification as the log shows it: masked, without its code."""

    id: str
    destination_masked: str
    status: str
    channel: str
    country: str
    carrier: str | None
    delivery: str
    sends: int
    attempts: int
    created_at: datetime
    cost: int | None = None  # minor units charged, net of credit notes; None: billing was off


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of the log, newest first; `has_more` when an older page exists."""

    entries: tuple[LogEntry, ...]
    page: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Messages sent and codes approved in one country on one day, summed over channels."""

    day: date
    country: str
    sent: int
    approved: int


@dataclass(frozen=True, slots=True)
class PrefixBlock:
    """A number prefix the conversion monitor blocked, with what it saw there."""

    id: int
    prefix: str
    sent: int
    approved: int
    created_at: datetime
    until: datetime


async def list_verifications(
    session: AsyncSession, app_id: int, *, page: int = 1, per_page: int = 50
) -> LogPage:
    """The app's verifications, newest first, `per_page` (at most 100) on page `page` (from 1)."""
    per_page = max(1, min(per_page, MAX_LOG_PAGE))
    page = max(1, page)
    rows = await session.scalars(
        select(Verification)
        .where(Verification.app_id == app_id)
        .order_by(Verification.created_at.desc(), Verification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    found = list(rows)
    entries = tuple(
        LogEntry(
            id=row.id,
            destination_masked=row.destination_masked,
            status=row.status,
            channel=row.channel,
            country=row.country,
            carrier=row.carrier,
            delivery=row.delivery,
            sends=row.sends,
            attempts=row.attempts,
            created_at=aware(row.created_at),
            cost=row.cost,
        )
        for row in found[:per_page]
    )
    return LogPage(entries, page, len(found) > per_page)


async def list_usage(
    session: AsyncSession, app_id: int, *, since: date, until: date
) -> list[UsageRow]:
    """Sent and approved per day and country, `since <= day < until`, every channel summed;
    oldest day first, then by country."""
    sent = func.coalesce(func.sum(VerifyUsage.sent), 0)
    approved = func.coalesce(func.sum(VerifyUsage.approved), 0)
    result = await session.execute(
        select(VerifyUsage.day, VerifyUsage.country, sent, approved)
        .where(VerifyUsage.app_id == app_id, VerifyUsage.day >= since, VerifyUsage.day < until)
        .group_by(VerifyUsage.day, VerifyUsage.country)
        .order_by(VerifyUsage.day, VerifyUsage.country)
    )
    return [
        UsageRow(day=day, country=country, sent=int(s), approved=int(a))
        for day, country, s, a in result.all()
    ]


def _to_block(row: VerifyPrefixBlock) -> PrefixBlock:
    return PrefixBlock(
        id=row.id,
        prefix=row.prefix,
        sent=row.sent,
        approved=row.approved,
        created_at=aware(row.created_at),
        until=aware(row.until),
    )


async def list_prefix_blocks(session: AsyncSession, app_id: int) -> list[PrefixBlock]:
    """The app's prefix blocks, newest first (at most 200), ended ones included."""
    rows = await session.scalars(
        select(VerifyPrefixBlock)
        .where(VerifyPrefixBlock.app_id == app_id)
        .order_by(VerifyPrefixBlock.created_at.desc(), VerifyPrefixBlock.id.desc())
        .limit(MAX_BLOCKS)
    )
    return [_to_block(row) for row in rows]


async def delete_prefix_block(
    session: AsyncSession, app_id: int, block_id: int
) -> PrefixBlock | None:
    """Remove the app's block `block_id` (the owner's unblock) and commit; None if the app has
    no such block."""
    row = await session.scalar(
        select(VerifyPrefixBlock).where(
            VerifyPrefixBlock.app_id == app_id, VerifyPrefixBlock.id == block_id
        )
    )
    if row is None:
        return None
    block = _to_block(row)
    await session.execute(delete(VerifyPrefixBlock).where(VerifyPrefixBlock.id == row.id))
    await session.commit()
    return block


__all__ = [
    "LogEntry",
    "LogPage",
    "PrefixBlock",
    "UsageRow",
    "delete_prefix_block",
    "list_prefix_blocks",
    "list_usage",
    "list_verifications",
]
